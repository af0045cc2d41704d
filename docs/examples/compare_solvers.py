"""Worked analysis 1: compare two pricing solvers over 10 seeds, with confidence intervals.

Usage:
    python docs/examples/compare_solvers.py OUT_DIR [--workers 2]

Runs docs/examples/compare-solvers.yaml on a local dask cluster (resumable), prints the mean
and 95% confidence interval of RSU revenue, price paid and immersion per solver, and writes
OUT_DIR/compare-solvers.png (bars with the intervals as error bars).
"""

from __future__ import annotations

from sweep_example import example_main


def bars(ax, x, mean, err) -> None:  # type: ignore[no-untyped-def]
    ax.bar(x, mean, yerr=err, capsize=6, color=["#0072B2", "#E69F00"][: len(mean)])


if __name__ == "__main__":
    example_main(__doc__, "compare-solvers.yaml", ["revenue", "paid_price", "immersion_mean"],
                 x="pricing.solver", prepare=lambda t: t, draw=bars,
                 title="Equilibrium vs greedy pricing, 10 seeds (95% CI)")
