"""Availability under RSU outages: service interruption and restore time vs outage rate.

The world of ``scenarios/examples/faults.yaml`` (16 RSUs on a lattice, 30 UAVs, 2 twins each)
runs with random RSU outages only: each RSU fails at rate ``lambda`` (exponential up-times of
mean 1 / lambda, repairs of mean ``--mttr`` s), for every rate in ``--rates`` (failures per
RSU-hour; 0 = no faults), once with twins restored from the UAVs' own copies and once from
the checkpoint store, ``--seeds`` seeds each (the same seeds for every point). Per run:

* ``interrupted_pct``: share of UAV-time with the service interrupted (a migration in progress
  or a twin lost; :func:`analysis.metrics.interrupted_fraction`);
* ``twin_unavailable_pct``: share of twin-time that twins lost with failed RSUs were
  unavailable (``1 - availability`` of :func:`analysis.metrics.twin_availability`);
* ``restore_mean_s``: mean time from a failure to the lost twin being hosted again;
* ``staleness_mean_s``: mean age of the restored state; ``twins_lost``, ``outages``.

Usage:
    python benchmarks/bench_faults.py [--seeds 3] [--duration 1200] [--mttr 120]
        [--rates 0 0.25 0.5 1 2 4] [--figure docs/figures/faults-availability.png]

Prints the metric table and writes benchmarks/results/bench_faults.json and the figure.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench_faults.json"
BASE = ROOT / "scenarios" / "examples" / "faults.yaml"
SOURCES = ("uav", "checkpoint")


def scenario_text(rate_per_h: float, source: str, duration_s: float, mttr_s: float) -> str:
    """The example world with random RSU outages at ``rate_per_h`` per RSU-hour only."""
    data = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    data["simulation"]["duration_s"] = duration_s
    restore = dict(data["faults"]["restore"], source=source)
    data["faults"] = {"restore": restore}
    if rate_per_h > 0:
        data["faults"]["rsus"] = {"random": {"mtbf_s": 3600.0 / rate_per_h, "mttr_s": mttr_s}}
    return yaml.safe_dump(data, sort_keys=False)


def one_run(text: str, seed: int) -> dict[str, float]:
    """Run one scenario in memory and compute its availability metrics."""
    from analysis import metrics
    from simulator.app.run import run_scenario
    from simulator.config.loader import parse_scenario

    scenario = parse_scenario(text, "bench_faults")
    started = time.perf_counter()
    result = run_scenario(scenario, seed=seed, in_memory=True)
    wall = time.perf_counter() - started
    tables = result.tables
    assert tables is not None

    def frame(name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        t = tables.get(name, {})
        return pd.DataFrame({c: t.get(c, np.zeros(0)) for c in columns})

    duration = scenario.simulation.duration_s
    uavs = tables["/uavs"]
    n_twins = int(np.sum(uavs["twin_count"]))
    losses = frame("/faults/twin_losses", ("uav_id", "t_lost_s", "t_restored_s", "staleness_s"))
    service = frame("/migration/service", ("uav_id", "t_interrupt_start_s", "t_interrupt_end_s",
                                           "interruption_s"))
    avail = metrics.twin_availability(losses, n_twins, duration)
    return {
        "outages": float(len(tables.get("/faults/outages", {}).get("outage_id", []))),
        "twins_lost": avail["twins_lost"],
        "never_restored": avail["never_restored"],
        "restore_mean_s": avail["mean_restore_s"],
        "staleness_mean_s": float(losses.staleness_s.mean()) if len(losses) else float("nan"),
        "twin_unavailable_pct": 100.0 * (1.0 - avail["availability"]),
        "interrupted_pct": 100.0 * metrics.interrupted_fraction(service, losses,
                                                                len(uavs["uav_id"]), duration),
        "interruption_mean_s": float(service.interruption_s.mean()),
        "wall_s": wall,
    }


def summarise(runs: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds per (rate, source)."""
    df = pd.DataFrame(runs)
    rows = []
    for (rate, source), g in df.groupby(["rate_per_h", "source"], sort=True):
        row = {"rate_per_h": float(rate), "source": source, "runs": len(g)}
        for key in ("outages", "twins_lost", "never_restored", "restore_mean_s",
                    "staleness_mean_s", "twin_unavailable_pct", "interrupted_pct",
                    "interruption_mean_s"):
            row[key] = float(g[key].mean())
            row[f"{key}_sd"] = float(g[key].std(ddof=1)) if len(g) > 1 else 0.0
        rows.append(row)
    return rows


def plot(summary: list[dict], mttr_s: float, path: Path) -> Path:
    """Two panels: interrupted share of UAV-time and mean restore time, vs outage rate (mean
    and standard deviation over the seeds)."""
    from analysis.figures_style import colour, new_figure, save_figure

    df = pd.DataFrame(summary)
    fig, (left, right) = new_figure(f"Availability under random RSU outages (MTTR {mttr_s:.0f} "
                                    f"s; mean and SD over {int(df.runs.min())} seeds)", 1, 2)
    for k, source in enumerate(SOURCES):
        g = df[df.source == source].sort_values("rate_per_h")
        label = "restore from the UAV's copy" if source == "uav" else "restore from checkpoints"
        left.errorbar(g.rate_per_h, g.interrupted_pct, yerr=g.interrupted_pct_sd, marker="o",
                      capsize=3, color=colour(k), label=label)
        r = g[g.twins_lost > 0]
        right.errorbar(r.rate_per_h, r.restore_mean_s, yerr=r.restore_mean_s_sd, marker="o",
                       capsize=3, color=colour(k), label=label)
    left.set_xlabel("RSU outage rate (failures per RSU-hour)")
    left.set_ylabel("service interrupted (% of UAV-time)")
    left.set_ylim(bottom=0)
    left.legend(loc="upper left", fontsize="small")
    right.set_xlabel("RSU outage rate (failures per RSU-hour)")
    right.set_ylabel("time to restore a lost twin (s)")
    right.set_yscale("log")
    right.set_xlim(left.get_xlim())
    right.legend(loc="best", fontsize="small")
    return save_figure(fig, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=1200.0)
    parser.add_argument("--mttr", type=float, default=120.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[0, 0.25, 0.5, 1, 2, 4])
    parser.add_argument("--figure", type=Path,
                        default=ROOT / "docs" / "figures" / "faults-availability.png")
    args = parser.parse_args()
    runs = []
    for rate in args.rates:
        for source in SOURCES:
            text = scenario_text(rate, source, args.duration, args.mttr)
            for seed in range(1, args.seeds + 1):
                run = one_run(text, seed)
                runs.append({"rate_per_h": rate, "source": source, "seed": seed, **run})
                print(f"rate {rate:5.2f}/h {source:10s} seed {seed}: "
                      f"{run['outages']:3.0f} outages, {run['twins_lost']:4.0f} twins lost, "
                      f"interrupted {run['interrupted_pct']:6.2f}%, "
                      f"restore {run['restore_mean_s']:7.2f} s ({run['wall_s']:.1f} s)",
                      flush=True)
    summary = summarise(runs)
    figure = plot(summary, args.mttr, args.figure)
    report = {
        "command": "python benchmarks/bench_faults.py " + " ".join(
            [f"--seeds {args.seeds}", f"--duration {args.duration:g}", f"--mttr {args.mttr:g}",
             "--rates " + " ".join(f"{r:g}" for r in args.rates)]),
        "base": str(BASE.relative_to(ROOT)), "duration_s": args.duration, "mttr_s": args.mttr,
        "seeds": list(range(1, args.seeds + 1)), "figure": str(figure.relative_to(ROOT))
        if figure.is_relative_to(ROOT) else str(figure),
        "summary": summary, "runs": runs,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\n{'rate/h':>6} {'source':>10} {'outages':>8} {'lost':>6} {'interrupted %':>14} "
          f"{'unavailable %':>14} {'restore s':>10} {'stale s':>8}")
    for r in summary:
        print(f"{r['rate_per_h']:6.2f} {r['source']:>10} {r['outages']:8.1f} "
              f"{r['twins_lost']:6.1f} {r['interrupted_pct']:14.3f} "
              f"{r['twin_unavailable_pct']:14.4f} {r['restore_mean_s']:10.2f} "
              f"{r['staleness_mean_s']:8.2f}")
    print(f"wrote {RESULTS.relative_to(ROOT)} and {figure}")


if __name__ == "__main__":
    main()
