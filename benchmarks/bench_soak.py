"""Soak test: long runs with many UAVs, their memory (RSS) sampled over time.

A long run must not leak: resident memory should be flat while the clock advances (the trace
writer flushes buffered rows, nothing accumulates per event), and the end of the run (the
canonical copy of the trace, the summary) must not need memory that grows with the trace.
This script runs ``uavtwin run`` in a subprocess on the benchmark world of
``bench_world.py`` (default scenario, 1,000 UAVs over a 10 x 10 RSU grid on 5 km x 5 km,
positions every 10 s) with sensing off and the exact equilibrium as the pricing solver (the
schema default; the learned ``tiny_madrl`` of default.yaml costs about 10 times more CPU per
round and holds no more memory), reads the child's VmRSS from ``/proc`` every ``--every``
seconds together with the simulated time its progress bar reports, and records the peak
(VmHWM) and the trace size. Several horizons (``--hours 1 8``) are run one after the other,
so the end-of-run peak can be compared across trace sizes.

Usage:
    python benchmarks/bench_soak.py [--hours 1 [8 ...]] [--uavs 1000] [--every 2]
                                    [--stop-after WALL_S]

``--stop-after`` interrupts a run (SIGINT, as Ctrl-C) that has not finished after that many
wall seconds: the samples up to then are kept and the row says how far it got
(``complete: false``). The JSON (benchmarks/results/bench_soak.json, samples included) is
rewritten every minute while a run goes on, so an interrupted benchmark leaves its data;
the figure is docs/reliability/soak.png (RSS against simulated and wall time).
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_soak.json"
FIGURE = ROOT / "docs" / "reliability" / "soak.png"
_PROGRESS = re.compile(rb"(\d+)/(\d+) s simulated")


def overrides(n_uavs: int, hours: float) -> list[str]:
    """Scenario overrides of the soak world (bench_world's), on top of scenarios/default.yaml."""
    return [
        f"simulation.duration_s={3600 * hours}", "simulation.sample_interval_s=10",
        f"uavs.count={n_uavs}", "area.width_m=5000", "area.height_m=5000",
        "rsus.grid.rows=10", "rsus.grid.cols=10", "rsus.grid.spacing_m=500",
        "rsus.coverage_radius_m=350", "backhaul.topology=grid", "backhaul.capacity_mbps=10000",
        "sensing.enabled=false", "pricing.solver=equilibrium", "output.flush_interval_s=10",
    ]


def code_version() -> str:
    """The commit the code under test is at (``+dirty`` with uncommitted changes), or ``?``."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return head + ("+dirty" if dirty.strip() else "")


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


def soak(n_uavs: int, hours: float, every: float, cli: str = "simulator.app.cli",
         stop_after: float | None = None, progress: Callable[[dict], None] | None = None,
         extra: Sequence[str] = ()) -> dict:
    """Run once and sample; return the report (``progress`` gets it every minute)."""
    sim_s = [0.0]

    def read_progress(stream) -> None:  # type: ignore[no-untyped-def]
        tail = b""
        while chunk := stream.read1(4096):
            tail = (tail + chunk)[-4096:]
            found = _PROGRESS.findall(tail)
            if found:
                sim_s[0] = float(found[-1][0])

    report: dict = {"uavs": n_uavs, "hours": hours, "extra": list(extra), "complete": False,
                    "samples": []}
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "soak.h5"
        cmd = [sys.executable, "-m", cli, "run", str(ROOT / "scenarios" / "default.yaml"),
               "-o", str(trace)]
        for item in [*overrides(n_uavs, hours), *extra]:
            cmd += ["--set", item]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        reader = threading.Thread(target=read_progress, args=(proc.stderr,), daemon=True)
        reader.start()
        samples, hwm, saved, stopped = report["samples"], 0.0, started, False
        while proc.poll() is None:
            now = time.perf_counter()
            st = _status(proc.pid)
            if "VmRSS" in st:
                hwm = max(hwm, st.get("VmHWM", 0.0))
                samples.append({"wall_s": round(now - started, 2), "sim_s": sim_s[0],
                                "rss_mb": round(st["VmRSS"], 1), "hwm_mb": round(hwm, 1)})
            if stop_after is not None and now - started > stop_after and not stopped:
                proc.send_signal(signal.SIGINT)  # ends as a partial trace, like Ctrl-C
                stopped = True
            if progress is not None and now - saved > 60:
                report.update(wall_s=round(now - started, 1), peak_rss_mb=round(hwm, 1),
                              sim_s_reached=sim_s[0])
                progress(report)
                saved = now
            time.sleep(every)
        wall = time.perf_counter() - started
        out = proc.stdout.read().decode()
        reader.join(timeout=5)
        if proc.returncode != 0 and not stopped:
            raise SystemExit(f"uavtwin run failed ({proc.returncode}):\n{out}")
        done = trace if trace.exists() else trace.with_name("soak.partial.h5")
        trace_mb = done.stat().st_size / 2**20 if done.exists() else float("nan")
    report.update(wall_s=round(wall, 1), peak_rss_mb=round(hwm, 1), trace_mb=round(trace_mb, 1),
                  complete=proc.returncode == 0, sim_s_reached=sim_s[0])
    return report


def analyse(report: dict) -> dict:
    """Growth while simulating (between 10 % and 90 % of the time reached) and the end.

    The end of a run is the samples taken once the progress bar reports the whole horizon
    (positions, the final copy, the summary). ``end_rss_minus_simulating_mb`` compares the
    RSS sampled then with the most sampled while simulating; ``end_new_peak_mb`` is how far
    the end raised the peak (VmHWM) over the peak reached before it (from the samples'
    ``hwm_mb``; NaN for runs recorded without it). ``end_peak_minus_simulating_mb`` is the
    final VmHWM minus the sampled RSS while simulating: it also counts a short start-up
    peak between two samples, so it is not a measure of the end alone.
    """
    total = report["hours"] * 3600
    reached = total if report["complete"] else report["sim_s_reached"]
    mid = [s for s in report["samples"] if 0.1 * reached <= s["sim_s"] <= 0.9 * reached]
    grow = (mid[-1]["rss_mb"] - mid[0]["rss_mb"]) if len(mid) >= 2 else float("nan")
    simulating = [s for s in report["samples"] if s["sim_s"] < total]
    end = [s for s in report["samples"] if s["sim_s"] >= total]
    during = max((s["rss_mb"] for s in simulating), default=float("nan"))
    end_rss = max((s["rss_mb"] for s in end), default=float("nan"))
    hwm_before = max((s["hwm_mb"] for s in simulating if "hwm_mb" in s), default=float("nan"))
    return {"rss_growth_10_90_mb": round(grow, 1), "max_rss_while_simulating_mb": during,
            "max_rss_at_end_mb": end_rss,
            "end_rss_minus_simulating_mb": round(end_rss - during, 1),
            "end_new_peak_mb": round(report["peak_rss_mb"] - hwm_before, 1),
            "end_peak_over_simulating": round(report["peak_rss_mb"] / during, 2),
            "end_peak_minus_simulating_mb": round(report["peak_rss_mb"] - during, 1),
            "peak_over_trace": round(report["peak_rss_mb"] / max(report["trace_mb"], 1e-9), 2)}


def plot(runs: list[dict], path: Path) -> None:
    """RSS (MB) against simulated time, and against wall time (the end of each run)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    for r in runs:
        s = r["samples"]
        label = (f"{r['hours']:g} h" + "".join(f", {x}" for x in r.get("extra", []))
                 + ("" if r["complete"] else
                                        f" (stopped at {r['sim_s_reached'] / 3600:.1f} h)"))
        a.plot([x["sim_s"] / 3600 for x in s], [x["rss_mb"] for x in s], lw=1, label=label)
        line, = b.plot([x["wall_s"] for x in s], [x["rss_mb"] for x in s], lw=1)
        if r["complete"]:
            b.axhline(r["trace_mb"], ls="--", lw=0.8, c=line.get_color(),
                      label=f"{r['hours']:g} h trace {r['trace_mb']:.0f} MB")
    a.set(xlabel="simulated time (h)", ylabel="RSS (MB)",
          title=f"{runs[0]['uavs']} UAVs: while simulating")
    a.legend(loc="lower right")
    b.set(xlabel="wall time (s)", ylabel="RSS (MB)", title="whole runs (incl. the end)")
    b.legend(loc="lower right")
    for ax in (a, b):
        ax.set_ylim(bottom=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0],
                    help="simulated hours of each run (issue 14's target: 24)")
    ap.add_argument("--uavs", type=int, default=1000)
    ap.add_argument("--every", type=float, default=1.0, help="sampling period, wall s")
    ap.add_argument("--stop-after", type=float, default=None,
                    help="interrupt a run after this many wall seconds")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a further scenario override of every run (e.g. a denser sampling)")
    ap.add_argument("--append", action="store_true",
                    help="add the runs to those already in --out instead of replacing them")
    ap.add_argument("--cli", default="simulator.app.cli", help="module of the uavtwin CLI")
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--figure", type=Path, default=FIGURE)
    ap.add_argument("--reanalyse", action="store_true",
                    help="run nothing: recompute the analysis of the runs in --out and redraw "
                         "the figure")
    args = ap.parse_args()
    if args.reanalyse:
        stored = json.loads(args.out.read_text())
        for run in stored["runs"]:
            run.update(analyse(run))
        args.out.write_text(json.dumps(stored, indent=1) + "\n")
        plot(stored["runs"], args.figure)
        return
    meta = {"machine": platform.machine(), "python": platform.python_version(),
            "commit": code_version(),
            "command": " ".join(["python benchmarks/bench_soak.py", *sys.argv[1:]])}
    runs: list[dict] = (json.loads(args.out.read_text())["runs"]
                        if args.append and args.out.is_file() else [])
    meta["command"] = "; ".join([*(r["command"] for r in runs if "command" in r),
                                 meta["command"]]) if args.append else meta["command"]

    def save(current: dict | None = None) -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({**meta, "runs": [*runs, *([current] if current else [])]},
                                       indent=1) + "\n")

    for hours in args.hours:
        report = soak(args.uavs, hours, args.every, args.cli, args.stop_after, save, args.set)
        report.update(analyse(report), commit=meta["commit"], command=" ".join(
            ["python benchmarks/bench_soak.py", *sys.argv[1:]]))
        runs.append(report)
        save()
        print(f"{report['uavs']} UAVs x {hours:g} h ("
              f"{'complete' if report['complete'] else 'stopped'} at "
              f"{report['sim_s_reached'] / 3600:.2f} h): wall {report['wall_s']:.0f} s, "
              f"peak RSS {report['peak_rss_mb']:.0f} MB, trace {report['trace_mb']:.0f} MB, "
              f"RSS growth 10-90 % {report['rss_growth_10_90_mb']:+.0f} MB, end peak - while "
              f"simulating {report['end_peak_minus_simulating_mb']:+.0f} MB", flush=True)
    plot(runs, args.figure)


if __name__ == "__main__":
    main()
