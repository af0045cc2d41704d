"""Comparison reports: ``uavtwin report`` on a sweep directory or on several traces.

A comparison groups runs by one *compared* column (by default the pricing solver), prints per
configuration the mean of each metric with its 95 % interval (flagged when it rests on fewer
than five runs), the paired differences to a baseline (runs are paired by repetition in a
sweep, by seed for loose traces: the same seed means the same world), and writes the
comparison figures of :mod:`analysis.figures_compare`: each metric against the swept
parameter (one line per configuration), overlaid CDFs of migration time, interruption and
price, and the paired differences next to the unpaired intervals of the same runs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.figures_compare import (
    QUANTITIES,
    plot_cdf_comparison,
    plot_metric_vs_parameter,
    plot_paired_differences,
    pooled_samples,
)
from analysis.figures_style import FORMATS, STYLES, save_figure, use_style
from analysis.loaders import Trace, open_trace
from analysis.report import Report
from analysis.run_metrics import run_metrics
from analysis.stats import MIN_RUNS_FOR_CI
from analysis.sweep import describe_difference, open_sweep, paired_differences, summarise_sweep
from simulator.errors import TraceError

__all__ = ["DEFAULT_METRICS", "build_comparison", "runs_table"]

DEFAULT_METRICS: tuple[str, ...] = ("revenue", "price_paid_mean", "interruption_mean_s",
                                    "immersion_mean", "optimality_ratio")
"""Metrics a comparison shows unless told otherwise."""


def runs_table(paths: Sequence[str | os.PathLike[str]]) -> tuple[pd.DataFrame, list[Trace]]:
    """One row per trace: its solver label, seed (as ``repetition``) and run metrics.

    Args:
        paths: Trace files.

    Returns:
        ``(table, traces)``; the table has ``solver``, ``repetition`` (= seed), ``seed``,
        ``trace`` and the :func:`~analysis.report.run_metrics` columns, with
        ``attrs["parameters"] == ["solver"]`` and ``attrs["metrics"]``.

    Raises:
        TraceError: An unreadable trace.
    """
    rows, traces = [], []
    for path in paths:
        trace = open_trace(path)
        rounds = trace.table("/pricing/rounds", columns=["solver"])
        solvers = sorted(rounds["solver"].astype(str).unique())
        label = "+".join(solvers) if solvers else Path(path).stem
        seed = int(trace.attrs.get("seed", -1))
        with trace.held_open():
            metrics = run_metrics(trace)
        rows.append({"solver": label, "repetition": seed, "seed": seed, "trace": str(path),
                     "status": trace.status, **metrics})
        traces.append(trace)
    df = pd.DataFrame(rows)
    df.attrs.update(parameters=["solver"],
                    metrics=[c for c in df.columns if c not in ("solver", "repetition", "seed",
                                                                  "trace", "status")])
    return df, traces


def _fmt(v: float) -> str:
    return f"{v:.4g}" if isinstance(v, float | int) and math.isfinite(v) else "n/a"


def build_comparison(paths: Sequence[str | os.PathLike[str]],
                     figures_dir: str | os.PathLike[str] | None = None, *,
                     fmt: str | None = None, style: str = "screen", compare: str | None = None,
                     baseline: Any = None, metrics: Sequence[str] | None = None) -> Report:
    """Compare configurations across runs: text tables and comparison figures.

    Args:
        paths: One sweep directory, or several trace files.
        figures_dir: Where to write the figures (``None``: none).
        fmt: Figure format (default: the style's).
        style: ``screen`` or ``paper``.
        compare: The compared column (default: ``pricing.solver`` in a sweep if swept, else
            its first parameter; ``solver`` for traces).
        baseline: The value the others are compared with (default: ``equilibrium`` if
            present, else the first value).
        metrics: Metrics to show (default :data:`DEFAULT_METRICS`).

    Returns:
        A :class:`~analysis.report.Report` (text, figures written, nothing skipped, and
        ``stats`` holding the ``summary`` and ``differences`` tables).

    Raises:
        TraceError: Unreadable input.
        ValueError: Unknown style, format, metric or compared column.
    """
    if style not in STYLES:
        raise ValueError(f"figure style {style!r}: expected one of {list(STYLES)}")
    fmt = fmt or STYLES[style].fmt
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r}: expected one of {list(FORMATS)}")
    paths = [Path(p) for p in paths]
    if len(paths) == 1 and paths[0].is_dir():
        df = open_sweep(paths[0])
        params = [p for p in df.attrs["parameters"]]
        source = f"sweep {df.attrs.get('name', paths[0].name)} ({paths[0]})"
        complete = df[df["status"] == "complete"]
        traces = {i: open_trace(paths[0] / t) for i, t in complete["trace"].items()}
    elif len(paths) >= 1 and all(p.is_file() for p in paths):
        df, loaded = runs_table(paths)
        params = ["solver"]
        source = f"{len(paths)} traces"
        traces = dict(zip(df.index, loaded, strict=True))
    else:
        bad = next(p for p in paths if not p.exists() or (p.is_dir() and len(paths) > 1))
        raise TraceError(f"{bad}: expected one sweep directory or several trace files")
    if not params:
        raise ValueError(f"{source}: nothing to compare (no varied parameter)")
    compare = compare or ("pricing.solver" if "pricing.solver" in params else params[0])
    if compare not in params:
        raise ValueError(f"compare={compare!r}: expected one of {params}")
    metrics = list(metrics or DEFAULT_METRICS)
    unknown = [m for m in metrics if m not in df.columns]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; metrics: {df.attrs['metrics']}")
    values = sorted(df[compare].dropna().unique(), key=str)
    if baseline is None:
        baseline = "equilibrium" if "equilibrium" in values else values[0]
    others = [p for p in params if p != compare]
    summary = summarise_sweep(df, by=[*others, compare], metrics=metrics)
    diffs = (paired_differences(df, compare, baseline, metrics=metrics, by=others)
             if len(values) > 1 else pd.DataFrame())
    lines = [f"uavtwin comparison: {source}", f"  compared: {compare} (baseline {baseline}); "
             f"{len(df)} runs, {int((df['status'] == 'complete').sum())} "
             "complete", "", "Means with 95% t intervals († = fewer than "
             f"{MIN_RUNS_FOR_CI} runs: the interval is unreliable)"]
    for m in metrics:
        lines.append(f"  {m}")
        for _, row in summary.iterrows():
            key = ", ".join(f"{c}={row[c]}" for c in (*others, compare))
            dagger = " †" if row[f"{m}_low_n"] else ""
            lines.append(f"    {key:<44} {_fmt(row[f'{m}_mean']):>10} "
                         f"[{_fmt(row[f'{m}_ci95_low'])}, {_fmt(row[f'{m}_ci95_high'])}] "
                         f"n={int(row[f'{m}_n'])}{dagger}")
    if len(diffs):
        lines += ["", f"Paired differences to {baseline} (relative, 95% interval; the unpaired "
                  "interval of the same runs in brackets)"]
        for _, row in diffs.iterrows():
            extra = ", ".join(f"{c}={row[c]}" for c in others)
            unp = (f"{100 * row['unpaired_low'] / row['baseline_mean']:.3g}, "
                   f"{100 * row['unpaired_high'] / row['baseline_mean']:.3g}"
                   if row["baseline_mean"] else "n/a")
            lines.append(f"  {describe_difference(row, compare)}"
                         + (f" [{extra}]" if extra else "") + f"; unpaired [{unp}]")
    written: list[Path] = []
    if figures_dir is not None:
        out = Path(figures_dir)
        with use_style(style):
            for m in metrics:
                x = others[0] if others else compare
                ax = plot_metric_vs_parameter(summary, x, m, line=compare if others else None)
                written.append(save_figure(ax.figure, out / f"metric_{m}.{fmt}", fmt))
                if len(diffs):
                    ax = plot_paired_differences(diffs, m, compare)
                    written.append(save_figure(ax.figure, out / f"paired_{m}.{fmt}", fmt))
            groups = {str(v): [traces[i] for i in df.index[df[compare] == v] if i in traces]
                      for v in values}
            for q in QUANTITIES:
                ax = plot_cdf_comparison(pooled_samples(groups, q), q)
                written.append(save_figure(ax.figure, out / f"cdf_{q}.{fmt}", fmt))
        lines += ["", "Figures", f"  {len(written)} written to {out}"]
    return Report(text="\n".join(lines), figures=written, skipped=[],
                  stats={"summary": summary, "differences": diffs})
