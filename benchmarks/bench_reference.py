"""Benchmark the cost of recording each round's exact equilibrium (``pricing.reference``).

Every pricing round of a non-equilibrium solver is solved a second time, exactly, so that the
trace holds the optimality ratio of every round. This script runs the default scenario
(tiny_madrl agents, 300 s, 20 UAVs) with the reference on and off, alternating, and reports
the median wall time of each and the extra time per round; since whole-run times on a shared
machine are noisy, it also reports the exact solver's own time per round (the
``wall_time_s`` of the rounds of an equilibrium-priced run of the same scenario), which is
what the reference adds.

Usage:
    python benchmarks/bench_reference.py [--repeats 3]

Prints the numbers and writes benchmarks/results/bench_reference.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_reference.json"


def measure(reference: bool, out: Path) -> tuple[float, int]:
    """Wall time of one default run in this process and its number of pricing rounds."""
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario
    from simulator.trace.reader import TraceReader

    scenario = load_scenario(ROOT / "scenarios" / "default.yaml",
                             [f"pricing.reference={str(reference).lower()}"])
    started = time.perf_counter()
    run_scenario(scenario, trace_path=out, base_dir=ROOT / "scenarios")
    wall = time.perf_counter() - started
    with TraceReader(out) as r:
        return wall, r.n_rows("/pricing/rounds")


def solve_time(out: Path) -> list[float]:
    """Per-round wall time of the exact solver on the default scenario's games."""
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario
    from simulator.trace.reader import TraceReader

    scenario = load_scenario(ROOT / "scenarios" / "default.yaml", ["pricing.solver=equilibrium"])
    run_scenario(scenario, trace_path=out, base_dir=ROOT / "scenarios")
    with TraceReader(out) as r:
        return r.read("/pricing/rounds")["wall_time_s"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    walls: dict[bool, list[float]] = {True: [], False: []}
    rounds = 0
    with tempfile.TemporaryDirectory() as tmp:
        measure(True, Path(tmp) / "warm.h5")  # imports, agent weights
        for k in range(args.repeats):
            for ref in (False, True):
                wall, rounds = measure(ref, Path(tmp) / f"{k}-{ref}.h5")
                walls[ref].append(wall)
        per_round = solve_time(Path(tmp) / "eq.h5")
    on, off = statistics.median(walls[True]), statistics.median(walls[False])
    result = {"scenario": "scenarios/default.yaml", "solver": "tiny_madrl", "rounds": rounds,
              "repeats": args.repeats, "reference_on_s": walls[True],
              "reference_off_s": walls[False], "median_on_s": on, "median_off_s": off,
              "extra_per_round_ms": 1000 * (on - off) / max(rounds, 1),
              "extra_fraction": on / off - 1,
              "solve_ms_median": 1000 * statistics.median(per_round),
              "solve_ms_mean": 1000 * statistics.fmean(per_round),
              "solve_s_total": sum(per_round), "machine": platform.platform()}
    print(f"default scenario, {rounds} rounds: reference off {off:.2f} s, on {on:.2f} s "
          f"(+{100 * result['extra_fraction']:.1f}%, "
          f"{result['extra_per_round_ms']:.2f} ms per round); the exact solve itself: "
          f"median {result['solve_ms_median']:.2f} ms, mean {result['solve_ms_mean']:.2f} ms "
          f"per round, {result['solve_s_total']:.2f} s per run")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
