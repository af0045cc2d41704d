"""The headline numbers of one run: the one definition behind every summary and table.

``uavtwin run`` prints a summary at the end of a run, ``uavtwin report`` a longer one, a sweep
keeps one row per run, and ``uavtwin reproduce`` writes REPORT.md. All of them take their
numbers from :func:`run_metrics`, so a name has one value everywhere. Each metric is declared
in :data:`METRICS` with its unit and its exact definition; in particular

- ``price_paid_mean`` is the mean price per MHz *weighted by the bandwidth bought*
  (total money paid / total bandwidth bought), not the plain mean of posted prices;
- ``requests_priced`` counts requests that reached a pricing round with at least one viable
  RSU, ``migrations`` counts migrations that completed (a row of ``/migration/service``); a
  priced request whose UAV was priced out of every RSU, or whose twins were still in flight
  when the run ended, is one but not the other.

The input is anything that serves schema tables as frames (:class:`TableSource`): a trace
opened with :func:`analysis.open_trace`, or the in-memory tables of a run
(:class:`analysis.loaders.MemoryTables`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from analysis import metrics
from analysis.streaming import PairwiseSum, stream_summary
from simulator.trace.schema import TRANSFER_EVENT

__all__ = ["CHUNK_ROWS", "METRICS", "Metric", "TableSource", "fault_metrics", "run_metrics",
           "sensing_end_state"]


class TableSource(Protocol):
    """What :func:`run_metrics` reads: schema tables as frames (whole, or in slices of at
    most ``rows`` rows), and their row counts."""

    def table(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame: ...

    def chunks(self, table: str, columns: Iterable[str], rows: int) -> Iterator[pd.DataFrame]:
        ...

    def n_rows(self, table: str) -> int: ...


CHUNK_ROWS = 1 << 18
"""Rows of a table that :func:`run_metrics` holds at a time (a few MB per needed column)."""


@dataclass(frozen=True)
class Metric:
    """One headline number: its key, unit and definition."""

    key: str
    unit: str
    definition: str


METRICS: Mapping[str, Metric] = {m.key: m for m in (
    Metric("rsus", "1", "RSUs in the run (rows of /rsus)."),
    Metric("uavs", "1", "UAVs in the run (rows of /uavs)."),
    Metric("coverage_events", "1", "Cell entries and exits (rows of /coverage/events)."),
    Metric("handovers", "1", "Cell exits (coverage events of kind leave)."),
    Metric("handover_rate_per_h", "1/h", "Cell exits per UAV per hour of flight."),
    Metric("requests", "1", "Migration requests filed (rows of /migration/requests)."),
    Metric("requests_priced", "1", "Requests that reached a pricing round with a viable RSU "
           "(outcome served)."),
    Metric("requests_unserved", "1", "Requests without a viable RSU or without coverage."),
    Metric("rounds", "1", "Pricing rounds played (rows of /pricing/rounds)."),
    Metric("rounds_converged", "1", "Rounds whose solver met its tolerance."),
    Metric("converged_fraction", "1", "rounds_converged / rounds."),
    Metric("solver_iterations_mean", "1", "Mean solver iterations per round."),
    Metric("migrations", "1", "Migrations completed (rows of /migration/service)."),
    Metric("transfers", "1", "Twin transfers over the backhaul (rows of /migration/transfers)."),
    *(Metric(f"migration_time_{k}_s", "s", f"{k} of the transfer durations t_end - t_start.")
      for k in ("mean", "median", "p95", "max")),
    *(Metric(f"interruption_{k}_s", "s", f"{k} of the service interruptions of completed "
             f"migrations.") for k in ("mean", "median", "p95", "max")),
    Metric("price_paid_mean", "price/MHz", "Mean price per MHz weighted by bandwidth bought: "
           "money paid / bandwidth bought, over every offer with bandwidth > 0."),
    Metric("bandwidth_mhz", "MHz", "Bandwidth bought in all rounds."),
    Metric("bandwidth_per_migration_mhz", "MHz", "Mean bandwidth bought per completed "
           "migration."),
    Metric("revenue", "price", "Money the RSUs received (sum of /pricing/revenue)."),
    Metric("profit", "price", "Revenue minus the RSUs' bandwidth cost."),
    Metric("immersion_mean", "1", "Mean immersion delivered per completed migration."),
    Metric("optimality_ratio", "1", "Mean RSU utility of the rounds divided by the mean RSU "
           "utility of the exact equilibrium of the same rounds' games (recorded with every "
           "round; traces without it: the equilibrium rounds of the same trace)."),
    Metric("optimality_ratio_uav", "1", "The same for the mean UAV utility (NaN without a "
           "recorded reference)."),
    Metric("sensing_samples", "1", "Rows of /sensing/state."),
    Metric("training_updates", "1", "Rows of /training/iterations."),
)}
"""Every key of :func:`run_metrics`, with unit and definition."""


def run_metrics(source: TableSource, *, chunk_rows: int = CHUNK_ROWS) -> dict[str, Any]:
    """Headline numbers of a run (JSON-ready; NaN where there is nothing to measure).

    Tables are read in slices of ``chunk_rows`` rows, so the memory needed does not grow
    with the trace. Counts, means, medians, 95th percentiles and maxima are bit-identical to
    the whole-table formulas of :mod:`analysis.metrics` (:mod:`analysis.streaming`); the
    market sums (``price_paid_mean``, ``bandwidth_mhz``, ``revenue``, ``profit``) add per-RSU
    sums slice by slice, which is identical when ``/pricing/offers`` and ``/pricing/revenue``
    fit in one slice and otherwise may differ in the last digits (relative ~1e-15).

    Args:
        source: the run's tables (an opened trace or a run's in-memory tables).
        chunk_rows: rows per slice (>= 1).

    Returns:
        One value per key of :data:`METRICS`, in that order.
    """
    def chunks(table: str, columns: list[str]) -> Iterator[pd.DataFrame]:
        return source.chunks(table, columns, chunk_rows)

    n = source.n_rows
    out: dict[str, Any] = {
        "rsus": n("/rsus"), "uavs": n("/uavs"), "coverage_events": n("/coverage/events"),
    }
    counts = _fold(source, "/coverage/events", ["uav_id", "kind"], chunk_rows,
                   metrics.leave_counts, _add_by_index)
    spans = _fold(source, "/mobility/segments", ["uav_id", "t_start_s", "t_end_s"], chunk_rows,
                  metrics.flight_spans, _span_union)
    out["handovers"] = int(counts.sum())
    out["handover_rate_per_h"] = metrics.fleet_handover_rate(
        metrics.handovers_from_counts(counts, spans))
    out["requests"] = n("/migration/requests")
    out["requests_priced"] = sum(int((c["outcome"] == "served").sum())
                                 for c in chunks("/migration/requests", ["outcome"]))
    out["requests_unserved"] = out["requests"] - out["requests_priced"]
    out.update(_round_metrics(source, chunk_rows))
    out["migrations"] = n("/migration/service")
    out["transfers"] = n("/migration/transfers")
    mig = stream_summary(lambda: (c["t_end_s"].to_numpy(float) - c["t_start_s"].to_numpy(float)
                                  for c in chunks("/migration/transfers",
                                                  ["t_start_s", "t_end_s"])))
    intr = stream_summary(lambda: (c["interruption_s"].to_numpy(float)
                                   for c in chunks("/migration/service", ["interruption_s"])))
    for key in ("mean", "median", "p95", "max"):
        out[f"migration_time_{key}_s"] = mig[key]
    for key in ("mean", "median", "p95", "max"):
        out[f"interruption_{key}_s"] = intr[key]
    out.update(_market_totals(source, chunk_rows))
    service = ["bandwidth_mhz", "immersion"]
    means = _nan_means(lambda: chunks("/migration/service", service), service,
                       out["migrations"])
    out["bandwidth_per_migration_mhz"] = means["bandwidth_mhz"]
    out["immersion_mean"] = means["immersion"]
    out["sensing_samples"] = n("/sensing/state")
    out["training_updates"] = n("/training/iterations")
    assert set(out) == set(METRICS), "run_metrics and METRICS disagree"
    return {key: out[key] for key in METRICS}


def _fold(source: TableSource, table: str, columns: list[str], rows: int,
          each: Callable[[pd.DataFrame], Any], combine: Callable[[Any, Any], Any]) -> Any:
    """``each`` of every slice, combined left to right (``each`` of the empty table if none)."""
    acc = None
    for chunk in source.chunks(table, columns, rows):
        part = each(chunk)
        acc = part if acc is None else combine(acc, part)
    return each(source.table(table, columns)) if acc is None else acc


def _add_by_index(a: Any, b: Any) -> Any:
    return pd.concat([a, b]).groupby(level=0).sum()


def _span_union(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([a, b]).groupby(level=0).agg(t0=("t0", "min"), t1=("t1", "max"))


def _nan_means(read: Callable[[], Iterable[pd.DataFrame]], columns: list[str],
               rows: int) -> dict[str, float]:
    """``frame[c].mean()`` (NaN skipped) of each column over all slices, bit for bit: pandas
    sums the column with NaN set to 0 (NumPy's pairwise sum) and divides by the non-NaN
    count."""
    sums = {c: PairwiseSum(rows) for c in columns}
    count = dict.fromkeys(columns, 0)
    for chunk in read():
        for c in columns:
            v = chunk[c].to_numpy(float)
            missing = np.isnan(v)
            count[c] += int((~missing).sum())
            sums[c].add(np.where(missing, 0.0, v))
    return {c: sums[c].result() / count[c] if count[c] else math.nan for c in columns}


_ROUND_VALUES = ["mean_rsu_utility", "reference_rsu_utility", "mean_uav_utility",
                 "reference_uav_utility"]


def _round_metrics(source: TableSource, rows: int) -> dict[str, Any]:
    """Rounds, convergence, iterations and the optimality ratios of
    :func:`analysis.metrics.optimality_gap` (one solver; NaN for several), slice by slice."""
    table = "/pricing/rounds"
    n = source.n_rows(table)
    converged = iterations = with_ref = 0
    labels: set[str] = set()
    for c in source.chunks(table, ["converged", "iterations", "solver",
                                   "reference_rsu_utility"], rows):
        converged += int(c["converged"].to_numpy(bool).sum())
        iterations += int(c["iterations"].to_numpy(np.int64).sum())
        labels.update(metrics.solver_labels(c))
        with_ref += int(np.isfinite(c["reference_rsu_utility"].to_numpy(float)).sum())
    out: dict[str, Any] = {
        "rounds": n, "rounds_converged": converged,
        "converged_fraction": converged / n if n else math.nan,
        "solver_iterations_mean": iterations / n if n else math.nan,
        "optimality_ratio": math.nan, "optimality_ratio_uav": math.nan,
    }
    if len(labels) != 1:
        return out

    def ratio(num: float, den: float) -> float:
        return num / den if den != 0 else math.nan

    if with_ref:  # the recorded equilibrium of the same rounds
        def finite_ref() -> Iterator[pd.DataFrame]:
            for c in source.chunks(table, _ROUND_VALUES, rows):
                yield c[np.isfinite(c["reference_rsu_utility"].to_numpy(float))]

        m = _nan_means(finite_ref, _ROUND_VALUES, with_ref)
        out["optimality_ratio"] = ratio(m["mean_rsu_utility"], m["reference_rsu_utility"])
        out["optimality_ratio_uav"] = ratio(m["mean_uav_utility"], m["reference_uav_utility"])
        return out
    # older traces: the run's own equilibrium rounds (NaN unless the solver is the equilibrium)
    if labels == {"equilibrium"}:
        m = _nan_means(lambda: source.chunks(table, ["mean_rsu_utility"], rows),
                       ["mean_rsu_utility"], n)
        whole = PairwiseSum(n)  # np.mean of the column: a NaN anywhere makes it NaN
        for c in source.chunks(table, ["mean_rsu_utility"], rows):
            whole.add(c["mean_rsu_utility"].to_numpy(float))
        out["optimality_ratio"] = ratio(m["mean_rsu_utility"], whole.result() / n)
    return out


def _market_totals(source: TableSource, rows: int) -> dict[str, float]:
    """``price_paid_mean``, ``bandwidth_mhz``, ``revenue`` and ``profit`` from the per-RSU sums
    of :func:`analysis.metrics.market_per_rsu`, added slice by slice."""
    def offer_sums(o: pd.DataFrame) -> pd.DataFrame:
        o = o.assign(spend=o["price"].to_numpy(float) * o["bandwidth_mhz"].to_numpy(float))
        by = o.groupby("rsu_id")
        return pd.DataFrame({"sold": by["bandwidth_mhz"].sum(), "spend": by["spend"].sum()})

    def money_sums(r: pd.DataFrame) -> pd.DataFrame:
        return r.groupby("rsu_id").agg(revenue=("revenue", "sum"), cost=("cost_total", "sum"))

    offers = _fold(source, "/pricing/offers", ["rsu_id", "price", "bandwidth_mhz"], rows,
                   offer_sums, _add_by_index)
    money = _fold(source, "/pricing/revenue", ["rsu_id", "revenue", "cost_total"], rows,
                  money_sums, _add_by_index)
    index = offers.index.union(money.index)
    bandwidth = offers["sold"].reindex(index, fill_value=0.0).astype(float)
    revenue = money["revenue"].reindex(index, fill_value=0.0).astype(float)
    cost = money["cost"].reindex(index, fill_value=0.0).astype(float)
    sp = offers["spend"].reindex(index, fill_value=0.0).to_numpy(float)
    bw_each = bandwidth.to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        paid = pd.Series(np.where(bw_each > 0, sp / bw_each, np.nan), index=index)
    bw = float(bandwidth.sum())
    spend = float((paid.fillna(0.0) * bandwidth).sum())
    return {"price_paid_mean": spend / bw if bw > 0 else math.nan, "bandwidth_mhz": bw,
            "revenue": float(revenue.sum()), "profit": float((revenue - cost).sum())}


def sensing_end_state(source: TableSource) -> pd.DataFrame:
    """Each VSP's share and intensity at the last sensing sample (empty without sensing).

    Returns:
        Indexed by ``vsp_id``: ``t_s``, ``share``, ``intensity``, ``twin_value``.
    """
    state = source.table("/sensing/state")
    if state.empty:
        return state
    last = state[state["t_s"] == state["t_s"].max()].sort_values("vsp_id")
    return last.set_index("vsp_id")[["t_s", "share", "intensity", "twin_value"]]


def fault_metrics(source: TableSource) -> dict[str, Any]:
    """Outages, lost twins and transfer events of a run with faults ({} without outages).

    Returns:
        ``outages_rsu``, ``outages_link``, ``twins_lost``, ``twins_restored``,
        ``restore_mean_s`` (s, lost to restored) and ``transfers_<event>`` per transfer event.
    """
    if source.n_rows("/faults/outages") == 0:
        return {}
    element = source.table("/faults/outages", columns=["element"])["element"]
    losses = source.table("/faults/twin_losses", columns=["t_lost_s", "t_restored_s"])
    lost = losses["t_lost_s"].to_numpy(float)
    restored = losses["t_restored_s"].to_numpy(float)
    done = np.isfinite(restored)
    events = source.table("/faults/transfer_events", columns=["event"])["event"]
    counts = events.value_counts()
    return {
        "outages_rsu": int((element == "rsu").sum()),
        "outages_link": int((element == "link").sum()),
        "twins_lost": int(lost.size),
        "twins_restored": int(done.sum()),
        "restore_mean_s": float(np.mean(restored[done] - lost[done])) if done.any()
        else math.nan,
        **{f"transfers_{name}": int(counts.get(name, 0)) for name in TRANSFER_EVENT.values()},
    }
