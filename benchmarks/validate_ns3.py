"""Cross-validate the fluid backhaul against packet-level TCP in ns-3.

Cases (simulator/validate/cases.py): one transfer alone on a link; transfers sharing a link;
a multi-hop chain with different latencies; staggered starts; one transfer at 10 Gbit/s; and
the busiest window of twin transfers recorded in a run of the benchmark world
(benchmarks/bench_world.py overrides: 10 x 10 grid, 10 Gbit/s, 2 ms links). Each case runs
through uavtwin's BackhaulNetwork (fluid, and fluid + TcpCorrection) and through ns-3 (same
links, same routes, TCP bulk transfers of the same sizes at the same times). The correction's
constants are fitted on the ``single`` case alone and then applied to every case.

Usage:
    python benchmarks/validate_ns3.py [--scale 1] [--grid-uavs 300] [--grid-seconds 120]
                                      [--grid-scale 0.1]

Needs the validate extra (pip install -e '.[validate]'). Prints a table, writes
benchmarks/results/validate_ns3.json and docs/figures/validate_ns3.png.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "validate_ns3.json"
FIGURE = ROOT / "docs" / "figures" / "validate_ns3.png"
sys.path.insert(0, str(ROOT / "benchmarks"))


def record_grid_trace(path: Path, uavs: int, seconds: float) -> None:
    """Run the benchmark world (bench_world's overrides) for ``seconds`` with ``uavs`` UAVs."""
    from bench_world import overrides

    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    over = [o for o in overrides(uavs, 1.0) if not o.startswith("simulation.duration_s")]
    scenario = load_scenario(ROOT / "scenarios" / "default.yaml",
                             [*over, f"simulation.duration_s={seconds}",
                              "output.record_positions=false", "sensing.enabled=false"])
    run_scenario(scenario, trace_path=path)


def fit_correction(case, ns3_done):  # type: ignore[no-untyped-def]
    """TcpCorrection whose efficiency and slow-start weight minimise the squared relative
    duration error on ``case`` (handshake one RTT, initial window 10 segments: ns-3's)."""
    import numpy as np
    from scipy.optimize import least_squares

    from simulator.validate.cases import fluid_completions
    from simulator.world.backhaul import TcpCorrection

    starts = np.array([t.start_s for t in case.transfers])
    target = np.array(ns3_done) - starts

    def resid(x):  # type: ignore[no-untyped-def]
        corr = TcpCorrection(efficiency=float(x[0]), slow_start_weight=float(x[1]))
        got = np.array(fluid_completions(case.graph, case.transfers, corr)) - starts
        return (got - target) / target

    fit = least_squares(resid, x0=[0.95, 1.0], bounds=([0.5, 0.0], [1.0, 5.0]))
    return TcpCorrection(efficiency=round(float(fit.x[0]), 4),
                         slow_start_weight=round(float(fit.x[1]), 3))


def _no_nan(x):  # type: ignore[no-untyped-def]
    """NaN (a transfer ns-3 did not finish) as JSON null."""
    if isinstance(x, float) and math.isnan(x):
        return None
    if isinstance(x, dict):
        return {k: _no_nan(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_no_nan(v) for v in x]
    return x


def figure(cases: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 5), sharex=True, sharey=True)
    lo, hi = math.inf, 0.0
    for ax, key, title in ((axes[0], "fluid_s", "fluid model (default)"),
                           (axes[1], "corrected_s", "fluid + TcpCorrection (option)")):
        for i, c in enumerate(cases):
            done = [t for t in c["transfers"] if not math.isnan(t["ns3_s"])]
            x = [t["ns3_s"] - t["start_s"] for t in done]
            y = [t[key] - t["start_s"] for t in done]
            lo, hi = min(lo, *x, *y), max(hi, *x, *y)
            ax.scatter(x, y, s=22, color=f"C{i}", label=c["name"], alpha=0.85,
                       edgecolors="black", linewidths=0.3)
        ax.set_title(title)
        ax.set_xlabel("ns-3 TCP transfer time (s)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes:
        ax.plot([lo / 1.5, hi * 1.5], [lo / 1.5, hi * 1.5], color="black", lw=1,
                label="identity")
    axes[0].set_ylabel("uavtwin transfer time (s)")
    axes[1].legend(loc="upper left", fontsize=8)
    fig.suptitle("Backhaul transfer times: uavtwin vs packet-level TCP in ns-3 (one point per "
                 "transfer)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiplier of the synthetic cases' transfer sizes")
    parser.add_argument("--grid-uavs", type=int, default=300)
    parser.add_argument("--grid-seconds", type=float, default=120.0)
    parser.add_argument("--grid-scale", type=float, default=0.1,
                        help="grid burst: capacities and twin sizes both multiplied by this "
                             "(fluid times unchanged; keeps the packet count affordable)")
    parser.add_argument("--grid-max", type=int, default=24, help="transfers kept in the burst")
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args()

    from simulator.validate import ns3run
    from simulator.validate.cases import (
        Case,
        Transfer,
        error_stats,
        fluid_completions,
        grid_burst_case,
        standard_cases,
    )
    from simulator.world.topology import build_backhaul

    cases: list[Case] = standard_cases(args.scale)
    ten_g = build_backhaul([[0, 0], [1, 0]], topology="complete", capacity_bps=10e9,
                           latency_s=0.002)
    cases.append(Case("single_10g", "one 20 MB transfer alone on a 10 Gbit/s, 2 ms link",
                      ten_g, (Transfer(0, 1, 0.0, 20e6 * args.scale),)))
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "grid.h5"
        t = time.perf_counter()
        record_grid_trace(trace, args.grid_uavs, args.grid_seconds)
        print(f"recorded the benchmark world ({args.grid_uavs} UAVs, {args.grid_seconds:g} s) "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
        cases.append(grid_burst_case(trace, rows=10, cols=10,
                                     capacity_bps=10e9 * args.grid_scale, latency_s=0.002,
                                     max_transfers=args.grid_max, size_scale=args.grid_scale))

    t = time.perf_counter()
    ns3run.load()
    load_s = time.perf_counter() - t
    print(f"ns-3 loaded in {load_s:.1f} s", flush=True)

    rows = []
    for case in cases:
        t = time.perf_counter()
        fluid = fluid_completions(case.graph, case.transfers)
        fluid_s = time.perf_counter() - t
        t = time.perf_counter()
        packet = ns3run.run_transfers(case.graph, case.transfers)
        ns3_s = time.perf_counter() - t
        rows.append({"case": case, "fluid": fluid, "ns3": packet, "fluid_wall_s": fluid_s,
                     "ns3_wall_s": ns3_s})
        print(f"{case.name:>12}: {len(case.transfers):3d} transfers, fluid {fluid_s * 1e3:8.2f} "
              f"ms, ns-3 {ns3_s:8.2f} s ({packet['events']:,} events)", flush=True)

    calib = next(r for r in rows if r["case"].name == "single")
    corr = fit_correction(calib["case"], calib["ns3"]["completion_s"])
    print(f"fitted on 'single': {corr}")

    out_cases = []
    print(f"\n{'case':>12} {'n':>3}  fluid: median   p95   worst  signed | corrected: median "
          f"  p95   worst")
    for r in rows:
        case = r["case"]
        starts = [t.start_s for t in case.transfers]
        corrected = fluid_completions(case.graph, case.transfers, corr)
        done = r["ns3"]["completion_s"]
        st = error_stats(r["fluid"], done, starts)
        sc = error_stats(corrected, done, starts)
        print(f"{case.name:>12} {st['n']:3d}  {st['median']:12.1%} {st['p95']:6.1%} "
              f"{st['worst']:6.1%} {st['mean_signed']:+6.1%} | {sc['median']:17.1%} "
              f"{sc['p95']:6.1%} {sc['worst']:6.1%}")
        out_cases.append({
            "name": case.name, "description": case.description,
            "links": [[u, v, d["capacity_bps"], d["latency_s"]]
                      for u, v, d in case.graph.edges(data=True)],
            "transfers": [{"src": t.src, "dst": t.dst, "start_s": t.start_s,
                           "size_bytes": t.size_bytes,
                           "rtt_s": 2 * ns3run.path_latency(case.graph, t.src, t.dst),
                           "fluid_s": f, "corrected_s": c, "ns3_s": p}
                          for t, f, c, p in zip(case.transfers, r["fluid"], corrected, done,
                                                strict=True)],
            "fluid_error": st, "corrected_error": sc,
            "fluid_wall_s": r["fluid_wall_s"], "ns3_wall_s": r["ns3_wall_s"],
            "ns3_events": r["ns3"]["events"], "queue_packets": r["ns3"]["queue_packets"],
        })
    fluid_wall = sum(r["fluid_wall_s"] for r in rows)
    ns3_wall = sum(r["ns3_wall_s"] for r in rows)
    print(f"\nwall time, all cases: fluid {fluid_wall:.3f} s, ns-3 {ns3_wall:.1f} s "
          f"({ns3_wall / fluid_wall:,.0f}x) + {load_s:.0f} s to load ns-3")
    report = {
        "benchmark": "validate_ns3", "python": platform.python_version(),
        "machine": platform.machine(), "ns3_version": metadata.version("ns3"),
        "args": vars(args), "tcp": asdict(ns3run.TcpSetup()),
        "correction_fitted_on_single": asdict(corr), "cases": out_cases,
        "wall": {"fluid_s": fluid_wall, "ns3_s": ns3_wall, "ns3_load_s": load_s},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(_no_nan(report), indent=2, allow_nan=False))
    print(f"wrote {RESULTS}")
    if not args.no_figure:
        figure(out_cases, FIGURE)
        print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
