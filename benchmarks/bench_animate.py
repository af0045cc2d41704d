"""Benchmark the replays of `uavtwin animate`: render time, file size, browser frame time.

Cases:
- the default scenario as shipped (scenarios/default.yaml: 300 s, 20 UAVs, 9 RSUs), the
  whole run at the default timing (30 s of replay at 10 fps, 301 frames): MP4, GIF, HTML;
- 1,000 UAVs x 1 h in the world of benchmarks/bench_world.py (100 RSUs, 5 km x 5 km):
  HTML only, decimated by the rule of analysis.replay.html (must stay under 25 MB).

Each HTML file is then opened in headless Chromium (analysis.replay.browser) and played for
five seconds; the page's own counters give the mean and 95th-percentile time to draw a
frame and the interval between animation frames (16.7 ms = 60 frames/s).

Usage:
    python benchmarks/bench_animate.py [--skip-big]

Prints a table and writes benchmarks/results/bench_animate.json.
"""

from __future__ import annotations

import argparse
import json
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
        b.evaluate(f"replay.resetStats(); replay.play(); new Promise(r => setTimeout(r, "
                   f"{PLAY_S * 1000}))")
        stats = b.evaluate("replay.pause(); replay.stats()")
        if b.errors:
            raise RuntimeError(f"{html}: JavaScript errors: {b.errors}")
    return {"load_s": load_s, **{k: v for k, v in stats.items() if k != "intervals"},
            "frames_played": stats["frames"]}


def render(trace: Path, out: Path) -> dict:
    started = time.perf_counter()
    info = animate(trace, out)
    wall = time.perf_counter() - started
    row = {"format": out.suffix[1:], "wall_s": wall, "size_mb": out.stat().st_size / 1e6,
           "frames": info.get("frames"), "decimation": info.get("decimation")}
    if out.suffix == ".html":
        row["browser"] = browser_frames(out)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-big", action="store_true", help="skip 1,000 UAVs x 1 h")
    args = ap.parse_args(argv)
    report: dict = {"benchmark": "bench_animate", "python": platform.python_version(),
                    "machine": platform.machine(), "cases": []}
    cases = [("default scenario (20 UAVs, 300 s)", [], (".html", ".mp4", ".gif"))]
    if not args.skip_big:
        cases.insert(0, ("1,000 UAVs x 1 h (bench_world)", world_overrides(1000, 1.0),
                         (".html",)))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, sets, formats in cases:
            scenario = load_scenario(ROOT / "scenarios" / "default.yaml", sets)
            trace = tmp / "trace.h5"
            started = time.perf_counter()
            run_scenario(scenario, trace_path=trace)
            sim_s = time.perf_counter() - started
            case = {"case": name, "simulate_s": sim_s, "trace_mb": trace.stat().st_size / 1e6,
                    "outputs": []}
            report["cases"].append(case)
            for ext in formats:
                row = render(trace, tmp / f"replay{ext}")
                case["outputs"].append(row)
                RESULTS.write_text(json.dumps(report, indent=2) + "\n")  # keep partial results
                b = row.get("browser") or {}
                print(f"{name:34s} {row['format']:4s} {row['wall_s']:7.1f} s "
                      f"{row['size_mb']:8.2f} MB"
                      + (f"  draw {b['draw_ms_mean']:.1f} ms (p95 {b['draw_ms_p95']:.1f}), "
                         f"frame interval {b['interval_ms_mean']:.1f} ms" if b else ""),
                      flush=True)
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
