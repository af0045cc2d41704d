"""The one-screen summary of a run, computed from its trace tables.

The summary is derived from what the run recorded (the trace, or a
:class:`~simulator.world.world.MemoryRecorder`), never from counters kept on the side, so what the
CLI prints is what an analyst will find in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simulator.trace.schema import FAULT_ELEMENT, TRANSFER_EVENT, code_of

#: ``read(table) -> {column: array}`` for a table of the trace schema.
TableReader = Callable[[str], Mapping[str, np.ndarray]]


def _stats(values: np.ndarray) -> tuple[float, float]:
    if values.size == 0:
        return float("nan"), float("nan")
    return float(np.mean(values)), float(np.percentile(values, 95))


def summarise(read: TableReader) -> dict[str, Any]:
    """Headline numbers of one run.

    Args:
        read: returns the columns of a trace table (empty arrays for an empty table).

    Returns:
        A flat dict of JSON-ready numbers (NaN where there is nothing to average).
    """
    cov = read("/coverage/events")
    req = read("/migration/requests")
    transfers = read("/migration/transfers")
    service = read("/migration/service")
    offers = read("/pricing/offers")
    revenue = read("/pricing/revenue")
    rounds = read("/pricing/rounds")
    kind = np.asarray(cov.get("kind", []))
    bought = np.asarray(offers.get("bandwidth_mhz", []), dtype=float) > 0
    durations = np.asarray(transfers.get("t_end_s", []), dtype=float) - np.asarray(
        transfers.get("t_start_s", []), dtype=float)
    mig_mean, mig_p95 = _stats(durations)
    int_mean, int_p95 = _stats(np.asarray(service.get("interruption_s", []), dtype=float))
    prices = np.asarray(offers.get("price", []), dtype=float)[bought]
    sensing = read("/sensing/state")
    t_sense = np.asarray(sensing.get("t_s", []), dtype=float)
    last = t_sense == t_sense.max() if t_sense.size else np.zeros(0, dtype=bool)
    out = {
        "sensing_final_shares": np.asarray(sensing.get("share", []), dtype=float)[last].tolist(),
        "sensing_final_intensity": np.asarray(sensing.get("intensity", []),
                                              dtype=float)[last].tolist(),
        "uavs": int(len(read("/uavs").get("uav_id", []))),
        "rsus": int(len(read("/rsus").get("rsu_id", []))),
        "coverage_events": int(kind.size),
        "handovers": int(np.sum(kind == 0)),
        "requests": int(len(req.get("request_id", []))),
        "requests_unserved": int(np.sum(np.asarray(req.get("outcome", [])) != 0)),
        "pricing_rounds": int(len(rounds.get("round_id", []))),
        "rounds_converged": int(np.sum(np.asarray(rounds.get("converged", []), dtype=bool))),
        "migrations": int(len(service.get("request_id", []))),
        "twin_transfers": int(durations.size),
        "migration_time_mean_s": mig_mean,
        "migration_time_p95_s": mig_p95,
        "interruption_mean_s": int_mean,
        "interruption_p95_s": int_p95,
        "price_mean": float(np.mean(prices)) if prices.size else float("nan"),
        "bandwidth_mean_mhz": float(np.mean(service["bandwidth_mhz"]))
        if len(service.get("bandwidth_mhz", [])) else float("nan"),
        "immersion_mean": float(np.mean(service["immersion"]))
        if len(service.get("immersion", [])) else float("nan"),
        "rsu_revenue_total": float(np.sum(revenue.get("revenue", []))),
    }
    out.update(_fault_summary(read))
    return out


def _fault_summary(read: TableReader) -> dict[str, Any]:
    """Outages, lost twins and transfer events of a run with faults ({} without outages)."""
    element = np.asarray(read("/faults/outages").get("element", []))
    if not element.size:
        return {}
    losses = read("/faults/twin_losses")
    lost = np.asarray(losses.get("t_lost_s", []), dtype=float)
    restored = np.asarray(losses.get("t_restored_s", []), dtype=float)
    done = np.isfinite(restored)
    events = np.bincount(np.asarray(read("/faults/transfer_events").get("event", []),
                                    dtype=np.int64), minlength=len(TRANSFER_EVENT))
    return {
        "outages_rsu": int(np.sum(element == code_of(FAULT_ELEMENT, "rsu"))),
        "outages_link": int(np.sum(element == code_of(FAULT_ELEMENT, "link"))),
        "twins_lost": int(lost.size),
        "twins_restored": int(done.sum()),
        "restore_mean_s": _stats(restored[done] - lost[done])[0],
        **{f"transfers_{name}": int(events[code]) for code, name in TRANSFER_EVENT.items()},
    }


def format_summary(summary: Mapping[str, Any], *, title: str) -> str:
    """Render :func:`summarise`'s dict (plus run fields) as a one-screen text block."""
    def num(key: str, fmt: str = "{:.3g}") -> str:
        value = summary.get(key, float("nan"))
        if isinstance(value, float) and np.isnan(value):
            return "-"
        return fmt.format(value)

    lines = [
        title,
        f"  UAVs / RSUs            {summary['uavs']} / {summary['rsus']}",
        f"  coverage events        {summary['coverage_events']} "
        f"({summary['handovers']} cell exits)",
        f"  migration requests     {summary['requests']} "
        f"({summary['requests_unserved']} without a viable RSU)",
        f"  pricing rounds         {summary['pricing_rounds']} "
        f"({summary['rounds_converged']} converged)",
        f"  migrations / transfers {summary['migrations']} / {summary['twin_transfers']}",
        f"  migration time         mean {num('migration_time_mean_s')} s, "
        f"p95 {num('migration_time_p95_s')} s",
        f"  service interruption   mean {num('interruption_mean_s')} s, "
        f"p95 {num('interruption_p95_s')} s",
        f"  price / bandwidth      mean {num('price_mean')} per MHz, "
        f"{num('bandwidth_mean_mhz')} MHz per migration",
        f"  immersion              mean {num('immersion_mean')}",
        f"  RSU revenue            {num('rsu_revenue_total', '{:.1f}')}",
    ]
    if summary.get("sensing_final_shares"):
        shares = ", ".join(f"{x:.3f}" for x in summary["sensing_final_shares"])
        etas = ", ".join(f"{x:.2f}" for x in summary["sensing_final_intensity"])
        lines.append(f"  sensing (end)          shares {shares}; intensities {etas}")
    if "outages_rsu" in summary:
        lines.append(f"  faults                 {summary['outages_rsu']} RSU / "
                     f"{summary['outages_link']} link outages; {summary['twins_lost']} twins "
                     f"lost, {summary['twins_restored']} restored (mean "
                     f"{num('restore_mean_s')} s)")
        lines.append("  transfers under faults " + ", ".join(
            f"{summary[f'transfers_{name}']} {name}" for name in TRANSFER_EVENT.values()))
    if "wall_time_s" in summary:
        lines.append(f"  wall time              {summary['wall_time_s']:.2f} s "
                     f"(simulated {summary.get('sim_time_s', 0):.0f} s)")
    if summary.get("trace"):
        lines.append(f"  trace                  {summary['trace']}")
    return "\n".join(lines)
