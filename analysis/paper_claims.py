"""Paper claims checked against our numbers: the finding record and the verdict functions.

A reproduction states each claim of a seed paper in words, measures the numbers behind it
from the traces, and turns them into a verdict ("agrees"/"differs") with the small pure
functions below (:func:`trend_label`, :func:`band_entry`, :func:`settle_index`,
:func:`opposite_fraction`), so a verdict is always computed, never written by hand. The
figure modules (:mod:`analysis.paper_figures`, :mod:`analysis.paper_figures_sync`) share
this record and these functions, plus two helpers: the experiment attributes stored on a
trace group, and compact number formatting for the measured text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.trace.reader import TraceReader

__all__ = ["Finding", "band_entry", "band_entry_at", "opposite_fraction", "settle_index",
           "trend_label", "verdict"]


@dataclass(frozen=True)
class Finding:
    """One paper claim checked against our numbers.

    Attributes:
        key: experiment/figure id, e.g. ``"tiny-fig3"``.
        title: the paper figure, e.g. ``"seed 000 Fig. 3"``.
        claim: the paper's claim in words.
        measured: our numbers in words.
        verdict: ``"agrees"`` or ``"differs"``.
        figure: the figure file showing it.
        numbers: the numbers themselves (for tests and JSON).
    """

    key: str
    title: str
    claim: str
    measured: str
    verdict: str
    figure: Path | None = None
    numbers: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------- verdict logic
def verdict(ok: bool) -> str:
    """``"agrees"`` if ``ok`` else ``"differs"``."""
    return "agrees" if ok else "differs"


def trend_label(values: Sequence[float], rel_tol: float = 1e-3) -> str:
    """Shape of a series: rises, falls, rises then falls, ... (steps within tolerance are flat).

    Args:
        values: the series in order of the swept parameter.
        rel_tol: a step smaller than ``rel_tol * max|values|`` counts as no change.

    Returns:
        ``"flat"``, ``"rises"``, ``"falls"``, ``"rises then falls"``, ``"falls then rises"``,
        ``"rises then levels off"``, ``"falls then levels off"`` or ``"mixed"``.
    """
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return "flat"
    tol = rel_tol * max(float(np.max(np.abs(v))), 1e-300)
    signs = [int(np.sign(d)) if abs(d) > tol else 0 for d in np.diff(v)]
    nonzero = [s for s in signs if s != 0]
    runs = [s for k, s in enumerate(nonzero) if k == 0 or s != nonzero[k - 1]]
    names = {1: "rises", -1: "falls"}
    if not runs:
        return "flat"
    if len(runs) == 1:
        return names[runs[0]] + (" then levels off" if signs[-1] == 0 else "")
    if len(runs) == 2:
        return f"{names[runs[0]]} then {names[runs[1]]}"
    return "mixed"


def band_entry(curve: Sequence[float], target: float, tol: float = 0.02) -> int | None:
    """First iteration (1-based) from which ``curve`` stays within ``tol`` of ``target``.

    Args:
        curve: values per iteration.
        target: reference value (the equilibrium).
        tol: relative band half-width.

    Returns:
        The 1-based iteration, or None if the last value is outside the band.
    """
    inside = np.abs(np.asarray(curve, dtype=float) - target) <= tol * abs(target)
    if inside.size == 0 or not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    return int(outside[-1]) + 2 if outside.size else 1


def band_entry_at(iterations: Sequence[float], curve: Sequence[float], target: float,
                  tol: float = 0.02) -> int | None:
    """Like :func:`band_entry` for a curve sampled at the given iterations (e.g. held-out
    evaluations every few training updates): the iteration label from which ``curve`` stays
    within ``tol`` of ``target``, or None if its last value is outside the band."""
    k = band_entry(curve, target, tol)
    return None if k is None else int(np.asarray(iterations)[k - 1])


def settle_index(paths: np.ndarray, rel: float = 1e-3) -> int | None:
    """First iteration (1-based) after which no path changes by ``rel`` or more (relative).

    Args:
        paths: [K, P] values per iteration of P paths.
        rel: relative-change threshold.

    Returns:
        The 1-based iteration k such that every step after it is below ``rel``; None if the
        last step is not.
    """
    p = np.asarray(paths, dtype=float)
    if p.shape[0] < 2:
        return None
    change = np.max(np.abs(np.diff(p, axis=0)) / np.maximum(np.abs(p[1:]), 1e-12), axis=1)
    moving = np.flatnonzero(change >= rel)
    if moving.size and moving[-1] == change.size - 1:
        return None
    return int(moving[-1]) + 2 if moving.size else 1


def opposite_fraction(prices: np.ndarray, demands: np.ndarray, rel: float = 1e-6) -> float:
    """Share of moves in which a pair's price and demand change in opposite directions.

    Args:
        prices: [K, P] price paths.
        demands: [K, P] demand paths of the same pairs.
        rel: changes below ``rel`` (relative) are not moves.

    Returns:
        Opposite-sign moves / moves where both changed (NaN if none).
    """
    dp, db = np.diff(prices, axis=0), np.diff(demands, axis=0)
    moved = (np.abs(dp) > rel * np.abs(prices[1:])) & (np.abs(db) > rel * np.maximum(
        np.abs(demands[1:]), 1e-12))
    if not moved.any():
        return float("nan")
    return float(np.mean(np.sign(dp[moved]) != np.sign(db[moved])))


# ------------------------------------------------------------------------- helpers
def group_attrs(path: Path, group: str) -> dict[str, Any]:
    """A group's attributes through the trace reader, arrays as lists."""
    with TraceReader(path) as reader:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in reader.group_attrs(group).items()}


def fmt_value(values: Sequence[float], digits: int = 4) -> str:
    return ", ".join(f"{v:.{digits}g}" for v in values)
