"""Parameter sweeps: many runs of one scenario, spread over a dask.distributed cluster.

An experiment is rarely one run: it varies a few scenario keys (the pricing solver, the RSU
density, the number of UAVs) and repeats every combination with several seeds. A *sweep file*
names the base scenario, the keys to vary and how (``product`` of the value lists or ``zip``),
the number of repetitions and one *sweep seed*. Repetition ``r`` of every point gets the same
seed, derived only from the sweep seed and ``r`` (common random numbers: compared
configurations face the same world, so their differences can be analysed pairwise), and the
traces do not depend on how many workers ran them.

With a precision rule (``until:`` in the file, or ``--until METRIC:relative_half_width=W``)
every point starts with ``repetitions`` runs and gets more, in deterministic steps, until the
relative half-width of its metric's confidence interval is at most ``W`` or
``max_repetitions`` is reached; the command says, per point, which happened.

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
import difflib
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
    SEED_KEY,
    RunSpec,
    Sweep,
    Until,
    expand_points,
    expand_values,  # noqa: F401  (tests import it from here)
    load_sweep,
    parse_until,
    plan_runs,
    yaml_value,
)
from simulator.errors import InputError

__all__ = ["INDEX_COLUMNS", "PointPrecision", "SweepResult", "cmd_sweep", "run_point",
           "run_sweep"]

log = logging.getLogger(__name__)

#: Columns of ``index.csv``; the parameter columns (one per varied key) follow ``run_id``.
INDEX_COLUMNS = ("run_id", "repetition", "seed", "trace", "status", "wall_time_s", "error")


@dataclass(frozen=True)
class PointPrecision:
    """Where the precision rule left one point.

    Attributes:
        params: The point's parameter values.
        repetitions: Repetitions run.
        n: Runs with a finite metric value.
        mean: The metric's mean over them.
        relative_half_width: Half-width of its interval / ``|mean|`` (inf if unknown).
        reached: Whether the target was met (otherwise the maximum stopped it).
    """

    params: dict[str, Any]
    repetitions: int
    n: int
    mean: float
    relative_half_width: float
    reached: bool

    def describe(self, until: Until) -> str:
        """One line: ``pricing.solver=greedy: 12 repetitions, half-width 0.8% of the mean
        (target 1% reached)``."""
        point = ", ".join(f"{k}={yaml_value(v)}" for k, v in self.params.items()) or "(point)"
        width = (f"{100 * self.relative_half_width:.3g}%"
                 if math.isfinite(self.relative_half_width) else "unknown")
        verdict = ("reached" if self.reached else
                   f"NOT reached: stopped at the maximum of {until.max_repetitions}")
        return (f"{point}: {self.repetitions} repetitions, {until.metric} half-width {width} "
                f"of the mean (target {100 * until.relative_half_width:g}% {verdict})")


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
    until: Until | None = None
    precision: tuple[PointPrecision, ...] = ()


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
              scheduler: str | None = None, resume: bool = False, progress: bool = True,
              until: Until | None = None, repetitions: int | None = None,
              max_repetitions: int | None = None) -> SweepResult:
    """Run every point of a sweep on dask.distributed, writing traces and the index.

    Args:
        sweep_path: the sweep YAML file.
        out_dir: sweep directory (``index.csv``, ``sweep.json``, ``runs/``).
        workers: local worker processes (default 2, one thread each); ignored with scheduler.
        scheduler: address of a running dask scheduler (``tcp://host:8786``) to use instead
            of a local cluster; its workers must see ``out_dir`` and import uavtwin.
        resume: skip runs whose index status is complete and whose trace exists.
        progress: show a progress bar over runs on stderr.
        until: precision rule replacing the sweep file's ``until`` (``None``: the file's).
        repetitions: replaces the file's ``repetitions`` (``None``: the file's).
        max_repetitions: replaces the precision rule's ``max_repetitions`` (the file's rule
            or ``until``); an error without a rule.

    Returns:
        Counts of complete/failed/skipped runs, the wall time, the index rows and, under a
        precision rule, where each point stopped.

    Raises:
        InputError: bad sweep file, existing index without ``resume``, an index from
            another sweep, or a precision rule naming an unknown metric.
        ScenarioError: a point's scenario is invalid (nothing has run; see load_sweep).
    """
    from dask.distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    sweep = load_sweep(sweep_path)
    if until is not None:
        if SEED_KEY in sweep.parameters:
            raise InputError(f"--until: {SEED_KEY} is swept; a precision rule needs the "
                             "sweep to seed its repetitions (drop the seed parameter)")
        sweep = sweep.model_copy(update={"until": until})
    sweep = _with_repetitions(sweep, repetitions, max_repetitions)
    rule = _PrecisionRule(sweep) if sweep.until is not None else None
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
    first = sweep.first_repetitions
    rows = {s.index: _row(s, "pending", math.nan, "") for s in specs
            if s.repetition < first} | done
    meta = {"name": sweep.name, "source": str(Path(sweep_path).resolve()),
            "definition": sweep.model_dump(mode="json"), "parameters": params,
            "pairing": "common random numbers: repetition r of every point has seed "
                       "run_seed(seed, r)" if SEED_KEY not in params else
                       f"{SEED_KEY} swept: each run's seed is its point's value",
            "runs": [{"run_id": s.run_id, "index": s.index, "params": s.params,
                      "repetition": s.repetition, "seed": s.seed} for s in specs],
            "scheduler": scheduler or f"LocalCluster(n_workers={workers or 2})",
            "started": _now(), "finished": None}
    _atomic_write(out / "sweep.json", json.dumps(meta, indent=2))
    _write_index(index_path, params, rows)
    todo = [s for s in specs if s.repetition < first and s.index not in done]
    started = time.perf_counter()
    log.info("sweep %s: %d runs planned, %d to do", sweep.name, len(rows), len(todo))
    dask_log = logging.getLogger("distributed")  # its INFO chatter, unless we log INFO too
    dask_level = dask_log.level
    if not log.isEnabledFor(logging.INFO):
        dask_log.setLevel(logging.WARNING)
    cluster = None if scheduler else LocalCluster(
        n_workers=workers or 2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None)
    ran: list[dict[str, Any]] = []
    try:
        with Client(scheduler or cluster) as client, tqdm(
                total=len(todo), file=sys.stderr, disable=not progress, unit="run",
                desc=f"sweep {sweep.name}") as bar:
            futures = {client.submit(run_point, s, pure=False): s for s in todo}
            queue = as_completed(list(futures))

            def submit_more() -> None:  # the precision rule's next repetitions, if any
                for new in rule.advance(specs, rows) if rule is not None else []:
                    rows[new.index] = _row(new, "pending", math.nan, "")
                    future = client.submit(run_point, new, pure=False)
                    futures[future] = new
                    queue.add(future)
                    bar.total += 1
                    bar.refresh()
                _write_index(index_path, params, rows)

            submit_more()  # on resume, some points may already be decidable
            for fut in queue:
                spec = futures.pop(fut)
                try:
                    row = fut.result()
                except Exception as exc:  # the worker died (KilledWorker) or similar
                    row = _row(spec, "failed", math.nan,
                               " ".join(f"{type(exc).__name__}: {exc}".split()))
                rows[spec.index] = row
                ran.append(row)
                bar.update(1)
                submit_more()
    finally:
        if cluster is not None:
            cluster.close()
        dask_log.setLevel(dask_level)
    wall = time.perf_counter() - started
    precision = rule.final(specs, rows) if rule is not None else ()
    _atomic_write(out / "sweep.json", json.dumps(dict(
        meta, finished=_now(), wall_time_s=wall,
        precision=[dict(vars(p), rule=sweep.until.describe()) for p in precision]
        if sweep.until is not None else None), indent=2, default=_json_default))
    return SweepResult(out, index_path, sum(r["status"] == "complete" for r in ran),
                       sum(r["status"] == "failed" for r in ran), len(done), wall,
                       tuple(rows[i] for i in sorted(rows)), sweep.until, tuple(precision))


def _with_repetitions(sweep: Sweep, repetitions: int | None,
                      max_repetitions: int | None) -> Sweep:
    """The sweep with ``--repetitions`` / ``--max-repetitions`` applied (validated again)."""
    if repetitions is None and max_repetitions is None:
        return sweep
    data = sweep.model_dump()
    data["parameters"] = {k: list(v) for k, v in sweep.parameters.items()}
    if repetitions is not None:
        data["repetitions"] = repetitions
    if max_repetitions is not None:
        if sweep.until is None:
            raise InputError("--max-repetitions needs a precision rule (--until, or until: in "
                             "the sweep file)")
        data["until"]["max_repetitions"] = max_repetitions
    try:
        return Sweep.model_validate(data)
    except ValueError as exc:
        errors = getattr(exc, "errors", lambda: [])()
        msg = errors[0]["msg"] if errors else str(exc)
        where = ".".join(str(x) for x in errors[0]["loc"]) if errors else "sweep"
        raise InputError(f"--repetitions/--max-repetitions: {where}: {msg}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


class _PrecisionRule:
    """The sequential rule of :class:`Until` over the runs of a sweep (main process only).

    A point's decision is taken only when all its planned repetitions have finished and
    depends only on their metric values, so the final repetition counts do not depend on
    the workers or on the order in which runs finish.
    """

    def __init__(self, sweep: Sweep) -> None:
        from analysis.run_metrics import METRICS

        RUN_METRICS = tuple(METRICS)

        assert sweep.until is not None
        self.until = sweep.until
        if self.until.metric not in RUN_METRICS:
            close = difflib.get_close_matches(self.until.metric, RUN_METRICS, 1)
            raise InputError(f"until: metric {self.until.metric!r} is not a run metric"
                             + (f" (did you mean {close[0]!r}?)" if close else "")
                             + f"; metrics: {', '.join(RUN_METRICS)}")
        self.reps = sweep.max_repetitions
        self.planned = {p: sweep.first_repetitions for p in range(len(expand_points(sweep)))}
        self.stopped: set[int] = set()
        self.values: dict[int, float] = {}

    def _value(self, spec: RunSpec, row: dict[str, Any]) -> float:
        if spec.index not in self.values:
            value = math.nan
            if row["status"] == "complete":
                from analysis.loaders import open_trace
                from analysis.run_metrics import run_metrics

                with open_trace(spec.trace).held_open() as trace:
                    value = float(run_metrics(trace)[self.until.metric])
            self.values[spec.index] = value
        return self.values[spec.index]

    def _point_values(self, p: int, specs: Sequence[RunSpec],
                      rows: dict[int, dict[str, Any]]) -> list[float] | None:
        """Metric values of point ``p``'s planned runs, or None while one is unfinished."""
        idx = [p * self.reps + r for r in range(self.planned[p])]
        if any(rows.get(i, {}).get("status") not in ("complete", "failed") for i in idx):
            return None
        return [self._value(specs[i], rows[i]) for i in idx]

    def advance(self, specs: Sequence[RunSpec], rows: dict[int, dict[str, Any]]
                ) -> list[RunSpec]:
        """Runs to add now: for every point whose planned runs are all finished and whose
        interval is still too wide, the next repetitions (none that already completed)."""
        from analysis.stats import next_repetitions, relative_half_width

        new: list[RunSpec] = []
        for p in self.planned:
            while p not in self.stopped:
                values = self._point_values(p, specs, rows)
                if values is None:
                    break
                n = self.planned[p]
                width = relative_half_width(values, self.until.confidence)
                nxt = next_repetitions(n, width, self.until.relative_half_width, self.reps)
                if nxt == n:
                    self.stopped.add(p)
                    break
                self.planned[p] = nxt
                fresh = [specs[p * self.reps + r] for r in range(n, nxt)]
                new += [s for s in fresh if rows.get(s.index, {}).get("status") != "complete"]
                if any(rows.get(s.index, {}).get("status") != "complete" for s in fresh):
                    break
        return new

    def final(self, specs: Sequence[RunSpec], rows: dict[int, dict[str, Any]]
              ) -> list[PointPrecision]:
        """Where every point stopped."""
        from analysis.stats import mean_ci, relative_half_width

        out = []
        for p, n in self.planned.items():
            values = self._point_values(p, specs, rows) or []
            width = relative_half_width(values, self.until.confidence)
            ci = mean_ci(values, self.until.confidence)
            out.append(PointPrecision(specs[p * self.reps].params, n, ci.n, ci.mean, width,
                                      width <= self.until.relative_half_width))
        return out


# --- command line -------------------------------------------------------------------------

def cmd_sweep(args: argparse.Namespace) -> int:
    """``uavtwin sweep SWEEP.yaml -o DIR``: run a sweep; exit 1 if any run failed."""
    until = parse_until(args.until, args.max_repetitions) if args.until else None
    result = run_sweep(args.sweep, args.output, workers=args.workers, scheduler=args.scheduler,
                       resume=args.resume, progress=not args.quiet, until=until,
                       repetitions=args.repetitions, max_repetitions=args.max_repetitions)
    print(f"sweep: {result.complete} complete, {result.failed} failed, {result.skipped} "
          f"skipped in {result.wall_time_s:.1f} s")
    for row in result.rows:
        if row["status"] == "failed":
            print(f"failed: {row['run_id']}: {row['error']}")
    if result.until is not None:
        reached = sum(p.reached for p in result.precision)
        print(f"until {result.until.describe()} ({100 * result.until.confidence:g}% interval, "
              f"at most {result.until.max_repetitions} repetitions): reached at {reached} of "
              f"{len(result.precision)} points")
        for point in result.precision:
            print(f"  {point.describe(result.until)}")
    print(f"index: {_shown(result.index_path)}")
    return 1 if result.failed else 0


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it lies below it (as the user gave
    ``-o``), else absolute: the same line on every machine for the same command."""
    full = path.resolve()
    try:
        return str(full.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(full)
