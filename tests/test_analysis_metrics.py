"""Tests of analysis.metrics against values computed by hand on the small trace of
test_analysis_loaders and on hand-built frames, plus invariants of the ECDF."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_analysis_loaders import write_small_trace

from analysis import metrics, open_trace
from analysis.loaders import Trace


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Trace:
    return open_trace(write_small_trace(tmp_path_factory.mktemp("metrics") / "small.h5"))


def test_handovers_per_uav_and_rate(trace: Trace) -> None:
    per = metrics.handovers_per_uav(trace.coverage_events, trace.mobility_segments)
    # each UAV leaves one cell and flies 100 s = 1/36 h -> 36 exits per hour
    assert per["handovers"].tolist() == [1, 1]
    np.testing.assert_allclose(per["flight_time_h"], [100 / 3600] * 2)
    np.testing.assert_allclose(per["rate_per_h"], [36.0, 36.0])
    assert metrics.handover_rate(trace.coverage_events, trace.mobility_segments) == \
        pytest.approx(36.0)


def test_handover_rate_accepts_integer_kinds_and_uavs_without_exits() -> None:
    events = pd.DataFrame({"uav_id": [0, 0, 0, 2], "kind": [0, 1, 0, 1]})
    seg = pd.DataFrame({"uav_id": [0, 1, 2, 2], "t_start_s": [0.0, 0.0, 0.0, 900.0],
                        "t_end_s": [3600.0, 1800.0, 900.0, 1800.0]})
    per = metrics.handovers_per_uav(events, seg)
    assert per["handovers"].tolist() == [2, 0, 0]
    np.testing.assert_allclose(per["rate_per_h"], [2.0, 0.0, 0.0])
    assert metrics.handover_rate(events, seg) == pytest.approx(2 / 2.0)


def test_migration_times_and_interruptions(trace: Trace) -> None:
    np.testing.assert_array_equal(metrics.migration_times(trace.migration_transfers), [2.0, 4.0])
    np.testing.assert_array_equal(metrics.interruptions(trace.migration_service), [4.0, 1.0])
    s = metrics.summary_stats([2.0, 4.0, np.nan])
    assert s == {"n": 2, "mean": 3.0, "median": 3.0, "p95": pytest.approx(3.9), "max": 4.0}
    assert metrics.summary_stats([])["n"] == 0 and math.isnan(metrics.summary_stats([])["mean"])


def test_ecdf_by_hand() -> None:
    x, p = metrics.ecdf([3.0, np.nan, 1.0, 2.0, 2.0])
    np.testing.assert_array_equal(x, [1.0, 2.0, 2.0, 3.0])
    np.testing.assert_array_equal(p, [0.25, 0.5, 0.75, 1.0])
    x, p = metrics.ecdf([])
    assert x.size == 0 and p.size == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=50))
def test_ecdf_is_a_distribution_function(values: list[float]) -> None:
    x, p = metrics.ecdf(values)
    assert np.all(np.diff(x) >= 0) and np.all(np.diff(p) > 0) and p[-1] == 1.0
    for v in (x[0], x[len(x) // 2], x[-1]):  # p at the last occurrence = fraction <= v
        last = np.flatnonzero(x == v)[-1]
        assert p[last] == pytest.approx(np.mean(np.asarray(values) <= v))


def test_market_per_rsu_by_hand(trace: Trace) -> None:
    m = metrics.market_per_rsu(trace.pricing_offers, trace.pricing_revenue)
    assert m.index.tolist() == [0, 1]
    assert m["rounds"].tolist() == [2, 2]
    np.testing.assert_allclose(m["mean_price"], [2.5, 4.5])
    np.testing.assert_allclose(m["paid_price"], [8 / 3, 5.0])  # (2*1 + 3*2) / 3, 5*1 / 1
    np.testing.assert_allclose(m["bandwidth_mhz"], [3.0, 1.0])
    np.testing.assert_allclose(m["revenue"], [8.0, 5.0])
    np.testing.assert_allclose(m["cost"], [3.0, 1.5])
    np.testing.assert_allclose(m["profit"], [5.0, 3.5])
    assert m.attrs["units"]["paid_price"] == "price/MHz"


def test_market_per_rsu_that_sold_nothing_has_no_paid_price() -> None:
    offers = pd.DataFrame({"round_id": [0], "rsu_id": [4], "price": [9.0],
                           "bandwidth_mhz": [0.0]})
    revenue = pd.DataFrame({"round_id": [0], "rsu_id": [4], "revenue": [0.0],
                            "cost_total": [0.0]})
    m = metrics.market_per_rsu(offers, revenue)
    assert m.loc[4, "mean_price"] == 9.0 and math.isnan(m.loc[4, "paid_price"])


def test_market_per_round_by_hand(trace: Trace) -> None:
    r = metrics.market_per_round(trace.pricing_offers, trace.pricing_rounds)
    assert r.index.tolist() == [0, 1]
    assert r["t_s"].tolist() == [20.0, 55.0]
    assert r["mean_price"].tolist() == [3.0, 4.0]
    assert r["bandwidth_mhz"].tolist() == [1.0, 3.0]
    assert r["pairs"].tolist() == [2, 2]


def test_immersion_per_uav_and_over_time(trace: Trace) -> None:
    per = metrics.immersion_per_uav(trace.migration_service)
    assert per.loc[0, "mean_immersion"] == 2.5 and per.loc[1, "mean_immersion"] == 1.5
    assert per.loc[0, "mean_bandwidth_mhz"] == 3.0 and per.loc[1, "total_interruption_s"] == 1.0
    curve = metrics.immersion_over_time(trace.migration_service, bins=4, t_end_s=100.0)
    assert curve["t_s"].tolist() == [12.5, 62.5]  # requests at 20 s and 55 s, bins of 25 s
    assert curve["mean_immersion"].tolist() == [1.5, 2.5]
    with pytest.raises(ValueError, match="bins must be >= 1, got 0"):
        metrics.immersion_over_time(trace.migration_service, bins=0)
    service = pd.DataFrame({"t_request_s": [1.0, 2.0, 9.0], "immersion": [1.0, 3.0, 5.0]})
    c = metrics.immersion_over_time(service, bins=2, t_end_s=10.0)
    assert c["mean_immersion"].tolist() == [2.0, 5.0] and c["count"].tolist() == [2, 1]


def test_positions_at_interpolates_exact_segments(trace: Trace) -> None:
    pos = metrics.positions_at(trace.mobility_segments, [0, 1, 0, 0, 1],
                               [55.0, 20.0, 25.0, 100.0, -5.0])
    np.testing.assert_allclose(pos["x_m"], [60.0, 0.0, 0.0, 150.0, 0.0])
    np.testing.assert_allclose(pos["y_m"], [0.0, 30.0, 0.0, 0.0, 50.0])  # -5 s: clamped
    np.testing.assert_allclose(pos["z_m"], [10.0, 20.0, 10.0, 10.0, 20.0])


def test_optimality_gap_within_a_trace_and_against_a_reference() -> None:
    rounds = pd.DataFrame({"solver": pd.Categorical(
        ["equilibrium", "random", "equilibrium", "random"]),
        "mean_rsu_utility": [4.0, 2.0, 6.0, 3.0]})
    gap = metrics.optimality_gap(rounds)
    assert gap.loc["random", "ratio"] == pytest.approx(2.5 / 5.0)
    assert gap.loc["random", "gap"] == pytest.approx(0.5)
    assert gap.loc["equilibrium", "ratio"] == pytest.approx(1.0)
    learned = pd.DataFrame({"solver": [1, 1], "mean_rsu_utility": [4.5, 5.5]})  # codes
    ref = pd.DataFrame({"solver": [0, 0, 0], "mean_rsu_utility": [3.0, 4.0, 5.0]})
    g = metrics.optimality_gap(learned, reference=ref)
    assert g.index.tolist() == ["tiny_madrl"]
    assert g.loc["tiny_madrl", "equilibrium_utility"] == 4.0
    assert g.loc["tiny_madrl", "ratio"] == pytest.approx(5.0 / 4.0)
    assert math.isnan(metrics.optimality_gap(learned).loc["tiny_madrl", "ratio"])


def test_reward_path_curve_averages_rounds_per_iteration() -> None:
    paths = pd.DataFrame({"round_id": [0, 0, 0, 1, 1], "iteration": [0, 1, 2, 0, 1],
                          "mean_rsu_utility": [1.0, 2.0, 3.0, 3.0, 4.0]})
    c = metrics.reward_path_curve(paths)
    assert c["mean"].tolist() == [2.0, 3.0, 3.0]
    np.testing.assert_allclose(c["std"], [math.sqrt(2), math.sqrt(2), 0.0])
    assert c["rounds"].tolist() == [2, 2, 1]


def test_sensing_trajectory_is_wide_by_vsp(trace: Trace) -> None:
    share = metrics.sensing_trajectory(trace.sensing_state, "share")
    assert share.index.tolist() == [0.0, 10.0, 20.0] and share.columns.tolist() == [0, 1]
    np.testing.assert_allclose(share[0], [0.5, 0.6, 0.7])
    np.testing.assert_allclose(share.sum(axis=1), 1.0)
    np.testing.assert_allclose(metrics.sensing_trajectory(trace.sensing_state, "twin_value")[1],
                               [2.0, 2.5, 3.0])
    with pytest.raises(ValueError, match="sensing value 'shares'"):
        metrics.sensing_trajectory(trace.sensing_state, "shares")


def test_training_curves_and_agent_rewards(trace: Trace) -> None:
    shuffled = trace.training_iterations.iloc[[2, 0, 1]]
    tc = metrics.training_curves(shuffled)
    assert tc.index.tolist() == [0, 1, 2] and tc["reward_ratio"].tolist() == [0.25, 0.5, 0.75]
    wide = metrics.agent_rewards(trace.training_agents)
    assert wide.columns.tolist() == [0, 1] and wide[1].tolist() == [1.0, 2.0, 3.0]


def test_metrics_of_empty_tables(tmp_path: Path) -> None:
    t = open_trace(write_small_trace(tmp_path / "s.h5", sensing=False, training=False))
    empty = t.table("/migration/service").iloc[:0]
    assert metrics.interruptions(empty).size == 0
    assert len(metrics.immersion_over_time(empty)) == 0
    assert len(metrics.immersion_per_uav(empty)) == 0


def test_twin_availability_by_hand() -> None:
    losses = pd.DataFrame({"t_lost_s": [10.0, 10.0, 50.0], "t_restored_s": [14.0, 30.0, np.nan]})
    out = metrics.twin_availability(losses, n_twins=10, duration_s=100.0)
    assert out["twins_lost"] == 3 and out["never_restored"] == 1
    assert out["mean_restore_s"] == pytest.approx(12.0)
    assert out["unavailable_twin_s"] == pytest.approx(4 + 20 + 50)
    assert out["availability"] == pytest.approx(1 - 74 / 1000)
    empty = metrics.twin_availability(losses.iloc[:0], n_twins=10, duration_s=100.0)
    assert empty["availability"] == 1.0 and math.isnan(empty["mean_restore_s"])
    with pytest.raises(ValueError, match="n_twins"):
        metrics.twin_availability(losses, n_twins=0, duration_s=100.0)


def test_interrupted_fraction_counts_overlaps_once() -> None:
    service = pd.DataFrame({"uav_id": [0, 0, 1], "t_interrupt_start_s": [0.0, 5.0, 90.0],
                            "t_interrupt_end_s": [10.0, 12.0, np.nan]})
    losses = pd.DataFrame({"uav_id": [0, 1], "t_lost_s": [11.0, 20.0],
                           "t_restored_s": [20.0, 30.0]})
    # UAV 0: [0, 20) = 20 s; UAV 1: [20, 30) + [90, 100) = 20 s; of 2 x 100 s
    assert metrics.interrupted_fraction(service, losses, 2, 100.0) == pytest.approx(0.2)
    assert metrics.interrupted_fraction(service, losses.iloc[:0], 2, 100.0) == pytest.approx(
        (12 + 10) / 200)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.floats(0, 100), st.floats(0, 30)), max_size=12))
def test_interrupted_fraction_matches_a_fine_grid(spans: list[tuple[int, float, float]]) -> None:
    uav = [u for u, _, _ in spans]
    start = [s for _, s, _ in spans]
    end = [s + d for _, s, d in spans]
    half = len(spans) // 2
    service = pd.DataFrame({"uav_id": uav[:half], "t_interrupt_start_s": start[:half],
                            "t_interrupt_end_s": end[:half]})
    losses = pd.DataFrame({"uav_id": uav[half:], "t_lost_s": start[half:],
                           "t_restored_s": end[half:]})
    grid = (np.arange(200_000) + 0.5) * (100.0 / 200_000)
    covered = 0
    for u in range(3):
        mask = np.zeros(len(grid), dtype=bool)
        for v, s, e in zip(uav, start, end, strict=True):
            if v == u:
                mask |= (grid >= s) & (grid < min(e, 100.0))
        covered += mask.sum()
    expected = covered * (100.0 / 200_000) / 300.0
    assert metrics.interrupted_fraction(service, losses, 3, 100.0) == pytest.approx(
        expected, abs=2e-4 * (1 + len(spans)))


def test_optimality_ratio_uses_the_reference_of_the_same_rounds() -> None:
    rounds = pd.DataFrame({
        "solver": pd.Categorical(["tiny_madrl"] * 3),
        "mean_rsu_utility": [9.0, 2.0, 4.0], "mean_uav_utility": [1.0, 1.0, 4.0],
        "reference_rsu_utility": [10.0, 2.0, np.nan], "reference_uav_utility": [2.0, 1.0, 9.0]})
    gap = metrics.optimality_gap(rounds).loc["tiny_madrl"]
    # Rounds without a reference are left out; ratio of means over the others.
    assert gap["ratio"] == pytest.approx(11.0 / 12.0) and gap["rounds"] == 3
    assert gap["uav_ratio"] == pytest.approx(2.0 / 3.0)
    assert gap["gap"] == pytest.approx(1.0 / 12.0) and gap["reference"] == "same rounds"


def test_sensing_steady_state_averages_the_middle_half() -> None:
    t = np.arange(0.0, 101.0)  # 0..100 s, two VSPs
    state = pd.DataFrame({"t_s": np.repeat(t, 2), "vsp_id": np.tile([0, 1], t.size),
                          "share": np.tile([0.25, 0.75], t.size),
                          "intensity": np.ravel(np.column_stack([t, 2 * t])),
                          "twin_value": 1.0, "payoff_rate": 0.0})
    steady = metrics.sensing_steady_state(state)
    assert (steady.attrs["t_from_s"], steady.attrs["t_to_s"]) == (25.0, 75.0)
    assert steady.loc[0, "intensity"] == pytest.approx(50.0)   # mean of 25..75
    assert steady.loc[1, "intensity"] == pytest.approx(100.0)
    assert steady["share"].tolist() == [0.25, 0.75]
    with pytest.raises(ValueError, match="window"):
        metrics.sensing_steady_state(state, (0.8, 0.2))
