"""Shared helper of the worked sweep examples: run (or resume) a sweep, then summarise it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import open_sweep, summarise_sweep
from simulator.sweep import run_sweep

HERE = Path(__file__).resolve().parent


def run_and_summarise(sweep_file: str, out_dir: str, metrics: list[str], *,
                      workers: int = 2) -> pd.DataFrame:
    """Run ``sweep_file`` into ``out_dir`` (resuming if it exists) and summarise ``metrics``.

    Returns:
        One row per sweep point with the mean and 95% t confidence interval per metric.
    """
    out = Path(out_dir)
    run_sweep(HERE / sweep_file, out, workers=workers, resume=(out / "index.csv").exists(),
              progress=True)
    return summarise_sweep(open_sweep(out), metrics=metrics)
