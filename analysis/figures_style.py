"""Shared look of the report figures: size, palette, labels, saving.

Figures are built as :class:`matplotlib.figure.Figure` objects with their own Agg canvas,
never through ``pyplot``, so producing a report neither changes the global matplotlib state
nor needs a display. Colours come from the Okabe-Ito palette, which stays distinguishable
for the common forms of colour blindness; every axis label carries its unit.
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "DPI", "FIGSIZE_IN", "FORMATS", "OKABE_ITO", "colour", "new_figure", "run_label", "save_figure",
]

OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
"""The Okabe-Ito colour-blind-safe palette (yellow late: it is faint on white)."""

FIGSIZE_IN: tuple[float, float] = (8.0, 6.0)
"""Figure size in inches; with :data:`DPI` every PNG is 800 x 600 pixels."""
DPI: int = 100
"""Dots per inch of saved raster figures."""
FORMATS: tuple[str, ...] = ("png", "pdf", "svg")
"""Output formats :func:`save_figure` accepts."""


def colour(k: int) -> str:
    """The ``k``-th palette colour (cycling).

    Args:
        k: Index (any non-negative integer).

    Returns:
        A hex colour string.
    """
    return OKABE_ITO[k % len(OKABE_ITO)]


def new_figure(title: str, nrows: int = 1, ncols: int = 1, *,
               sharex: bool = False) -> tuple[Figure, list[Axes]]:
    """A titled figure with its own Agg canvas and a grid of axes using the palette.

    Args:
        title: Figure title.
        nrows: Rows of axes.
        ncols: Columns of axes.
        sharex: Share the x axis between the axes.

    Returns:
        ``(figure, axes)`` with the axes in row-major order.
    """
    fig = Figure(figsize=FIGSIZE_IN, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(nrows, ncols, sharex=sharex, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes:
        ax.set_prop_cycle(color=list(OKABE_ITO))
        ax.grid(True, color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    fig.suptitle(title)
    return fig, axes


def save_figure(fig: Figure, path: str | os.PathLike[str], fmt: str = "png") -> Path:
    """Write a figure at its nominal size (:data:`FIGSIZE_IN` x :data:`DPI`).

    Args:
        fig: The figure.
        path: Output file (its suffix is not changed).
        fmt: ``png``, ``pdf`` or ``svg``.

    Returns:
        The path written.

    Raises:
        ValueError: If ``fmt`` is not one of :data:`FORMATS`.
    """
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r}: expected one of {list(FORMATS)}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format=fmt, dpi=DPI)
    return out


def run_label(trace: object) -> str:
    """Short run identification for titles: ``"default, seed 1"``.

    Args:
        trace: A :class:`analysis.loaders.Trace` (anything with ``scenario_name``/``attrs``).

    Returns:
        Scenario name and seed (``"run"`` when unknown), plus the status if not complete.
    """
    name = getattr(trace, "scenario_name", None) or "run"
    attrs = getattr(trace, "attrs", {})
    label = f"{name}, seed {attrs['seed']}" if "seed" in attrs else str(name)
    status = attrs.get("status", "complete")
    return label if status == "complete" else f"{label} ({status})"
