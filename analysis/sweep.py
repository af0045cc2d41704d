"""Sweep analysis: one table of runs with their metrics, and means with confidence intervals.

A sweep directory (written by ``uavtwin sweep``) holds ``index.csv`` (one row per run: the
varied parameters, repetition, seed, trace path, status, wall time, error) and
``sweep.json`` (the definition). :func:`open_sweep` joins every run's index row with the
headline metrics of its trace (:func:`analysis.run_metrics.run_metrics`); failed or unfinished runs
are kept with NaN metrics so that nothing disappears silently. :func:`summarise_sweep` groups
the runs by parameters and reports, per metric, the mean over repetitions with a two-sided
95 % Student-t confidence interval ``mean +- t(0.975, n-1) * std / sqrt(n)``.

Only the trace files are read: no simulator module is imported.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis.loaders import open_trace
from analysis.run_metrics import run_metrics
from simulator.errors import TraceError

__all__ = ["open_sweep", "summarise_sweep"]

_INDEX_COLUMNS = ("run_id", "repetition", "seed", "trace", "status", "wall_time_s", "error")
_STATS = ("mean", "std", "n", "ci95_low", "ci95_high")


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
            records.append(run_metrics(open_trace(root / trace)))
        except TraceError as err:
            raise TraceError(f"{index_path}: {err}") from None
    found = pd.DataFrame.from_records(records, index=index.index)
    metric_names = list(found.columns)
    df = pd.concat([index, found.astype(float)], axis=1)
    df.attrs.update(parameters=params, metrics=metric_names, name=meta.get("name", root.name))
    return df


def summarise_sweep(df: pd.DataFrame, by: Sequence[str] | None = None,
                    metrics: Sequence[str] | None = None, *,
                    confidence: float = 0.95) -> pd.DataFrame:
    """Mean, standard deviation and t confidence interval of metrics over repetitions.

    Args:
        df: A table from :func:`open_sweep` (or any table with the ``by`` and metric columns).
        by: Columns to group by; default the sweep's parameters (``df.attrs``).
        metrics: Metric columns; default every metric in ``df.attrs["metrics"]``.
        confidence: Two-sided level of the interval (0.95 gives the ``ci95`` columns' values).

    Returns:
        One row per group (the ``by`` columns first, then ``runs``: rows in the group), and
        per metric ``M_mean``, ``M_std`` (ddof 1), ``M_n`` (non-NaN values), ``M_ci95_low``,
        ``M_ci95_high``. NaN values (failed runs) are left out; the interval is NaN for n < 2
        and the std is NaN for n < 2.

    Raises:
        ValueError: An unknown column in ``by``/``metrics`` or a confidence outside (0, 1).
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
            row.update({f"{m}_{k}": v for k, v in zip(
                _STATS, _mean_ci(values[~np.isnan(values)], confidence), strict=True)})
        rows.append(row)
    return pd.DataFrame(rows, columns=[*by, "runs",
                                       *(f"{m}_{k}" for m in metrics for k in _STATS)])


def _mean_ci(values: np.ndarray, confidence: float) -> tuple[float, float, int, float, float]:
    """(mean, std, n, low, high) of a sample: Student-t interval for the mean."""
    n = int(values.size)
    if n == 0:
        return math.nan, math.nan, 0, math.nan, math.nan
    mean = float(values.mean())
    if n < 2:
        return mean, math.nan, 1, math.nan, math.nan
    std = float(values.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1)) * std / math.sqrt(n)
    return mean, std, n, mean - half, mean + half
