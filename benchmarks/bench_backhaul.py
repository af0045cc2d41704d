"""Cost of the backhaul alone: the twin transfers of the benchmark world, replayed.

The world of ``bench_world.py`` (random-waypoint UAVs over a 10 x 10 RSU grid, 10 Gbit/s
lattice backhaul, equilibrium pricing) is run once while every call of
``BackhaulNetwork.transfer`` is recorded (time, source, destination, bytes). The calls are
then replayed on a fresh ``BackhaulNetwork`` over the same graph, in a SimPy environment that
does nothing else: one driver process starts each transfer at its recorded time and a
callback collects each record's ``t_end``. The replay's CPU time (best of ``--repeat``) is
what the backhaul costs, SimPy's handling of its own events included, without the market and
the recorders around it. The SHA-1 of the ``t_end`` values (and of the ``aborted`` flags)
lets two versions of the backhaul be compared: same digest, same completion times to the
last bit.

The replay only uses ``BackhaulNetwork.transfer`` and the record's fields, so it also runs on
an older source tree: ``--baseline DIR`` replays the same calls with ``DIR`` first on the
Python path (in a subprocess) and records its time, digest and commit beside the current ones, e.g.
``git worktree add /tmp/uavtwin-old COMMIT`` then ``--baseline /tmp/uavtwin-old``.

Usage:
    python benchmarks/bench_backhaul.py [--uavs 1000] [--hours 0.5] [--repeat 3]
                                        [--baseline DIR]

Prints JSON and writes benchmarks/results/bench_backhaul.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_backhaul.json"


def record(n_uavs: int, hours: float, grid: int) -> tuple[Any, list[tuple[float, int, int,
                                                                                float]]]:
    """Run the benchmark world and return its backhaul graph and every transfer call."""
    import simpy
    from bench_world import measure_one

    from simulator.world.backhaul import BackhaulNetwork

    calls: list[tuple[float, int, int, float]] = []
    graphs: list[Any] = []
    original = BackhaulNetwork.transfer

    def recording(self: BackhaulNetwork, src: int, dst: int, size_bytes: float,
                  tag: Any = None) -> Any:
        if not graphs:
            graphs.append(self.graph)
        calls.append((float(self.env.now), int(src), int(dst), float(size_bytes)))
        return original(self, src, dst, size_bytes, tag)

    step = simpy.Environment.step  # measure_one replaces it with a counting one
    BackhaulNetwork.transfer = recording  # type: ignore[method-assign]
    try:
        measure_one(n_uavs, hours, grid=grid)
    finally:
        BackhaulNetwork.transfer = original  # type: ignore[method-assign]
        simpy.Environment.step = step  # type: ignore[method-assign]
    return graphs[0], calls


def replay(graph: Any, calls: list[tuple[float, int, int, float]]
           ) -> tuple[float, float, int, str]:
    """Replay ``calls`` on a fresh network: (CPU s, wall s, SimPy events, digest)."""
    import simpy

    from simulator.world.backhaul import BackhaulNetwork

    env = simpy.Environment()
    net = BackhaulNetwork(env, graph)
    ends: list[float] = []
    aborted: list[bool] = []

    def collect(event: simpy.Event) -> None:
        ends.append(event.value.t_end)
        aborted.append(event.value.aborted)

    def driver(env: simpy.Environment):  # type: ignore[no-untyped-def]
        i, n = 0, len(calls)
        while i < n:
            t = calls[i][0]
            if t > env.now:
                yield env.timeout(t - env.now)
            while i < n and calls[i][0] == t:
                _, src, dst, size = calls[i]
                net.transfer(src, dst, size, tag=i).callbacks.append(collect)
                i += 1

    env.process(driver(env))
    events = 0
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        while True:
            env.step()
            events += 1
    except simpy.core.EmptySchedule:
        pass
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    digest = hashlib.sha1(repr((ends, aborted)).encode()).hexdigest()
    return cpu, wall, events, digest


def best_of(graph: Any, calls: list[tuple[float, int, int, float]], repeat: int
            ) -> dict[str, Any]:
    """:func:`replay` ``repeat`` times: the smallest CPU and wall times, events, digest."""
    runs = [replay(graph, calls) for _ in range(repeat)]
    if len({r[3] for r in runs}) != 1:
        sys.exit("bench_backhaul: replays of the same calls gave different completion times")
    cpu = min(r[0] for r in runs)
    return {"cpu_s": cpu, "wall_s": min(r[1] for r in runs), "simpy_events": runs[0][2],
            "us_per_transfer": 1e6 * cpu / len(calls), "digest": runs[0][3]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uavs", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=0.5)
    parser.add_argument("--grid", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="an older source tree to replay too")
    parser.add_argument("--replay-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay_only is not None:  # the baseline's subprocess
        with open(args.replay_only, "rb") as f:
            graph, calls = pickle.load(f)
        print(json.dumps(best_of(graph, calls, args.repeat)))
        return
    graph, calls = record(args.uavs, args.hours, args.grid)
    result: dict[str, Any] = {
        "uavs": args.uavs, "rsus": args.grid * args.grid, "sim_hours": args.hours,
        "transfers": len(calls), **best_of(graph, calls, args.repeat), "repeat": args.repeat,
        "load_1min": os.getloadavg()[0], "python": platform.python_version(),
    }
    if args.baseline is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "calls.pkl"
            with open(path, "wb") as f:
                pickle.dump((graph, calls), f)
            env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve())}
            out = subprocess.run([sys.executable, __file__, "--replay-only", str(path),
                                  "--repeat", str(args.repeat)], env=env, check=True,
                                 capture_output=True, text=True).stdout
        base = json.loads(out.splitlines()[-1])
        commit = subprocess.run(["git", "-C", str(args.baseline), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
        result["baseline"] = {"tree": commit or args.baseline.name, **base,
                              "same_times": base["digest"] == result["digest"],
                              "cpu_ratio": base["cpu_s"] / result["cpu_s"]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
