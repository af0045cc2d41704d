"""Benchmark the replays of `uavtwin animate`: render time, file size, browser frame time.

Cases (``--cases``, all by default):
- ``default``: the default scenario as shipped (scenarios/default.yaml: 300 s, 20 UAVs, 9 RSUs), the
  whole run at the default timing (30 s of replay at 10 fps, 301 frames): MP4, GIF, HTML;
- ``big``: 1,000 UAVs x 1 h in the world of benchmarks/bench_world.py (100 RSUs,
  5 km x 5 km): HTML only, decimated by the rule of analysis.replay.html (must stay under
  25 MB);
- ``mid``: the same world for 300 s (the same 1,000 UAVs on the map: the frame time depends
  on the fleet, not on the run's length).

Each HTML file is then opened in headless Chromium (analysis.replay.browser) and played for
five seconds; the page's own counters give the mean and 95th-percentile time to draw a
frame (and its split over the parts of the drawing), the interval between animation frames
(16.7 ms = 60 frames/s), and the CPU time the browser's processes used per frame (from
/proc), beside the machine's load average over the measurement: an interval much longer
than the browser's CPU time per frame means the page waited for a CPU, not that it had
that much work.

Usage:
    python benchmarks/bench_animate.py [--cases big,mid,default] [--traces DIR]

``--traces DIR`` keeps the simulated traces in DIR and reuses them when present (same
scenario and seed give the same trace).

Prints a table and writes benchmarks/results/bench_animate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_animate.json"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_world import overrides as world_overrides  # noqa: E402

from simulator.app.animate import animate  # noqa: E402
from simulator.app.run import run_scenario  # noqa: E402
from simulator.config.loader import load_scenario  # noqa: E402

PLAY_S = 5.0


def _tree_cpu_s(root: int) -> float:
    """CPU time (user + system, s) of process ``root`` and all its descendants (/proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += cpu.get(pid, 0.0)
        todo += [c for c, p in parent.items() if p == pid]
    return total


def browser_frames(html: Path) -> dict | None:
    """Load ``html`` in headless Chromium and play it for :data:`PLAY_S` seconds."""
    from analysis.replay.browser import find_chromium, start_chromium

    if find_chromium() is None:
        print("chromium not installed: no browser frame times", file=sys.stderr)
        return None
    with start_chromium() as b:
        started = time.perf_counter()
        b.open(html)
        b.evaluate("replay.ready")
        load_s = time.perf_counter() - started
        pid = b._proc.pid  # noqa: SLF001 - the benchmark reads the browser's CPU time
        load_before = os.getloadavg()[0]
        cpu0 = _tree_cpu_s(pid)
        b.evaluate(f"replay.resetStats(); replay.play(); new Promise(r => setTimeout(r, "
                   f"{PLAY_S * 1000}))")
        stats = b.evaluate("replay.pause(); replay.stats()")
        cpu = _tree_cpu_s(pid) - cpu0
        load_after = os.getloadavg()[0]
        if b.errors:
            raise RuntimeError(f"{html}: JavaScript errors: {b.errors}")
    return {"load_s": load_s, **{k: v for k, v in stats.items() if k != "intervals"},
            "frames_played": stats["frames"],
            "browser_cpu_ms_per_frame": 1000 * cpu / max(stats["frames"], 1),
            "loadavg_1min": [load_before, load_after], "cpus": os.cpu_count()}


def render(trace: Path, out: Path) -> dict:
    started = time.perf_counter()
    info = animate(trace, out)
    wall = time.perf_counter() - started
    row = {"format": out.suffix[1:], "wall_s": wall, "size_mb": out.stat().st_size / 1e6,
           "frames": info.get("frames"), "decimation": info.get("decimation")}
    if out.suffix == ".html":
        row["browser"] = browser_frames(out)
    return row


CASES: dict[str, tuple[str, list[str], tuple[str, ...]]] = {
    "big": ("1,000 UAVs x 1 h (bench_world)", world_overrides(1000, 1.0), (".html",)),
    "mid": ("1,000 UAVs x 300 s (bench_world)", world_overrides(1000, 300 / 3600), (".html",)),
    "default": ("default scenario (20 UAVs, 300 s)", [], (".html", ".mp4", ".gif")),
}
"""Benchmark cases by key: (name, scenario overrides, output formats)."""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="big,mid,default",
                    help=f"comma-separated cases to run, of {', '.join(CASES)}; the others "
                         "keep their stored results")
    ap.add_argument("--traces", type=Path, help="keep the traces here and reuse them")
    args = ap.parse_args(argv)
    keys = [k.strip() for k in args.cases.split(",") if k.strip()]
    if not keys or set(keys) - set(CASES):
        ap.error(f"--cases: expected some of {', '.join(CASES)}, got {args.cases!r}")
    report: dict = {"benchmark": "bench_animate", "python": platform.python_version(),
                    "machine": platform.machine(), "cases": []}
    stored = json.loads(RESULTS.read_text())["cases"] if RESULTS.exists() else []
    RESULTS.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # run cases replace their stored rows; the others stay, in CASES order
        fresh = {c["case"]: c for c in report["cases"]}
        old = {c["case"]: c for c in stored}
        rows = [fresh.get(name) or old.get(name) for name, _, _ in CASES.values()]
        RESULTS.write_text(json.dumps({**report, "cases": [r for r in rows if r]}, indent=2)
                           + "\n")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for key in keys:
            name, sets, formats = CASES[key]
            trace = (args.traces or tmp) / f"{key}.h5"
            sim_s = None  # a kept trace is reused
            if not trace.exists():
                scenario = load_scenario(ROOT / "scenarios" / "default.yaml", sets)
                trace.parent.mkdir(parents=True, exist_ok=True)
                started = time.perf_counter()
                run_scenario(scenario, trace_path=trace)
                sim_s = time.perf_counter() - started
            case = {"case": name, "simulate_s": sim_s, "trace_mb": trace.stat().st_size / 1e6,
                    "measured_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                    "outputs": []}
            report["cases"].append(case)
            for ext in formats:
                row = render(trace, tmp / f"replay{ext}")
                case["outputs"].append(row)
                save()  # keep partial results
                b = row.get("browser") or {}
                print(f"{name:34s} {row['format']:4s} {row['wall_s']:7.1f} s "
                      f"{row['size_mb']:8.2f} MB"
                      + (f"  draw {b['draw_ms_mean']:.1f} ms (p95 {b['draw_ms_p95']:.1f}), "
                         f"frame interval {b['interval_ms_mean']:.1f} ms, browser CPU "
                         f"{b['browser_cpu_ms_per_frame']:.1f} ms/frame, load "
                         f"{b['loadavg_1min'][0]:.1f}-{b['loadavg_1min'][1]:.1f}" if b else ""),
                      flush=True)
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
