"""Benchmark mobility import: SUMO FCD conversion speed and memory, and runs driven by an
imported trace.

1. FCD conversion. The benchmark writes SUMO-style FCD files (every attribute SUMO writes by
   default: id, x, y, angle, type, speed, pos, lane, slope; 1 s steps, vehicles entering and
   leaving) of about 20 MB and 200 MB, then converts each to uavtwin CSV with
   ``uavtwin convert`` (our streaming reader) and reads it with sumolib's own FCD readers
   (``sumolib.xml.parse_fast_nested`` and ``sumolib.output.parse``) in the same run. Every
   measurement runs in its own subprocess so its peak RSS is its own.
2. Runs. 1,000 UAVs for 1 simulated hour on the benchmark world of bench_world.py, once with
   random waypoints and once from an imported trace of the same random-waypoint flights
   (exported to ns-2 and read back through ``model: trace``).

Usage:
    python benchmarks/bench_mobility_import.py [--sizes-mb 20,200] [--uavs 1000] [--hours 1]
        [--skip-fcd] [--skip-runs]

Prints a table and writes benchmarks/results/bench_mobility_import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_mobility_import.json"
sys.path.insert(0, str(ROOT))


def write_fcd(path: Path, target_mb: float, seed: int = 1) -> dict:
    """A SUMO-style FCD file of about ``target_mb`` MB: 1 s steps, ~400 vehicles on a grid of
    streets, each entering, driving and leaving."""
    rng = np.random.default_rng(seed)
    target = target_mb * 1e6
    n_live = 400
    t = 0
    next_id = 0
    live: dict[int, list] = {}
    written = 0
    samples = 0
    with path.open("w", encoding="utf-8") as fh:
        head = ('<?xml version="1.0" encoding="UTF-8"?>\n\n<fcd-export xmlns:xsi="http://www.w3'
                '.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://sumo.dlr'
                '.de/xsd/fcd_file.xsd">\n')
        fh.write(head)
        written += len(head)
        while written < target:
            while len(live) < n_live:
                horiz = rng.random() < 0.5
                street = float(rng.integers(0, 20)) * 250.0 + 1.6
                speed = float(rng.uniform(8, 14))
                live[next_id] = [horiz, street, float(rng.uniform(0, 5000)),
                                 speed * rng.choice([-1, 1]), int(rng.integers(60, 600))]
                next_id += 1
            lines = [f'    <timestep time="{t:.2f}">\n']
            for vid, v in list(live.items()):
                horiz, street, s, vel, left = v
                x, y = (s, street) if horiz else (street, s)
                angle = (90.0 if vel > 0 else 270.0) if horiz else (0.0 if vel > 0 else 180.0)
                lines.append(f'        <vehicle id="veh{vid}" x="{x:.2f}" y="{y:.2f}" '
                             f'angle="{angle:.2f}" type="DEFAULT_VEHTYPE" speed="{abs(vel):.2f}" '
                             f'pos="{abs(s) % 250:.2f}" lane="E{vid % 97}_0" slope="0.00"/>\n')
                v[2] = s + vel
                v[4] = left - 1
                if v[4] <= 0:
                    del live[vid]
                samples += 1
            lines.append("    </timestep>\n")
            block = "".join(lines)
            fh.write(block)
            written += len(block)
            t += 1
        fh.write("</fcd-export>\n")
    return {"bytes": path.stat().st_size, "timesteps": t, "vehicles": next_id,
            "samples": samples}


def _child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh interpreter (so its peak RSS is its own); returns the JSON
    line it prints (which includes its ``peak_rss_mb``)."""
    proc = subprocess.run([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    if proc.returncode:
        raise RuntimeError(f"benchmark child failed ({proc.returncode}): {code[:80]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


_CONVERT = """
import json, resource, sys, time
from simulator.app.convert import convert_file
t = time.perf_counter(); c = time.process_time()
r = convert_file(sys.argv[1], sys.argv[2], from_format="sumo-fcd")
wall = time.perf_counter() - t; cpu = time.process_time() - c
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rows": r.rows, "uavs": r.uavs,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_SUMOLIB_FAST = """
import json, resource, sys, time
import sumolib
t = time.perf_counter(); c = time.process_time()
n = 0
for step, veh in sumolib.xml.parse_fast_nested(sys.argv[1], "timestep", ["time"], "vehicle",
                                               ["id", "x", "y"]):
    float(step.time); float(veh.x); float(veh.y)
    n += 1
wall = time.perf_counter() - t; cpu = time.process_time() - c
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rows": n,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_SUMOLIB_PARSE = """
import json, resource, sys, time
import sumolib
t = time.perf_counter(); c = time.process_time()
n = 0
for step in sumolib.output.parse(sys.argv[1], "timestep"):
    float(step.time)
    for veh in step.vehicle or ():
        float(veh.x); float(veh.y)
        n += 1
wall = time.perf_counter() - t; cpu = time.process_time() - c
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rows": n,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def bench_fcd(sizes_mb: list[float], tmp: Path) -> list[dict]:
    """Conversion throughput and memory per file size, ours against sumolib."""
    out = []
    for mb in sizes_mb:
        src = tmp / f"bench_{mb:g}MB.fcd.xml"
        info = write_fcd(src, mb)
        size_mb = info["bytes"] / 1e6
        rec = {"file_mb": size_mb, **info}
        ours = _child(_CONVERT, str(src), str(tmp / "out.csv"))
        rec["uavtwin_convert"] = {**ours, "mb_per_s": size_mb / ours["wall_s"],
                                  "mb_per_cpu_s": size_mb / ours["cpu_s"]}
        for name, code in (("sumolib_parse_fast_nested", _SUMOLIB_FAST),
                           ("sumolib_output_parse", _SUMOLIB_PARSE)):
            if name == "sumolib_output_parse" and mb > 50:
                continue  # ~0.5 MB/s: minutes per 100 MB; measured on the small file only
            r = _child(code, str(src))
            rec[name] = {**r, "mb_per_s": size_mb / r["wall_s"],
                         "mb_per_cpu_s": size_mb / r["cpu_s"]}
        src.unlink()
        (tmp / "out.csv").unlink(missing_ok=True)
        out.append(rec)
        for name in ("uavtwin_convert", "sumolib_parse_fast_nested", "sumolib_output_parse"):
            if name in rec:
                r = rec[name]
                print(f"FCD {size_mb:6.1f} MB  {name:26s} {r['mb_per_s']:6.1f} MB/s wall, "
                      f"{r['mb_per_cpu_s']:6.1f} MB/s CPU, peak RSS {r['peak_rss_mb']:5.0f} MB",
                      flush=True)
    return out


_RUN = """
import json, resource, sys, time
from pathlib import Path
from simulator.app.run import run_scenario
from simulator.config.loader import load_scenario
sys.path.insert(0, "benchmarks")
from bench_world import overrides
n, hours, mode, trace = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
ov = overrides(n, hours)
if mode == "trace":
    ov += ["uavs.mobility.model=trace", f"uavs.mobility.file={trace}",
           "uavs.mobility.format=ns2"]
scenario = load_scenario("scenarios/default.yaml", ov)
t = time.perf_counter(); c = time.process_time()
result = run_scenario(scenario, trace_path=Path(sys.argv[5]))
wall = time.perf_counter() - t; cpu = time.process_time() - c
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "migrations": result.summary["migrations"],
                  "coverage_events": result.summary["coverage_events"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def imported_flights(n_uavs: int, hours: float, path: Path) -> None:
    """Export the benchmark world's random-waypoint flights (its seed) to ns-2 (3-D setdest,
    so the imported run flies exactly the same segments)."""
    from benchmarks.bench_world import overrides
    from simulator.config.loader import load_scenario
    from simulator.world.mobility.formats.ns2 import write_ns2
    from simulator.world.mobility.registry import MobilityContext, build_trajectories
    from simulator.world.rng import spawn_rngs

    s = load_scenario(ROOT / "scenarios" / "default.yaml", overrides(n_uavs, hours))
    ctx = MobilityContext(s.uavs.count, s.simulation.duration_s,
                          (s.area.width_m, s.area.height_m),
                          spawn_rngs(s.simulation.seed)["mobility"], None)
    write_ns2(build_trajectories(s.uavs.mobility, ctx), path, dimensions=3)


def bench_runs(n_uavs: int, hours: float, tmp: Path) -> dict:
    ns2 = tmp / "flights.ns2"
    started = time.perf_counter()
    imported_flights(n_uavs, hours, ns2)
    export_s = time.perf_counter() - started
    out = {"uavs": n_uavs, "sim_hours": hours, "ns2_mb": ns2.stat().st_size / 1e6,
           "export_s": export_s}
    for mode in ("random_waypoint", "trace"):
        out[mode] = _child(_RUN, str(n_uavs), str(hours), mode, str(ns2), str(tmp / "t.h5"))
        print(f"run {n_uavs} UAVs x {hours:g} h, {mode:15s}: {out[mode]['wall_s']:.1f} s, "
              f"peak {out[mode]['peak_rss_mb']:.0f} MB, migrations "
              f"{out[mode]['migrations']}", flush=True)
    out["trace_vs_random_waypoint"] = out["trace"]["wall_s"] / out["random_waypoint"]["wall_s"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes-mb", default="20,200")
    ap.add_argument("--uavs", type=int, default=1000)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--skip-runs", action="store_true", help="keep the previous run numbers")
    ap.add_argument("--skip-fcd", action="store_true", help="keep the previous FCD numbers")
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes_mb.split(",")]
    import sumolib

    report = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "cpus": os.cpu_count(), "sumolib": getattr(sumolib, "__version__",
                                                                      "unknown")},
              "fcd": None, "runs": None}
    if RESULTS.exists():  # a part skipped keeps its previous numbers
        report.update({k: v for k, v in json.loads(RESULTS.read_text()).items()
                       if k in ("fcd", "runs")})
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_fcd:
            report["fcd"] = bench_fcd(sizes, Path(tmp))
            RESULTS.write_text(json.dumps(report, indent=2) + "\n")
        if not args.skip_runs:
            report["runs"] = bench_runs(args.uavs, args.hours, Path(tmp))
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
