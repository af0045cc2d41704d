"""Count the instructions of the bench world and of the bare SimPy loop (load-free ratios).

Issue 13 sets the world against a bare SimPy loop in time, and `bench_world.py` measures
that, but the times of this shared 2-core machine vary by tens of per cent between repeats.
Instruction counts do not: valgrind's callgrind counts every instruction a process executes
(all its threads), the same count whatever else the machine runs. This script counts

* one bench_world run (scenario of :func:`bench_world.overrides`, traced; ``--untraced``
  adds the same run in memory, for the tracing share in instructions), and
* the bare loop of :func:`bench_world.bare_env` on the run's reference event count
  (:data:`bench_world.REFERENCE_EVENTS`) and on the run's own count,

each in its own process under ``valgrind --tool=callgrind``. The count starts after the
process's start-up (:func:`bench_world.start_up`: imports and numba's own start, as in
`bench_world.py`) and stops when the run returns, through callgrind's client requests
(a tiny C library compiled here with ``cc`` against valgrind's ``callgrind.h``). Before
counting, short runs under valgrind fill numba's cache for this tree and valgrind's emulated
CPU (:func:`warm_numba_cache`).

An instruction ratio is not a time ratio: the bare loop, a few kilobytes of interpreter code
and data hot in the caches, retires about twice as many instructions per second as the world,
whose NumPy, HDF5 and zlib calls and larger working set miss caches and branches more. So
issue 13's limits stay on time (`bench_world.py`); the counts are for comparing two versions
of the code (an A/B that the machine's load cannot spoil), for the tracing share, and, with
the times of `bench_world.py`, for the rates that connect the two (docs/benchmarks.md).

Needs valgrind (Debian's ``valgrind`` package, which ships ``callgrind.h``) and a C compiler.
Under callgrind a run is about 50 times slower: the 100-UAV hour takes a few minutes.

Usage:
    python benchmarks/bench_instructions.py [--uavs 100] [--hours 1] [--untraced]

Prints a table and writes benchmarks/results/bench_instructions.json.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_world

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_instructions.json"

#: Start and stop counting (callgrind's client requests; no-ops when not under valgrind).
SHIM = """#include <valgrind/callgrind.h>
void count_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void count_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("counted"); }
"""


class Missing(RuntimeError):
    """A tool this benchmark needs is not installed."""


def build_shim(directory: Path) -> Path:
    """Compile :data:`SHIM` into ``directory``; returns the shared library's path."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise Missing("bench_instructions: no C compiler (cc or gcc) on PATH")
    src, lib = directory / "count.c", directory / "libcount.so"
    src.write_text(SHIM)
    proc = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), str(src)],
                          capture_output=True, text=True)
    if proc.returncode:
        raise Missing("bench_instructions: could not compile the callgrind shim (is valgrind's "
                      "callgrind.h installed? Debian's valgrind package has it): "
                      + proc.stderr.strip().splitlines()[0])
    return lib


def inner(argv: list[str]) -> dict:
    """The counted process: ``world UAVS HOURS traced|mem GRID LIB`` or
    ``bare EVENTS PROCS LIB``. Returns what it ran (events, migrations)."""
    bench_world.start_up()
    lib = ctypes.CDLL(argv[-1])
    if argv[0] == "bare":
        env = bench_world.bare_env(int(argv[1]), int(argv[2]))
        lib.count_start()
        env.run()
        lib.count_stop()
        return {"events": bench_world.events_processed(env)}
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    n, hours, traced, grid = int(argv[1]), float(argv[2]), argv[3] == "traced", int(argv[4])
    from simulator.world.clock import CoverageClock

    envs = bench_world.catch_envs()
    clocks = bench_world.catch_instances(CoverageClock)
    # The trace is flushed every output.flush_interval_s of wall time: a run that valgrind
    # slows 50-fold would flush where the same run at full speed does not (the 100-UAV hour
    # takes 2 s), so the counted runs flush only at the end, like the timed ones.
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml",
                             [*bench_world.overrides(n, hours, grid),
                              "output.flush_interval_s=1000000000"])
    with tempfile.TemporaryDirectory() as tmp:
        lib.count_start()
        result = run_scenario(scenario, trace_path=Path(tmp) / "t.h5", in_memory=not traced)
        lib.count_stop()
    return {"events": bench_world.events_processed(envs[-1], clocks[-1]),
            "migrations": result.summary["migrations"]}


def thread_totals(work: Path, name: str) -> dict[int, int]:
    """Instructions per thread from callgrind's dumps ``work/name*`` (which are removed).

    With ``--separate-threads=yes`` callgrind writes one file per thread (suffix ``-NN``,
    thread 1 the main one) and dump (``.1`` for the dump at ``count_stop``, none for the one
    at exit); nothing is counted outside ``count_start``/``count_stop``, so a thread's count
    is the sum of its files' ``totals``. The file without a thread number holds no counts.
    """
    threads: dict[int, int] = {}
    for dump in sorted(work.glob(f"{name}*")):
        match = re.fullmatch(re.escape(name) + r"(?:\.\d+)?-(\d+)", dump.name)
        if match is not None:
            totals = re.search(r"^totals:\s+(\d+)", dump.read_text(), re.MULTILINE)
            if totals is None:
                raise RuntimeError(f"bench_instructions: no totals in {dump}")
            thread = int(match.group(1))
            threads[thread] = threads.get(thread, 0) + int(totals.group(1))
        dump.unlink()
    return threads


def counted(args: list[str], lib: Path, work: Path) -> dict:
    """Run ``inner(args)`` under callgrind; its report with ``instructions`` (all threads) and
    ``main_thread_instructions`` (the simulating thread's; the trace's compression threads run
    beside it on the other core) added."""
    out = work / f"cg.{args[0]}.out"
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--separate-threads=yes",
           f"--callgrind-out-file={out}", sys.executable, __file__, "--inner", *args, str(lib)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
    if proc.returncode:
        raise RuntimeError(f"bench_instructions: {' '.join(args)} failed under valgrind:\n"
                           + proc.stderr[-2000:])
    threads = thread_totals(work, out.name)
    if 1 not in threads:
        raise RuntimeError(f"bench_instructions: callgrind wrote no dump of {' '.join(args)}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return {**report, "instructions": sum(threads.values()),
            "main_thread_instructions": threads[1],
            "thread_instructions": {str(k): v for k, v in sorted(threads.items())}}


def warm_numba_cache(n: int, grid: int, lib: Path, work: Path) -> None:
    """Fill numba's cache for this tree as the counted processes will look it up.

    numba keys its cache by the CPU it compiles for, and under valgrind the CPU is valgrind's
    emulated one (numba named it ``haswell`` on a ``znver4`` machine), so a cache filled
    by a plain run does not serve a run under valgrind: the first counted process compiled
    every kernel inside its count (in a fresh tree, the 100-UAV 0.1 h traced run counted 56.5 G
    instructions instead of 2.7 G; the next process found the kernels cached). Short runs,
    traced and in memory, under valgrind without instrumentation (``--tool=none``) fill it.
    """
    for mode in ("traced", "mem"):
        subprocess.run(["valgrind", "--tool=none", sys.executable, __file__, "--inner", "world",
                        str(n), "0.02", mode, str(grid), str(lib)],
                       check=True, capture_output=True, cwd=work)


def valgrind_version() -> str:
    if shutil.which("valgrind") is None:
        raise Missing("bench_instructions: valgrind is not installed (Debian: apt-get install "
                      "valgrind)")
    return subprocess.run(["valgrind", "--version"], capture_output=True,
                          text=True).stdout.strip()


def measure(n: int, hours: float, untraced: bool, grid: int = 10) -> dict:
    """Count the world (traced, and in memory if ``untraced``) and the bare loops."""
    version = valgrind_version()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        lib = build_shim(work)
        warm_numba_cache(n, grid, lib, work)
        world = counted(["world", str(n), str(hours), "traced", str(grid)], lib, work)
        print(f"{n:,} UAVs x {hours:g} h traced: {world['instructions']:,} instructions "
              f"({world['main_thread_instructions']:,} in the simulating thread), "
              f"{world['events']:,} events, {world['migrations']:,} migrations", flush=True)
        free = None
        if untraced:
            free = counted(["world", str(n), str(hours), "mem", str(grid)], lib, work)
            print(f"{n:,} UAVs x {hours:g} h in memory: {free['instructions']:,} instructions "
                  f"({free['main_thread_instructions']:,} in the simulating thread)", flush=True)
        ref = bench_world.REFERENCE_EVENTS.get((n, hours, grid), world["events"])
        bare = counted(["bare", str(ref), str(n)], lib, work)
        own = (bare if ref == world["events"] else
               counted(["bare", str(world["events"]), str(n)], lib, work))
    for b in ((bare,) if own is bare else (bare, own)):
        b["instructions_per_event"] = b["instructions"] / b["events"]
        print(f"bare SimPy loop, {b['events']:,} events: {b['instructions']:,} instructions "
              f"({b['instructions_per_event']:,.0f} per event)", flush=True)
    # "main": the simulating thread's instructions, the analogue of wall time (the trace's
    # compression threads run on the other core); "all": every thread's, the analogue of CPU.
    # No limits: issue 13's limits are on time, and instructions do not convert to time at
    # one rate (see the module's docstring).
    ratios = {"vs_bare": {k: world[key] / bare["instructions"] for k, key in
                          (("main", "main_thread_instructions"), ("all", "instructions"))}}
    if free is not None:
        ratios["tracing_share"] = {k: 1.0 - free[key] / world[key] for k, key in
                                   (("main", "main_thread_instructions"),
                                    ("all", "instructions"))}
    return {"benchmark": "bench_instructions", "valgrind": version,
            "python": platform.python_version(), "machine": platform.machine(),
            "uavs": n, "sim_hours": hours, "rsus": grid * grid, "reference_events": ref,
            "world_traced": world, "world_in_memory": free, "bare_reference": bare,
            "bare_own": own,
            "world_vs_bare_own": {"main": world["main_thread_instructions"]
                                  / own["instructions"],
                                  "all": world["instructions"] / own["instructions"]},
            "instructions_per_migration": world["instructions"] / max(world["migrations"], 1),
            "ratios": ratios}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        print(json.dumps(inner(sys.argv[2:])))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uavs", type=int, default=100)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--untraced", action="store_true",
                        help="also count the run in memory (tracing share in instructions)")
    args = parser.parse_args()
    try:
        report = measure(args.uavs, args.hours, args.untraced)
    except Missing as exc:
        sys.exit(str(exc))
    r = report["ratios"]
    print(f"world / bare loop: {r['vs_bare']['main']:.2f}x in the simulating thread's "
          f"instructions, {r['vs_bare']['all']:.2f}x in all threads'")
    if "tracing_share" in r:
        print(f"tracing share: {100 * r['tracing_share']['main']:.1f} % of the simulating "
              f"thread's instructions, {100 * r['tracing_share']['all']:.1f} % of all threads'")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")  # the counted processes: same dict layouts
    main()
