"""Benchmark the simulator core: one large run, a scaling series, and a bare-SimPy floor.

Scenario: random-waypoint UAVs over a 5 km x 5 km area served by a 10 x 10 RSU grid
(500 m spacing, 350 m cells) joined by a 10 Gbit/s lattice backhaul, 1 simulated hour,
equilibrium pricing, tracing on. Each run is
measured in its own subprocess so that peak memory (max RSS) belongs to that run alone.
The floor is a bare SimPy loop that processes the same number of events with no work.

Usage:
    python benchmarks/bench_world.py [--uavs 100,1000,5000] [--hours 1]

Prints a table and writes benchmarks/results/bench_world.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_world.json"


def overrides(n_uavs: int, hours: float) -> list[str]:
    """Scenario overrides of the benchmark world, on top of scenarios/default.yaml."""
    return [
        f"simulation.duration_s={3600 * hours}", "simulation.sample_interval_s=10",
        f"uavs.count={n_uavs}", "area.width_m=5000", "area.height_m=5000",
        "rsus.grid.rows=10", "rsus.grid.cols=10", "rsus.grid.spacing_m=500",
        "rsus.coverage_radius_m=350", "backhaul.topology=grid", "backhaul.capacity_mbps=10000",
    ]


def measure_one(n_uavs: int, hours: float, extra: Sequence[str] = ()) -> dict:
    """One traced run in this process: wall time, events, memory, trace size (``extra``:
    further ``--set`` overrides, e.g. a model switched on)."""
    import simpy

    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    count = {"events": 0}
    step = simpy.Environment.step

    def counting_step(self):  # type: ignore[no-untyped-def]
        count["events"] += 1
        return step(self)

    simpy.Environment.step = counting_step  # this subprocess only
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml",
                             [*overrides(n_uavs, hours), *extra])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        started = time.perf_counter()
        result = run_scenario(scenario, trace_path=path)
        wall = time.perf_counter() - started
        size = path.stat().st_size
    return {
        "uavs": n_uavs, "rsus": 100, "sim_hours": hours, "wall_s": wall,
        "events": count["events"], "events_per_s": count["events"] / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_s": (resource.getrusage(resource.RUSAGE_SELF).ru_utime
                  + resource.getrusage(resource.RUSAGE_SELF).ru_stime),
        "trace_mb": size / 1e6, "migrations": result.summary["migrations"],
        "pricing_rounds": result.summary["rounds"],
        "coverage_events": result.summary["coverage_events"],
    }


def bare_simpy(n_events: int, n_procs: int) -> float:
    """Wall time of a SimPy loop processing ``n_events`` timeouts and nothing else."""
    import simpy

    env = simpy.Environment()
    per = max(1, n_events // n_procs)

    def proc(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(per):
            yield env.timeout(1.0)

    for _ in range(n_procs):
        env.process(proc(env))
    started = time.perf_counter()
    env.run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uavs", default="100,1000,5000")
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args.one, args.hours)))
        return
    series = []
    for n in (int(x) for x in args.uavs.split(",")):
        proc = subprocess.run([sys.executable, __file__, "--one", str(n), "--hours",
                               str(args.hours)], capture_output=True, text=True, check=True)
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        row["bare_simpy_s"] = bare_simpy(row["events"], n)
        row["overhead_vs_bare"] = row["wall_s"] / row["bare_simpy_s"]
        series.append(row)
        print(f"{n:>6} UAVs: {row['wall_s']:7.2f} s wall, {row['events']:>9} events "
              f"({row['events_per_s']:,.0f}/s), bare SimPy {row['bare_simpy_s']:.2f} s, "
              f"peak RSS {row['peak_rss_mb']:.0f} MB, trace {row['trace_mb']:.1f} MB, "
              f"{row['migrations']} migrations", flush=True)
    base = series[0]
    for row in series:
        row["cost_per_uav_hour_s"] = row["wall_s"] / (row["uavs"] * row["sim_hours"])
        row["scaling_vs_first"] = (row["wall_s"] / base["wall_s"]) / (row["uavs"] / base["uavs"])
    report = {"benchmark": "bench_world", "python": platform.python_version(),
              "machine": platform.machine(), "series": series,
              "target": "1000 UAVs x 1 h under 60 s; cost ~linear in UAVs"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
