"""Start-up time of the light ``uavtwin`` commands (``--help``, ``validate``, ``schema``).

Each command is started ``--repeat`` times as a fresh process; the median wall time is
reported next to a bare ``python -c pass`` and ``python -c "import torch"`` measured in the same
run, so the numbers read as ratios on a busy machine. Target (issue 9): each light command
under 0.5 s. Writes benchmarks/results/bench_cli.json.

    python benchmarks/bench_cli.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
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


def wall(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    for cmd in COMMANDS.values():  # warm the file cache once
        wall(cmd)
    rows = {}
    for name, cmd in COMMANDS.items():
        times = [wall(cmd) for _ in range(args.repeat)]
        rows[name] = {"median_s": statistics.median(times), "min_s": min(times),
                      "max_s": max(times)}
        print(f"{name:<45} median {rows[name]['median_s']:.3f} s "
              f"(min {rows[name]['min_s']:.3f}, max {rows[name]['max_s']:.3f})")
    out = ROOT / "benchmarks" / "results" / "bench_cli.json"
    out.write_text(json.dumps({"repeat": args.repeat, "target_s": 0.5, "commands": rows},
                              indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
