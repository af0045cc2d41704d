"""Cost of the realism models (MODEL.md Part D): the 1,000-UAV benchmark world with each on.

The world of ``bench_world.py`` (random-waypoint UAVs over 5 km x 5 km, 100 RSUs, 10 Gbit/s
lattice, equilibrium pricing, tracing on) is run once as it is and once per model:

* ``radio``: Al-Hourani urban air-to-ground path loss at 2.4 GHz, coverage where the mean SNR
  reaches ``radio.snr_min_db`` (cells of about the benchmark's 350 m at the mean altitude),
  exact crossings by root finding;
* ``live_migration``: pre-copy of every twin, dirty rate from the sensing VSPs' intensity;
* ``decision_time``: the equilibrium solver's sweeps charged at 1 ms each.

Each run is measured in its own subprocess (wall time, CPU time of the process, events, peak
RSS); on a shared machine the CPU-time ratio is the steadier measure of a model's cost.

Usage:
    python benchmarks/bench_realism.py [--uavs 1000] [--hours 1]

Prints a table and writes benchmarks/results/bench_realism.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

from bench_world import measure_one

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_realism.json"

#: The model switched on in each variant (``--set`` overrides on top of the benchmark world).
VARIANTS: dict[str, list[str]] = {
    "off": [],
    "radio": ["radio.model=al_hourani", "radio.environment=urban",
              "radio.coverage=snr", "radio.snr_min_db=29.5"],
    "live_migration": ["uavs.twins.migration.mode=pre_copy", "sensing.enabled=true",
                       "uavs.twins.migration.dirty_source=sensing",
                       "uavs.twins.migration.bytes_per_update_mb=5"],
    "decision_time": ["pricing.decision_time.enabled=true",
                      "pricing.decision_time.equilibrium_iteration_s=0.001"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uavs", type=int, default=1000)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure_one(args.uavs, args.hours, extra=VARIANTS[args.one])))
        return
    rows = []
    for name in args.variants.split(","):
        proc = subprocess.run([sys.executable, __file__, "--one", name, "--uavs",
                               str(args.uavs), "--hours", str(args.hours)],
                              capture_output=True, text=True, check=True)
        row = {"variant": name, "overrides": VARIANTS[name],
               **json.loads(proc.stdout.strip().splitlines()[-1])}
        rows.append(row)
        print(f"{name:>15}: {row['wall_s']:7.2f} s wall, {row['cpu_s']:7.2f} s CPU, "
              f"{row['events']:>9} events, "
              f"peak RSS {row['peak_rss_mb']:.0f} MB, {row['coverage_events']} coverage "
              f"events, {row['migrations']} migrations", flush=True)
    base = next((r for r in rows if r["variant"] == "off"), rows[0])
    for row in rows:
        row["wall_vs_off"] = row["wall_s"] / base["wall_s"]
        row["cpu_vs_off"] = row["cpu_s"] / base["cpu_s"]
    report = {"benchmark": "bench_realism", "python": platform.python_version(),
              "machine": platform.machine(), "uavs": args.uavs, "sim_hours": args.hours,
              "variants": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
