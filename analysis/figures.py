"""The report's figures: which exist, what tables each needs, and writing them all.

Every figure is a ``plot_*`` function (in :mod:`analysis.figures_world` and
:mod:`analysis.figures_market`) taking a :class:`~analysis.loaders.Trace` and ``ax=`` and
returning its axes. :data:`FIGURES` lists them with the tables they need;
:func:`write_figures` draws those whose tables have rows (in the ``screen`` or ``paper``
style) and reports the others as skipped, so a trace without sensing or training data still
gets every figure it can.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.figures_market import (
    plot_market,
    plot_optimality,
    plot_revenue,
    plot_reward_paths,
    plot_sensing,
    plot_training,
    reward_paths_missing,
)
from analysis.figures_style import FORMATS, STYLES, save_figure, use_style
from analysis.figures_world import plot_immersion, plot_map, plot_migration_cdfs, plot_timeline
from analysis.loaders import Trace

__all__ = ["FIGURES", "FigureSpec", "write_figures"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FigureSpec:
    """One report figure.

    Attributes:
        name: File stem (``map`` -> ``map.png``).
        plot: Function drawing it from a trace (returns its axes).
        needs: Tables that must all have rows.
        needs_any: Tables of which at least one must have rows (empty: no condition).
        check: Further condition on the trace: returns why it cannot be drawn, or None.
    """

    name: str
    plot: Callable[..., Any]
    needs: tuple[str, ...]
    needs_any: tuple[str, ...] = ()
    check: Callable[[Trace], str | None] | None = None

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
        return self.check(trace) if self.check is not None else None


def _no_reference(trace: Trace) -> str | None:
    rounds = trace.table("/pricing/rounds", columns=["reference_rsu_utility"])
    if not np.isfinite(rounds["reference_rsu_utility"].to_numpy(float)).any():
        return "no equilibrium reference recorded (pricing.reference was off)"
    return None


FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("map", plot_map, ("/rsus", "/mobility/segments")),
    FigureSpec("timeline", plot_timeline, ("/coverage/events",)),
    FigureSpec("migration_cdf", plot_migration_cdfs, (),
               ("/migration/transfers", "/migration/service")),
    FigureSpec("market", plot_market, ("/pricing/offers", "/pricing/rounds")),
    FigureSpec("revenue", plot_revenue, ("/pricing/revenue",)),
    FigureSpec("reward_paths", plot_reward_paths, ("/pricing/paths",),
               check=reward_paths_missing),
    FigureSpec("optimality", plot_optimality, ("/pricing/rounds",), check=_no_reference),
    FigureSpec("immersion", plot_immersion, ("/migration/service",)),
    FigureSpec("sensing", plot_sensing, ("/sensing/state",)),
    FigureSpec("training", plot_training, ("/training/iterations",)),
)
"""Every report figure, in report order."""


def write_figures(
    trace: Trace, out_dir: str | os.PathLike[str], fmt: str | None = None,
    only: tuple[str, ...] | None = None, style: str = "screen",
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Draw and save every figure the trace has data for.

    Args:
        trace: The run.
        out_dir: Directory for the files (created if needed).
        fmt: ``png``, ``pdf`` or ``svg`` (default: the style's, png for screen, pdf for
            paper).
        only: Names of the figures to consider (default: all of :data:`FIGURES`).
        style: ``screen`` or ``paper`` (:data:`~analysis.figures_style.STYLES`).

    Returns:
        ``(written, skipped)``: paths written in :data:`FIGURES` order, and
        ``(name, reason)`` for each figure left out.

    Raises:
        ValueError: Unknown format, style or figure name.
    """
    if style not in STYLES:
        raise ValueError(f"figure style {style!r}: expected one of {list(STYLES)}")
    fmt = fmt or STYLES[style].fmt
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
        with use_style(style):
            axes = spec.plot(trace)
            fig = (axes if not isinstance(axes, list) else axes[0]).figure
            written.append(save_figure(fig, out / f"{spec.name}.{fmt}", fmt))
        log.debug("figure %s written to %s", spec.name, written[-1])
    return written, skipped
