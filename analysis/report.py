"""The run report behind ``uavtwin report``: a one-screen summary and the figures.

:func:`build_report` opens a trace, computes the headline metrics of
:func:`analysis.run_metrics.run_metrics` (the same numbers as the run summary and a sweep's
per-run row), lays them out as plain text with
units, and, when given a directory, writes every figure the trace has data for. Figures whose
tables are empty (no sensing, no training) are skipped and the text says which and why.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis import metrics
from analysis.figures import FIGURES, write_figures
from analysis.figures_style import FORMATS, STYLES
from analysis.loaders import Trace, open_trace
from analysis.paper_claims import band_entry_at
from analysis.run_metrics import run_metrics

__all__ = ["Report", "build_report", "render_text"]


@dataclass(frozen=True)
class Report:
    """What ``uavtwin report`` shows.

    Attributes:
        text: The summary table (printed as is by the CLI).
        figures: Files written, in report order (empty without a figures directory).
        skipped: ``(figure name, reason)`` for the figures the trace has no data for.
        stats: The headline numbers of :func:`run_metrics`.
    """

    text: str
    figures: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def _fmt(value: float, unit: str = "", digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    text = f"{value:.{digits}g}"
    return f"{text} {unit}".rstrip()


def _stats_line(prefix: str, stats: dict[str, Any], unit: str) -> str:
    if not (isinstance(stats[f"{prefix}_mean_s"], float) and math.isfinite(
            stats[f"{prefix}_mean_s"])):
        return "n/a"
    return ", ".join(f"{k} {_fmt(stats[f'{prefix}_{k}_s'], unit)}"
                     for k in ("mean", "median", "p95", "max"))


def _counts_by(values: Any) -> str:
    counts = values.value_counts(sort=False)
    return ", ".join(f"{int(c)} {label}" for label, c in counts.items() if c)


def render_text(trace: Trace, stats: dict[str, Any], skipped: list[tuple[str, str]],
                figures: list[Path], figures_dir: Path | None, *, top_rsus: int = 10) -> str:
    """Lay out the summary of a run as plain text (the body of ``uavtwin report``).

    Args:
        trace: The run.
        stats: :func:`run_metrics` of the run.
        skipped: Figures left out, with reasons.
        figures: Figures written.
        figures_dir: Where figures went (``None``: none requested).
        top_rsus: RSUs listed in the per-RSU table (by revenue).

    Returns:
        The text, lines separated by ``\\n`` with no trailing newline.
    """
    a = trace.attrs
    lines = [f"uavtwin report: {trace.path}"]
    row = "  {:<38}{}".format
    lines += [
        row("scenario", f"{trace.scenario_name or 'unknown'} (seed {a.get('seed', '?')})"),
        row("status", trace.status + (f": {' '.join(str(a['error']).split())}"
                                      if a.get("error") else "")),
        row("schema / uavtwin version", f"{a.get('schema_version')} / "
            f"{a.get('uavtwin_version', '?')}"),
        row("created", str(a.get("created", "?"))),
        row("wall time", _fmt(float(a.get("wall_time_s", math.nan)), "s")),
        row("simulated time", _fmt(trace.duration_s or math.nan, "s")),
        "", "Counts",
    ]
    requests = trace.table("/migration/requests", columns=["outcome"])
    rounds = trace.table("/pricing/rounds", columns=["solver", "converged"])
    lines += [
        row("RSUs / UAVs", f"{stats['rsus']} / {stats['uavs']}"),
        row("coverage events", f"{stats['coverage_events']} ({stats['handovers']} cell exits)"),
        row("migration requests", f"{stats['requests']}"
            + (f" ({_counts_by(requests['outcome'])})" if len(requests) else "")),
        row("pricing rounds", f"{stats['rounds']}"
            + (f" ({int(rounds['converged'].sum())} converged; solver "
               f"{', '.join(sorted(rounds['solver'].astype(str).unique()))})"
               if len(rounds) else "")),
        row("completed migrations / twin transfers",
            f"{stats['migrations']} / {stats['transfers']}"),
        row("sensing samples / training updates",
            f"{stats['sensing_samples']} / {stats['training_updates']}"),
        "", "Key statistics",
        row("handover rate", _fmt(stats["handover_rate_per_h"], "cell exits per UAV per h")),
        row("migration time per twin", _stats_line("migration_time", stats, "s")),
        row("service interruption", _stats_line("interruption", stats, "s")),
        row("price paid (mean weighted by bandwidth)", _fmt(stats["price_paid_mean"],
                                                             "price/MHz")),
        row("bandwidth sold", _fmt(stats["bandwidth_mhz"], "MHz")),
        row("RSU revenue / profit", f"{_fmt(stats['revenue'])} / {_fmt(stats['profit'])} price"),
        row("mean immersion per migration", _fmt(stats["immersion_mean"])),
        row("solver iterations (mean)", _fmt(stats["solver_iterations_mean"])),
        row("rounds converged", _fmt(100 * stats["converged_fraction"], "%")),
        row("RSU / UAV utility vs equilibrium", _ratio_text(stats)),
    ]
    lines += _rsu_lines(trace, top_rsus) + _sensing_lines(trace) + _training_lines(trace)
    lines += ["", "Figures"]
    if figures_dir is None:
        lines.append("  none written (give a figures directory, e.g. --figures DIR)")
    else:
        lines.append(f"  {len(figures)} written to {figures_dir}")
    lines += [f"  skipped {name}: {reason}" for name, reason in skipped]
    return "\n".join(lines)


def _ratio_text(stats: dict[str, Any]) -> str:
    if not math.isfinite(stats["optimality_ratio"]):
        return "n/a (no reference recorded: pricing.reference was off)"
    return (f"{_fmt(stats['optimality_ratio'])} / {_fmt(stats['optimality_ratio_uav'])} "
            "(ratio of means to the exact equilibrium of the same rounds)")


def _rsu_lines(trace: Trace, top: int) -> list[str]:
    if trace.n_rows("/pricing/revenue") == 0:
        return []
    m = metrics.market_per_rsu(trace.table("/pricing/offers"), trace.table("/pricing/revenue"))
    m = m.sort_values("revenue", ascending=False, kind="stable")
    head = f"Per RSU (top {min(top, len(m))} of {len(m)} by revenue; prices in price/MHz)"
    lines = ["", head, "  {:>5} {:>7} {:>11} {:>11} {:>14} {:>10} {:>10}".format(
        "RSU", "rounds", "mean price", "paid price", "bandwidth MHz", "revenue", "profit")]
    for rsu, r in m.head(top).iterrows():
        lines.append("  {:>5} {:>7} {:>11} {:>11} {:>14} {:>10} {:>10}".format(
            rsu, int(r["rounds"]), _fmt(r["mean_price"]), _fmt(r["paid_price"]),
            _fmt(r["bandwidth_mhz"]), _fmt(r["revenue"]), _fmt(r["profit"])))
    return lines


def _sensing_lines(trace: Trace) -> list[str]:
    if trace.n_rows("/sensing/state") == 0:
        return []
    state = trace.table("/sensing/state")
    steady = metrics.sensing_steady_state(state)
    last = state[state["t_s"] == state["t_s"].max()].sort_values("vsp_id")
    head = "  {:>5} {:>8} {:>12} {:>10} {:>18}".format(
        "VSP", "share", "twin value", "intensity", "cumulative payoff")
    lines = ["", "Sensing market, steady state (mean over t in "
             f"[{_fmt(steady.attrs['t_from_s'])}, {_fmt(steady.attrs['t_to_s'])}] s, the middle "
             "half of the horizon; intensity in 1/s)",
             "  {:>5} {:>8} {:>12} {:>10}".format("VSP", "share", "twin value", "intensity")]
    for vsp, r in steady.iterrows():
        lines.append("  {:>5} {:>8} {:>12} {:>10}".format(
            int(vsp), _fmt(r["share"]), _fmt(r["twin_value"]), _fmt(r["intensity"])))
    lines += ["", f"Sensing market at the horizon's end, t = "
              f"{_fmt(float(last['t_s'].iloc[0]), 's')} (open-loop paths collapse there)", head]
    for _, r in last.iterrows():
        lines.append("  {:>5} {:>8} {:>12} {:>10} {:>18}".format(
            int(r["vsp_id"]), _fmt(r["share"]), _fmt(r["twin_value"]), _fmt(r["intensity"]),
            _fmt(r["cumulative_payoff"])))
    return lines


def _training_lines(trace: Trace) -> list[str]:
    if trace.n_rows("/training/iterations") == 0:
        return []
    tc = metrics.training_curves(trace.table("/training/iterations"))
    last = tc.iloc[-1]
    best = float(np.nanmax(tc["reward_ratio"].to_numpy(float))) if len(tc) else math.nan
    row = "  {:<38}{}".format
    return ["", "Training", row("updates / env steps", f"{len(tc)} / {int(last['step'])}"),
            row("last reward / equilibrium reward",
                f"{_fmt(last['mean_reward'])} / {_fmt(last['se_reward'])} price "
                f"(ratio {_fmt(last['reward_ratio'])}, best {_fmt(best)})"),
            row("last sparsity / live parameters",
                f"{_fmt(last['sparsity'])} / {int(last['live_params'])}")] + _held_out_lines(tc)


def _held_out_lines(tc: Any) -> list[str]:
    """Last held-out ratio and the first update from which it stays in the 2% band."""
    if "eval_ratio" not in tc:
        return []
    held = tc["eval_ratio"].dropna()
    if held.empty:
        return []
    k = band_entry_at(held.index.to_numpy(), held.to_numpy(float), 1.0)
    entry = "never" if k is None else str(k)
    return ["  {:<38}{}".format("held-out ratio (last) / 2% band from",
                                f"{_fmt(float(held.iloc[-1]))} / update {entry}")]


def build_report(trace_path: str | os.PathLike[str], figures_dir: str | os.PathLike[str] | None
                 = None, fmt: str | None = None, *, style: str = "screen") -> Report:
    """Summarise a run and optionally write its figures.

    Args:
        trace_path: The trace file.
        figures_dir: Directory for the figures (created if needed); ``None`` writes none.
        fmt: Figure format: ``png``, ``pdf`` or ``svg`` (default: the style's: png for
            ``screen``, pdf for ``paper``).
        style: ``screen`` or ``paper`` (see :mod:`analysis.figures_style`).

    Returns:
        The :class:`Report` (text, figures written, figures skipped, headline numbers).

    Raises:
        TraceError: The file is not a readable trace (see :func:`analysis.open_trace`).
        ValueError: Unknown figure format.

    Warns:
        PartialTraceWarning: The run did not finish.
    """
    if style not in STYLES:
        raise ValueError(f"figure style {style!r}: expected one of {list(STYLES)}")
    fmt = fmt or STYLES[style].fmt
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r}: expected one of {list(FORMATS)}")
    trace = open_trace(trace_path)
    with trace.held_open():
        stats = run_metrics(trace)
    if figures_dir is None:
        written: list[Path] = []
        skipped = [(s.name, r) for s in FIGURES if (r := s.missing(trace)) is not None]
        out_dir = None
    else:
        out_dir = Path(figures_dir)
        written, skipped = write_figures(trace, out_dir, fmt, style=style)
    text = render_text(trace, stats, skipped, written, out_dir)
    return Report(text=text, figures=written, skipped=skipped, stats=stats)
