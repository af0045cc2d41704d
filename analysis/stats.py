"""Statistics of replicated runs: t intervals, paired differences and a precision rule.

A simulation experiment compares *means over repetitions*. Three pieces are needed to do it
soundly, and they are pure functions of arrays here:

- :func:`mean_ci`: the two-sided Student-t interval of a mean,
  ``mean +- t(1 - a/2, n - 1) * s / sqrt(n)``; its ``low_n`` flag is true when the interval
  comes from fewer than :data:`MIN_RUNS_FOR_CI` runs (with n = 2 the t quantile is 12.7 and
  the interval is rarely useful).
- :func:`paired_difference`: the mean of ``x_r - y_r`` over repetitions ``r`` that saw the same
  seed (common random numbers), its t interval, the relative difference
  ``mean(x) / mean(y) - 1`` with a delta-method interval, the paired t test's p-value, and,
  for comparison, the *unpaired* (Welch) interval of the same difference computed from the
  same runs. When the two samples are positively correlated (the same UAVs, trajectories
  and draws) the paired interval is the narrower one.
- :func:`relative_half_width` and :func:`next_repetitions`: the sequential rule of
  ``uavtwin sweep --until METRIC:relative_half_width=TARGET``: keep adding repetitions to a
  point until the half-width of its metric's interval divided by ``|mean|`` is at most the
  target, or a maximum is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["MIN_RUNS_FOR_CI", "MeanCI", "PairedDifference", "mean_ci", "next_repetitions",
           "paired_difference", "relative_half_width"]

MIN_RUNS_FOR_CI = 5
"""Intervals from fewer runs than this are flagged (``low_n``) in every table."""


def _t(confidence: float, dof: int) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return float(stats.t.ppf(0.5 + confidence / 2.0, dof))


@dataclass(frozen=True)
class MeanCI:
    """Mean of a sample with its Student-t interval.

    Attributes:
        mean: Sample mean (NaN for an empty sample).
        std: Sample standard deviation, ddof 1 (NaN for n < 2).
        n: Finite values used.
        low: Lower end of the interval (NaN for n < 2).
        high: Upper end (NaN for n < 2).
        low_n: ``n < MIN_RUNS_FOR_CI``: the interval (if any) rests on too few runs.
    """

    mean: float
    std: float
    n: int
    low: float
    high: float
    low_n: bool

    @property
    def half_width(self) -> float:
        """``(high - low) / 2`` (NaN without an interval)."""
        return (self.high - self.low) / 2.0


def mean_ci(values: np.ndarray | list[float], confidence: float = 0.95) -> MeanCI:
    """Mean and two-sided Student-t interval of the finite values.

    Args:
        values: Samples (NaN and infinities are dropped).
        confidence: Two-sided level in (0, 1).

    Returns:
        The :class:`MeanCI`.

    Raises:
        ValueError: ``confidence`` outside (0, 1).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = int(v.size)
    t = _t(confidence, max(n - 1, 1))
    if n == 0:
        return MeanCI(math.nan, math.nan, 0, math.nan, math.nan, True)
    mean = float(v.mean())
    if n < 2:
        return MeanCI(mean, math.nan, 1, math.nan, math.nan, True)
    std = float(v.std(ddof=1))
    half = t * std / math.sqrt(n)
    return MeanCI(mean, std, n, mean - half, mean + half, n < MIN_RUNS_FOR_CI)


@dataclass(frozen=True)
class PairedDifference:
    """``x - y`` over paired repetitions (see :func:`paired_difference`).

    Attributes:
        n: Pairs with both values finite.
        mean_x: Mean of ``x`` over those pairs.
        mean_y: Mean of ``y`` (the baseline) over those pairs.
        diff: Mean difference ``mean(x - y)``.
        low: Lower end of the paired t interval of ``diff``.
        high: Upper end.
        relative: ``mean(x) / mean(y) - 1`` (NaN if ``mean(y) == 0``).
        rel_low: Lower end of its delta-method interval.
        rel_high: Upper end.
        p_value: Two-sided paired t test of ``diff == 0`` (NaN for n < 2 or zero spread).
        unpaired_low: Welch interval of ``mean(x) - mean(y)`` from the same runs treated as
            independent samples (what an unpaired design would report).
        unpaired_high: Upper end.
        correlation: Pearson correlation of ``x`` and ``y`` over the pairs (NaN for n < 3).
        low_n: ``n < MIN_RUNS_FOR_CI``.
    """

    n: int
    mean_x: float
    mean_y: float
    diff: float
    low: float
    high: float
    relative: float
    rel_low: float
    rel_high: float
    p_value: float
    unpaired_low: float
    unpaired_high: float
    correlation: float
    low_n: bool

    @property
    def half_width(self) -> float:
        """Half-width of the paired interval of ``diff``."""
        return (self.high - self.low) / 2.0

    @property
    def unpaired_half_width(self) -> float:
        """Half-width of the unpaired (Welch) interval on the same runs."""
        return (self.unpaired_high - self.unpaired_low) / 2.0


def paired_difference(x: np.ndarray | list[float], y: np.ndarray | list[float],
                      confidence: float = 0.95) -> PairedDifference:
    """Paired comparison of two samples whose ``k``-th values share a seed.

    The paired interval is the t interval of the mean of ``d_k = x_k - y_k``. The relative
    difference ``R = mean(x) / mean(y) - 1`` gets the delta-method interval
    ``R +- t * s_z / sqrt(n)`` with ``z_k = (x_k - (R + 1) y_k) / mean(y)``. The unpaired
    interval is Welch's, ``diff +- t(nu) sqrt(s_x^2/n + s_y^2/n)`` with the
    Welch-Satterthwaite ``nu``, on the same values.

    Args:
        x: Values of the compared configuration, one per repetition.
        y: Values of the baseline, same repetitions in the same order.
        confidence: Two-sided level in (0, 1).

    Returns:
        The :class:`PairedDifference` (NaN fields where ``n`` is too small).

    Raises:
        ValueError: ``x`` and ``y`` differ in length, or ``confidence`` outside (0, 1).
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(f"paired_difference: x and y must be 1-D of equal length, got "
                         f"{xa.shape} and {ya.shape}")
    _t(confidence, 1)
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    n = int(xa.size)
    nan = math.nan
    if n == 0:
        return PairedDifference(0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan,
                                True)
    mx, my = float(xa.mean()), float(ya.mean())
    d = xa - ya
    diff = float(d.mean())
    rel = mx / my - 1.0 if my != 0 else nan
    if n < 2:
        return PairedDifference(n, mx, my, diff, nan, nan, rel, nan, nan, nan, nan, nan, nan,
                                True)
    t = _t(confidence, n - 1)
    sd = float(d.std(ddof=1))
    half = t * sd / math.sqrt(n)
    if my != 0:
        z = (xa - (rel + 1.0) * ya) / my
        rhalf = t * float(z.std(ddof=1)) / math.sqrt(n)
    else:
        rhalf = nan
    p = float(2.0 * stats.t.sf(abs(diff) / (sd / math.sqrt(n)), n - 1)) if sd > 0 else nan
    vx, vy = float(xa.var(ddof=1)) / n, float(ya.var(ddof=1)) / n
    if vx + vy > 0:
        nu = (vx + vy) ** 2 / (vx**2 / (n - 1) + vy**2 / (n - 1))
        uhalf = float(stats.t.ppf(0.5 + confidence / 2.0, nu)) * math.sqrt(vx + vy)
    else:
        uhalf = 0.0
    corr = (float(np.corrcoef(xa, ya)[0, 1])
            if n >= 3 and xa.std() > 0 and ya.std() > 0 else nan)
    return PairedDifference(n, mx, my, diff, diff - half, diff + half, rel, rel - rhalf,
                            rel + rhalf, p, diff - uhalf, diff + uhalf, corr,
                            n < MIN_RUNS_FOR_CI)


def relative_half_width(values: np.ndarray | list[float], confidence: float = 0.95) -> float:
    """Half-width of the mean's t interval divided by ``|mean|``.

    Args:
        values: Samples (non-finite dropped).
        confidence: Two-sided level in (0, 1).

    Returns:
        The relative half-width; ``inf`` with fewer than two values or a zero mean
        (precision is then unknown), ``0.0`` for identical non-zero values.
    """
    ci = mean_ci(values, confidence)
    if ci.n < 2 or ci.mean == 0 or not math.isfinite(ci.mean):
        return math.inf
    return ci.half_width / abs(ci.mean)


def next_repetitions(n: int, rel_half_width: float, target: float, maximum: int) -> int:
    """How many repetitions a point should have next under the precision rule.

    The half-width shrinks like ``1/sqrt(n)``, so about ``n (w / target)^2`` repetitions
    reach the target; the projection is rounded up, at least one more, at most twice ``n``
    (a projection from few runs is noisy) and at most ``maximum``. It depends only on the
    values of repetitions ``0..n-1``, so the final count does not depend on the workers.

    Args:
        n: Repetitions done (>= 1).
        rel_half_width: Current relative half-width (``inf`` if unknown).
        target: Target relative half-width (> 0).
        maximum: Upper bound on the repetitions.

    Returns:
        ``n`` when the target is met or the maximum reached (stop), else the next count.
    """
    if n >= maximum or rel_half_width <= target:
        return n
    if not math.isfinite(rel_half_width):
        projected = 2 * n
    else:
        projected = math.ceil(n * (rel_half_width / target) ** 2)
    return int(min(maximum, 2 * n, max(n + 1, projected)))
