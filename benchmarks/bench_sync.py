"""Benchmark: solve times of the synchronisation games (open-loop Nash, Stackelberg, static).

Run: ``.venv/bin/python benchmarks/bench_sync.py [--repeats 5]``.  Prints a JSON summary and
saves it to benchmarks/results/bench_sync.json.  Target: 4-VSP open-loop Nash under 2 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from agents.sync_game import solve
from agents.sync_params import SyncParams


def _time(fn: Any, repeats: int) -> dict[str, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "repeats": repeats, "converged": bool(out.converged), "message": out.message}


def main() -> None:
    """Run the benchmark and save the JSON results."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    p2 = SyncParams.paper_defaults(2)
    p4 = SyncParams.paper_defaults(4)
    p13 = p4.subset([0, 1, 2]).with_changes(delta=0.02, leaders=(2,))
    cases = {
        "nash_2vsp_T300": lambda: solve(p2, "nash"),
        "nash_4vsp_T300": lambda: solve(p4, "nash"),
        "stackelberg_3vsp_leader3_T300": lambda: solve(p13, "stackelberg"),
        "static_4vsp_T300": lambda: solve(p4, "static"),
    }
    results: dict[str, Any] = {"python": platform.python_version(),
                               "machine": platform.machine(), "cases": {}}
    for name, fn in cases.items():
        reps = args.repeats if not name.startswith("stackelberg") else max(1, args.repeats // 2)
        results["cases"][name] = _time(fn, reps)
        print(name, json.dumps(results["cases"][name]))  # noqa: T201 - script output
    results["target_nash_4vsp_under_2s"] = results["cases"]["nash_4vsp_T300"]["median_s"] < 2.0
    out = Path(__file__).resolve().parent / "results" / "bench_sync.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v["median_s"] for k, v in results["cases"].items()}))  # noqa: T201


if __name__ == "__main__":
    main()
