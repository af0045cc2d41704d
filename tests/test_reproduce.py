"""Tests of the paper reproduction: experiments -> traces -> figures -> REPORT.md.

A tiny budget runs one seed-000 figure (Fig. 4, one 3 x 2 game) and one seed-004 figure
(Fig. 4, the 2-VSP Nash game); the plotted data and the reported numbers are checked
against values recomputed independently from the traces with plain h5py, and the verdict
helpers are unit-tested on series with known shapes (so a contradicting result flips them).
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import matplotlib.image as mimage
import numpy as np
import pytest

from analysis.figures_style import DPI, FIGSIZE_IN
from analysis.paper_claims import (
    Finding,
    band_entry,
    opposite_fraction,
    settle_index,
    trend_label,
    verdict,
)
from analysis.paper_figures import band_entry_at, write_report
from simulator.app.reproduce import Budget, experiments_for, reproduce

TINY = Budget(fig3_games=1, sweep_games=1, iterations=5, fig4_iterations=30)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("repro")
    return reproduce("all", out, progress=False, budget=TINY, only=("tiny-fig4", "sync-fig4"))


def _png_size(path: Path) -> tuple[int, int]:
    img = mimage.imread(path)
    return img.shape[1], img.shape[0]


def test_traces_figures_and_report_exist(run) -> None:
    names = sorted(p.name for p in run.traces)
    assert names == ["sync-fig4.h5", "tiny-fig4.h5"]
    with h5py.File(run.out_dir / "traces" / "tiny-fig4.h5", "r") as f:
        assert f.attrs["status"] == "complete"
        assert f["/pricing/offers/price"].shape[0] == (TINY.fig4_iterations + 1) * 6
    with h5py.File(run.out_dir / "traces" / "sync-fig4.h5", "r") as f:
        assert f["/sensing/state/share"].shape[0] == 2 * 301
    want = (int(FIGSIZE_IN[0] * DPI), int(FIGSIZE_IN[1] * DPI))
    assert {p.name for p in run.figures} == {"tiny-fig4.png", "sync-fig4.png"}
    for p in run.figures:
        assert p.stat().st_size > 5000
        assert _png_size(p) == want
    text = run.report.read_text()
    assert "![seed 000 Fig. 4](figures/tiny-fig4.png)" in text
    assert "![seed 004 Fig. 4](figures/sync-fig4.png)" in text
    assert text.count("**Verdict:**") == len(run.findings) == 4


def test_fig4_numbers_match_trace_recomputed_with_h5py(run) -> None:
    with h5py.File(run.out_dir / "traces" / "tiny-fig4.h5", "r") as f:
        rid = f["/pricing/offers/round_id"][()]
        price = f["/pricing/offers/price"][()]
        demand = f["/pricing/offers/bandwidth_mhz"][()]
    k = TINY.fig4_iterations
    p = price[rid < k].reshape(k, 6)
    b = demand[rid < k].reshape(k, 6)
    # independent settle iteration: last step with a relative change >= 1e-3, plus 2
    both = np.concatenate([p, b], axis=1)
    rel = np.max(np.abs(np.diff(both, axis=0)) / np.abs(both[1:]), axis=1)
    expected = int(np.flatnonzero(rel >= 1e-3)[-1]) + 2
    f_conv, f_opp = [f for f in run.findings if f.key == "tiny-fig4"]
    assert f_conv.numbers["settle_iteration"] == expected
    assert f"from iteration {expected} of {k}" in run.report.read_text()
    dp, db = np.diff(p, axis=0).ravel(), np.diff(b, axis=0).ravel()
    moved = (np.abs(dp) > 1e-6 * np.abs(p[1:]).ravel()) & (np.abs(db) > 1e-6 * np.abs(
        b[1:]).ravel())
    frac = np.mean(dp[moved] * db[moved] < 0)
    assert f_opp.numbers["opposite_fraction"] == pytest.approx(frac)
    assert f"{100 * frac:.1f}% of the moves" in run.report.read_text()


def test_sync_fig4_numbers_match_trace(run) -> None:
    with h5py.File(run.out_dir / "traces" / "sync-fig4.h5", "r") as f:
        t = f["/sensing/state/t_s"][()]
        vsp = f["/sensing/state/vsp_id"][()]
        eta = f["/sensing/state/intensity"][()]
        payoff = f["/sensing"].attrs["payoff"]
    at = np.isclose(t, 150.0)
    eta_mid = eta[at][np.argsort(vsp[at])]
    finding = [f for f in run.findings if f.key == "sync-fig4"][1]
    assert finding.numbers["eta_mid"] == pytest.approx(eta_mid.tolist())
    assert finding.verdict == verdict(bool(eta_mid[1] > eta_mid[0]))
    assert payoff.shape == (2,) and np.all(np.isfinite(payoff))
    # the report shows the same numbers it computed
    shown = re.search(r"eta\(T/2\) = \[([^\]]+)\]", run.report.read_text()).group(1)
    assert [float(v) for v in shown.split(",")] == pytest.approx(eta_mid, rel=1e-3)


def test_trend_label_shapes_and_tolerance() -> None:
    assert trend_label([3, 2, 1]) == "falls"
    assert trend_label([1, 2, 3]) == "rises"
    assert trend_label([1, 3, 2]) == "rises then falls"
    assert trend_label([3, 1, 2]) == "falls then rises"
    assert trend_label([1, 2, 2]) == "rises then levels off"
    assert trend_label([1, 3, 2, 4]) == "mixed"
    assert trend_label([5, 5 + 1e-6, 5]) == "flat"
    assert trend_label([5, 5 + 1e-6, 5], rel_tol=1e-9) == "rises then falls"


def test_band_entry_and_settle_index() -> None:
    curve = [5.0, 9.0, 10.1, 9.85, 9.9, 10.0]
    assert band_entry(curve, 10.0) == 3          # 10.1 at iteration 3, stays within 2 %
    assert band_entry(curve, 10.0, tol=0.005) == 6
    assert band_entry([5.0, 9.0, 10.1, 9.7, 9.9, 10.0], 10.0) == 5  # 9.7 leaves the band
    assert band_entry([10.0, 5.0], 10.0) is None  # left the band at the end
    # sampled every 5 iterations: the label of the 5th sample (9.7 at label 19 leaves it)
    assert band_entry_at([4, 9, 14, 19, 24, 29], [5.0, 9.0, 10.1, 9.7, 9.9, 10.0], 10.0) == 24
    assert band_entry_at([4, 9], [10.0, 5.0], 10.0) is None
    paths = np.array([[1.0, 2.0], [1.5, 2.0], [1.5001, 2.0], [1.5001, 2.0]])
    assert settle_index(paths) == 2
    assert settle_index(np.array([[1.0], [2.0], [3.0]])) is None


def test_opposite_fraction() -> None:
    p = np.array([[1.0, 1.0], [2.0, 2.0], [1.0, 3.0]])
    b = np.array([[3.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    assert opposite_fraction(p, b) == pytest.approx(0.5)  # pair 1 opposite, pair 2 with
    assert np.isnan(opposite_fraction(np.ones((3, 1)), np.ones((3, 1))))


def test_verdict_flips_with_contradicting_numbers(tmp_path: Path) -> None:
    claimed = "falls"
    assert verdict(trend_label([15.2, 13.9, 12.6]) == claimed) == "agrees"
    assert verdict(trend_label([12.6, 13.9, 15.2]) == claimed) == "differs"
    findings = [Finding("k", "seed 000 Fig. 5", "falls", "x", "agrees"),
                Finding("k", "seed 000 Fig. 5", "falls", "y", "differs")]
    out = write_report(findings, tmp_path / "REPORT.md", command="c", budget="custom",
                       budget_values={"a": 1}, wall_time_s=1.0)
    assert "Claims that agree: 1 of 2" in out.read_text()


def test_targets_and_errors(tmp_path: Path) -> None:
    assert experiments_for("sync")[0] == "sync-fig3"
    assert all(n.startswith("tiny-") for n in experiments_for("tiny-madrl"))
    with pytest.raises(ValueError, match="target 'fig3'"):
        experiments_for("fig3")
    with pytest.raises(ValueError, match="unknown experiments"):
        reproduce("sync", tmp_path, progress=False, only=("tiny-fig4",))


def test_fig3_training_panel_matches_the_shipped_checkpoints(tmp_path: Path) -> None:
    from agents.marl.checkpoint import load_checkpoint
    from agents.marl.checkpoint_file import DEFAULT_CHECKPOINTS

    res = reproduce("tiny-madrl", tmp_path, progress=False, budget=TINY, only=("tiny-fig3",))
    summaries = {s: load_checkpoint(p).summary for s, p in DEFAULT_CHECKPOINTS.items()}
    with h5py.File(tmp_path / "traces" / "tiny-fig3.h5", "r") as f:
        for s, summary in summaries.items():
            np.testing.assert_allclose(f["/pricing"].attrs[f"training_eval_{s}"],
                                       np.asarray(summary["eval_path"], dtype=float).ravel())
    training = [f for f in res.findings if "PPO training iterations" in f.claim]
    assert len(training) == 1
    entry = training[0].numbers["training_band_iteration"]
    # the analysis side's band entry equals the trainer's own TrainResult.iterations_to_band
    assert entry == {s: summaries[s]["iterations_to_band"] for s in ("tiny_madrl", "ppo")}
    faster = entry["tiny_madrl"] < entry["ppo"]
    assert training[0].verdict == verdict(faster)
    assert len(res.findings) == 3 and res.figures[0].stat().st_size > 5000
