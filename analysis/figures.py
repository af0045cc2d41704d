"""The report's figures: which exist, what tables each needs, and writing them all.

Every figure is a ``plot_*`` function (in :mod:`analysis.figures_world` and
:mod:`analysis.figures_market`) taking a :class:`~analysis.loaders.Trace` and returning a
:class:`matplotlib.figure.Figure`. :data:`FIGURES` lists them with the tables they need;
:func:`write_figures` draws those whose tables have rows and reports the others as skipped,
so a trace without sensing or training data still gets every figure it can.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from analysis.figures_market import (
    plot_market,
    plot_revenue,
    plot_reward_paths,
    plot_sensing,
    plot_training,
)
from analysis.figures_style import FORMATS, save_figure
from analysis.figures_world import plot_immersion, plot_map, plot_migration_cdfs, plot_timeline
from analysis.loaders import Trace

__all__ = ["FIGURES", "FigureSpec", "write_figures"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FigureSpec:
    """One report figure.

    Attributes:
        name: File stem (``map`` -> ``map.png``).
        plot: Function drawing it from a trace.
        needs: Tables that must all have rows.
        needs_any: Tables of which at least one must have rows (empty: no condition).
    """

    name: str
    plot: Callable[[Trace], Figure]
    needs: tuple[str, ...]
    needs_any: tuple[str, ...] = ()

    def missing(self, trace: Trace) -> str | None:
        """Why the figure cannot be drawn from ``trace`` (``None`` if it can).

        Args:
            trace: The run.

        Returns:
            ``"no rows in /x"``-style reason, or ``None``.
        """
        empty = [t for t in self.needs if trace.n_rows(t) == 0]
        if empty:
            return "no rows in " + ", ".join(empty)
        if self.needs_any and all(trace.n_rows(t) == 0 for t in self.needs_any):
            return "no rows in " + " or ".join(self.needs_any)
        return None


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("map", plot_map, ("/rsus", "/mobility/segments")),
    FigureSpec("timeline", plot_timeline, ("/coverage/events",)),
    FigureSpec("migration_cdf", plot_migration_cdfs, (),
               ("/migration/transfers", "/migration/service")),
    FigureSpec("market", plot_market, ("/pricing/offers", "/pricing/rounds")),
    FigureSpec("revenue", plot_revenue, ("/pricing/revenue",)),
    FigureSpec("reward_paths", plot_reward_paths, ("/pricing/paths",)),
    FigureSpec("immersion", plot_immersion, ("/migration/service",)),
    FigureSpec("sensing", plot_sensing, ("/sensing/state",)),
    FigureSpec("training", plot_training, ("/training/iterations",)),
)
"""Every report figure, in report order."""


def write_figures(
    trace: Trace, out_dir: str | os.PathLike[str], fmt: str = "png",
    only: tuple[str, ...] | None = None,
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Draw and save every figure the trace has data for.

    Args:
        trace: The run.
        out_dir: Directory for the files (created if needed).
        fmt: ``png`` (default), ``pdf`` or ``svg``.
        only: Names of the figures to consider (default: all of :data:`FIGURES`).

    Returns:
        ``(written, skipped)``: paths written in :data:`FIGURES` order, and
        ``(name, reason)`` for each figure left out.

    Raises:
        ValueError: Unknown format or figure name.
    """
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r}: expected one of {list(FORMATS)}")
    names = [f.name for f in FIGURES]
    if only is not None:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown}; figures are {names}")
    out = Path(out_dir)
    written: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for spec in FIGURES:
        if only is not None and spec.name not in only:
            continue
        reason = spec.missing(trace)
        if reason is not None:
            skipped.append((spec.name, reason))
            continue
        fig = spec.plot(trace)
        written.append(save_figure(fig, out / f"{spec.name}.{fmt}", fmt))
        log.debug("figure %s written to %s", spec.name, written[-1])
    return written, skipped
