"""Tests of analysis.report: the summary text and headline numbers of the small trace of
test_analysis_loaders (values computed by hand), figure writing and skipping, bad input."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_analysis_loaders import write_small_trace

from analysis import PartialTraceWarning, build_report, open_trace
from analysis.run_metrics import run_metrics
from simulator.errors import TraceError
from simulator.trace.writer import TraceWriter, partial_path_for


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_small_trace(tmp_path_factory.mktemp("report") / "small.h5")


def test_run_metrics_by_hand(small: Path) -> None:
    s = run_metrics(open_trace(small))
    assert (s["rsus"], s["uavs"], s["handovers"], s["requests"]) == (2, 2, 2, 3)
    assert (s["transfers"], s["migrations"], s["rounds"]) == (3, 2, 2)
    assert s["handover_rate_per_h"] == pytest.approx(36.0)
    assert s["migration_time_mean_s"] == 3.0 and s["migration_time_max_s"] == 4.0
    assert s["interruption_mean_s"] == 2.5 and s["interruption_median_s"] == 2.5
    assert s["bandwidth_mhz"] == 4.0
    assert s["price_paid_mean"] == pytest.approx((2 * 1 + 3 * 2 + 5 * 1) / 4)
    assert s["revenue"] == 13.0 and s["profit"] == 8.5
    assert s["immersion_mean"] == 2.0
    assert s["converged_fraction"] == 0.5 and s["solver_iterations_mean"] == 12.0
    assert s["optimality_ratio"] == 1.0


def test_report_text_and_figures(small: Path, tmp_path: Path) -> None:
    report = build_report(small, figures_dir=tmp_path / "figs")
    text = report.text
    assert text.startswith(f"uavtwin report: {small}")
    for expected in (
        "tiny (seed 3)", "complete", "simulated time", "100 s",
        "2 / 2",  # RSUs / UAVs
        "5 (2 cell exits)", "3 (2 served, 1 no_viable_rsu)",
        "2 (1 converged; solver equilibrium)",
        "36 cell exits per UAV per h",
        "mean 3 s, median 3 s, p95 3.9 s, max 4 s",
        "mean 2.5 s, median 2.5 s, p95 3.85 s, max 4 s",
        "3.25 price/MHz", "4 MHz", "13 / 8.5 price", "50 %",
        "Sensing market at the horizon's end, t = 20 s", "ratio 0.75", "8 written to",
        "held-out ratio (last) / 2% band from  0.99 / update 2",
    ):
        assert expected in text, expected
    rsu_rows = [ln.split() for ln in text.splitlines() if ln.strip().startswith(("0 ", "1 "))]
    assert ["0", "2", "2.5", "2.667", "3", "8", "5"] in rsu_rows
    assert [p.name for p in report.figures] == [
        "map.png", "timeline.png", "migration_cdf.png", "market.png", "revenue.png",
        "immersion.png", "sensing.png", "training.png"]
    # The small trace's equilibrium rounds have no iteration path and no recorded reference.
    assert [name for name, _ in report.skipped] == ["reward_paths", "optimality"]
    assert all(p.stat().st_size > 1000 for p in report.figures)
    assert "skipped reward_paths: one value per round" in text


def test_report_without_figures_dir_lists_what_would_be_skipped(tmp_path: Path) -> None:
    path = write_small_trace(tmp_path / "s.h5", sensing=False, training=False)
    report = build_report(path)
    assert report.figures == []
    assert "none written" in report.text
    assert "skipped sensing: no rows in /sensing/state" in report.text
    assert "skipped training: no rows in /training/iterations" in report.text
    assert "Sensing market" not in report.text and "Training" not in report.text
    assert not list(tmp_path.glob("*.png"))


def test_report_of_an_empty_partial_run(tmp_path: Path) -> None:
    path = tmp_path / "run.h5"
    TraceWriter(path, scenario_yaml="simulation:\n  name: empty\n", seed=5).close("partial")
    with pytest.warns(PartialTraceWarning):
        report = build_report(partial_path_for(path), figures_dir=tmp_path / "figs")
    assert report.figures == [] and len(report.skipped) == 10
    assert "partial: run stopped with status partial" in report.text
    assert "handover rate" in report.text and "n/a" in report.text
    assert math.isnan(report.stats["migration_time_mean_s"])


def test_report_errors(small: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="figure format 'gif'"):
        build_report(small, tmp_path, fmt="gif")
    with pytest.raises(TraceError, match="no such trace file"):
        build_report(tmp_path / "nope.h5")


def test_report_in_svg(small: Path, tmp_path: Path) -> None:
    report = build_report(small, figures_dir=tmp_path, fmt="svg")
    assert len(report.figures) == 8 and all(p.suffix == ".svg" for p in report.figures)
