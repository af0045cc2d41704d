"""Sweep files: the declarative description of an experiment and its expansion into runs.

A *sweep file* (YAML) names a base scenario, the scenario keys to vary and their values (a
list, ``{range: [start, stop, step]}`` or ``{linspace: [first, last, count]}``), how the value
lists combine into *points* (``product``: every combination, the first key varying slowest;
``zip``: pairwise), the repetitions per point and one *sweep seed*. This module holds the
file model and everything that is a pure function of it:

* :class:`Sweep`, the frozen pydantic model, and :func:`load_sweep`, which reads it with
  line numbers (every error is one ``file:line: key: message`` line) and loads each point's
  scenario once, so a bad value fails before anything runs;
* :func:`expand_points`, the ordered list of points;
* :func:`run_seed`, the seed of repetition ``r``, derived only from the sweep seed and ``r``:
  every point's repetition ``r`` gets the same seed (*common random numbers*), so compared
  configurations face the same UAVs, trajectories and draws and their differences can be
  analysed pairwise; traces do not depend on how many workers ran them or in which order;
* :func:`yaml_value`, which renders a point's value as ``--set`` text;
* :func:`plan_runs` / :class:`RunSpec`, one picklable run description per (point, repetition);
* :class:`Until`, the optional precision rule (``until:``; ``--until`` on the command line):
  add repetitions to a point until a metric's confidence interval is narrow enough.

``simulation.seed`` cannot be overridden for every run (the sweep seeds the runs); as a swept
parameter it is honoured with ``repetitions: 1`` (each point runs once with that seed) and
rejected otherwise, since every repetition of a point would reuse the same seed.

Running the plan on dask.distributed lives in :mod:`simulator.app.sweep`.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from simulator.config.yaml_source import read_yaml
from simulator.errors import InputError, ScenarioError

__all__ = ["FULL_CHECK_POINTS", "SEED_KEY", "RunSpec", "Sweep", "Until", "expand_points",
           "load_sweep", "parse_until", "plan_runs", "points_to_check", "run_seed", "yaml_value"]

_MAX_RUNS = 100_000
FULL_CHECK_POINTS = 1000
"""Sweeps with more points have a sample of them validated (see :func:`points_to_check`)."""

#: The scenario key of a run's seed (set by the sweep, see :func:`run_seed`).
SEED_KEY = "simulation.seed"


def expand_values(raw: Any) -> tuple[Any, ...]:
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
        if count > _MAX_RUNS:
            raise ValueError(f"linspace: {count} values, more than a sweep may run "
                             f"({_MAX_RUNS})")
        if not (math.isfinite(first) and math.isfinite(last)):
            raise ValueError(f"linspace: first and last must be finite, got {args!r}")
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


class Until(BaseModel):
    """Precision rule: add repetitions to a point until its metric is known well enough.

    A point starts with the sweep's ``repetitions`` (at least 2); whenever all its planned
    runs have finished, the half-width of the metric's Student-t interval divided by
    ``|mean|`` is compared with ``relative_half_width``; if it is wider, more repetitions
    are planned (:func:`analysis.stats.next_repetitions`), up to ``max_repetitions``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    metric: str = Field(description="a run metric (a column of analysis.open_sweep)")
    relative_half_width: float = Field(gt=0, lt=1, description="target half-width / |mean|")
    max_repetitions: int = Field(default=100, ge=2, le=_MAX_RUNS,
                                 description="repetitions per point at most")
    confidence: float = Field(default=0.95, gt=0, lt=1, description="interval level")

    def describe(self) -> str:
        """``revenue:relative_half_width=0.01`` (the ``--until`` text)."""
        return f"{self.metric}:relative_half_width={self.relative_half_width:g}"


def parse_until(text: str, max_repetitions: int | None = None) -> Until:
    """Read ``--until METRIC:relative_half_width=TARGET``.

    Args:
        text: The option's value.
        max_repetitions: ``--max-repetitions`` (default: :class:`Until`'s).

    Returns:
        The rule.

    Raises:
        InputError: Malformed text or an out-of-range number.
    """
    metric, sep, rule = text.partition(":")
    key, eq, value = rule.partition("=")
    if not (metric and sep and eq and key == "relative_half_width"):
        raise InputError(f"--until {text}: expected METRIC:relative_half_width=TARGET, e.g. "
                         "revenue:relative_half_width=0.01")
    try:
        target = float(value)
        extra = {} if max_repetitions is None else {"max_repetitions": max_repetitions}
        return Until(metric=metric, relative_half_width=target, **extra)
    except (ValueError, ValidationError) as exc:
        msg = (exc.errors()[0]["msg"] if isinstance(exc, ValidationError)
               else f"not a number: {value!r}")
        raise InputError(f"--until {text}: {msg}") from None


class Sweep(BaseModel):
    """A validated sweep file (frozen). ``parameters`` holds the expanded value lists."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="sweep name")
    base: Path = Field(description="base scenario (absolute; relative to the sweep file)")
    parameters: dict[str, Annotated[tuple[Any, ...], BeforeValidator(expand_values)]] = Field(
        default_factory=dict, description="key.path -> values of the varied keys")
    mode: Literal["product", "zip"] = "product"
    repetitions: int = Field(default=1, ge=1, description="runs per point (with until: the "
                             "first runs per point), repetition r of every point has one seed")
    seed: int = Field(default=0, ge=0, description="sweep seed; run seeds derive from it")
    overrides: tuple[str, ...] = Field(default=(), description="key.path=value for every run")
    until: Until | None = Field(default=None, description="precision rule (optional)")

    @model_validator(mode="after")
    def _check_shape(self) -> Sweep:
        lengths = {k: len(v) for k, v in self.parameters.items()}
        if self.mode == "zip" and len(set(lengths.values())) > 1:
            raise ValueError(f"zip mode needs value lists of equal length, got {lengths}")
        points = (math.prod(lengths.values()) if self.mode == "product"
                  else max(lengths.values(), default=1))
        if points * self.max_repetitions > _MAX_RUNS:  # counted before expanding anything
            raise ValueError(f"{points} points x {self.max_repetitions} repetitions = "
                             f"{points * self.max_repetitions} runs, more than a sweep may run "
                             f"({_MAX_RUNS})")
        return self

    @property
    def max_repetitions(self) -> int:
        """Repetitions a point may reach: ``until.max_repetitions`` or ``repetitions``."""
        if self.until is None:
            return self.repetitions
        return max(self.repetitions, self.until.max_repetitions)

    @property
    def first_repetitions(self) -> int:
        """Repetitions every point starts with (at least 2 under a precision rule)."""
        return self.repetitions if self.until is None else max(2, self.repetitions)


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
    data, lines = read_yaml(path, "sweep file", InputError)
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: expected a mapping with base, parameters, ..., got "
                         f"{type(data).__name__}")
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
    _check_seed_use(sweep, path, lines)
    _validate_points(sweep, path, lines)
    return sweep


def _check_seed_use(sweep: Sweep, source: Path, lines: dict[tuple[Any, ...], int]) -> None:
    """``simulation.seed``: honoured as a parameter with one repetition, rejected otherwise."""
    for n, item in enumerate(sweep.overrides):
        if item.partition("=")[0].strip() == SEED_KEY:
            raise InputError(f"{source}:{lines.get(('overrides', n), 1)}: overrides.{item}: "
                             f"the sweep seeds every run; set the sweep's `seed:` instead "
                             f"(repetition r of every point gets run_seed(seed, r))")
    if SEED_KEY not in sweep.parameters:
        return
    where = f"{source}:{lines.get(('parameters', SEED_KEY), 1)}: parameters.{SEED_KEY}"
    if sweep.until is not None or sweep.repetitions > 1:
        raise InputError(f"{where}: a swept seed needs `repetitions: 1` and no `until` (every "
                         f"repetition of a point would reuse the same seed); or drop it and "
                         f"use `repetitions` with the sweep `seed:`, which pairs the runs")
    values = sweep.parameters[SEED_KEY]
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int)
           or not 0 <= v < 2**32]
    if bad:
        raise InputError(f"{where}: expected integers in [0, 2^32), got {bad[0]!r}")


def expand_points(sweep: Sweep) -> list[dict[str, Any]]:
    """The sweep's points in order (product: the first key varies slowest; zip: pairwise)."""
    keys = list(sweep.parameters)
    lists = [sweep.parameters[k] for k in keys]
    combos = itertools.product(*lists) if sweep.mode == "product" else zip(*lists, strict=True)
    return [dict(zip(keys, combo, strict=True)) for combo in combos]


def run_seed(sweep_seed: int, repetition: int) -> int:
    """Seed of repetition ``r`` of every point: ``SeedSequence(sweep_seed, spawn_key=(r,))``.

    ``int(SeedSequence(sweep_seed).spawn(n)[r].generate_state(1)[0])``: depends only on the
    sweep seed and the repetition (not on the point, the number of runs or the workers), so
    repetition ``r`` of every point simulates the same world (common random numbers).
    """
    child = np.random.SeedSequence(sweep_seed, spawn_key=(repetition,))
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
    """Every possible run: one :class:`RunSpec` per (point, repetition).

    ``index = point * max_repetitions + repetition`` (``max_repetitions`` is the sweep's
    ``repetitions`` without a precision rule); the seed is ``run_seed(sweep.seed,
    repetition)``, or the point's ``simulation.seed`` when that key is swept.
    """
    out = Path(out_dir).resolve()
    specs = []
    reps = sweep.max_repetitions
    for p, point in enumerate(expand_points(sweep)):
        sets = tuple(f"{k}={yaml_value(v)}" for k, v in point.items())
        for rep in range(reps):
            i = p * reps + rep
            run_id = f"run-{i:04d}"
            seed = int(point[SEED_KEY]) if SEED_KEY in point else run_seed(sweep.seed, rep)
            specs.append(RunSpec(i, run_id, point, rep, seed, str(sweep.base),
                                 (*sweep.overrides, *sets), str(out / "runs" / f"{run_id}.h5"),
                                 str(out)))
    return specs


def points_to_check(sweep: Sweep) -> list[dict[str, Any]]:
    """The points whose scenarios :func:`load_sweep` loads before anything runs.

    Every point when there are at most :data:`FULL_CHECK_POINTS`; beyond that (loading a
    scenario takes tens of milliseconds, 100,000 points would take an hour) every value of
    every key once, the other keys at their first value (product), or 1,000 evenly spaced
    points (zip).
    """
    points = expand_points(sweep)
    if len(points) <= FULL_CHECK_POINTS:
        return points
    if sweep.mode == "zip":
        picks = np.unique(np.linspace(0, len(points) - 1, FULL_CHECK_POINTS).astype(int))
        return [points[int(k)] for k in picks]
    first = points[0]
    return [first] + [{**first, key: v} for key, values in sweep.parameters.items()
                      for v in values[1:]]


def _validate_points(sweep: Sweep, source: Path, lines: dict[tuple[Any, ...], int]) -> None:
    """Load the points' scenarios so that a bad value fails before any run starts."""
    from simulator.config.loader import load_scenario

    for point in points_to_check(sweep):
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
