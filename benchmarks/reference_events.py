"""Count the SimPy events of one bench-world run of any uavtwin tree (bench_world's references).

``bench_world.REFERENCE_EVENTS`` holds the event counts of the benchmark runs before
migrations stopped being SimPy processes (main at bc52579): issue 13 sets the world against a
bare SimPy loop on those counts. This script makes such a count for any size, on any tree
that has ``benchmarks/bench_world.py`` with ``overrides(n_uavs, hours, grid)``:

    git worktree add /tmp/uavtwin-bc52579 bc52579
    PYTHONPATH=/tmp/uavtwin-bc52579 .venv/bin/python benchmarks/reference_events.py \\
        /tmp/uavtwin-bc52579 100 1 10

It runs the benchmark scenario (traced, to a temporary file) and prints one JSON line with the
processed events (scheduled minus still queued when the run ends), the migrations and the CPU
time: 200,482 events for 100 UAVs x 1 h on the 10 x 10 grid, issue 13's count. The arguments
``10000 1 20`` give the 10,000-UAV hour on the 20 x 20 grid (19,458,008 events, about ten
minutes of CPU at bc52579).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path, help="the uavtwin tree to run (also on PYTHONPATH)")
    parser.add_argument("uavs", type=int)
    parser.add_argument("hours", type=float)
    parser.add_argument("grid", type=int, help="RSUs per side of the square grid")
    args = parser.parse_args()
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree / "benchmarks"))
    import bench_world  # the tree's own scenario overrides
    import simpy

    import simulator
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    if not Path(simulator.__file__).resolve().is_relative_to(tree):
        sys.exit(f"reference_events: simulator comes from {simulator.__file__}, not {tree}: "
                 "put the tree on PYTHONPATH")
    envs: list[simpy.Environment] = []
    init = simpy.Environment.__init__

    def catching_init(self, *a, **k):  # type: ignore[no-untyped-def]
        init(self, *a, **k)
        envs.append(self)

    simpy.Environment.__init__ = catching_init
    scenario = load_scenario(tree / "scenarios" / "default.yaml",
                             bench_world.overrides(args.uavs, args.hours, args.grid))
    with tempfile.TemporaryDirectory() as tmp:
        cpu = time.process_time()
        result = run_scenario(scenario, trace_path=Path(tmp) / "t.h5")
        cpu = time.process_time() - cpu
    env = envs[-1]
    print(json.dumps({"tree": str(tree), "uavs": args.uavs, "hours": args.hours,
                      "grid": args.grid, "events": next(env._eid) - len(env._queue),
                      "migrations": result.summary["migrations"], "cpu_s": round(cpu, 1)}))


if __name__ == "__main__":
    main()
