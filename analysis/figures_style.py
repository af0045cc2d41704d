"""Shared look of the report figures: size, palette, labels, saving.

Figures are built as :class:`matplotlib.figure.Figure` objects with their own Agg canvas,
never through ``pyplot``, so producing a report neither changes the global matplotlib state
nor needs a display. Colours come from the Okabe-Ito palette, which stays distinguishable
for the common forms of colour blindness; every axis label carries its unit.

Two styles (:data:`STYLES`): ``screen`` (the default: 8 x 6 in at 100 dpi, titled) and
``paper`` (single-column width 3.5 in, 8 pt text, no title since the caption carries it,
lines told apart by style as well as colour so they survive greyscale printing, vector PDF
by default). Every ``plot_*`` function takes ``ax=`` (an existing Axes, or a sequence for
multi-panel figures) and returns its axes, so figures compose into the caller's layout;
without ``ax`` it makes a figure in the current style (:func:`use_style`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "DPI", "FIGSIZE_IN", "FORMATS", "LINESTYLES", "MARKERS", "OKABE_ITO", "STYLES", "Style",
    "axes_for", "colour", "current_style", "line_style", "marker_area", "new_figure", "run_label",
    "save_figure", "use_style",
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


LINESTYLES: tuple[Any, ...] = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)),
                               (0, (8, 2)), (0, (3, 1, 1, 1)))
"""Line styles paired with the palette (k-th colour, k-th style) where lines are compared."""
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")
"""Markers paired with the palette."""


@dataclass(frozen=True)
class Style:
    """A figure style.

    Attributes:
        name: ``screen`` or ``paper``.
        figsize_in: Size of a one-panel figure (inches); multi-panel figures scale height.
        dpi: Raster resolution.
        fmt: Default file format.
        titles: Whether figures carry a title (a paper's caption replaces it).
        rc: matplotlib rcParams applied while drawing and saving.
        marker_scale: Factor on scatter marker areas (small figures need small markers).
    """

    name: str
    figsize_in: tuple[float, float]
    dpi: int
    fmt: str
    titles: bool
    rc: dict[str, Any] = field(default_factory=dict)
    marker_scale: float = 1.0


STYLES: dict[str, Style] = {
    "screen": Style("screen", FIGSIZE_IN, DPI, "png", True, {}),
    "paper": Style("paper", (3.5, 2.6), 300, "pdf", False, marker_scale=0.3, rc={
        "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "xtick.labelsize": 7,
        "ytick.labelsize": 7, "legend.fontsize": 7, "legend.title_fontsize": 7,
        "lines.linewidth": 1.1, "lines.markersize": 3.5, "axes.linewidth": 0.6,
        "grid.linewidth": 0.4, "legend.frameon": True, "legend.framealpha": 0.85,
        "legend.edgecolor": "#cccccc", "pdf.fonttype": 42, "ps.fonttype": 42,
        "svg.fonttype": "none", "font.family": "sans-serif",
        "axes.prop_cycle": cycler(color=list(OKABE_ITO[:6]))
        + cycler(linestyle=list(LINESTYLES[:6])),
    }),
}
"""The figure styles by name."""

_current = ["screen"]


def current_style() -> Style:
    """The style new figures get (``screen`` unless inside :func:`use_style`)."""
    return STYLES[_current[-1]]


@contextlib.contextmanager
def use_style(name: str) -> Iterator[Style]:
    """Draw (and save) figures in a style within a ``with`` block.

    Args:
        name: A key of :data:`STYLES`.

    Yields:
        The style.

    Raises:
        ValueError: Unknown style.
    """
    if name not in STYLES:
        raise ValueError(f"figure style {name!r}: expected one of {list(STYLES)}")
    style = STYLES[name]
    _current.append(name)
    try:
        with mpl.rc_context(style.rc):
            yield style
    finally:
        _current.pop()


def marker_area(area: float) -> float:
    """A scatter marker area (points^2) scaled for the current style.

    Args:
        area: The area in the ``screen`` style.

    Returns:
        ``area * current_style().marker_scale``.
    """
    return area * current_style().marker_scale


def line_style(k: int) -> dict[str, Any]:
    """Colour, line style and marker of the ``k``-th compared line (solver, configuration).

    Args:
        k: Index of the line.

    Returns:
        Keyword arguments for ``Axes.plot``/``errorbar``.
    """
    return {"color": colour(k), "linestyle": LINESTYLES[k % len(LINESTYLES)],
            "marker": MARKERS[k % len(MARKERS)]}


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
    """A figure in the current style with its own Agg canvas and a grid of axes.

    Args:
        title: Figure title (left out in the ``paper`` style, where the caption says it).
        nrows: Rows of axes.
        ncols: Columns of axes.
        sharex: Share the x axis between the axes.

    Returns:
        ``(figure, axes)`` with the axes in row-major order.
    """
    style = current_style()
    width, height = style.figsize_in
    if style.name != "screen" and nrows > 1:
        height = height * (0.55 + 0.45 * nrows)
    fig = Figure(figsize=(width, height), dpi=style.dpi, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(nrows, ncols, sharex=sharex, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes:
        if not style.rc:
            ax.set_prop_cycle(color=list(OKABE_ITO))
        ax.grid(True, color="#dddddd", linewidth=0.6 if style.name == "screen" else 0.4)
        ax.set_axisbelow(True)
    if style.titles:
        fig.suptitle(title)
    return fig, axes


def axes_for(ax: Axes | Sequence[Axes] | None, title: str, nrows: int = 1, ncols: int = 1,
             *, sharex: bool = False) -> list[Axes]:
    """The axes a ``plot_*`` function draws on: the caller's, or a new figure's.

    Args:
        ax: ``None`` (make a figure with :func:`new_figure`), an Axes (one-panel figures)
            or a sequence of ``nrows * ncols`` Axes.
        title: Title of a new figure.
        nrows: Panels in rows.
        ncols: Panels in columns.
        sharex: Share x between new panels.

    Returns:
        ``nrows * ncols`` axes.

    Raises:
        ValueError: The caller gave the wrong number of axes.
    """
    if ax is None:
        return new_figure(title, nrows, ncols, sharex=sharex)[1]
    axes = [ax] if isinstance(ax, Axes) else list(ax)
    if len(axes) != nrows * ncols:
        raise ValueError(f"this figure draws {nrows * ncols} panel(s); got {len(axes)} axes")
    return axes


def save_figure(fig: Figure, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write a figure at its nominal size and the current style's resolution.

    Args:
        fig: The figure.
        path: Output file (its suffix is not changed).
        fmt: ``png``, ``pdf`` or ``svg`` (default: the current style's, png for screen).

    Returns:
        The path written.

    Raises:
        ValueError: If ``fmt`` is not one of :data:`FORMATS`.
    """
    style = current_style()
    fmt = fmt or style.fmt
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r}: expected one of {list(FORMATS)}")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format=fmt, dpi=style.dpi)
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
