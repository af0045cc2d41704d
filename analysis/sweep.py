"""Sweep analysis: one table of runs with their metrics, and means with confidence intervals.

A sweep directory (written by ``uavtwin sweep``) holds ``index.csv`` (one row per run: the
varied parameters, repetition, seed, trace path, status, wall time, error) and
``sweep.json`` (the definition). :func:`open_sweep` joins every run's index row with the
headline metrics of its trace (:func:`analysis.run_metrics.run_metrics`); failed or unfinished runs
are kept with NaN metrics so that nothing disappears silently. :func:`summarise_sweep` groups
the runs by parameters and reports, per metric, the mean over repetitions with a two-sided
95 % Student-t confidence interval ``mean +- t(0.975, n-1) * std / sqrt(n)``, flagged
(``M_low_n``) when it rests on fewer than :data:`~analysis.stats.MIN_RUNS_FOR_CI` runs.

Repetition ``r`` of every point of a sweep ran with the same seed (common random numbers), so
two configurations can be compared *pairwise*: with ``compare="pricing.solver"`` and
``baseline="equilibrium"``, :func:`summarise_sweep` adds, per metric, the mean paired
difference to the baseline with its interval, the relative difference with its interval,
the paired t test's p-value and, for contrast, the unpaired (Welch) interval of the same
difference on the same runs. :func:`paired_differences` gives the same numbers in long form
and :func:`describe_difference` one sentence per comparison ("greedy minus equilibrium
revenue: -2.1% [-2.6, -1.7], n = 30, paired").

Only the trace files are read: no simulator module is imported.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.loaders import open_trace
from analysis.run_metrics import run_metrics
from analysis.stats import MIN_RUNS_FOR_CI, mean_ci, paired_difference
from simulator.errors import TraceError

__all__ = ["DIFF_STATS", "PAIRED_COLUMNS", "describe_difference", "open_sweep",
           "paired_differences", "summarise_sweep"]

_INDEX_COLUMNS = ("run_id", "repetition", "seed", "trace", "status", "wall_time_s", "error")
_STATS = ("mean", "std", "n", "ci95_low", "ci95_high", "low_n")
DIFF_STATS = ("pairs", "diff", "diff_ci95_low", "diff_ci95_high", "rel", "rel_ci95_low",
              "rel_ci95_high", "p_value", "unpaired_ci95_low", "unpaired_ci95_high")
"""Per-metric columns ``M_<stat>`` :func:`summarise_sweep` adds with ``compare=``."""
PAIRED_COLUMNS = ("metric", "n", "mean", "baseline_mean", "diff", "diff_low", "diff_high",
                  "rel", "rel_low", "rel_high", "p_value", "unpaired_low", "unpaired_high",
                  "correlation", "low_n")
"""Columns of :func:`paired_differences` after the group and compared-value columns."""


def open_sweep(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a sweep directory into one DataFrame, one row per run.

    Args:
        path: The sweep directory (``index.csv``, ``sweep.json``, ``runs/``).

    Returns:
        The index columns (``run_id``, each parameter as its own column, ``repetition``,
        ``seed``, ``trace``, ``status``, ``wall_time_s``, ``error``) followed by the
        :func:`~analysis.run_metrics.run_metrics` columns, NaN for runs that are not complete.
        ``df.attrs["parameters"]`` and ``df.attrs["metrics"]`` list those column names and
        ``df.attrs["name"]`` is the sweep's name.

    Raises:
        TraceError: No ``index.csv`` in ``path``, or a complete run's trace is unreadable.
    """
    root = Path(path)
    index_path = root / "index.csv"
    if not index_path.is_file():
        raise TraceError(f"{root}: not a sweep directory (no index.csv)")
    index = pd.read_csv(index_path, keep_default_na=False, na_values={"wall_time_s": ["nan"]})
    meta_path = root / "sweep.json"
    meta: dict[str, Any] = (json.loads(meta_path.read_text(encoding="utf-8"))
                            if meta_path.is_file() else {})
    params = [c for c in index.columns if c not in _INDEX_COLUMNS]
    index = index.astype({"run_id": str, "trace": str, "status": str, "error": str})
    records: list[dict[str, Any]] = []
    for status, trace in zip(index["status"], index["trace"], strict=True):
        if status != "complete":
            records.append({})
            continue
        try:
            with open_trace(root / trace).held_open() as opened:
                records.append(run_metrics(opened))
        except TraceError as err:
            raise TraceError(f"{index_path}: {err}") from None
    found = pd.DataFrame.from_records(records, index=index.index)
    metric_names = list(found.columns)
    df = pd.concat([index, found.astype(float)], axis=1)
    df.attrs.update(parameters=params, metrics=metric_names, name=meta.get("name", root.name))
    return df


def summarise_sweep(df: pd.DataFrame, by: Sequence[str] | None = None,
                    metrics: Sequence[str] | None = None, *, confidence: float = 0.95,
                    compare: str | None = None, baseline: Any = None) -> pd.DataFrame:
    """Mean, standard deviation and t confidence interval of metrics over repetitions.

    Args:
        df: A table from :func:`open_sweep` (or any table with the ``by`` and metric columns).
        by: Columns to group by; default the sweep's parameters (``df.attrs``).
        metrics: Metric columns; default every metric in ``df.attrs["metrics"]``.
        confidence: Two-sided level of the interval (0.95 gives the ``ci95`` columns' values).
        compare: A ``by`` column (e.g. ``pricing.solver``) whose values are compared pairwise
            with ``baseline`` within each group of the other ``by`` columns; pairs are the
            runs with the same ``repetition`` (and seed).
        baseline: The value of ``compare`` the others are compared with (default: its first
            value in sorted order).

    Returns:
        One row per group (the ``by`` columns first, then ``runs``: rows in the group), and
        per metric ``M_mean``, ``M_std`` (ddof 1), ``M_n`` (non-NaN values), ``M_ci95_low``,
        ``M_ci95_high`` and ``M_low_n`` (n < 5: the interval is unreliable or absent). NaN
        values (failed runs) are left out; the interval and the std are NaN for n < 2.
        With ``compare``, per metric also the :data:`DIFF_STATS` columns: ``M_pairs``,
        ``M_diff`` (mean of this row's value minus the baseline's, same repetition) with
        ``M_diff_ci95_low/high`` (paired t interval), ``M_rel`` (``mean / baseline mean -
        1``) with ``M_rel_ci95_low/high`` (delta method), ``M_p_value`` (paired t test) and
        ``M_unpaired_ci95_low/high`` (Welch interval of the difference on the same runs);
        NaN on the baseline's rows.

    Raises:
        ValueError: An unknown column in ``by``/``metrics``, a confidence outside (0, 1),
            ``compare`` not in ``by``, an unknown ``baseline``, or runs that are not paired
            (the same repetition with different seeds).
    """
    by = list(df.attrs.get("parameters", []) if by is None else by)
    metrics = list(df.attrs.get("metrics", []) if metrics is None else metrics)
    missing = [c for c in (*by, *metrics) if c not in df.columns]
    if missing:
        raise ValueError(f"summarise_sweep: no column(s) {missing} in the sweep table; "
                         f"columns are {list(df.columns)}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"summarise_sweep: confidence must be in (0, 1), got {confidence}")
    groups = df.groupby(by, sort=True, dropna=False) if by else [((), df)]
    rows = []
    for key, group in groups:
        row: dict[str, Any] = dict(zip(by, key if isinstance(key, tuple) else (key,),
                                       strict=True))
        row["runs"] = len(group)
        for m in metrics:
            values = pd.to_numeric(group[m], errors="coerce").to_numpy(dtype=float)
            ci = mean_ci(values, confidence)
            row.update({f"{m}_{k}": v for k, v in zip(
                _STATS, (ci.mean, ci.std, ci.n, ci.low, ci.high, ci.low_n), strict=True)})
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*by, "runs",
                                      *(f"{m}_{k}" for m in metrics for k in _STATS)])
    if compare is None:
        return out
    if compare not in by:
        raise ValueError(f"summarise_sweep: compare={compare!r} must be one of by={by}")
    diffs = paired_differences(df, compare, baseline, metrics=metrics,
                               by=[b for b in by if b != compare], confidence=confidence)
    cols = {"n": "pairs", "diff": "diff", "diff_low": "diff_ci95_low",
            "diff_high": "diff_ci95_high", "rel": "rel", "rel_low": "rel_ci95_low",
            "rel_high": "rel_ci95_high", "p_value": "p_value",
            "unpaired_low": "unpaired_ci95_low", "unpaired_high": "unpaired_ci95_high"}
    for m in metrics:
        part = diffs[diffs["metric"] == m][[*by, *cols]].rename(
            columns={c: f"{m}_{v}" for c, v in cols.items()})
        out = out.merge(part, on=by, how="left")
    return out


def paired_differences(df: pd.DataFrame, compare: str, baseline: Any = None, *,
                       metrics: Sequence[str] | None = None, by: Sequence[str] | None = None,
                       confidence: float = 0.95) -> pd.DataFrame:
    """Paired comparison of every value of ``compare`` with ``baseline``, per metric.

    Within each group of the ``by`` columns, the runs of value ``v`` and of the baseline are
    matched by ``repetition`` (which, in a sweep, gives them the same seed: common random
    numbers) and :func:`analysis.stats.paired_difference` is applied to the pairs whose
    metric is finite in both.

    Args:
        df: A table from :func:`open_sweep`.
        compare: The column whose values are compared (e.g. ``pricing.solver``).
        baseline: Its reference value (default: the first in sorted order).
        metrics: Metric columns (default ``df.attrs["metrics"]``).
        by: Other columns that define groups (default: the sweep's other parameters).
        confidence: Two-sided level.

    Returns:
        One row per (group, compared value != baseline, metric): the ``by`` columns,
        ``compare`` (the compared value), ``baseline``, then :data:`PAIRED_COLUMNS`
        (``mean``/``baseline_mean`` over the pairs; ``diff`` with ``diff_low/high``; ``rel``
        with ``rel_low/high``; ``p_value``; ``unpaired_low/high``; ``correlation``;
        ``low_n`` for fewer than 5 pairs).

    Raises:
        ValueError: Unknown columns or baseline, or the same repetition ran with different
            seeds (the runs are not paired).
    """
    metrics = list(df.attrs.get("metrics", []) if metrics is None else metrics)
    if by is None:
        by = [p for p in df.attrs.get("parameters", []) if p != compare]
    by = list(by)
    missing = [c for c in (compare, "repetition", *by, *metrics) if c not in df.columns]
    if missing:
        raise ValueError(f"paired_differences: no column(s) {missing} in the sweep table")
    values = sorted(df[compare].dropna().unique(), key=lambda v: (str(type(v)), v))
    if baseline is None:
        baseline = values[0] if values else None
    if baseline not in values:
        raise ValueError(f"paired_differences: baseline {baseline!r} is not a value of "
                         f"{compare!r}: {values}")
    groups = df.groupby(by, sort=True, dropna=False) if by else [((), df)]
    rows = []
    for key, group in groups:
        head = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        base = _by_repetition(group[group[compare] == baseline], compare)
        for v in values:
            if v == baseline:
                continue
            other = _by_repetition(group[group[compare] == v], compare)
            reps = base.index.intersection(other.index)
            if "seed" in group.columns:
                clash = reps[base.loc[reps, "seed"].to_numpy()
                             != other.loc[reps, "seed"].to_numpy()]
                if len(clash):
                    raise ValueError(
                        f"paired_differences: repetition {clash[0]} of {compare}={v!r} and "
                        f"{baseline!r} ran with different seeds ({other.loc[clash[0], 'seed']} "
                        f"and {base.loc[clash[0], 'seed']}): the runs are not paired (a sweep "
                        "written before common random numbers?)")
            for m in metrics:
                x = pd.to_numeric(other.loc[reps, m], errors="coerce").to_numpy(float)
                y = pd.to_numeric(base.loc[reps, m], errors="coerce").to_numpy(float)
                d = paired_difference(x, y, confidence)
                rows.append({**head, compare: v, "baseline": baseline, "metric": m, "n": d.n,
                             "mean": d.mean_x, "baseline_mean": d.mean_y, "diff": d.diff,
                             "diff_low": d.low, "diff_high": d.high, "rel": d.relative,
                             "rel_low": d.rel_low, "rel_high": d.rel_high,
                             "p_value": d.p_value, "unpaired_low": d.unpaired_low,
                             "unpaired_high": d.unpaired_high, "correlation": d.correlation,
                             "low_n": d.low_n})
    return pd.DataFrame(rows, columns=[*by, compare, "baseline", *PAIRED_COLUMNS])


def _by_repetition(runs: pd.DataFrame, compare: str) -> pd.DataFrame:
    dup = runs["repetition"].duplicated()
    if dup.any():
        raise ValueError(f"paired_differences: repetition {runs['repetition'][dup].iloc[0]} "
                         f"appears twice for one {compare} value; give the other varied "
                         "parameters in by=")
    return runs.set_index("repetition")


def describe_difference(row: Any, compare: str) -> str:
    """One sentence for a :func:`paired_differences` row.

    Args:
        row: The row (a mapping with the :data:`PAIRED_COLUMNS` fields).
        compare: The compared column's name.

    Returns:
        e.g. ``"greedy minus equilibrium revenue: -2.1% [-2.6, -1.7], n = 30, paired
        (p = 0.0001)"``; ``"(n < 5: interval unreliable)"`` is appended for few pairs.
    """
    def pct(v: float) -> str:
        return f"{100 * v:+.3g}%" if math.isfinite(v) else "n/a"

    def num(v: float) -> str:
        return f"{100 * v:.3g}" if math.isfinite(v) else "n/a"

    text = (f"{row[compare]} minus {row['baseline']} {row['metric']}: {pct(row['rel'])} "
            f"[{num(row['rel_low'])}, {num(row['rel_high'])}], n = {int(row['n'])}, paired")
    if math.isfinite(row["p_value"]):
        text += f" (p = {row['p_value']:.2g})"
    if row["low_n"]:
        text += f" (n < {MIN_RUNS_FOR_CI}: interval unreliable)"
    return text
