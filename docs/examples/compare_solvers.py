"""Worked analysis 1: compare two pricing solvers over 10 seeds, with confidence intervals.

Usage:
    python docs/examples/compare_solvers.py OUT_DIR [--workers 2]

Runs docs/examples/compare-solvers.yaml on a local dask cluster (resumable), prints the mean
and 95% confidence interval of RSU revenue, price paid and immersion per solver, and writes
OUT_DIR/compare-solvers.png (bars with the intervals as error bars).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sweep_example import run_and_summarise

METRICS = ["revenue", "paid_price", "immersion_mean"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    table = run_and_summarise("compare-solvers.yaml", args.out, METRICS, workers=args.workers)
    cols = ["pricing.solver", "runs"] + [f"{m}_{s}" for m in METRICS
                                         for s in ("mean", "ci95_low", "ci95_high")]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    fig = Figure(figsize=(9, 3.2))
    FigureCanvasAgg(fig)
    for ax, metric in zip(fig.subplots(1, len(METRICS)), METRICS, strict=True):
        mean = table[f"{metric}_mean"]
        err = [mean - table[f"{metric}_ci95_low"], table[f"{metric}_ci95_high"] - mean]
        ax.bar(table["pricing.solver"], mean, yerr=err, capsize=6,
               color=["#0072B2", "#E69F00"][: len(mean)])
        ax.set_title(metric.replace("_", " "))
    fig.suptitle("Equilibrium vs greedy pricing, 10 seeds (95% CI)")
    fig.tight_layout()
    path = Path(args.out) / "compare-solvers.png"
    fig.savefig(path, dpi=100)
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
