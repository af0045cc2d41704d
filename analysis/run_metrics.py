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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from analysis import metrics
from simulator.trace.schema import TRANSFER_EVENT

__all__ = ["METRICS", "Metric", "TableSource", "fault_metrics", "run_metrics", "sensing_end_state"]


class TableSource(Protocol):
    """What :func:`run_metrics` reads: schema tables as frames, and their row counts."""

    def table(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame: ...

    def n_rows(self, table: str) -> int: ...


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


def run_metrics(source: TableSource) -> dict[str, Any]:
    """Headline numbers of a run (JSON-ready; NaN where there is nothing to measure).

    Args:
        source: the run's tables (an opened trace or a run's in-memory tables).

    Returns:
        One value per key of :data:`METRICS`, in that order.
    """
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
    assert list(out) == list(METRICS), "run_metrics and METRICS disagree"
    return out


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
