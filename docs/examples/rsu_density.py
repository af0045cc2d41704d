"""Worked analysis 2: the effect of RSU density on handovers and migration time.

Usage:
    python docs/examples/rsu_density.py OUT_DIR [--workers 2]

Runs docs/examples/rsu-density.yaml (2x2 to 5x5 RSU grids over the same area, 3 seeds each)
and prints, per density, the handover rate and the mean migration time and interruption with
95% confidence intervals; writes OUT_DIR/rsu-density.png.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sweep_example import run_and_summarise

METRICS = ["handover_rate_per_h", "migration_time_mean_s", "interruption_mean_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    table = run_and_summarise("rsu-density.yaml", args.out, METRICS, workers=args.workers)
    table["rsus"] = table["rsus.grid.rows"] * table["rsus.grid.cols"]
    table["density_per_km2"] = table["rsus"] / 4.0
    cols = ["rsus", "density_per_km2"] + [f"{m}_{s}" for m in METRICS
                                          for s in ("mean", "ci95_low", "ci95_high")]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    fig = Figure(figsize=(9, 3.2))
    FigureCanvasAgg(fig)
    for ax, metric in zip(fig.subplots(1, len(METRICS)), METRICS, strict=True):
        mean = table[f"{metric}_mean"]
        err = [mean - table[f"{metric}_ci95_low"], table[f"{metric}_ci95_high"] - mean]
        ax.errorbar(table["density_per_km2"], mean, yerr=err, marker="o", capsize=4,
                    color="#009E73")
        ax.set_xlabel("RSU density (1/km²)")
        ax.set_title(metric.replace("_", " "))
    fig.suptitle("RSU density vs handovers and migration (3 seeds, 95% CI)")
    fig.tight_layout()
    path = Path(args.out) / "rsu-density.png"
    fig.savefig(path, dpi=100)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
