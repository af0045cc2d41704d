"""Benchmark the simulator core: one large run, a scaling series, and a bare-SimPy floor.

Scenario: random-waypoint UAVs over a 5 km x 5 km area served by a 10 x 10 RSU grid
(500 m spacing, 350 m cells) joined by a 10 Gbit/s lattice backhaul, 1 simulated hour,
equilibrium pricing, tracing on. Each run is
measured in its own subprocess so that peak memory (max RSS) belongs to that run alone.
The floor is a bare SimPy loop that processes, with no work, the number of events the same
run had before migrations stopped being SimPy processes (:data:`REFERENCE_EVENTS`, issue 13's
"today's event count"); the ratio on the run's own, smaller count is reported too.

The clock starts after the imports (the libraries', also those the CLI loads lazily during a
run: :data:`LAZY_IMPORTS`; ``imports_cpu_s`` in the JSON says what they cost, ``run_imports``
lists any module a run still imported inside the clock) and after numba's own start (its
compiler target and runtime, which the first compiled call of a process makes, about 0.3 s;
``jit_start_cpu_s``): both are the process's start-up, paid once per sweep worker, not per
run. Loading each kernel's cached machine code stays in the run.
Every time is taken twice: wall clock, and the CPU time of the measuring process alone
(``time.process_time``), which is what the run costs when other jobs share the cores.  The
report compares them with issue 13's targets: the world at most 10x the bare loop on the
reference count, 1,000 UAVs
in at most 20 s, a log-log slope of time against UAVs of at most 1.05, tracing at most 10 %
of the time (``--untraced`` adds an in-memory run of every size to measure it; every traced
run also times the trace writer's own work directly: the simulating thread inside writer
calls, and the CPU time of the threads that compress its chunks).

Usage:
    python benchmarks/bench_world.py [--uavs 100,1000,5000] [--hours 1] [--untraced] [--big]
                                     [--repeat 3] [--repeat-up-to 1000]
    python benchmarks/bench_world.py --big-only [--hours 1] [--untraced] [--untraced-hours 0.25]
                       # add the 10,000-UAV run (and an in-memory pair, for the tracing
                       # share, of --untraced-hours) to the last JSON

``--big`` adds issue 13's large run: 10,000 UAVs x 400 RSUs (20 x 20 grid, 10 km x 10 km)
for the hour, traced, with resident memory sampled against simulated time; it draws them in
docs/figures/bench-memory.png (``--plot-memory`` redraws it from the last JSON).

Profile one size (pyinstrument is a development tool, not a dependency):
    .venv/bin/pip install pyinstrument
    .venv/bin/python -m pyinstrument benchmarks/bench_world.py --one 1000

Prints a table and writes benchmarks/results/bench_world.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_world.json"
#: Resident memory of the large run (``--big``, ``--big-only``, ``--plot-memory``).
FIGURE = ROOT / "docs" / "figures" / "bench-memory.png"

#: Events of the same runs before migrations stopped being SimPy processes (main at bc52579;
#: the first two are issue 13's own counts): ``(UAVs, hours, grid) -> events``. Issue 13 sets
#: the world against a bare SimPy loop on *these* counts ("fewer events by design is a fine
#: way to get there"); the ratio on the run's own, smaller count is reported beside it.
#: ``benchmarks/reference_events.py TREE UAVS HOURS GRID`` makes such a count on a worktree at
#: bc52579 (it gives 200,482 for 100 UAVs; the 10,000-UAV hour took 629 s of CPU there, with
#: the same 1,273,042 migrations as today's run).
REFERENCE_EVENTS = {(100, 1.0, 10): 200_482, (1000, 1.0, 10): 1_873_818,
                    (5000, 1.0, 10): 9_369_505, (10_000, 0.25, 20): 4_905_094,
                    (10_000, 1.0, 20): 19_458_008}


#: Modules a run imports lazily, on first use (numba with the compiled kernels' modules, scipy's
#: splines that solve_bvp imports on its first call, the progress bar's library and the
#: multiprocessing lock it makes): imported before the clock starts, like every other module.
LAZY_IMPORTS = ("agents.pricing.kernel", "simulator.world.pairkernel",
                "simulator.world.fluidkernel", "scipy.interpolate", "tqdm",
                "multiprocessing.synchronize")


def overrides(n_uavs: int, hours: float, grid: int = 10) -> list[str]:
    """Scenario overrides of the benchmark world, on top of scenarios/default.yaml.

    ``grid``: RSUs per side of the square grid (500 m apart; the area grows with it, so the
    density of RSUs stays that of the 10 x 10 grid on 5 km x 5 km).
    """
    side = 500 * grid
    return [
        f"simulation.duration_s={3600 * hours}", "simulation.sample_interval_s=10",
        f"uavs.count={n_uavs}", f"area.width_m={side}", f"area.height_m={side}",
        f"rsus.grid.rows={grid}", f"rsus.grid.cols={grid}", "rsus.grid.spacing_m=500",
        "rsus.coverage_radius_m=350", "backhaul.topology=grid", "backhaul.capacity_mbps=10000",
        "pricing.solver=equilibrium",
    ]


def _rss_mb() -> float:
    """Resident memory of this process now, from /proc/self/statm, in MB of 2**20 bytes (the
    unit of ``peak_rss_mb``, which is ``ru_maxrss`` in KiB / 1024)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def start_up() -> tuple[float, float]:
    """The process's start-up, done before a run's clock starts: CPU seconds of the imports and
    of numba's own start.

    Imports are the process's start-up, not the run's: every module is imported, also those the
    CLI imports lazily during a run (:data:`LAZY_IMPORTS`; the run's JSON lists any module it
    still imported inside the clock, ``run_imports``). So is numba's own start (its compiler
    target and runtime, made by the first compiled call of a process, whichever it is): one
    kernel call of one number. Loading each kernel's cached machine code stays in the run.
    """
    import importlib

    imports_cpu = time.process_time()
    import simpy  # noqa: F401

    import simulator.app.run  # noqa: F401
    import simulator.config.loader  # noqa: F401

    for name in LAZY_IMPORTS:
        importlib.import_module(name)
    kernel = importlib.import_module("agents.pricing.kernel")
    imports_cpu = time.process_time() - imports_cpu
    jit_start_cpu = time.process_time()
    kernel.np_sum(np.zeros(1))
    return imports_cpu, time.process_time() - jit_start_cpu


def catch_instances(cls: type) -> list:
    """Every instance of ``cls`` made from now on in this process, in a list that fills as they
    are made: a run's events are counted after it (:func:`events_processed`), not by a hook in
    the event loop that the timing would include."""
    made: list = []
    init = cls.__init__

    def catching_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        init(self, *args, **kwargs)
        made.append(self)

    cls.__init__ = catching_init  # type: ignore[misc]  (this measuring process only)
    return made


def catch_envs() -> list:
    """Every SimPy environment made from now on in this process (:func:`catch_instances`)."""
    import simpy

    return catch_instances(simpy.Environment)


def events_processed(env, clock=None) -> int:  # type: ignore[no-untyped-def]
    """Events an environment has processed: scheduled minus still queued, minus the numbers
    the run's coverage clock drew for wake-ups it has not queued yet."""
    return next(env._eid) - len(env._queue) - (clock.unqueued_numbers if clock else 0)


def measure_one(n_uavs: int, hours: float, traced: bool = True,
                extra: Sequence[str] = (), grid: int = 10) -> dict:
    """One run in this process: wall and CPU time, events, memory, trace size.

    ``traced=False`` keeps the trace in memory (``run_scenario(in_memory=True)``);
    ``extra``: further ``--set`` overrides, e.g. a model switched on; ``grid``: RSUs per
    side. Resident memory is sampled every 0.25 s of wall time as
    ``[simulated s, wall s, MB]``.
    """
    imports_cpu, jit_start_cpu = start_up()
    import threading

    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario
    from simulator.world.clock import CoverageClock

    # memory is sampled by a thread every 0.25 s of wall time
    envs = catch_envs()
    clocks = catch_instances(CoverageClock)
    rss: list[list[float]] = []
    stop = threading.Event()
    t_start = time.perf_counter()

    def sample() -> None:
        while not stop.wait(0.25):
            if envs:
                rss.append([float(envs[-1].now), time.perf_counter() - t_start, _rss_mb()])

    sampler = threading.Thread(target=sample, daemon=True)
    writer_time = _account_writer() if traced else {}
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml",
                             [*overrides(n_uavs, hours, grid), *extra])
    before = set(sys.modules)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        sampler.start()
        started, cpu = time.perf_counter(), time.process_time()
        result = run_scenario(scenario, trace_path=path, in_memory=not traced)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        stop.set()
        sampler.join()
        size = path.stat().st_size if traced else 0
    events = events_processed(envs[-1], clocks[-1])
    return {
        "uavs": n_uavs, "rsus": grid * grid, "sim_hours": hours, "wall_s": wall, "cpu_s": cpu,
        "imports_cpu_s": imports_cpu, "jit_start_cpu_s": jit_start_cpu,
        "events": events, "events_per_s": events / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "trace_mb": size / 1e6, "migrations": result.summary["migrations"],
        "pricing_rounds": result.summary["rounds"],
        "coverage_events": result.summary["coverage_events"],
        "rss_samples": rss, **writer_time,
        "run_imports": sorted({m.split(".")[0] for m in set(sys.modules) - before}),
    }


def _account_writer() -> dict[str, float]:
    """Time the trace writer's own work in this process's traced run, directly: the wall and
    CPU time the simulating thread spends inside :class:`TraceWriter` calls (chunks it encodes
    itself included), and the CPU time its worker thread spends encoding chunks. The returned
    dict fills as the run goes (``writer_wall_s``, ``writer_main_cpu_s``,
    ``writer_worker_cpu_s``)."""
    import threading

    from simulator.trace import chunks, writer

    acc = {"writer_wall_s": 0.0, "writer_main_cpu_s": 0.0, "writer_worker_cpu_s": 0.0}
    depth = [0]  # close() calls flush(): time the outermost call only

    def timed(method):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            depth[0] += 1
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    acc["writer_wall_s"] += time.perf_counter() - wall
                    acc["writer_main_cpu_s"] += time.thread_time() - cpu
        return call

    for name in ("__init__", "append", "set_attrs", "flush", "close", "take_tables",
                 "__exit__"):
        setattr(writer.TraceWriter, name, timed(getattr(writer.TraceWriter, name)))
    encode, lock = chunks.gzip_chunk, threading.Lock()

    def timed_encode(columns):  # type: ignore[no-untyped-def]
        if threading.current_thread() is threading.main_thread():
            return encode(columns)  # inside a writer call: in writer_main_cpu_s already
        cpu = time.thread_time()
        try:
            return encode(columns)
        finally:
            with lock:
                acc["writer_worker_cpu_s"] += time.thread_time() - cpu

    chunks.gzip_chunk = timed_encode
    return acc


def bare_env(n_events: int, n_procs: int):  # type: ignore[no-untyped-def]
    """A SimPy environment whose ``run()`` processes ``n_events`` timeouts and nothing else, in
    ``n_procs`` processes."""
    import simpy

    env = simpy.Environment()
    per = max(1, n_events // n_procs)

    def proc(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(per):
            yield env.timeout(1.0)

    for _ in range(n_procs):
        env.process(proc(env))
    return env


def bare_simpy(n_events: int, n_procs: int) -> tuple[float, float]:
    """Wall and CPU time of a SimPy loop processing ``n_events`` timeouts and nothing else."""
    env = bare_env(n_events, n_procs)
    started, cpu = time.perf_counter(), time.process_time()
    env.run()
    return time.perf_counter() - started, time.process_time() - cpu


def compare_with_bare(row: dict, n_procs: int, grid: int = 10) -> None:
    """Time the bare SimPy loop on the reference event count of the run (its own count if
    there is none) and on its own count, and put the ratios in ``row``."""
    own = row["events"]
    ref = REFERENCE_EVENTS.get((row["uavs"], row["sim_hours"], grid), own)
    row["reference_events"] = ref
    row["bare_simpy_s"], row["bare_simpy_cpu_s"] = bare_simpy(ref, n_procs)
    row["overhead_vs_bare"] = row["wall_s"] / row["bare_simpy_s"]
    row["cpu_overhead_vs_bare"] = row["cpu_s"] / row["bare_simpy_cpu_s"]
    if ref == own:
        row["bare_simpy_own_cpu_s"] = row["bare_simpy_cpu_s"]
    else:
        row["bare_simpy_own_cpu_s"] = bare_simpy(own, n_procs)[1]
    row["cpu_overhead_vs_bare_own"] = row["cpu_s"] / row["bare_simpy_own_cpu_s"]


def one(n_uavs: int, hours: float, traced: bool, grid: int = 10,
        python: str = sys.executable) -> dict:
    """:func:`measure_one` in a fresh subprocess of ``python`` (so its peak RSS is its own),
    with the machine's load average (1 min) before and after it."""
    cmd = [python, __file__, "--one", str(n_uavs), "--hours", str(hours), "--grid", str(grid)]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd + ([] if traced else ["--untraced"]), capture_output=True,
                          text=True, check=True)
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["load_1min"] = [load, os.getloadavg()[0]]
    return row


def repeated(n_uavs: int, hours: float, times: int, untraced: bool) -> dict:
    """:func:`one` ``times`` times, traced and (``untraced``) in memory, interleaved: the row
    of the traced run with the least CPU time, every run's times in ``repeats`` and the
    fastest in-memory run's times beside it (the least time is the run's cost with the least
    interference from the shared machine; with one run each, the tracing share is within
    the runs' own noise, several per cent at 100 UAVs)."""
    traced, free = [], []
    for _ in range(times):
        traced.append(one(n_uavs, hours, traced=True))
        if untraced:
            free.append(one(n_uavs, hours, traced=False))
    row = min(traced, key=lambda r: r["cpu_s"])
    row["repeats"] = [{"wall_s": r["wall_s"], "cpu_s": r["cpu_s"]} for r in traced]
    if untraced:
        best = min(free, key=lambda r: r["cpu_s"])
        row["untraced_wall_s"], row["untraced_cpu_s"] = best["wall_s"], best["cpu_s"]
        row["untraced_repeats"] = [{"wall_s": r["wall_s"], "cpu_s": r["cpu_s"]} for r in free]
    return row


def big_run(hours: float, untraced: bool = False, untraced_hours: float | None = None) -> dict:
    """10,000 UAVs x 400 RSUs (20 x 20 grid on 10 km x 10 km), traced: issue 13's limits of
    4 minutes and 2 GB, and resident memory flat in simulated time (the trace streamed).
    ``untraced``: also run it in memory, for the tracing share (the whole trace is then held in
    memory); ``untraced_hours``: for that many simulated hours (default ``hours``), against a
    traced run of the same length."""
    row = one(10_000, hours, traced=True, grid=20)
    if untraced:
        short = hours if untraced_hours is None else untraced_hours
        traced = row if short == hours else one(10_000, short, traced=True, grid=20)
        free = one(10_000, short, traced=False, grid=20)
        row["tracing_share_hours"] = short
        row["share_traced_wall_s"], row["share_traced_cpu_s"] = traced["wall_s"], traced["cpu_s"]
        row["untraced_wall_s"], row["untraced_cpu_s"] = free["wall_s"], free["cpu_s"]
        print(f"10,000 UAVs x {short:g} h: {traced['wall_s']:.1f} s traced, {free['wall_s']:.1f} "
              f"s in memory (wall; CPU {traced['cpu_s']:.1f} / {free['cpu_s']:.1f} s)",
              flush=True)
    compare_with_bare(row, 10_000, grid=20)
    row["rss_growth_mb_per_sim_h"] = rss_growth(row["rss_samples"])
    plot_memory(row, FIGURE)
    print(f"10,000 UAVs x 400 RSUs: {row['wall_s']:.1f} s wall ({row['cpu_s']:.1f} s CPU), "
          f"peak RSS {row['peak_rss_mb']:.0f} MB, RSS growth "
          f"{row['rss_growth_mb_per_sim_h']:.1f} MB per simulated hour, trace "
          f"{row['trace_mb']:.0f} MB, vs bare loop {row['overhead_vs_bare']:.1f}x wall", flush=True)
    return row


def rss_phases(samples: Sequence[Sequence[float]]) -> dict[str, np.ndarray]:
    """Split a run's resident-memory samples (``[simulated s, wall s, MB]``) into its phases:
    ``build`` (simulated time still 0: the world is made), ``simulate`` (simulated time
    advancing) and ``finish`` (simulated time at its end: the trace's last chunks, the final
    copy and the summary). Each is an ``(n, 3)`` array, possibly empty."""
    s = np.asarray(samples, dtype=float).reshape(-1, 3)
    end = s[-1, 0] if len(s) else 0.0
    running = (s[:, 0] > 0) & (s[:, 0] < end)
    return {"build": s[s[:, 0] <= 0], "simulate": s[running],
            "finish": s[(s[:, 0] >= end) & (s[:, 0] > 0)]}


def rss_growth(samples: Sequence[Sequence[float]]) -> float:
    """Growth of resident memory while the world simulates, in MB per simulated hour: the
    least-squares slope over the last three quarters of simulated time (the first quarter
    fills the event queue, the fluid links and the trace's buffers). NaN with fewer than 3
    such samples."""
    run = rss_phases(samples)["simulate"]
    if not len(run):
        return float("nan")
    later = run[run[:, 0] >= 0.25 * run[-1, 0]]
    return (float(np.polyfit(later[:, 0] / 3600, later[:, 2], 1)[0]) if len(later) > 2
            else float("nan"))


def plot_memory(row: dict, path: Path) -> None:
    """Resident memory of the large run against wall time (its three phases shaded) and against
    simulated time (with the fitted growth), as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = rss_phases(row["rss_samples"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    colours = {"build": "tab:orange", "simulate": "tab:blue", "finish": "tab:green"}
    for name, s in phases.items():
        if len(s):
            left.plot(s[:, 1], s[:, 2], ".", ms=2, color=colours[name], label=name)
    left.axhline(2000, color="k", ls="--", lw=0.8)
    left.text(0, 1960, "issue 13's limit: 2 GB", va="top", fontsize=8)
    left.set(xlabel="wall time since the run started (s)", ylabel="resident memory (MB)",
             ylim=(0, 2100), title=f"{row['uavs']:,} UAVs x {row['rsus']} RSUs x "
             f"{row['sim_hours']:g} h: peak {row['peak_rss_mb']:.0f} MB")
    left.legend(loc="center right", markerscale=4)
    run = phases["simulate"]
    if len(run):
        right.plot(run[:, 0] / 60, run[:, 2], ".", ms=2, color=colours["simulate"])
        growth = rss_growth(row["rss_samples"])
        later = run[run[:, 0] >= 0.25 * run[-1, 0]]
        if np.isfinite(growth):
            fit = np.polyfit(later[:, 0] / 3600, later[:, 2], 1)
            x = later[[0, -1], 0]
            right.plot(x / 60, np.polyval(fit, x / 3600), "k-", lw=1,
                       label=f"fit: {growth:+.0f} MB per simulated hour")
            right.legend(loc="lower right")
        right.set(xlabel="simulated time (min)", ylabel="resident memory (MB)",
                  title="while simulating", ylim=(0, 1.1 * run[:, 2].max()))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")


def targets(series: list[dict]) -> dict:
    """Issue 13's targets against this series (wall and CPU time)."""
    out: dict = {}
    if len(series) > 1:
        logn = np.log([r["uavs"] for r in series])
        out["loglog_slope"] = {"limit": 1.05, **{
            k: float(np.polyfit(logn, np.log([r[f"{k}_s"] for r in series]), 1)[0])
            for k in ("wall", "cpu")}}
    for r in series:
        out[f"vs_bare_{r['uavs']}"] = {"limit": 10.0, "wall": r["overhead_vs_bare"],
                                        "cpu": r["cpu_overhead_vs_bare"]}
        if "untraced_wall_s" in r:
            out[f"tracing_share_{r['uavs']}"] = {
                "limit": 0.10, "wall": 1.0 - r["untraced_wall_s"] / r["wall_s"],
                "cpu": 1.0 - r["untraced_cpu_s"] / r["cpu_s"]}
        if len(r.get("untraced_repeats", [])) > 1:
            out[f"tracing_share_paired_{r['uavs']}"] = paired_share(r)
        if "writer_wall_s" in r:
            out[f"tracing_accounted_{r['uavs']}"] = _accounted(r)
        if r["uavs"] == 1000:
            out["uavs_1000_s"] = {"limit": 20.0, "wall": r["wall_s"], "cpu": r["cpu_s"]}
    for t in out.values():
        t["met_wall"], t["met_cpu"] = t["wall"] <= t["limit"], t["cpu"] <= t["limit"]
    return out


def paired_share(row: dict) -> dict:
    """The tracing share of interleaved repeats taken pair by pair: the median over pairs of one
    minus the in-memory time over the traced time run just before it. Each pair shares the
    machine's state of its minute, which the least-of-each estimate (``tracing_share_N``) does
    not: its two least times can come from different phases of a drifting machine."""
    pairs = list(zip(row["repeats"], row["untraced_repeats"], strict=True))
    return {"limit": 0.10, **{k: float(np.median([1.0 - f[f"{k}_s"] / t[f"{k}_s"]
                                                  for t, f in pairs]))
                              for k in ("wall", "cpu")}}


def _accounted(row: dict) -> dict:
    """The trace writer's own share of a traced run, timed directly (wall: the simulating
    thread inside writer calls; CPU: those calls plus the workers' encoding)."""
    return {"limit": 0.10, "wall": row["writer_wall_s"] / row["wall_s"],
            "cpu": (row["writer_main_cpu_s"] + row["writer_worker_cpu_s"]) / row["cpu_s"]}


def big_targets(row: dict, series: list[dict]) -> dict:
    """Issue 13's limits for the 10,000-UAV run (time in s, memory in MB), its ratio to the
    bare loop, and the log-log slope of the series extended by it (RSUs grow with the area
    there: 400 instead of 100, at the same density)."""
    hours = row["sim_hours"]
    # a shorter run is scaled to the hour (linear in simulated time: set-up included, so
    # slightly pessimistic), and named so
    name = "uavs_10000_s" if hours == 1.0 else f"uavs_10000_s_per_h_from_{hours:g}_h"
    out = {name: {"limit": 240.0, "wall": row["wall_s"] / hours, "cpu": row["cpu_s"] / hours},
           "uavs_10000_peak_mb": {"limit": 2000.0, "wall": row["peak_rss_mb"],
                                  "cpu": row["peak_rss_mb"]},
           "vs_bare_10000": {"limit": 10.0, "wall": row["overhead_vs_bare"],
                             "cpu": row["cpu_overhead_vs_bare"]}}
    if "writer_wall_s" in row:
        out["tracing_accounted_10000"] = _accounted(row)
    if "untraced_wall_s" in row:  # against the traced run of the same length
        out["tracing_share_10000"] = {
            "limit": 0.10,
            "wall": 1.0 - row["untraced_wall_s"] / row.get("share_traced_wall_s", row["wall_s"]),
            "cpu": 1.0 - row["untraced_cpu_s"] / row.get("share_traced_cpu_s", row["cpu_s"])}
    rows = [*series, {**row, "wall_s": row["wall_s"] / hours, "cpu_s": row["cpu_s"] / hours}]
    logn = np.log([r["uavs"] for r in rows])
    out["loglog_slope_to_10000"] = {"limit": 1.05, **{
        k: float(np.polyfit(logn, np.log([r[f"{k}_s"] for r in rows]), 1)[0])
        for k in ("wall", "cpu")}}
    for t in out.values():
        t["met_wall"], t["met_cpu"] = t["wall"] <= t["limit"], t["cpu"] <= t["limit"]
    return out


def repeat_counts(text: str) -> dict[int, int]:
    """``--repeat``: ``"N"`` -> ``{0: N}`` (every size up to ``--repeat-up-to``), or
    ``"SIZE:N,..."`` -> ``{SIZE: N, ...}`` (sizes not named run once)."""
    try:
        if ":" not in text:
            counts = {0: int(text)}
        else:
            counts = {int(size): int(n) for size, n in
                      (item.split(":") for item in text.split(","))}
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected N or SIZE:N,... (e.g. 100:21,1000:7), got {text!r}") from None
    if any(n < 1 for n in counts.values()):
        raise argparse.ArgumentTypeError(f"repeat counts must be >= 1, got {text!r}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uavs", default="100,1000,5000")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--untraced", action="store_true",
                        help="also run every size in memory (tracing overhead), the "
                             "10,000-UAV run included")
    parser.add_argument("--big", action="store_true",
                        help="also run 10,000 UAVs x 400 RSUs, resident memory sampled")
    parser.add_argument("--big-only", action="store_true",
                        help="only the 10,000-UAV run, kept with the last series in the JSON")
    parser.add_argument("--repeat", type=repeat_counts, default={},
                        help="runs per size (traced and, with --untraced, in memory), "
                             "interleaved; the one with the least CPU time is reported. "
                             "N (every size up to --repeat-up-to) or SIZE:N,... per size, "
                             "e.g. 100:21,1000:7,5000:3")
    parser.add_argument("--repeat-up-to", type=int, default=1000,
                        help="repeat only sizes up to this many UAVs (default 1000)")
    parser.add_argument("--untraced-hours", type=float, default=None,
                        help="simulated hours of the 10,000-UAV in-memory run and its traced "
                             "twin, for the tracing share (default: --hours)")
    parser.add_argument("--plot-memory", action="store_true",
                        help=f"only redraw {FIGURE.relative_to(ROOT)} from the last JSON's "
                             "10,000-UAV run")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--grid", type=int, default=10, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args.one, args.hours, traced=not args.untraced,
                                     grid=args.grid)))
        return
    if args.plot_memory:
        plot_memory(json.loads(RESULTS.read_text())["big"], FIGURE)
        return
    if args.big_only:  # --hours is the large run's own here
        report = json.loads(RESULTS.read_text())
        report["big"] = big_run(args.hours, args.untraced, args.untraced_hours)
        report["targets"].update(big_targets(report["big"], report["series"]))
        _save(report)
        return
    series = []
    load_before = os.getloadavg()
    for n in (int(x) for x in args.uavs.split(",")):
        times = args.repeat.get(n, args.repeat.get(0, 1) if n <= args.repeat_up_to else 1)
        row = repeated(n, args.hours, times, args.untraced)
        compare_with_bare(row, n)
        series.append(row)
        print(f"{n:>6} UAVs: {row['wall_s']:7.2f} s wall ({row['cpu_s']:.2f} s CPU), "
              f"{row['events']:>9} events "
              f"({row['events_per_s']:,.0f}/s), bare SimPy {row['bare_simpy_s']:.2f} s on "
              f"{row['reference_events']:,} reference events, "
              f"peak RSS {row['peak_rss_mb']:.0f} MB, trace {row['trace_mb']:.1f} MB, "
              f"{row['migrations']} migrations; vs bare loop {row['overhead_vs_bare']:.1f}x "
              f"wall, {row['cpu_overhead_vs_bare']:.1f}x CPU", flush=True)
    base = series[0]
    for row in series:
        row["cost_per_uav_hour_s"] = row["wall_s"] / (row["uavs"] * row["sim_hours"])
        row["scaling_vs_first"] = (row["wall_s"] / base["wall_s"]) / (row["uavs"] / base["uavs"])
    report = {"benchmark": "bench_world", "python": platform.python_version(),
              "machine": platform.machine(), "cpus": os.cpu_count(),
              "cpu": cpu_description(), "interpreter": interpreter_description(),
              "load_average_before": load_before, "load_average_after": os.getloadavg(),
              "series": series, "targets": targets(series),
              "target": "1000 UAVs x 1 h under 60 s; cost ~linear in UAVs"}
    if args.big:
        _save(report)  # the series is kept if the large run fails
        report["big"] = big_run(args.hours, args.untraced, args.untraced_hours)
        report["targets"].update(big_targets(report["big"], series))
    _save(report)


def cpu_description() -> str:
    """The processor, as far as this machine tells: the kernel's model name and the CPU
    generation LLVM detects (``znver3``, ``znver4``, ...; the model name of a virtual machine
    often omits it). Sessions run on different machines: times compare only within one."""
    model = "unknown processor"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        import llvmlite.binding as llvm

        return f"{model} ({llvm.get_host_cpu_name()})"
    except (ImportError, AttributeError):
        return model


def interpreter_description() -> str:
    """The Python that ran the benchmark: its version, executable and whether libpython is a
    shared library (a build with ``--enable-shared``, such as pyenv's default, calls through
    it and runs the world slower than a distribution's static, optimised build:
    ``bench_interpreters.py``)."""
    shared = False
    with contextlib.suppress(OSError):
        shared = "libpython" in Path("/proc/self/maps").read_text()
    return (f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.path.realpath(sys.executable)}, "
            f"{'shared' if shared else 'static'} libpython")


def _save(report: dict) -> None:
    for name, t in report["targets"].items():
        print(f"target {name}: wall {t['wall']:.3g}, CPU {t['cpu']:.3g} (limit {t['limit']:g}):"
              f" {'met' if t['met_wall'] else 'NOT met'} / {'met' if t['met_cpu'] else 'NOT met'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
