"""Tests of the comparison report and figures (analysis.compare, analysis.figures_compare)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.compare import build_comparison, runs_table
from analysis.figures_compare import (
    plot_cdf_comparison,
    plot_metric_vs_parameter,
    plot_paired_differences,
)
from analysis.stats import paired_difference
from simulator.app.cli import main


@pytest.fixture(scope="module")
def four_traces(tmp_path_factory):
    """equilibrium and greedy, seeds 1 and 2, on the small default scenario."""
    from conftest import SCENARIOS, SMALL

    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    tmp = tmp_path_factory.mktemp("cmp")
    paths = []
    for solver in ("equilibrium", "greedy"):
        for seed in (1, 2):
            scenario = load_scenario(SCENARIOS / "default.yaml",
                                     (*SMALL, f"pricing.solver={solver}", "sensing.enabled=false"))
            path = tmp / f"{solver}-{seed}.h5"
            run_scenario(scenario, trace_path=path, seed=seed)
            paths.append(path)
    return paths


def test_traces_are_paired_by_seed_and_compared(four_traces, tmp_path, capsys) -> None:
    df, _ = runs_table(four_traces)
    assert df["solver"].tolist() == ["equilibrium", "equilibrium", "greedy", "greedy"]
    assert df["repetition"].tolist() == [1, 2, 1, 2]
    report = build_comparison(four_traces, tmp_path / "figs", metrics=["revenue",
                                                                       "optimality_ratio"])
    diffs = report.stats["differences"].set_index("metric")
    eq, gr = df[df.solver == "equilibrium"], df[df.solver == "greedy"]
    expected = paired_difference(gr["revenue"].to_numpy(), eq["revenue"].to_numpy())
    assert diffs.loc["revenue", "diff"] == pytest.approx(expected.diff)
    assert diffs.loc["revenue", "n"] == 2
    # Every greedy round has its own equilibrium reference, so greedy has a ratio too.
    assert np.isfinite(gr["optimality_ratio"]).all() and (eq["optimality_ratio"] == 1).all()
    assert "greedy minus equilibrium revenue: " in report.text
    assert "n=2 †" in report.text  # fewer than 5 runs: flagged
    names = sorted(p.name for p in report.figures)
    assert names == sorted(["metric_revenue.png", "paired_revenue.png",
                            "metric_optimality_ratio.png", "paired_optimality_ratio.png",
                            "cdf_migration_time.png", "cdf_interruption.png",
                            "cdf_price.png"])
    assert main(["report", *map(str, four_traces), "--style", "paper", "--figures",
                 str(tmp_path / "paper"), "--metrics", "revenue"]) == 0
    out = capsys.readouterr().out
    assert "figure: " in out and (tmp_path / "paper" / "paired_revenue.pdf").is_file()
    assert main(["report", *map(str, four_traces), "--metrics", "revenu"]) == 1
    assert "unknown metric(s) ['revenu']" in capsys.readouterr().err


def test_comparison_figures_hold_the_table_values() -> None:
    summary = pd.DataFrame({"uavs": [5, 10, 5, 10], "solver": ["a", "a", "b", "b"],
                            "x_mean": [1.0, 2.0, 3.0, 4.0], "x_ci95_low": [0.5, 1.5, 2.5, 3.5],
                            "x_ci95_high": [1.5, 2.5, 3.5, 4.5],
                            "x_low_n": [False, False, True, False]})
    ax = plot_metric_vs_parameter(summary, "uavs", "x", line="solver")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["a", "b (hollow: n < 5)"]
    a, b = (c.lines[0] for c in ax.containers)  # the errorbar lines, in legend order
    assert a.get_ydata().tolist() == [1.0, 2.0] and b.get_ydata().tolist() == [3.0, 4.0]
    assert a.get_linestyle() != b.get_linestyle() and a.get_marker() != b.get_marker()
    diffs = pd.DataFrame({"s": ["b"], "baseline": ["a"], "metric": ["x"], "n": [10],
                          "mean": [2.0], "baseline_mean": [4.0], "diff": [-2.0],
                          "diff_low": [-2.5], "diff_high": [-1.5], "rel": [-0.5],
                          "rel_low": [-0.6], "rel_high": [-0.4], "p_value": [0.01],
                          "unpaired_low": [-4.0], "unpaired_high": [0.0],
                          "correlation": [0.9], "low_n": [False]})
    ax = plot_paired_differences(diffs, "x", "s")
    paired = next(a for a in ax.get_lines() if a.get_gid() == "paired-0")
    unpaired = next(a for a in ax.get_lines() if a.get_gid() == "unpaired-0")
    assert paired.get_xdata().tolist() == pytest.approx([-60.0, -40.0])
    assert unpaired.get_xdata().tolist() == pytest.approx([-100.0, 0.0])
    texts = {t.get_gid(): t.get_text() for t in ax.texts}
    assert texts == {"paired-text-0": "paired -50% [-60, -40]",
                     "unpaired-text-0": "unpaired [-100, +0]%"}
    ax = plot_cdf_comparison({"a": np.array([3.0, 1.0]), "b": np.array([2.0])}, "price")
    steps = {ln.get_label(): ln.get_xdata().tolist() for ln in ax.get_lines()}
    assert steps == {"a (n=2)": [1.0, 3.0], "b (n=1)": [2.0]}
