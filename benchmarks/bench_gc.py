"""What Python's cyclic garbage collector costs a run, at its default threshold and as
``run_scenario`` sets it (``simulator.app.run.rare_collections``).

The benchmark world of ``bench_world.py`` (traced, 1 simulated hour) is run in a fresh
process per setting, the two settings interleaved ``--repeat`` times: once as it is, and once
with ``rare_collections`` replaced by a no-op, so the collector keeps Python's default
threshold (700 net allocations). A ``gc.callbacks`` hook counts the collections of the run
(by generation) and the objects they freed. The least CPU time of each setting is reported.

Usage:
    python benchmarks/bench_gc.py [--uavs 1000] [--repeat 2]

Prints a line per run and writes benchmarks/results/bench_gc.json.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_gc.json"


def measure(n_uavs: int, default_gc: bool) -> dict:
    """One traced run in this process: CPU and wall time, collections, objects freed."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_world

    import agents.pricing.kernel  # noqa: F401  (imports outside the clock, as bench_world)
    import simulator.app.run as run_mod
    from simulator.config.loader import load_scenario

    if default_gc:
        run_mod.rare_collections = contextlib.nullcontext  # type: ignore[assignment]
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml",
                             bench_world.overrides(n_uavs, 1.0))
    stats = {"collections": [0, 0, 0], "freed": 0}

    def count(phase: str, info: dict) -> None:
        if phase == "stop":
            stats["collections"][info["generation"]] += 1
            stats["freed"] += info["collected"]

    with tempfile.TemporaryDirectory() as tmp:
        gc.callbacks.append(count)
        started, cpu = time.perf_counter(), time.process_time()
        run_mod.run_scenario(scenario, trace_path=Path(tmp) / "gc.h5")
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        gc.callbacks.remove(count)
    return {"uavs": n_uavs, "default_gc": default_gc, "wall_s": wall, "cpu_s": cpu, **stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uavs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--one", choices=["rare", "default"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.uavs, args.one == "default")))
        return
    runs: dict[str, list[dict]] = {"rare": [], "default": []}
    for _ in range(args.repeat):
        for setting in runs:
            out = subprocess.run([sys.executable, __file__, "--uavs", str(args.uavs), "--one",
                                  setting], capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            runs[setting].append(row)
            print(f"{setting:>7}: {row['cpu_s']:.2f} s CPU, collections "
                  f"{'/'.join(map(str, row['collections']))}, {row['freed']} objects freed",
                  flush=True)
    best = {k: min(v, key=lambda r: r["cpu_s"]) for k, v in runs.items()}
    report = {"benchmark": "bench_gc", "uavs": args.uavs, "runs": runs, "best": best,
              "cpu_ratio": best["default"]["cpu_s"] / best["rare"]["cpu_s"]}
    print(f"default threshold / rare collections: {report['cpu_ratio']:.2f}x CPU")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
