"""The one-screen summary that ``uavtwin run`` prints at the end of a run.

Its numbers are :func:`analysis.run_metrics.run_metrics` of what the run recorded (the trace,
or the in-memory tables of an in-memory run), the same function behind ``uavtwin report``,
sweep tables and REPORT.md, so the summary, the report and an analyst reading the file agree
on every value and on what it means. Sensing values are shown at their steady state
(:func:`analysis.metrics.sensing_steady_state`: the time average over the middle half of the
horizon) and, labelled as such, at the horizon's end.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from analysis.metrics import sensing_steady_state
from analysis.run_metrics import TableSource, fault_metrics, run_metrics, sensing_end_state
from simulator.trace.schema import TRANSFER_EVENT

__all__ = ["format_summary", "summarise"]


def summarise(source: TableSource) -> dict[str, Any]:
    """Headline numbers of one run, plus the sensing market's end-of-horizon state.

    Args:
        source: the run's tables.

    Returns:
        :func:`~analysis.run_metrics.run_metrics` plus ``sensing_end_shares`` and
        ``sensing_end_intensity`` (lists, one per VSP; empty without sensing), and the
        :func:`~analysis.run_metrics.fault_metrics` of a run with faults.
    """
    out = run_metrics(source)
    end = sensing_end_state(source)
    out["sensing_end_shares"] = end["share"].tolist() if len(end) else []
    out["sensing_end_intensity"] = end["intensity"].tolist() if len(end) else []
    steady = sensing_steady_state(source.table("/sensing/state"))
    out["sensing_steady_shares"] = steady["share"].tolist() if len(steady) else []
    out["sensing_steady_intensity"] = steady["intensity"].tolist() if len(steady) else []
    out["sensing_steady_window_s"] = [steady.attrs.get("t_from_s"), steady.attrs.get("t_to_s")]
    out.update(fault_metrics(source))
    return out


def format_summary(summary: Mapping[str, Any], *, title: str) -> str:
    """Render :func:`summarise`'s dict (plus run fields) as a one-screen text block."""
    def num(key: str, fmt: str = "{:.3g}") -> str:
        value = summary.get(key, math.nan)
        if isinstance(value, float) and not math.isfinite(value):
            return "-"
        return fmt.format(value)

    lines = [
        title,
        f"  UAVs / RSUs            {summary['uavs']} / {summary['rsus']}",
        f"  coverage events        {summary['coverage_events']} "
        f"({summary['handovers']} cell exits)",
        f"  migration requests     {summary['requests']} "
        f"({summary['requests_priced']} priced, {summary['requests_unserved']} without a "
        f"viable RSU)",
        f"  pricing rounds         {summary['rounds']} "
        f"({summary['rounds_converged']} converged)",
        f"  migrations / transfers {summary['migrations']} completed / "
        f"{summary['transfers']}",
        f"  migration time         mean {num('migration_time_mean_s')} s, "
        f"p95 {num('migration_time_p95_s')} s",
        f"  service interruption   mean {num('interruption_mean_s')} s, "
        f"p95 {num('interruption_p95_s')} s",
        f"  price paid             {num('price_paid_mean')} per MHz (mean weighted by "
        f"bandwidth bought)",
        f"  bandwidth              {num('bandwidth_per_migration_mhz')} MHz per migration",
        f"  immersion              mean {num('immersion_mean')}",
        f"  RSU revenue            {num('revenue', '{:.1f}')}",
        f"  vs exact equilibrium   RSU utility x {num('optimality_ratio', '{:.4f}')}, "
        f"UAV utility x {num('optimality_ratio_uav', '{:.4f}')} (same rounds)",
    ]
    if summary.get("sensing_steady_shares"):
        shares = ", ".join(f"{x:.3f}" for x in summary["sensing_steady_shares"])
        etas = ", ".join(f"{x:.2f}" for x in summary["sensing_steady_intensity"])
        lo, hi = summary["sensing_steady_window_s"]
        lines.append(f"  sensing steady state   shares {shares}; intensities {etas} 1/s "
                     f"(mean over t in [{lo:.0f}, {hi:.0f}] s)")
    if summary.get("sensing_end_shares"):
        shares = ", ".join(f"{x:.3f}" for x in summary["sensing_end_shares"])
        etas = ", ".join(f"{x:.2f}" for x in summary["sensing_end_intensity"])
        lines.append(f"  sensing at horizon end shares {shares}; intensities {etas} 1/s "
                     "(open-loop paths collapse at the horizon)")
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
