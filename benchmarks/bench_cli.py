"""Start-up time of the light ``uavtwin`` commands (``--help``, ``validate``, ``schema``).

Each command is started ``--repeat`` times as a fresh process; the median wall time and the
median CPU time (user + system of the child) are reported next to a bare ``python -c pass``
and ``python -c "import torch"`` measured in the same run, so the numbers read as ratios on a
busy machine; the load average before the run is recorded. The children run with bytecode
caching on (``PYTHONDONTWRITEBYTECODE`` removed), as in a normal installation, and the first
run of each command, which warms the caches, is not counted. Target (issue 9): each light
command under 0.5 s. Writes benchmarks/results/bench_cli.json.

    python benchmarks/bench_cli.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UAVTWIN = str(Path(sys.executable).with_name("uavtwin"))
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import torch'": [sys.executable, "-c", "import torch"],
    "uavtwin --help": [UAVTWIN, "--help"],
    "uavtwin validate scenarios/default.yaml": [UAVTWIN, "validate", "scenarios/default.yaml"],
    "uavtwin schema": [UAVTWIN, "schema"],
}


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU time (s) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=ENV)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    load = os.getloadavg()
    for cmd in COMMANDS.values():  # warm the file and bytecode caches once
        timed(cmd)
    rows = {}
    for name, cmd in COMMANDS.items():
        walls, cpus = zip(*(timed(cmd) for _ in range(args.repeat)), strict=True)
        rows[name] = {"median_s": statistics.median(walls), "min_s": min(walls),
                      "max_s": max(walls), "cpu_median_s": statistics.median(cpus)}
        print(f"{name:<45} median {rows[name]['median_s']:.3f} s "
              f"(min {rows[name]['min_s']:.3f}, max {rows[name]['max_s']:.3f}), "
              f"CPU {rows[name]['cpu_median_s']:.3f} s")
    out = ROOT / "benchmarks" / "results" / "bench_cli.json"
    out.write_text(json.dumps({"repeat": args.repeat, "target_s": 0.5,
                               "load_average_before": list(load), "cpus": os.cpu_count(),
                               "commands": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
