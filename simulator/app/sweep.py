"""Parameter sweeps: many runs of one scenario, spread over a dask.distributed cluster.

An experiment is rarely one run: it varies a few scenario keys (the pricing solver, the RSU
density, the number of UAVs) and repeats every combination with several seeds. A *sweep file*
names the base scenario, the keys to vary and how (``product`` of the value lists or ``zip``),
the number of repetitions and one *sweep seed*. Every run gets its own seed, derived only from
the sweep seed and the run's index, so the traces do not depend on how many workers ran them.

:func:`run_sweep` checks every point's scenario first (a bad value stops the sweep before any
run starts), then submits one task per run to a dask ``LocalCluster`` (or an existing
scheduler). Each run writes ``DIR/runs/<run_id>.h5``; ``DIR/index.csv`` (one row per run:
parameters, seed, trace, status, wall time, error) is rewritten atomically as runs finish, so
an interrupted sweep can be resumed. A failing run is recorded as ``failed``, never raised.

The sweep-file model (:class:`Sweep`, :func:`load_sweep`, :func:`expand_points`,
:func:`run_seed`, :func:`yaml_value`, :func:`plan_runs`) lives in :mod:`simulator.app.sweep_file`
and is re-exported here.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.app.sweep_file import (
    RunSpec,
    expand_values,  # noqa: F401  (tests import it from here)
    load_sweep,
    plan_runs,
    yaml_value,
)
from simulator.errors import InputError

__all__ = ["INDEX_COLUMNS", "SweepResult", "cmd_sweep", "run_point", "run_sweep"]

log = logging.getLogger(__name__)

#: Columns of ``index.csv``; the parameter columns (one per varied key) follow ``run_id``.
INDEX_COLUMNS = ("run_id", "repetition", "seed", "trace", "status", "wall_time_s", "error")


@dataclass(frozen=True)
class SweepResult:
    """Outcome of :func:`run_sweep`: counts, wall time and the index rows (by run id)."""

    out_dir: Path
    index_path: Path
    complete: int
    failed: int
    skipped: int
    wall_time_s: float
    rows: tuple[dict[str, Any], ...]


# --- running ----------------------------------------------------------------------------

def run_point(spec: RunSpec) -> dict[str, Any]:
    """Run one point of a sweep to its trace; never raises.

    Args:
        spec: the run (see :func:`plan_runs`).

    Returns:
        Its index row: run_id, parameters, repetition, seed, trace (relative to the sweep
        directory), status (``complete``/``failed``), wall_time_s, error (one line or "").
    """
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    started = time.perf_counter()
    status, error = "complete", ""
    try:
        scenario = load_scenario(spec.base, spec.overrides)
        run_scenario(scenario, trace_path=spec.trace, seed=spec.seed,
                     base_dir=Path(spec.base).parent)
    except Exception as exc:  # a failed run is recorded, never raised
        status, error = "failed", " ".join(f"{type(exc).__name__}: {exc}".split())
        log.warning("sweep run %s failed: %s", spec.run_id, error)
    return _row(spec, status, time.perf_counter() - started, error)


def _row(spec: RunSpec, status: str, wall: float, error: str) -> dict[str, Any]:
    return {"run_id": spec.run_id, **spec.params, "repetition": spec.repetition,
            "seed": spec.seed, "trace": os.path.relpath(spec.trace, spec.out_dir),
            "status": status, "wall_time_s": wall, "error": error}


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _write_index(path: Path, params: Sequence[str], rows: dict[int, dict[str, Any]]) -> None:
    columns = [INDEX_COLUMNS[0], *params, *INDEX_COLUMNS[1:]]
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        for i in sorted(rows):
            row = rows[i]
            writer.writerow({k: row[k] if k not in params or isinstance(row[k], str)
                             else yaml_value(row[k]) for k in columns})
    os.replace(tmp, path)


def _completed(out: Path, specs: Sequence[RunSpec]) -> dict[int, dict[str, Any]]:
    """Index rows (by run index) listed complete whose trace verifies; checks the sweep."""
    from simulator.trace.reader import complete_trace_problem  # h5py: only when resuming

    index = out / "index.csv"
    by_id = {s.run_id: s for s in specs}
    done: dict[int, dict[str, Any]] = {}
    with index.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            spec = by_id.get(row.get("run_id", ""))
            if spec is None or str(spec.seed) != row.get("seed"):
                raise InputError(f"{index}: run {row.get('run_id')!r} (seed {row.get('seed')}) "
                                 "is not part of this sweep; resume with the same sweep file")
            if row.get("status") != "complete":
                continue
            problem = complete_trace_problem(spec.trace)
            if problem is None:
                done[spec.index] = _row(spec, "complete", float(row["wall_time_s"]), "")
            else:
                log.warning("resume: running %s again: %s", spec.run_id, problem)
    return done


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_sweep(sweep_path: str | Path, out_dir: str | Path, *, workers: int | None = None,
              scheduler: str | None = None, resume: bool = False,
              progress: bool = True) -> SweepResult:
    """Run every point of a sweep on dask.distributed, writing traces and the index.

    Args:
        sweep_path: the sweep YAML file.
        out_dir: sweep directory (``index.csv``, ``sweep.json``, ``runs/``).
        workers: local worker processes (default 2, one thread each); ignored with scheduler.
        scheduler: address of a running dask scheduler (``tcp://host:8786``) to use instead
            of a local cluster; its workers must see ``out_dir`` and import uavtwin.
        resume: skip runs whose index status is complete and whose trace exists.
        progress: show a progress bar over runs on stderr.

    Returns:
        Counts of complete/failed/skipped runs, the wall time and the index rows.

    Raises:
        InputError: bad sweep file, existing index without ``resume``, or an index from
            another sweep.
        ScenarioError: a point's scenario is invalid (nothing has run; see load_sweep).
    """
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    sweep = load_sweep(sweep_path)
    if workers is not None and workers < 1:
        raise InputError(f"--workers: must be >= 1, got {workers}")
    out = Path(out_dir).resolve()
    index_path = out / "index.csv"
    if index_path.exists() and not resume:
        raise InputError(f"{index_path} exists: pass --resume to continue that sweep, "
                         "or choose another directory")
    specs = plan_runs(sweep, out)
    done = _completed(out, specs) if resume and index_path.is_file() else {}
    (out / "runs").mkdir(parents=True, exist_ok=True)
    params = list(sweep.parameters)
    rows = {s.index: _row(s, "pending", math.nan, "") for s in specs} | done
    meta = {"name": sweep.name, "source": str(Path(sweep_path).resolve()),
            "definition": sweep.model_dump(mode="json"), "parameters": params,
            "runs": [{"run_id": s.run_id, "index": s.index, "params": s.params,
                      "repetition": s.repetition, "seed": s.seed} for s in specs],
            "scheduler": scheduler or f"LocalCluster(n_workers={workers or 2})",
            "started": _now(), "finished": None}
    _atomic_write(out / "sweep.json", json.dumps(meta, indent=2))
    _write_index(index_path, params, rows)
    todo = [s for s in specs if s.index not in done]
    started = time.perf_counter()
    log.info("sweep %s: %d runs, %d to do", sweep.name, len(specs), len(todo))
    dask_log = logging.getLogger("distributed")  # its INFO chatter, unless we log INFO too
    dask_level = dask_log.level
    if not log.isEnabledFor(logging.INFO):
        dask_log.setLevel(logging.WARNING)
    cluster = None if scheduler else LocalCluster(
        n_workers=workers or 2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None)
    try:
        with Client(scheduler or cluster) as client, tqdm(
                total=len(todo), file=sys.stderr, disable=not progress, unit="run",
                desc=f"sweep {sweep.name}") as bar:
            futures = {client.submit(run_point, s, pure=False): s for s in todo}
            for fut in as_completed(futures):
                spec = futures[fut]
                try:
                    row = fut.result()
                except Exception as exc:  # the worker died (KilledWorker) or similar
                    row = _row(spec, "failed", math.nan,
                               " ".join(f"{type(exc).__name__}: {exc}".split()))
                rows[spec.index] = row
                _write_index(index_path, params, rows)
                bar.update(1)
    finally:
        if cluster is not None:
            cluster.close()
        dask_log.setLevel(dask_level)
    wall = time.perf_counter() - started
    _atomic_write(out / "sweep.json", json.dumps(dict(meta, finished=_now(),
                                                      wall_time_s=wall), indent=2))
    ran = [rows[s.index] for s in todo]
    return SweepResult(out, index_path, sum(r["status"] == "complete" for r in ran),
                       sum(r["status"] == "failed" for r in ran), len(done), wall,
                       tuple(rows[i] for i in sorted(rows)))


# --- command line -------------------------------------------------------------------------

def cmd_sweep(args: argparse.Namespace) -> int:
    """``uavtwin sweep SWEEP.yaml -o DIR``: run a sweep; exit 1 if any run failed."""
    result = run_sweep(args.sweep, args.output, workers=args.workers, scheduler=args.scheduler,
                       resume=args.resume, progress=not args.quiet)
    print(f"sweep: {result.complete} complete, {result.failed} failed, {result.skipped} "
          f"skipped in {result.wall_time_s:.1f} s")
    for row in result.rows:
        if row["status"] == "failed":
            print(f"failed: {row['run_id']}: {row['error']}")
    print(f"index: {result.index_path}")
    return 1 if result.failed else 0
