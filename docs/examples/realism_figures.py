"""Figures of the realism models (docs/models.md Part D, docs/tiny-madrl.md).

Usage:
    .venv/bin/python docs/examples/realism_figures.py OUT_DIR [--decision [--quick]]

Writes OUT_DIR/coverage-radius.png (coverage radius vs altitude per radio model) and
OUT_DIR/live-migration.png (downtime and total time of the migration modes vs the dirty
rate). With ``--decision`` it also runs the edge-compute example for a range of RSU compute
rates and both learned solvers (a few minutes) and writes OUT_DIR/decision-time.png and
OUT_DIR/decision-time.json; ``--quick`` runs two compute rates (the lowest and the highest)
for 30 simulated seconds instead of five for 150 (a short trial, as the docs test runs it).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import simpy  # noqa: E402
from scipy.optimize import brentq  # noqa: E402

from simulator.world.backhaul import BackhaulNetwork  # noqa: E402
from simulator.world.live_migration import live_migration, static_dirty_rate  # noqa: E402
from simulator.world.migration_modes import LiveParams  # noqa: E402
from simulator.world.radio import air_to_ground  # noqa: E402
from simulator.world.radio.registry import PathLoss  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FREQ_HZ, BUDGET_DB = 2e9, 110.0
BS_HEIGHT_M = {"uma_av": 25.0, "umi_av": 10.0, "rma_av": 35.0}  # the report's assumptions


def radius_m(pl: PathLoss, height_m: float, bs_height_m: float) -> float:
    """Largest horizontal distance covered at ``height_m`` (grid scan, then brentq)."""
    r = np.concatenate([[0.0], np.geomspace(0.1, 2e4, 4000)])
    pts = np.stack([r, np.zeros_like(r), np.full_like(r, height_m)], axis=1)
    bs = np.array([0.0, 0.0, bs_height_m])
    ok = np.flatnonzero(pl.mean_path_loss_db(pts, bs) <= BUDGET_DB)
    if ok.size == 0 or ok[-1] == r.size - 1:
        return 0.0 if ok.size == 0 else float(r[-1])
    k = ok[-1]
    return brentq(lambda x: BUDGET_DB - float(pl.mean_path_loss_db(np.array([x, 0, height_m]),
                                                                   bs)), r[k], r[k + 1])


def coverage_figure(out: Path) -> None:
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    for env in air_to_ground.ENVIRONMENTS:
        pl = PathLoss("al_hourani", frequency_hz=FREQ_HZ, environment=env)
        hs = np.linspace(10, 6000, 300)
        line, = ax[0].plot([radius_m(pl, h, 0.0) / 1e3 for h in hs], hs / 1e3, label=env)
        h_opt, r_opt = air_to_ground.optimal_altitude(BUDGET_DB, FREQ_HZ, env)
        theta = air_to_ground.optimal_elevation_deg(env)
        ax[0].plot(r_opt / 1e3, h_opt / 1e3, "o", color=line.get_color())
        print(f"{env}: optimal elevation {theta:.2f} deg, h* = {h_opt:.0f} m, "
              f"R* = {r_opt:.0f} m")
    ax[0].set(xlabel="coverage radius R (km)", ylabel="altitude above the antenna (km)",
              title=f"Al-Hourani 2014, {BUDGET_DB:g} dB at {FREQ_HZ / 1e9:g} GHz (dot: optimum)")
    ax[0].legend()
    for name, bs in BS_HEIGHT_M.items():
        pl = PathLoss(name, frequency_hz=FREQ_HZ)
        hs = np.linspace((10.0 if name == "rma_av" else 22.5) + 0.01, 300, 200)
        ax[1].plot([radius_m(pl, h, bs) / 1e3 for h in hs], hs, label=f"{name} (BS {bs:g} m)")
    ax[1].set(xlabel="coverage radius R (km)", ylabel="UAV height above ground (m)",
              title=f"3GPP TR 36.777 aerial UE, {BUDGET_DB:g} dB at {FREQ_HZ / 1e9:g} GHz")
    ax[1].legend()
    fig.tight_layout()
    fig.savefig(out / "coverage-radius.png", dpi=100)


def migration_figure(out: Path) -> None:
    size, cap_bps = 100e6, 1e9
    rate = cap_bps / 8
    rhos = np.linspace(0.0, 1.3, 27)
    modes = {"stop_and_copy": LiveParams("stop_and_copy"),
             "pre_copy": LiveParams("pre_copy", stop_bytes=1e6, max_rounds=30),
             "post_copy": LiveParams("post_copy", state_bytes=1e6)}
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for name, params in modes.items():
        down, total = [], []
        for rho in rhos:
            env = simpy.Environment()
            g = nx.Graph()
            g.add_edge(0, 1, capacity_bps=cap_bps, latency_s=0.0)
            proc = env.process(live_migration(env, BackhaulNetwork(env, g), 0, 1, size, params,
                                              static_dirty_rate(rho * rate)))
            env.run()
            down.append(proc.value.downtime_s)
            total.append(proc.value.t_end - proc.value.t_start)
        ax[0].plot(rhos, np.array(down) * 1e3, "o", ms=4, label=name)
        ax[1].plot(rhos, total, "o", ms=4, label=name)
    cf = np.linspace(0.005, 0.995, 400)  # pre-copy closed form: n = rounds until M rho^n <= 1 MB
    n = np.minimum(30, np.ceil(np.log(1e6 / size) / np.log(cf)))
    ax[0].plot(cf, size * cf ** n / rate * 1e3, "k:", lw=1, label="pre_copy, closed form")
    ax[1].plot(cf, size / rate * (1 - cf ** (n + 1)) / (1 - cf), "k:", lw=1,
               label="pre_copy, closed form")
    ax[0].set(yscale="log", xlabel="rho = dirty rate / link rate", ylabel="downtime (ms)",
              title="100 MB twin, one 1 Gbit/s link, stop at 1 MB")
    ax[1].set(xlabel="rho = dirty rate / link rate", ylabel="total migration time (s)",
              ylim=(0, 25))
    for a in ax:
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "live-migration.png", dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--decision", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="with --decision: 2 compute rates, 30 s runs (a short trial)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    coverage_figure(args.out)
    migration_figure(args.out)
    if args.decision:
        decision_figure(args.out, quick=args.quick)
    print(f"wrote figures to {args.out}")


def decision_figure(out: Path, *, quick: bool = False) -> None:
    """Mean service interruption vs RSU compute rate, tiny_madrl vs ppo (edge-compute).

    ``quick``: the lowest and highest rates only, 30 s runs instead of 150 s.
    """
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario
    from simulator.trace.reader import TraceReader

    scenario_file = ROOT / "scenarios" / "examples" / "edge-compute.yaml"
    rates = [0.001, 3.0] if quick else [0.001, 0.005, 0.03, 0.3, 3.0]
    duration_s = 30 if quick else 150
    rows = []
    for solver in ("tiny_madrl", "ppo"):
        for gflops in rates:
            scenario = load_scenario(scenario_file, [f"pricing.solver={solver}",
                                                     f"rsus.compute_gflops={gflops}",
                                                     f"simulation.duration_s={duration_s}"])
            path = out / f"decision-{solver}-{gflops}.h5"
            run_scenario(scenario, trace_path=path)
            with TraceReader(path) as r:
                svc = r.read("/migration/service")
                dec = r.read("/decision_time/rounds")
            path.unlink()
            rows.append({"solver": solver, "compute_gflops": gflops,
                         "mean_interruption_s": float(np.mean(svc["interruption_s"])),
                         "mean_decision_s": float(np.mean(dec["decision_time_s"])),
                         "flops_per_decision": float(dec["flops_per_decision"][0]),
                         "migrations": int(len(svc["interruption_s"]))})
            print(json.dumps(rows[-1]))
    (out / "decision-time.json").write_text(json.dumps(rows, indent=2) + "\n")
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for solver in ("tiny_madrl", "ppo"):
        mine = [r for r in rows if r["solver"] == solver]
        x = [r["compute_gflops"] for r in mine]
        ax.plot(x, [r["mean_interruption_s"] for r in mine], "o-", label=f"{solver}: interruption")
        ax.plot(x, [r["mean_decision_s"] for r in mine], "x--", label=f"{solver}: decision")
    ax.set(xscale="log", yscale="log", xlabel="RSU compute (GFLOP/s)", ylabel="mean time (s)",
           title="edge-compute example: decision time inside the interruption")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "decision-time.png", dpi=100)
    assert math.isfinite(rows[0]["mean_interruption_s"])


if __name__ == "__main__":
    main()
