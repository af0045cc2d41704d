"""Tests of analysis.stats against scipy's own tests and intervals, and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis.stats import (
    MIN_RUNS_FOR_CI,
    mean_ci,
    next_repetitions,
    paired_difference,
    relative_half_width,
)


def test_mean_ci_is_scipys_t_interval_and_flags_few_runs() -> None:
    v = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0]
    ci = mean_ci(v, 0.9)
    low, high = stats.t.interval(0.9, 5, loc=np.mean(v), scale=stats.sem(v))
    assert (ci.low, ci.high, ci.n, ci.low_n) == (pytest.approx(low), pytest.approx(high), 6,
                                                 False)
    assert mean_ci(v[:4]).low_n and mean_ci(v[:4]).n == 4 < MIN_RUNS_FOR_CI
    one = mean_ci([2.0, math.nan])
    assert (one.mean, one.n, one.low_n) == (2.0, 1, True) and math.isnan(one.low)
    assert mean_ci([]).n == 0 and math.isnan(mean_ci([]).mean)
    with pytest.raises(ValueError, match="confidence must be in"):
        mean_ci(v, 95)


def test_two_runs_give_the_useless_interval_of_the_issue() -> None:
    # n = 2: t(0.975, 1) = 12.706, so the half-width is 12.7 x |a - b| / 2.
    ci = mean_ci([30.0, 94.4])
    assert ci.half_width == pytest.approx(12.7062 * 64.4 / 2, rel=1e-4) and ci.low_n


def test_paired_difference_matches_scipy_paired_and_welch_tests() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(100.0, 10.0, 30)
    x = 0.98 * y + rng.normal(0.0, 1.0, 30)
    d = paired_difference(x, y)
    rel = stats.ttest_rel(x, y)
    assert d.p_value == pytest.approx(rel.pvalue)
    assert (d.low, d.high) == pytest.approx(tuple(rel.confidence_interval(0.95)))
    welch = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.95)
    assert (d.unpaired_low, d.unpaired_high) == pytest.approx((welch.low, welch.high))
    assert d.half_width < d.unpaired_half_width / 5  # strongly correlated pairs
    assert d.correlation == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert d.relative == pytest.approx(x.mean() / y.mean() - 1)
    assert d.rel_low < d.relative < d.rel_high < 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 100), st.floats(1, 100)), min_size=3, max_size=40))
def test_relative_interval_is_the_delta_method(pairs) -> None:
    x, y = (np.array(v) for v in zip(*pairs, strict=True))
    d = paired_difference(x, y)
    r = x.mean() / y.mean()
    z = (x - r * y) / y.mean()
    half = stats.t.ppf(0.975, len(x) - 1) * z.std(ddof=1) / math.sqrt(len(x))
    assert d.relative == pytest.approx(r - 1)
    assert (d.rel_low, d.rel_high) == pytest.approx((r - 1 - half, r - 1 + half), abs=1e-9)
    assert d.low <= d.diff <= d.high


def test_paired_difference_drops_incomplete_pairs_and_checks_shapes() -> None:
    d = paired_difference([1.0, 2.0, math.nan, 4.0], [1.0, 1.0, 1.0, math.nan])
    assert d.n == 2 and d.diff == 0.5 and d.low_n
    with pytest.raises(ValueError, match="equal length"):
        paired_difference([1.0], [1.0, 2.0])


def test_precision_rule() -> None:
    assert relative_half_width([5.0, 5.0, 5.0]) == 0.0
    assert relative_half_width([1.0]) == math.inf
    assert relative_half_width([-1.0, 1.0]) == math.inf  # zero mean: precision unknown
    v = [10.0, 12.0, 11.0, 9.0]
    assert relative_half_width(v) == pytest.approx(mean_ci(v).half_width / 10.5)
    assert next_repetitions(10, 0.005, 0.01, 100) == 10          # reached
    assert next_repetitions(10, 0.05, 0.01, 100) == 20           # projection capped at 2n
    assert next_repetitions(10, 0.0125, 0.01, 100) == 16         # ceil(10 x 1.5625)
    assert next_repetitions(10, 0.0101, 0.01, 100) == 11         # at least one more
    assert next_repetitions(30, 0.05, 0.01, 30) == 30            # maximum
    assert next_repetitions(4, math.inf, 0.01, 7) == 7
