"""Shared helper of the worked sweep examples: run (or resume) a sweep, summarise, plot."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analysis import open_sweep, summarise_sweep
from analysis.run_metrics import METRICS
from simulator.app.sweep import run_sweep

HERE = Path(__file__).resolve().parent

#: ``draw(ax, x, mean, err)`` draws one metric's means with their interval half-widths.
Drawer = Callable[[Axes, pd.Series, pd.Series, list[pd.Series]], None]


def run_and_summarise(sweep_file: str, out_dir: str, metrics: list[str], *,
                      workers: int = 2, repetitions: int | None = None) -> pd.DataFrame:
    """Run ``sweep_file`` into ``out_dir`` (resuming if it exists) and summarise ``metrics``.

    ``repetitions`` replaces the file's repetitions (``None``: the file's).

    Returns:
        One row per sweep point with the mean and 95% t confidence interval per metric.
    """
    out = Path(out_dir)
    run_sweep(HERE / sweep_file, out, workers=workers, resume=(out / "index.csv").exists(),
              progress=True, repetitions=repetitions)
    return summarise_sweep(open_sweep(out), metrics=metrics)


def example_main(doc: str, sweep_file: str, metrics: list[str], *, x: str,
                 prepare: Callable[[pd.DataFrame], pd.DataFrame], draw: Drawer,
                 title: str, xlabel: str = "") -> None:
    """Command line of an example: run the sweep, print the table, write OUT/NAME.png.

    ``title`` may hold ``{runs}``, replaced by the runs per point.
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repetitions", type=int,
                        help="runs per point, replacing the sweep file's (a short trial)")
    args = parser.parse_args()
    table = prepare(run_and_summarise(sweep_file, args.out, metrics, workers=args.workers,
                                      repetitions=args.repetitions))
    cols = [x, "runs"] + [f"{m}_{s}" for m in metrics for s in ("mean", "ci95_low",
                                                               "ci95_high", "low_n")]
    print(table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if table[[f"{m}_low_n" for m in metrics]].to_numpy().any():
        print("low_n: True marks an interval from fewer than 5 runs (unreliable)")
    fig = Figure(figsize=(9, 3.2))
    FigureCanvasAgg(fig)
    for ax, metric in zip(fig.subplots(1, len(metrics)), metrics, strict=True):
        mean = table[f"{metric}_mean"]
        draw(ax, table[x], mean, [mean - table[f"{metric}_ci95_low"],
                                  table[f"{metric}_ci95_high"] - mean])
        ax.set_title(metric.replace("_", " "), fontsize="medium")
        ax.set_ylabel(METRICS[metric].unit if metric in METRICS else "")
        ax.set_xlabel(xlabel)
    fig.suptitle(title.format(runs=int(table["runs"].max())))
    fig.tight_layout()
    path = Path(args.out) / (Path(sweep_file).stem + ".png")
    fig.savefig(path, dpi=100)
    print(f"figure: {path}")
