"""The ``uavtwin`` command line.

One console script with a sub-command per job (``run``, ``validate``, ``schema``,
``inspect``, ``game solve``, ...). The CLI owns stdout: results and summaries go there,
progress bars and errors to stderr. A user error (bad scenario, malformed instance file,
unreadable trace) is printed as one line, ``uavtwin: error: FILE:LINE: key: message``, with
exit status 1; a usage error exits with 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.errors import InputError, UavtwinError

if TYPE_CHECKING:
    from simulator.config.models import PricingConfig

log = logging.getLogger("uavtwin")

Handler = Callable[[argparse.Namespace], int]


def _count(minimum: int, maximum: int = 2**63 - 1) -> Callable[[str], int]:
    """argparse type: an integer in [minimum, maximum] (otherwise a usage error, exit 2)."""
    def parse(text: str) -> int:
        try:
            value = int(text) if len(text) <= 40 else None
        except ValueError:
            value = None
        if value is None:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text[:40]!r}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum}, got {value}")
        return value

    return parse


def printable(text: str) -> str:
    """``text`` on one line: control and separator characters shown as escapes (``\\x1e``)."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _memory_size(text: str) -> int:
    """argparse type of ``--max-memory``: a size such as 8G (bytes)."""
    from simulator.config.limits import parse_size

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


SEED = _count(0)
POSITIVE = _count(1)


def _json_default(value: Any) -> Any:
    """Make numpy scalars/arrays JSON-serialisable."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _dump(obj: Any) -> str:
    """JSON text of ``obj`` with NaN written as null (strict JSON)."""
    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(json.loads(json.dumps(obj, default=_json_default))), indent=2)


# -- sub-commands -------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    """``uavtwin run SCENARIO``: one run with a progress bar and a summary."""
    from simulator.app.run import default_trace_path, run_scenario, with_seed
    from simulator.app.summary import format_summary
    from simulator.config.loader import load_scenario
    from simulator.config.sanity import scenario_warnings

    scenario = load_scenario(args.scenario, args.set or ())
    if args.seed is not None:
        scenario = with_seed(scenario, args.seed)
    path = Path(args.output) if args.output else default_trace_path(scenario)
    for text in scenario_warnings(scenario):
        print(printable(f"uavtwin: warning: {args.scenario}: {text}"), file=sys.stderr)
    result = run_scenario(scenario, trace_path=path, progress=not args.quiet,
                          base_dir=Path(args.scenario).resolve().parent,
                          check_invariants=args.check_invariants)
    for text in result.warnings:
        print(printable(f"uavtwin: warning: {text}"), file=sys.stderr)
    if args.quiet:
        print(result.trace_path)
        return 0
    summary = dict(result.summary, wall_time_s=result.wall_time_s,
                   sim_time_s=result.sim_time_s, trace=str(result.trace_path))
    title = (f"uavtwin run: {result.scenario_name} (seed {result.seed}, "
             f"solver {scenario.pricing.solver})")
    print(format_summary(summary, title=title))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """``uavtwin validate SCENARIO``: check a scenario file (and the files it names)."""
    from simulator.config.loader import load_scenario
    from simulator.config.sanity import scenario_warnings
    from simulator.errors import ScenarioError
    from simulator.world.mobility.imported import resolve_trace_scenario

    try:
        s = load_scenario(args.scenario, args.set or ())
    except ScenarioError as err:
        if not args.all or len(err.all_errors) < 2:
            raise
        for line in err.all_errors:
            print(printable(f"uavtwin: error: {line}"), file=sys.stderr)
        return 1
    s = resolve_trace_scenario(s)  # opens a mobility file: its errors are file:line
    warnings = [*_check_checkpoint(s.pricing, args.scenario), *scenario_warnings(s)]
    for text in warnings:
        print(printable(f"uavtwin: warning: {args.scenario}: {text}"), file=sys.stderr)
    mobility = s.uavs.mobility.model
    if mobility == "trace":
        mobility = f"trace {Path(s.uavs.mobility.file or s.uavs.mobility.trace_file).name}"
    print(f"{args.scenario}: ok ({s.uavs.count} UAVs, {mobility} mobility, "
          f"rsus {s.rsus.placement}, solver {s.pricing.solver}, {s.simulation.duration_s:g} s)")
    return 0


def _check_checkpoint(pricing: PricingConfig, scenario_path: str) -> list[str]:
    """Read and check the agent checkpoint of a learned solver, without torch (as a run would).

    Returns:
        Warnings (a checkpoint trained as another solver).

    Raises:
        InputError: the checkpoint is missing or not a valid agent checkpoint.
    """
    from agents.marl.checkpoint_file import DEFAULT_CHECKPOINTS, inspect_checkpoint

    if pricing.solver not in DEFAULT_CHECKPOINTS:
        return []
    # the loader resolved a relative checkpoint against the scenario file, as the run does
    path = DEFAULT_CHECKPOINTS[pricing.solver] if pricing.checkpoint is None \
        else Path(pricing.checkpoint)
    try:
        contents = inspect_checkpoint(path)
    except ValueError as err:
        raise InputError(f"{scenario_path}: pricing.checkpoint: {err}") from None
    if contents.name != pricing.solver:
        return [f"pricing.checkpoint {path} was trained as {contents.name!r}, used as "
                f"{pricing.solver!r}"]
    return []


def cmd_schema(args: argparse.Namespace) -> int:
    """``uavtwin schema``: print the scenario JSON Schema."""
    from simulator.config.loader import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    """``uavtwin inspect TRACE``: tables, row counts and units of a trace."""
    from simulator.app.isolate import in_child
    from simulator.trace.inspect import inspect_trace

    print(in_child(args.trace, inspect_trace, args.trace))  # an HDF5 crash is one line
    return 0


def cmd_game_solve(args: argparse.Namespace) -> int:
    """``uavtwin game solve INSTANCE.json``: one pricing game, JSON out."""
    from agents.pricing.instance import (
        load_instance,
        non_finite_output,
        solve_instance,
        solve_memory_bytes,
    )
    from simulator.app.interrupts import time_limit
    from simulator.config.limits import format_bytes, max_memory_bytes

    try:
        game = load_instance(args.instance)
        need = solve_memory_bytes(game.n_uavs, game.n_rsus, args.solver, args.iterations)
        limit = max_memory_bytes()
        if need > limit:
            raise InputError(
                f"{args.instance}: {game.n_uavs} UAVs x {game.n_rsus} RSUs"
                + ("" if args.solver == "equilibrium" else f" x {args.iterations} iterations")
                + f": solver {args.solver} would need about {format_bytes(need)} of memory, "
                f"more than the limit {format_bytes(limit)}; raise it with --max-memory SIZE")
        with time_limit(args.time_limit, f"game solve --solver {args.solver}"):
            result = solve_instance(game, args.solver, seed=args.seed,
                                    checkpoint=args.checkpoint, iterations=args.iterations)
    except (ValueError, OSError) as err:
        raise InputError(str(err)) from None
    bad = non_finite_output(result)
    if bad:
        raise InputError(f"{args.instance}: solver {args.solver} produced a non-finite {bad} "
                         "(NaN or infinity): the instance's numbers are beyond what it can "
                         "compute with")
    print(_dump(result))
    return 0


def cmd_sync_solve(args: argparse.Namespace) -> int:
    """``uavtwin sync solve PARAMS.json``: one synchronisation game, JSON out."""
    import warnings

    import numpy as np

    from agents.sync.instance import (
        load_sync_params,
        parse_leaders,
        solve_sync,
        sync_memory_bytes,
    )
    from simulator.app.interrupts import time_limit
    from simulator.config.limits import format_bytes, max_memory_bytes

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FutureWarning)
            params = load_sync_params(args.params)
        for w in caught:
            print(f"uavtwin: warning: {w.message}", file=sys.stderr)
        leaders = (parse_leaders(args.leaders, params.M, "--leaders") if args.leaders
                   else None)
        need = sync_memory_bytes(params, args.mode)
        limit = max_memory_bytes()
        if need > limit:
            raise InputError(f"{args.params}: {params.M} VSPs: mode {args.mode} would need "
                             f"about {format_bytes(need)} of memory, more than the limit "
                             f"{format_bytes(limit)}; raise it with --max-memory SIZE")
        with time_limit(args.time_limit, f"sync solve --mode {args.mode}"):
            result = solve_sync(params, args.mode, leaders=leaders)
    except (ValueError, OSError, ArithmeticError) as err:
        raise InputError(f"{args.params}: {err}" if str(args.params) not in str(err)
                         else str(err)) from None
    bad = next((k for k in ("x", "z", "eta", "payoff", "t")
                if not np.isfinite(np.asarray(result[k], dtype=float)).all()), None)
    if bad:
        raise InputError(f"{args.params}: mode {args.mode} produced non-finite values in "
                         f"{bad} (NaN or infinity): the parameters are beyond what the "
                         "solver can compute with")
    print(_dump(result))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """``uavtwin train SCENARIO -o agents.pt``: train learned pricing agents."""
    from tqdm import tqdm

    from simulator.app.train import describe, ppo_config, train_agents
    from simulator.config.loader import load_scenario

    scenario = load_scenario(args.scenario, args.set or ())
    prune = False if args.no_prune else None
    cfg = ppo_config(scenario, prune=prune, iterations=args.iterations, seed=args.seed)
    out = Path(args.output)
    trace = Path(args.trace) if args.trace else out.with_suffix(".h5")
    with tqdm(total=cfg.iterations, desc="training", unit="it", file=sys.stderr,
              disable=args.quiet, leave=False) as bar:
        held_out = "n/a"  # greedy ratio on the held-out games, as of the last evaluation

        def progress(m: Any) -> None:
            nonlocal held_out
            if m.eval_ratio == m.eval_ratio:  # evaluated this iteration (else NaN)
                held_out = f"{m.eval_ratio:.3f}"
            bar.update(1)
            bar.set_postfix(ratio=f"{m.reward_ratio:.3f}", held_out=held_out,
                            live=m.live_params)

        result = train_agents(scenario, out, trace_path=trace, prune=prune,
                              iterations=args.iterations, seed=args.seed, progress=progress)
    print(describe(result, out, trace))
    return 0


def _report_of_one(build: Any, path: str, figures: Any, fmt: str,
                   style: Any) -> tuple[Any, list[str]]:
    """``build(path, ...)`` and the texts of the warnings it gave (run in a child process)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = build(path, figures, fmt, style=style)
    return report, [str(w.message) for w in caught]


def cmd_report(args: argparse.Namespace) -> int:
    """``uavtwin report TRACE``: summary table and figures of one trace; on a sweep directory
    or several traces: the comparison report."""
    import warnings

    paths = args.trace
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if len(paths) == 1 and not Path(paths[0]).is_dir():
                from analysis.report import build_report
                from simulator.app.isolate import in_child

                report, messages = in_child(paths[0], _report_of_one, build_report, paths[0],
                                            args.figures, args.format, args.style)
                for message in messages:  # the child's warnings, shown like the parent's
                    warnings.warn(message, stacklevel=1)
            else:
                from analysis.compare import build_comparison

                report = build_comparison(
                    paths, args.figures, fmt=args.format, style=args.style,
                    compare=args.compare, baseline=args.baseline,
                    metrics=args.metrics.split(",") if args.metrics else None)
        except ValueError as err:
            raise InputError(f"{' '.join(paths)}: {err}") from None
    for w in caught:
        print(printable(f"uavtwin: warning: {w.message}"), file=sys.stderr)
    print(report.text)
    for path in report.figures:
        print(f"figure: {path}")
    if args.snapshot:
        from simulator.app.animate import snapshot

        if len(paths) != 1 or Path(paths[0]).is_dir():
            raise InputError("--snapshot: needs exactly one trace")
        where = Path(args.figures) if args.figures else Path(paths[0]).resolve().parent
        where.mkdir(parents=True, exist_ok=True)
        for t in args.snapshot:
            out = snapshot(paths[0], t, where / f"snapshot-{t:g}s.{args.format or 'png'}")
            print(f"figure: {out}")
    return 0


def cmd_animate(args: argparse.Namespace) -> int:
    """``uavtwin animate TRACE -o run.mp4|run.gif|run.html``: replay a run."""
    from simulator.app.animate import animate

    info = animate(args.trace, args.output, start=args.start, end=args.end, speed=args.speed,
                   fps=args.fps, follow=args.follow, style=args.style, color_by=args.color,
                   panel=args.panel, progress=not args.quiet)
    size = Path(info["path"]).stat().st_size / 1e6
    frames = "" if info["frames"] is None else \
        f", {info['frames']} frames {info['size'][0]}x{info['size'][1]} at {info['fps']:g} fps"
    print(f"{info['path']} ({info['format']}, {size:.2f} MB{frames}, x{info['speed']:g})")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``uavtwin sweep SWEEP.yaml -o DIR``: many runs on dask (imported only here)."""
    from simulator.app.sweep import cmd_sweep as run

    return run(args)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """``uavtwin reproduce TARGET -o DIR``: the papers' experiments (torch, scipy: only here)."""
    from simulator.app.reproduce import cmd_reproduce as run

    return run(args)


def cmd_convert(args: argparse.Namespace) -> int:
    """``uavtwin convert FILE [--from FMT] [--to FMT] -o OUT``: mobility files in and out."""
    from simulator.app.convert import cmd_convert as run

    return run(args)


def _lat_lon(text: str) -> tuple[float, ...]:
    """argparse type: ``LAT,LON[,ALT_M]``."""
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        vals = ()
    if len(vals) not in (2, 3):
        raise argparse.ArgumentTypeError(f"expected LAT,LON[,ALT_M], got {text!r}")
    return vals


# -- parser -------------------------------------------------------------------------------
REPRODUCE_TARGETS = ("all", "tiny-madrl", "sync")
"""``uavtwin reproduce`` targets (equal to :data:`simulator.app.reproduce.TARGETS`, tested)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from agents.pricing.registry import POLICY_NAMES
    from simulator.world.mobility.formats.registry import format_names, writable_formats

    parser = argparse.ArgumentParser(
        prog="uavtwin",
        description="Discrete-event simulator for UAV metaverses: twin migration and "
                    "synchronisation games.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    parser.add_argument("--max-memory", metavar="SIZE", type=_memory_size,
                        help="refuse inputs whose estimated memory exceeds SIZE (e.g. 8G; "
                             "default: $UAVTWIN_MAX_MEMORY or 80%% of physical memory)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v info, -vv debug) on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=handler)
        return p

    p = add("run", cmd_run, "run one scenario and write its HDF5 trace")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("-o", "--output", help="trace path (default: output.trace or "
                   "traces/NAME-seedN.h5)")
    p.add_argument("--seed", type=SEED, help="override simulation.seed")
    p.add_argument("--set", action="append", metavar="KEY.PATH=VALUE",
                   help="override a scenario value (repeatable), e.g. --set uavs.count=50")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or summary; print only the trace path")
    p.add_argument("--check-invariants", action="store_true",
                   help="debug: after every event, check that every twin has exactly one "
                        "authoritative copy (docs/faults.md; slow)")

    p = add("validate", cmd_validate, "check a scenario file without running it")
    p.add_argument("scenario")
    p.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    p.add_argument("--all", action="store_true",
                   help="list every error, one per line (default: the first, with '+N more')")

    add("schema", cmd_schema, "print the scenario JSON Schema")

    p = add("inspect", cmd_inspect, "list a trace's tables with row counts and units")
    p.add_argument("trace")

    p = add("train", cmd_train, "train learned pricing agents (tiny_madrl; --no-prune = ppo)")
    p.add_argument("scenario", help="scenario YAML (its training and pricing sections)")
    p.add_argument("-o", "--output", required=True, help="checkpoint file to write (.pt)")
    p.add_argument("--no-prune", action="store_true", help="plain PPO without pruning")
    p.add_argument("--iterations", type=POSITIVE, help="override training.iterations")
    p.add_argument("--seed", type=SEED, help="override the training seed")
    p.add_argument("--trace", help="training trace (default: the checkpoint path with .h5)")
    p.add_argument("--set", action="append", metavar="KEY.PATH=VALUE")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    p = add("report", cmd_report, "print a trace's summary and write its figures; on a sweep "
            "directory or several traces, compare configurations")
    p.add_argument("trace", nargs="+", metavar="TRACE.h5|SWEEP_DIR",
                   help="one trace, several traces (compared by solver, paired by seed), or "
                        "one sweep directory")
    p.add_argument("--figures", metavar="DIR", help="write figures into DIR")
    p.add_argument("--format", choices=("png", "pdf", "svg"),
                   help="figure format (default: png for --style screen, pdf for paper)")
    p.add_argument("--style", default="screen", choices=("screen", "paper"),
                   help="screen (8x6 in, titled) or paper (3.5 in wide, 8 pt, no title)")
    p.add_argument("--compare", metavar="KEY", help="comparison: the compared parameter "
                   "(default pricing.solver if swept)")
    p.add_argument("--baseline", metavar="VALUE", help="comparison: the reference value "
                   "(default equilibrium if present)")
    p.add_argument("--metrics", metavar="M1,M2", help="comparison: run metrics to show")
    p.add_argument("--snapshot", type=float, action="append", metavar="T",
                   help="also save the replay's picture at simulated time T s as "
                   "snapshot-Ts.FORMAT (repeatable; figures dir, else beside the trace)")

    p = add("animate", cmd_animate, "replay a trace as MP4, GIF or a self-contained HTML page")
    p.add_argument("trace")
    p.add_argument("-o", "--output", required=True,
                   help="run.mp4, run.gif or run.html (the extension picks the format)")
    p.add_argument("--start", type=float, metavar="S", help="first simulated second shown")
    p.add_argument("--end", type=float, metavar="S", help="last simulated second shown")
    p.add_argument("--speed", type=float, metavar="X",
                   help="simulated seconds per second of replay (default: a 30 s replay)")
    p.add_argument("--fps", type=float, metavar="N", help="frames per second (default 10)")
    p.add_argument("--follow", type=int, metavar="UAV",
                   help="centre on this UAV and list its events")
    p.add_argument("--style", default="screen", choices=("screen", "paper"))
    p.add_argument("--color", default="state", choices=("state", "altitude"),
                   help="colour UAVs by state or altitude (MP4/GIF; the page has a switch)")
    p.add_argument("--panel", action="store_true",
                   help="side panel: RSU prices and sensing shares over time (MP4/GIF)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    game = sub.add_parser("game", help="pricing game tools").add_subparsers(
        dest="game_command", required=True, metavar="ACTION")
    p = game.add_parser("solve", help="solve one pricing game instance (JSON in, JSON out)")
    p.set_defaults(func=cmd_game_solve)
    p.add_argument("instance", help="instance JSON file")
    p.add_argument("--solver", default="equilibrium", choices=POLICY_NAMES)
    p.add_argument("--seed", type=SEED, default=0, help="seed of randomised solvers")
    p.add_argument("--checkpoint", help="agents file for tiny_madrl/ppo")
    p.add_argument("--iterations", type=POSITIVE, default=50,
                   help="iterations K of repeated-game solvers")
    p.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS",
                   help="stop with an error after this many wall-clock seconds (default 600; "
                        "0 = none)")

    sync = sub.add_parser("sync", help="synchronisation game tools").add_subparsers(
        dest="sync_command", required=True, metavar="ACTION")
    p = sync.add_parser("solve", help="solve one synchronisation game (JSON in, JSON out)")
    p.set_defaults(func=cmd_sync_solve)
    p.add_argument("params", help="parameter JSON file")
    p.add_argument("--mode", default="nash", choices=("nash", "stackelberg", "static",
                                                      "constant"))
    p.add_argument("--leaders", help="comma-separated 0-based VSP indices of the leaders "
                   "(stackelberg), as in the scenario's sensing.leaders: the paper's VSP 3 "
                   "is 2")
    p.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS",
                   help="stop with an error after this many wall-clock seconds (default 600; "
                        "0 = none)")
    help_ = "run a parameter sweep on dask.distributed (local cluster or a scheduler)"
    p = add("sweep", cmd_sweep, help_)
    p.add_argument("sweep", help="sweep YAML file")
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="sweep directory (index.csv, sweep.json, runs/)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default 2)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="use a running dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--resume", action="store_true",
                   help="skip runs the index lists as complete (trace present)")
    p.add_argument("--until", metavar="METRIC:relative_half_width=W",
                   help="add repetitions to each point until the metric's 95%% interval "
                        "half-width is at most W x |mean| (replaces the file's until:)")
    p.add_argument("--max-repetitions", type=int, metavar="N",
                   help="with a precision rule (--until or the file's until:): repetitions "
                        "per point at most (default: the file's, else 100)")
    p.add_argument("--repetitions", type=int, metavar="N",
                   help="runs per point, replacing the file's repetitions (the first runs "
                        "under a precision rule), e.g. a short trial of a long sweep")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    p = add("convert", cmd_convert,
            "convert mobility files (ns-2, BonnMotion, SUMO FCD, GPX, CSV) to uavtwin CSV, or "
            "a file or a run's trace to ns-2 / BonnMotion (docs/mobility.md)")
    p.add_argument("file", help="mobility file, or a uavtwin trace (.h5) to export")
    p.add_argument("--from", dest="from_format", default="auto",
                   choices=("auto", *format_names()), help="input format (default: auto)")
    p.add_argument("--to", default="csv", choices=("csv", *writable_formats()),
                   help="output format (default: csv)")
    p.add_argument("-o", "--output", required=True, help="output file")
    p.add_argument("--dimensions", type=int, choices=(2, 3),
                   help="2-D or 3-D waypoints, for BonnMotion files without .params")
    p.add_argument("--out-dimensions", type=int, choices=(2, 3),
                   help="ns-2: 2 = setdest X Y SPEED (default; what ns-3 reads), 3 = "
                        "BonnMotion's setdest X Y Z SPEED; BonnMotion: default the source's")
    p.add_argument("--geo", action="store_true",
                   help="SUMO FCD positions are lon/lat (default: detect from the file)")
    p.add_argument("--origin", type=_lat_lon, metavar="LAT,LON[,ALT_M]",
                   help="origin of the projection of geographic input (default: centroid)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    p = add("reproduce", cmd_reproduce,
            "re-run the seed papers' experiments and write figures + REPORT.md")
    p.add_argument("target", choices=REPRODUCE_TARGETS)
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    p.add_argument("--quick", action="store_true", help="reduced budgets (a few minutes)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``uavtwin`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    if args.max_memory is not None:  # read by every size check, here and in sweep workers
        from simulator.config.limits import MEMORY_ENV

        os.environ[MEMORY_ENV] = str(args.max_memory)
    try:
        return args.func(args)
    except UavtwinError as err:
        if args.debug:
            raise
        print(f"uavtwin: error: {printable(str(err))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `uavtwin inspect T.h5 | head`
        sys.stderr.close()
        return 0
    except OSError as err:  # unwritable output directory, missing file, full disk, ...
        if args.debug:
            raise
        print(f"uavtwin: error: {printable(str(err))}", file=sys.stderr)
        return 1
    except (MemoryError, RecursionError) as err:  # a size check missed it: still one line
        if args.debug:
            raise
        what = "out of memory" if isinstance(err, MemoryError) else "input nested too deeply"
        print(f"uavtwin: error: {what} ({type(err).__name__}); the input asks for more than "
              "this machine can do", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("uavtwin: interrupted (any trace was left as *.partial.h5)", file=sys.stderr)
        return 130


def console() -> None:
    """The ``uavtwin`` console script (and ``python -m simulator.app.cli``): :func:`main`, then
    exit with its status.

    Once the command has returned, Ctrl-C is ignored (and, after an interrupted command,
    exceptions lost in finalisers are not printed): there is nothing left to stop, and a
    SIGINT then would land in the interpreter's own shutdown (a library's exit-time finaliser)
    and print a traceback after the work was done.
    """
    status = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if status == 130:  # interrupted: libraries stopped mid-call (numba's compiler, h5py) may
        # fail in their finalisers at shutdown; the trace's status already says what happened
        sys.unraisablehook = lambda _unraisable: None
    sys.exit(status)


if __name__ == "__main__":
    console()
