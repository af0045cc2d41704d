"""Cost of the backhaul alone: the twin transfers of the benchmark world, replayed.

The world of ``bench_world.py`` (random-waypoint UAVs over a 10 x 10 RSU grid, 10 Gbit/s
lattice backhaul, equilibrium pricing) is run once while every call of
``BackhaulNetwork.transfer`` is recorded (time, source, destination, bytes). The calls are
then replayed, in a fresh process, on a new ``BackhaulNetwork`` over the same graph, in a
SimPy environment that does nothing else: one driver process starts each transfer at its
recorded time and a callback keeps each transfer's event. The replay's CPU time (best of
``--repeat``) is what the backhaul costs, SimPy's handling of its own events included,
without the market and the recorders around it. The *SimPy floor* replays the same calls
with no model behind them, only the three events the backhaul asks SimPy for per transfer
(the event handed back, a timer to the end of the fluid transfer, a timeout for the route
latency) at the same times; the replay minus the floor is the backhaul's own code. The
SHA-1 of every call's ``t_end`` and ``aborted`` lets two versions of the backhaul be
compared: same digest, same completion times to the last bit.

The replay only uses ``BackhaulNetwork.transfer`` and the record's fields, so it also runs on
an older source tree: ``--baseline DIR`` replays the same calls with ``DIR`` first on the
Python path and records its time, digest and commit beside the current ones, e.g.
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
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_backhaul.json"

#: One recorded call: (start time s, source RSU, destination RSU, bytes).
Call = tuple[float, int, int, float]


def record(n_uavs: int, hours: float, grid: int) -> tuple[Any, list[Call]]:
    """Run the benchmark world and return its backhaul graph and every transfer call."""
    import simpy
    from bench_world import measure_one

    from simulator.world.backhaul import BackhaulNetwork

    calls: list[Call] = []
    graphs: list[Any] = []
    original = BackhaulNetwork.transfer

    def recording(self: BackhaulNetwork, src: int, dst: int, size_bytes: float,
                  tag: Any = None, on_done: Any = None) -> Any:
        if not graphs:
            graphs.append(self.graph)
        calls.append((float(self.env.now), int(src), int(dst), float(size_bytes)))
        return original(self, src, dst, size_bytes, tag, on_done)

    step = simpy.Environment.step  # restored whatever measure_one does with it
    BackhaulNetwork.transfer = recording  # type: ignore[method-assign]
    try:
        measure_one(n_uavs, hours, grid=grid)
    finally:
        BackhaulNetwork.transfer = original  # type: ignore[method-assign]
        simpy.Environment.step = step  # type: ignore[method-assign]
    return graphs[0], calls


def drive(calls: list[Call], start: Callable[[Any, int, Call], Any]
          ) -> tuple[float, float, int]:
    """Start each call at its time (``start(env, i, call)`` returns the transfer's event) in
    a fresh environment and run it out: (CPU s, wall s, SimPy events processed)."""
    import simpy

    env = simpy.Environment()

    def driver(env: simpy.Environment):  # type: ignore[no-untyped-def]
        i, n = 0, len(calls)
        while i < n:
            t = calls[i][0]
            if t > env.now:
                yield env.timeout(t - env.now)
            while i < n and calls[i][0] == t:
                start(env, i, calls[i])
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
    return time.process_time() - cpu, time.perf_counter() - wall, events


def replay(graph: Any, calls: list[Call]
           ) -> tuple[float, float, int, str, list[tuple[float, float]]]:
    """Replay ``calls`` on a fresh network: (CPU s, wall s, SimPy events, digest of every
    call's ``(t_end, aborted)``, ``(t_end, route latency)`` per call)."""
    from simulator.world.backhaul import BackhaulNetwork

    nets: list[BackhaulNetwork] = []
    events_of: list[Any] = [None] * len(calls)

    def start(env: Any, i: int, call: Call) -> None:
        if not nets:
            nets.append(BackhaulNetwork(env, graph))
        _, src, dst, size = call
        nets[0].transfer(src, dst, size, tag=i).callbacks.append(partial(_keep, events_of, i))

    cpu, wall, events = drive(calls, start)
    records = [ev.value for ev in events_of]
    digest = hashlib.sha1(repr([(r.t_end, r.aborted) for r in records]).encode()).hexdigest()
    per_call = [(r.t_end, sum(graph.edges[u, v]["latency_s"]
                              for u, v in zip(r.path, r.path[1:], strict=False)))
                for r in records]
    return cpu, wall, events, digest, per_call


def simpy_floor(calls: list[Call], per_call: list[tuple[float, float]]) -> float:
    """CPU s of SimPy alone doing what the backhaul asks of it per transfer: an event handed
    back, a timer to the end of the fluid transfer, a timeout for the route latency, then the
    event triggered (the same three events, at the same times, with no model behind them)."""
    from simpy.events import Timeout

    kept: list[Any] = [None] * len(calls)

    def start(env: Any, i: int, call: Call) -> None:
        t_end, latency = per_call[i]
        done = env.event()
        done.callbacks.append(partial(_keep, kept, i))
        Timeout(env, max(0.0, t_end - latency - env.now)).callbacks.append(
            partial(_arrive, env, done, latency))

    return drive(calls, start)[0]


def _keep(store: list[Any], i: int, event: Any) -> None:
    """What a caller does when a transfer ends: keep its event (the same in both replays)."""
    store[i] = event


def _arrive(env: Any, done: Any, latency: float, _timer: Any) -> None:
    from simpy.events import Timeout

    Timeout(env, latency).callbacks.append(lambda _ev: done.succeed())


def best_of(graph: Any, calls: list[Call], repeat: int) -> dict[str, Any]:
    """:func:`replay` ``repeat`` times: the smallest CPU and wall times, events, digest, and
    the smallest CPU time of :func:`simpy_floor`."""
    runs = [replay(graph, calls) for _ in range(repeat)]
    if len({r[3] for r in runs}) != 1:
        sys.exit("bench_backhaul: replays of the same calls gave different completion times")
    cpu = min(r[0] for r in runs)
    floor = min(simpy_floor(calls, runs[0][4]) for _ in range(repeat))
    return {"cpu_s": cpu, "wall_s": min(r[1] for r in runs), "simpy_events": runs[0][2],
            "us_per_transfer": 1e6 * cpu / len(calls), "digest": runs[0][3],
            "simpy_floor_cpu_s": floor, "model_cpu_s": cpu - floor}


def replay_tree(tree: Path, path: Path, repeat: int) -> dict[str, Any]:
    """:func:`best_of` in a fresh subprocess importing ``simulator`` from ``tree`` (so that
    neither replay pays for the recording run's heap)."""
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    out = subprocess.run([sys.executable, __file__, "--replay-only", str(path),
                          "--repeat", str(repeat)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uavs", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=0.5)
    parser.add_argument("--grid", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="an older source tree to replay too")
    parser.add_argument("--replay-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.replay_only is not None:  # a replay's subprocess
        with open(args.replay_only, "rb") as f:
            graph, calls = pickle.load(f)
        print(json.dumps(best_of(graph, calls, args.repeat)))
        return
    graph, calls = record(args.uavs, args.hours, args.grid)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.pkl"
        with open(path, "wb") as f:
            pickle.dump((graph, calls), f)
        del graph
        current = replay_tree(ROOT, path, args.repeat)
        base = None if args.baseline is None else replay_tree(args.baseline, path, args.repeat)
    result: dict[str, Any] = {
        "uavs": args.uavs, "rsus": args.grid * args.grid, "sim_hours": args.hours,
        "transfers": len(calls), **current, "repeat": args.repeat,
        "load_1min": os.getloadavg()[0], "python": platform.python_version(),
    }
    if base is not None:
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
