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
"""

from __future__ import annotations

import argparse
import csv
import difflib
import itertools
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from simulator.errors import InputError, ScenarioError

__all__ = ["INDEX_COLUMNS", "RunSpec", "Sweep", "SweepResult", "add_sweep_parser", "cmd_sweep",
           "expand_points", "load_sweep", "plan_runs", "run_point", "run_seed", "run_sweep",
           "yaml_value"]

log = logging.getLogger(__name__)

#: Columns of ``index.csv``; the parameter columns (one per varied key) follow ``run_id``.
INDEX_COLUMNS = ("run_id", "repetition", "seed", "trace", "status", "wall_time_s", "error")
_MAX_RUNS = 100_000


def _expand_values(raw: Any) -> tuple[Any, ...]:
    """Values of one parameter: a list, ``{range: [start, stop, step]}`` or ``{linspace: ...}``."""
    if isinstance(raw, list):
        if not raw:
            raise ValueError("expected at least one value, got an empty list")
        return tuple(raw)
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("range", "linspace"):
        raise ValueError("expected a list of values, {range: [start, stop, step]} or "
                         f"{{linspace: [first, last, count]}}, got {raw!r}")
    kind, args = next(iter(raw.items()))
    if (not isinstance(args, list) or len(args) != 3
            or not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args)):
        raise ValueError(f"{kind}: expected three numbers, got {args!r}")
    if kind == "linspace":
        first, last, count = args
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"linspace: count must be an integer >= 1, got {count!r}")
        return tuple(float(v) for v in np.linspace(first, last, count))
    start, stop, step = args
    if step == 0 or not all(math.isfinite(a) for a in args):
        raise ValueError(f"range: step must be finite and non-zero, got {args!r}")
    count = math.ceil((stop - start) / step - 1e-9)  # stop excluded, as in Python's range
    if count < 1 or count > _MAX_RUNS:
        raise ValueError(f"range: [{start}, {stop}, {step}] gives {max(count, 0)} values")
    if all(isinstance(a, int) for a in args):
        return tuple(range(start, stop, step))
    return tuple(float(start + k * step) for k in range(count))


class Sweep(BaseModel):
    """A validated sweep file (frozen). ``parameters`` holds the expanded value lists."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="sweep name")
    base: Path = Field(description="base scenario (absolute; relative to the sweep file)")
    parameters: dict[str, Annotated[tuple[Any, ...], BeforeValidator(_expand_values)]] = Field(
        default_factory=dict, description="key.path -> values of the varied keys")
    mode: Literal["product", "zip"] = "product"
    repetitions: int = Field(default=1, ge=1, description="runs per point, each its own seed")
    seed: int = Field(default=0, ge=0, description="sweep seed; run seeds derive from it")
    overrides: tuple[str, ...] = Field(default=(), description="key.path=value for every run")

    @model_validator(mode="after")
    def _check_shape(self) -> Sweep:
        lengths = {k: len(v) for k, v in self.parameters.items()}
        if self.mode == "zip" and len(set(lengths.values())) > 1:
            raise ValueError(f"zip mode needs value lists of equal length, got {lengths}")
        if len(expand_points(self)) * self.repetitions > _MAX_RUNS:
            raise ValueError(f"more than {_MAX_RUNS} runs")
        return self


@dataclass(frozen=True)
class RunSpec:
    """Everything a worker needs for one run (picklable; paths absolute)."""

    index: int
    run_id: str
    params: dict[str, Any]
    repetition: int
    seed: int
    base: str
    overrides: tuple[str, ...]
    trace: str
    out_dir: str


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


# --- sweep file -------------------------------------------------------------------------

def _line_map(node: yaml.Node | None, loc: tuple[Any, ...], out: dict[tuple[Any, ...], int],
              ) -> dict[tuple[Any, ...], int]:
    """Map every key path of a composed YAML node to its 1-based line."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[loc + (key.value,)] = key.start_mark.line + 1
            _line_map(value, loc + (key.value,), out)
    elif isinstance(node, yaml.SequenceNode):
        for n, item in enumerate(node.value):
            out[loc + (n,)] = item.start_mark.line + 1
            _line_map(item, loc + (n,), out)
    return out


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file.

    Args:
        path: the YAML sweep file; ``base`` is relative to its directory, ``name`` defaults
            to its stem.

    Returns:
        The validated sweep (value lists expanded, base path absolute). Every point's
        scenario has been loaded once, so a bad parameter value fails here, before any run.

    Raises:
        InputError: unreadable file, YAML error or invalid sweep value, as one line
            ``file:line: key: message``.
        ScenarioError: a point's scenario is invalid: ``file:line: parameters.KEY=VALUE:
            message`` (or ``overrides.ITEM``, or ``base:`` and the scenario's own error).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise InputError(f"{path}: cannot read sweep file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path}{where}: YAML syntax error: "
                         f"{getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: expected a mapping with base, parameters, ..., got "
                         f"{type(data).__name__}")
    lines = _line_map(node, (), {})
    data.setdefault("name", re.sub(r"[^A-Za-z0-9_.-]+", "-", path.stem) or "sweep")
    if not isinstance(data.get("base"), str):
        raise InputError(f"{path}:{lines.get(('base',), 1)}: base: expected the path of the "
                         f"base scenario, got {data.get('base')!r}")
    data["base"] = (path.parent / data["base"]).resolve()
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"]) or ("mode" if "zip" in err["msg"] else "parameters",)
        while loc and loc not in lines:
            loc = loc[:-1]
        msg = str(err.get("ctx", {}).get("error", err["msg"]))
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), list(Sweep.model_fields), 1)
            msg = "unknown key" + (f" (did you mean '{close[0]}'?)" if close else "")
        more = f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        key = ".".join(str(k) for k in err["loc"]) or ".".join(map(str, loc))
        raise InputError(f"{path}:{lines.get(loc, 1)}: {key}: {msg}{more}") from None
    _validate_points(sweep, path, lines)
    return sweep


def expand_points(sweep: Sweep) -> list[dict[str, Any]]:
    """The sweep's points in order (product: the first key varies slowest; zip: pairwise)."""
    keys = list(sweep.parameters)
    lists = [sweep.parameters[k] for k in keys]
    combos = itertools.product(*lists) if sweep.mode == "product" else zip(*lists, strict=True)
    return [dict(zip(keys, combo, strict=True)) for combo in combos]


def run_seed(sweep_seed: int, index: int) -> int:
    """Seed of run ``index``: ``SeedSequence(sweep_seed).spawn(n)[index].generate_state(1)[0]``.

    Depends only on the sweep seed and the index (not on the number of runs or workers).
    """
    child = np.random.SeedSequence(sweep_seed, spawn_key=(index,))
    return int(child.generate_state(1, dtype=np.uint32)[0])


def yaml_value(value: Any) -> str:
    """A value as YAML flow text that PyYAML reads back as the same value (for --set)."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
        text = repr(value)
        if "e" in text and "." not in text:  # PyYAML floats need a dot: 1e-09 -> 1.0e-09
            text = text.replace("e", ".0e")
        return text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {yaml_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value) if isinstance(value, str) else str(value)


def plan_runs(sweep: Sweep, out_dir: str | Path) -> list[RunSpec]:
    """One :class:`RunSpec` per (point, repetition), index = point * repetitions + rep."""
    out = Path(out_dir).resolve()
    specs = []
    for p, point in enumerate(expand_points(sweep)):
        sets = tuple(f"{k}={yaml_value(v)}" for k, v in point.items())
        for rep in range(sweep.repetitions):
            i = p * sweep.repetitions + rep
            run_id = f"run-{i:04d}"
            specs.append(RunSpec(i, run_id, point, rep, run_seed(sweep.seed, i), str(sweep.base),
                                 (*sweep.overrides, *sets), str(out / "runs" / f"{run_id}.h5"),
                                 str(out)))
    return specs


def _validate_points(sweep: Sweep, source: Path, lines: dict[tuple[Any, ...], int]) -> None:
    """Load every point's scenario so that a bad value fails before any run starts."""
    from simulator.config import load_scenario

    for point in expand_points(sweep):
        sets = [f"{k}={yaml_value(v)}" for k, v in point.items()]
        try:
            load_scenario(sweep.base, (*sweep.overrides, *sets))
        except ScenarioError as err:
            text = str(err)
            for n, item in enumerate((*sweep.overrides, *sets)):
                if text.startswith(f"--set {item}"):
                    key = (("overrides", n) if n < len(sweep.overrides)
                           else ("parameters", item.partition("=")[0]))
                    rest = text[len(f"--set {item}"):].lstrip(":").strip() or text
                    raise ScenarioError(f"{source}:{lines.get(key, 1)}: "
                                        f"{key[0]}.{item}: {rest}") from None
            raise ScenarioError(f"{source}:{lines.get(('base',), 1)}: base: {text}") from None


# --- running ----------------------------------------------------------------------------

def run_point(spec: RunSpec) -> dict[str, Any]:
    """Run one point of a sweep to its trace; never raises.

    Args:
        spec: the run (see :func:`plan_runs`).

    Returns:
        Its index row: run_id, parameters, repetition, seed, trace (relative to the sweep
        directory), status (``complete``/``failed``), wall_time_s, error (one line or "").
    """
    from simulator.config import load_scenario
    from simulator.engine import run_scenario

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
    """Index rows (by run index) listed as complete whose trace exists; checks the sweep."""
    index = out / "index.csv"
    by_id = {s.run_id: s for s in specs}
    done: dict[int, dict[str, Any]] = {}
    with index.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            spec = by_id.get(row.get("run_id", ""))
            if spec is None or str(spec.seed) != row.get("seed"):
                raise InputError(f"{index}: run {row.get('run_id')!r} (seed {row.get('seed')}) "
                                 "is not part of this sweep; resume with the same sweep file")
            if row.get("status") == "complete" and Path(spec.trace).is_file():
                done[spec.index] = _row(spec, "complete", float(row["wall_time_s"]), "")
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


def add_sweep_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``sweep SWEEP.yaml -o DIR [--workers N] [--scheduler ADDR] [--resume] [--quiet]``."""
    help_ = "run a parameter sweep on dask.distributed (local cluster or a scheduler)"
    p = subparsers.add_parser("sweep", help=help_, description=help_)
    p.add_argument("sweep", help="sweep YAML file")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="sweep directory (index.csv, sweep.json, runs/)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use a running dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--resume", action="store_true",
                   help="skip runs the index lists as complete (trace present)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)
    return p
