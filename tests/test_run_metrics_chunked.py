"""run_metrics reads tables in bounded slices (issue 14, the end-of-run memory of a long run):
its numbers must equal the former whole-table formulas, kept here verbatim as the oracle,
with slices small enough to force many of them; and analysis.streaming must reproduce
NumPy's sum, median and percentile exactly."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis import metrics
from analysis.loaders import MemoryTables, open_trace
from analysis.run_metrics import METRICS, run_metrics
from analysis.streaming import PairwiseSum, order_statistics, pairwise_blocks, stream_summary
from simulator.trace.reader import TraceReader
from simulator.trace.schema import TABLES

MARKET_SUMS = ("price_paid_mean", "bandwidth_mhz", "revenue", "profit")


def whole_table_metrics(source: Any) -> dict[str, Any]:
    """run_metrics as it was before slicing (whole tables as frames): the oracle."""
    n = source.n_rows
    out: dict[str, Any] = {
        "rsus": n("/rsus"), "uavs": n("/uavs"), "coverage_events": n("/coverage/events"),
    }
    events = source.table("/coverage/events", columns=["uav_id", "kind"])
    segments = source.table("/mobility/segments", columns=["uav_id", "t_start_s", "t_end_s"])
    out["handovers"] = int((events["kind"] == "leave").sum())
    out["handover_rate_per_h"] = metrics.handover_rate(events, segments)
    outcome = source.table("/migration/requests", columns=["outcome"])["outcome"]
    out["requests"] = int(len(outcome))
    out["requests_priced"] = int((outcome == "served").sum())
    out["requests_unserved"] = out["requests"] - out["requests_priced"]
    rounds = source.table("/pricing/rounds")
    out["rounds"] = int(len(rounds))
    out["rounds_converged"] = int(rounds["converged"].sum())
    out["converged_fraction"] = float(rounds["converged"].mean()) if len(rounds) else math.nan
    out["solver_iterations_mean"] = (float(rounds["iterations"].mean()) if len(rounds)
                                     else math.nan)
    service = source.table("/migration/service")
    transfers = source.table("/migration/transfers", columns=["t_start_s", "t_end_s"])
    out["migrations"] = int(len(service))
    out["transfers"] = int(len(transfers))
    mig = metrics.summary_stats(metrics.migration_times(transfers))
    intr = metrics.summary_stats(metrics.interruptions(service))
    for key in ("mean", "median", "p95", "max"):
        out[f"migration_time_{key}_s"] = mig[key]
    for key in ("mean", "median", "p95", "max"):
        out[f"interruption_{key}_s"] = intr[key]
    market = metrics.market_per_rsu(source.table("/pricing/offers"),
                                    source.table("/pricing/revenue"))
    bw = float(market["bandwidth_mhz"].sum())
    spend = float((market["paid_price"].fillna(0.0) * market["bandwidth_mhz"]).sum())
    out["price_paid_mean"] = spend / bw if bw > 0 else math.nan
    out["bandwidth_mhz"] = bw
    out["bandwidth_per_migration_mhz"] = (float(service["bandwidth_mhz"].mean())
                                          if len(service) else math.nan)
    out["revenue"] = float(market["revenue"].sum())
    out["profit"] = float(market["profit"].sum())
    out["immersion_mean"] = float(service["immersion"].mean()) if len(service) else math.nan
    gap = metrics.optimality_gap(rounds) if len(rounds) else None
    one = gap is not None and len(gap) == 1
    out["optimality_ratio"] = float(gap["ratio"].iloc[0]) if one else math.nan
    out["optimality_ratio_uav"] = float(gap["uav_ratio"].iloc[0]) if one else math.nan
    out["sensing_samples"] = n("/sensing/state")
    out["training_updates"] = n("/training/iterations")
    return out


def same(a: float, b: float) -> bool:
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


def check(source: Any, chunk_rows: int, exact_market: bool) -> None:
    want = whole_table_metrics(source)
    got = run_metrics(source, chunk_rows=chunk_rows)
    assert list(got) == list(METRICS) == list(want)
    for key, value in want.items():
        if key in MARKET_SUMS and not exact_market:
            assert got[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key
        else:
            assert same(got[key], value), (key, got[key], value)


def tables_of(path: Path) -> dict[str, dict[str, np.ndarray]]:
    with TraceReader(path) as r:
        return {t: r.read(t) for t in r.tables()}


def test_sliced_equals_whole_tables_on_the_default_trace(default_trace: Path) -> None:
    trace = open_trace(default_trace)
    sizes = [trace.n_rows(t.path) for t in TABLES]
    assert max(sizes) > 20 * 53  # 53-row slices: many slices in the tables that matter
    check(open_trace(default_trace), 1 << 18, exact_market=True)  # one slice: identical
    check(open_trace(default_trace), 53, exact_market=False)
    check(MemoryTables(tables_of(default_trace)), 13, exact_market=False)
    fresh = open_trace(default_trace)
    run_metrics(fresh, chunk_rows=53)
    # nothing cached: the trace holds no table after the summary (only empty ones)
    assert all(fresh.n_rows(t) == 0 for t in fresh.cached_tables)


def test_sliced_equals_whole_tables_with_nan_and_without_reference(default_trace: Path) -> None:
    tables = tables_of(default_trace)
    rng = np.random.default_rng(3)
    service = tables["/migration/service"]
    for col in ("interruption_s", "immersion", "bandwidth_mhz"):
        v = service[col].copy()
        v[rng.random(v.size) < 0.2] = np.nan
        service[col] = v
    rounds = tables["/pricing/rounds"]
    assert np.isfinite(rounds["reference_rsu_utility"]).any()
    check(MemoryTables(tables), 5, exact_market=False)
    # a trace without the recorded equilibrium: the fallback of optimality_gap
    for col in ("reference_rsu_utility", "reference_uav_utility"):
        rounds[col] = np.full(rounds[col].size, np.nan)
    rounds["solver"] = np.zeros(rounds["solver"].size, dtype=rounds["solver"].dtype)
    assert metrics.solver_labels(MemoryTables(tables).table("/pricing/rounds"))[0] == \
        "equilibrium"
    check(MemoryTables(tables), 5, exact_market=False)
    got = run_metrics(MemoryTables(tables), chunk_rows=5)
    assert math.isfinite(got["optimality_ratio"]) and math.isnan(got["optimality_ratio_uav"])


def test_reader_reads_row_ranges_and_reports_table_rows(default_trace: Path) -> None:
    with TraceReader(default_trace) as r:
        whole = r.read("/migration/transfers")
        n = r.n_rows("/migration/transfers")
        parts = [r.read("/migration/transfers", start=s, stop=s + 11) for s in range(0, n, 11)]
        assert r.read("/uavs", start=3, stop=5)["uav_id"].tolist() == [3, 4]
        assert r.read("/uavs", start=10**9)["uav_id"].size == 0
    for col, values in whole.items():
        assert np.array_equal(np.concatenate([p[col] for p in parts]), values)
    trace = open_trace(default_trace)
    chunks = list(trace.chunks("/coverage/events", ["t_s", "kind"], 17))
    assert all(len(c) <= 17 for c in chunks)
    whole_frame = trace.table("/coverage/events", ["t_s", "kind"])
    assert np.array_equal(np.concatenate([c["t_s"].to_numpy() for c in chunks]),
                          whole_frame["t_s"].to_numpy())
    assert [str(x) for c in chunks for x in c["kind"]] == [str(x) for x in whole_frame["kind"]]


@pytest.mark.parametrize("seed", range(6))
def test_stream_summary_is_summary_stats_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(25):
        n = int(rng.integers(0, 40_000))
        x = [rng.standard_normal(n) * 10 ** rng.uniform(-3, 6),
             np.round(rng.exponential(0.3, n), 2),  # many ties
             np.where(rng.random(n) < 0.5, -7.5, 0.25)][seed % 3]
        x = x.copy()
        x[rng.random(n) < 0.05] = [np.nan, np.inf, -np.inf][seed % 3]
        step = int(rng.integers(1, 5_000))
        got = stream_summary(lambda x=x, step=step: (x[i:i + step]
                                                     for i in range(0, x.size, step)),
                             leaf=int(rng.choice([128, 1_000, 1 << 16])))
        want = metrics.summary_stats(x)
        assert all(same(got[k], want[k]) for k in want), (got, want)


def test_pairwise_sum_follows_numpy_on_a_long_column() -> None:
    x = np.random.default_rng(9).standard_normal(3_000_003) * 1e3 + 1e-3
    total = PairwiseSum(x.size, leaf=4096)
    for i in range(0, x.size, 99_991):
        total.add(x[i:i + 99_991])
    assert total.result() == float(np.add.reduce(x))
    assert sum(pairwise_blocks(x.size, 4096)) == x.size
    running = 0.0  # a plain running sum of the same slices differs: the check can fail
    for i in range(0, x.size, 99_991):
        running += float(np.add.reduce(x[i:i + 99_991]))
    assert running != float(np.add.reduce(x))


def test_order_statistics_are_the_sorted_values() -> None:
    x = np.random.default_rng(2).standard_normal(50_001) * 1e4
    x[::7] = 0.5
    ranks = [0, 1, 25_000, 49_999, 50_000]
    stats = order_statistics(lambda: (x[i:i + 4_000] for i in range(0, x.size, 4_000)), ranks)
    assert [stats[r] for r in ranks] == [float(v) for v in np.sort(x)[ranks]]
    with pytest.raises(ValueError, match="rank 50001"):
        order_statistics(lambda: iter([x]), [50_001])
