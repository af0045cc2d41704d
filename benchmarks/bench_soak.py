"""Soak test: a long run with many UAVs, its memory (RSS) sampled over time.

A long run must not leak: resident memory should be flat while the clock advances (the trace
writer flushes buffered rows, nothing accumulates per event), and the end of the run (the
sampled positions, the canonical copy of the trace, the summary) must not need memory that
grows with the trace. This script runs ``uavtwin run`` in a subprocess on the default
scenario scaled up (1,000 UAVs over a 6 x 6 RSU grid on 4 km x 4 km, positions every 10 s,
sensing off), reads the child's VmRSS from ``/proc`` every ``--every`` seconds together with
the simulated time its progress bar reports, and records the peak (VmHWM) and trace size.

Usage:
    python benchmarks/bench_soak.py [--hours 1] [--uavs 1000] [--every 1.0]

The issue's target is ``--hours 24``; on the 2-core development machine 1,000 UAVs take about
20 minutes of wall time per simulated hour, so the default (used by ``make bench``) is one
simulated hour. Prints a short summary and writes benchmarks/results/bench_soak.json (the
samples included) and docs/reliability/soak.png (RSS against simulated and wall time).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_soak.json"
FIGURE = ROOT / "docs" / "reliability" / "soak.png"
_PROGRESS = re.compile(rb"(\d+)/(\d+) s simulated")


def overrides(n_uavs: int, hours: float) -> list[str]:
    """Scenario overrides of the soak world, on top of scenarios/default.yaml."""
    return [
        f"simulation.duration_s={3600 * hours}", "simulation.sample_interval_s=10",
        f"uavs.count={n_uavs}", "area.width_m=4000", "area.height_m=4000",
        "rsus.grid.rows=6", "rsus.grid.cols=6", "rsus.grid.spacing_m=650",
        "sensing.enabled=false", "output.flush_interval_s=10",
    ]


def _status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process, MB (empty once it has exited)."""
    out: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError):
        pass
    return out


def soak(n_uavs: int, hours: float, every: float, cli: str = "simulator.app.cli") -> dict:
    """Run once and sample; return the report."""
    sim_s = [0.0]

    def read_progress(stream) -> None:  # type: ignore[no-untyped-def]
        tail = b""
        while chunk := stream.read1(4096):
            tail = (tail + chunk)[-4096:]
            found = _PROGRESS.findall(tail)
            if found:
                sim_s[0] = float(found[-1][0])

    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "soak.h5"
        cmd = [sys.executable, "-m", cli, "run", str(ROOT / "scenarios" / "default.yaml"),
               "-o", str(trace)]
        for item in overrides(n_uavs, hours):
            cmd += ["--set", item]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reader = threading.Thread(target=read_progress, args=(proc.stderr,), daemon=True)
        reader.start()
        samples, hwm = [], 0.0
        while proc.poll() is None:
            st = _status(proc.pid)
            if "VmRSS" in st:
                hwm = max(hwm, st.get("VmHWM", 0.0))
                samples.append({"wall_s": round(time.perf_counter() - started, 2),
                                "sim_s": sim_s[0], "rss_mb": round(st["VmRSS"], 1)})
            time.sleep(every)
        wall = time.perf_counter() - started
        out = proc.stdout.read().decode()
        reader.join(timeout=5)
        if proc.returncode != 0:
            raise SystemExit(f"uavtwin run failed ({proc.returncode}):\n{out}")
        trace_mb = trace.stat().st_size / 2**20
    return {"uavs": n_uavs, "hours": hours, "wall_s": round(wall, 1), "samples": samples,
            "peak_rss_mb": round(hwm, 1), "trace_mb": round(trace_mb, 1)}


def analyse(report: dict) -> dict:
    """Growth while simulating (between 10 % and 90 % of the horizon) and the end-of-run peak."""
    horizon = report["hours"] * 3600
    mid = [s for s in report["samples"] if 0.1 * horizon <= s["sim_s"] <= 0.9 * horizon]
    grow = (mid[-1]["rss_mb"] - mid[0]["rss_mb"]) if len(mid) >= 2 else float("nan")
    during = max((s["rss_mb"] for s in report["samples"] if s["sim_s"] < horizon),
                 default=float("nan"))
    return {"rss_growth_10_90_mb": round(grow, 1), "max_rss_while_simulating_mb": during,
            "end_peak_over_simulating": round(report["peak_rss_mb"] / during, 2),
            "peak_over_trace": round(report["peak_rss_mb"] / max(report["trace_mb"], 1e-9), 2)}


def plot(report: dict, path: Path) -> None:
    """RSS (MB) against simulated time, and against wall time (the end of the run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["samples"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4), constrained_layout=True)
    a.plot([x["sim_s"] / 3600 for x in s], [x["rss_mb"] for x in s], lw=1)
    a.set(xlabel="simulated time (h)", ylabel="RSS (MB)",
          title=f"{report['uavs']} UAVs, {report['hours']:g} h simulated")
    b.plot([x["wall_s"] for x in s], [x["rss_mb"] for x in s], lw=1)
    b.axhline(report["trace_mb"], ls="--", c="grey", label=f"trace {report['trace_mb']:.0f} MB")
    b.set(xlabel="wall time (s)", ylabel="RSS (MB)", title="whole run (incl. the end)")
    b.legend(loc="lower right")
    for ax in (a, b):
        ax.set_ylim(bottom=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=1.0, help="simulated hours (target: 24)")
    ap.add_argument("--uavs", type=int, default=1000)
    ap.add_argument("--every", type=float, default=1.0, help="sampling period, wall s")
    ap.add_argument("--cli", default="simulator.app.cli", help="module of the uavtwin CLI")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--figure", type=Path, default=FIGURE)
    args = ap.parse_args()
    report = soak(args.uavs, args.hours, args.every, args.cli)
    report.update(analyse(report), machine=platform.machine(), python=platform.python_version(),
                  command=" ".join(["python benchmarks/bench_soak.py", *sys.argv[1:]]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    plot(report, args.figure)
    print(f"{report['uavs']} UAVs x {report['hours']:g} h: wall {report['wall_s']:.0f} s, "
          f"peak RSS {report['peak_rss_mb']:.0f} MB, trace {report['trace_mb']:.0f} MB, "
          f"RSS growth 10-90 % {report['rss_growth_10_90_mb']:+.0f} MB, end peak / while "
          f"simulating {report['end_peak_over_simulating']:.2f}")


if __name__ == "__main__":
    main()
