"""Fault schedules: renewal draws against closed forms, interval merging, event order, and the
small formulas of restores and retries."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulator.trace.schema import FAULT_ELEMENT
from simulator.world import faults as F


@pytest.mark.parametrize("shape", [0.5, 1.0, 1.5, 3.0])
def test_weibull_scale_gives_the_mean(shape: float) -> None:
    lam = F.weibull_scale(100.0, shape)
    assert stats.weibull_min(shape, scale=lam).mean() == pytest.approx(100.0, rel=1e-12)
    with pytest.raises(ValueError, match="shape"):
        F.weibull_scale(100.0, 0.0)


@pytest.mark.parametrize("distribution, shape, cv", [
    ("exponential", 1.0, 1.0),
    ("weibull", 2.0, math.sqrt(math.gamma(2) / math.gamma(1.5) ** 2 - 1)),
    ("weibull", 0.7, math.sqrt(math.gamma(1 + 2 / 0.7) / math.gamma(1 + 1 / 0.7) ** 2 - 1)),
])
def test_renewal_periods_have_the_stated_means(distribution: str, shape: float,
                                               cv: float) -> None:
    """Up periods average MTBF, down periods MTTR (within 4 standard errors), and the long-run
    down fraction is MTTR / (MTBF + MTTR)."""
    mtbf, mttr, horizon = 900.0, 100.0, 3e6
    iv = F.renewal_outages(np.random.default_rng(3), horizon, mtbf, mttr, distribution, shape)
    downs = iv[:, 1] - iv[:, 0]
    ups = iv[:, 0] - np.concatenate([[0.0], iv[:-1, 1]])
    n = len(iv)
    assert n > 2000
    assert abs(ups.mean() - mtbf) < 4 * cv * mtbf / math.sqrt(n)
    assert abs(downs.mean() - mttr) < 4 * cv * mttr / math.sqrt(n)
    assert np.std(downs) / np.mean(downs) == pytest.approx(cv, rel=0.1)
    fraction = np.sum(np.minimum(iv[:, 1], horizon) - iv[:, 0]) / horizon
    assert fraction == pytest.approx(mttr / (mtbf + mttr), abs=0.01)
    assert np.all(iv[1:, 0] > iv[:-1, 1]) and iv[0, 0] > 0
    assert iv[-1, 0] < horizon


def test_renewal_is_reproducible_and_respects_the_horizon() -> None:
    a = F.renewal_outages(np.random.default_rng(5), 1e4, 50.0, 5.0)
    b = F.renewal_outages(np.random.default_rng(5), 1e4, 50.0, 5.0)
    assert np.array_equal(a, b)
    assert len(F.renewal_outages(np.random.default_rng(5), 0.0, 50.0, 5.0)) == 0


def test_each_element_has_its_own_stream() -> None:
    """Adding elements does not move the outages of the first ones."""
    a = F.element_outages(np.random.default_rng(1), 3, 1e5, 100.0, 10.0)
    b = F.element_outages(np.random.default_rng(1), 5, 1e5, 100.0, 10.0)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=False))
    assert not np.array_equal(a[0], a[1])


intervals = st.lists(st.tuples(st.floats(0, 100), st.floats(0, 50)), max_size=20).map(
    lambda xs: [(a, a + d) for a, d in xs])


def _inside(ivs: list[tuple[float, float]], grid: np.ndarray) -> np.ndarray:
    out = np.zeros(len(grid), dtype=bool)
    for s, e in ivs:
        out |= (grid >= s) & (grid < e)
    return out


@settings(max_examples=200, deadline=None)
@given(intervals)
def test_merge_keeps_the_union_and_makes_it_disjoint(ivs: list[tuple[float, float]]) -> None:
    merged = F.merge_intervals(ivs)
    assert np.all(merged[:, 1] > merged[:, 0])
    assert np.all(merged[1:, 0] > merged[:-1, 1])
    grid = np.concatenate([np.linspace(-1, 160, 2001), np.ravel(ivs) if ivs else []])
    assert np.array_equal(_inside(ivs, grid), _inside(merged.tolist(), grid))
    total = sum(e - s for s, e in merged.tolist())
    assert total <= sum(e - s for s, e in ivs) + 1e-9


def test_fault_events_order_and_ids() -> None:
    rsu = [np.array([[1.0, 5.0]]), np.empty((0, 2)), np.array([[5.0, 12.0]])]
    link = [np.array([[5.0, 7.0], [8.0, 20.0]])]
    events, table = F.fault_events(rsu, link, horizon_s=10.0)
    # repairs before failures at equal times; RSUs before links; ups past the horizon dropped
    assert events.t.tolist() == [1, 5, 5, 5, 7, 8]
    assert events.kind.tolist() == [F.DOWN, F.UP, F.DOWN, F.DOWN, F.UP, F.DOWN]
    assert events.element.tolist() == [F.ELEMENT_RSU, F.ELEMENT_RSU, F.ELEMENT_RSU,
                                       F.ELEMENT_LINK, F.ELEMENT_LINK, F.ELEMENT_LINK]
    assert events.index.tolist() == [0, 0, 2, 0, 0, 0]
    assert table[:, 4].tolist() == [0, 1, 2, 3]  # outage ids by start time
    assert table[:, 1].tolist() == [5, 12, 7, 20]  # repair times as scheduled
    assert events.outage.tolist() == [0, 0, 1, 2, 2, 3]
    assert {F.ELEMENT_RSU: "rsu", F.ELEMENT_LINK: "link"} == dict(FAULT_ELEMENT)


def test_checkpoint_staleness_and_transfer_time() -> None:
    assert F.checkpoint_staleness(125.0, 60.0) == pytest.approx(5.0)
    assert F.checkpoint_staleness(120.0, 60.0) == 0.0
    assert F.checkpoint_staleness(10.0, 60.0) == 10.0
    assert 0 <= F.checkpoint_staleness(0.3, 0.1) < 0.1
    assert F.transfer_time(1e6, 8.0, 0.02) == pytest.approx(1.02)
    with pytest.raises(ValueError, match="rate_mbps"):
        F.transfer_time(1.0, 0.0)


def test_backoff_grows_geometrically_up_to_the_cap() -> None:
    assert [F.backoff_delay(k, 1.0, 2.0, 10.0) for k in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert F.backoff_delay(10**6, 1.0, 2.0, 10.0) == 10.0
    assert F.backoff_delay(3, 0.5, 1.0, 10.0) == 0.5
    with pytest.raises(ValueError, match="attempt"):
        F.backoff_delay(0, 1.0, 2.0, 10.0)
