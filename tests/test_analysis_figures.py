"""Tests of the report figures: every figure is drawn from the small real trace of
test_analysis_loaders, saved, read back at its nominal pixel size, and its plotted data are
compared with the values computed by hand (which the metrics tests also check)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import matplotlib.image as mimage
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from test_analysis_loaders import write_small_trace

from analysis import figures, open_trace
from analysis.figures_market import (
    plot_market,
    plot_optimality,
    plot_revenue,
    plot_reward_paths,
    plot_sensing,
    plot_training,
    reward_paths_missing,
)
from analysis.figures_style import DPI, FIGSIZE_IN, OKABE_ITO, save_figure
from analysis.figures_world import plot_immersion, plot_map, plot_migration_cdfs, plot_timeline
from analysis.loaders import Trace

PIXELS = (int(FIGSIZE_IN[1] * DPI), int(FIGSIZE_IN[0] * DPI))


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Trace:
    return open_trace(write_small_trace(tmp_path_factory.mktemp("figs") / "small.h5"))


def _saved_png(axes, path: Path) -> np.ndarray:  # noqa: ANN001 - Axes or a list of them
    ax = axes if isinstance(axes, Axes) else axes[0]
    fig = ax.figure
    assert isinstance(fig, Figure)
    save_figure(fig, path, "png")
    assert path.stat().st_size > 1000
    img = mimage.imread(path)
    assert img.shape[:2] == PIXELS
    assert np.ptp(img[..., :3]) > 0.5  # something was drawn
    return img


def _line(ax: Axes, label_start: str) -> Line2D:
    found = [ln for ln in ax.get_lines() if ln.get_label().startswith(label_start)]
    assert len(found) == 1, [ln.get_label() for ln in ax.get_lines()]
    return found[0]


def _gid(ax: Axes, gid: str):  # noqa: ANN202 - a matplotlib artist
    found = [a for a in ax.get_children() if a.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def test_map_draws_cells_tracks_and_handover_points(trace: Trace, tmp_path: Path) -> None:
    ax = plot_map(trace)
    fig = ax.figure
    _saved_png(fig.axes[0], tmp_path / "map.png")
    ax = fig.axes[0]
    circles = [(p.center, p.radius) for p in ax.patches]
    assert circles == [((0.0, 0.0), 60.0), ((100.0, 0.0), 60.0)]
    t0 = _gid(ax, "track-0")
    np.testing.assert_array_equal(t0.get_xdata(), [-50.0, 50.0, 150.0])
    np.testing.assert_array_equal(t0.get_ydata(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(_gid(ax, "track-1").get_ydata(), [50.0, -50.0])
    labels = {t.get_text(): t.xy for t in ax.texts}
    assert labels == {"RSU 0": (0.0, 0.0), "RSU 1": (100.0, 0.0)}
    # cell exits: UAV 1 at t=20 s -> (0, 30); UAV 0 at t=55 s -> (60, 0)
    np.testing.assert_allclose(_gid(ax, "handovers").get_offsets(), [[0.0, 30.0], [60.0, 0.0]])
    assert ax.get_xlabel() == "x (m)" and ax.get_ylabel() == "y (m)"
    assert "tiny, seed 3" in fig.get_suptitle()


def test_timeline_shows_exits_and_finished_transfers(trace: Trace, tmp_path: Path) -> None:
    ax = plot_timeline(trace)
    fig = ax.figure
    _saved_png(fig.axes[0], tmp_path / "timeline.png")
    ax = fig.axes[0]
    np.testing.assert_allclose(_gid(ax, "handovers").get_offsets(), [[20.0, 1.0], [55.0, 0.0]])
    segs = _gid(ax, "transfers").get_segments()
    np.testing.assert_allclose(segs, [[[55.0, 0.0], [57.0, 0.0]], [[55.0, 0.0], [59.0, 0.0]]])
    assert ax.get_xlim() == (0.0, 100.0)
    assert ax.get_xlabel() == "simulation time (s)"


def test_migration_cdfs_equal_the_ecdfs(trace: Trace, tmp_path: Path) -> None:
    ax = plot_migration_cdfs(trace)
    fig = ax.figure
    _saved_png(fig.axes[0], tmp_path / "cdf.png")
    ax = fig.axes[0]
    mig = _line(ax, "migration time")
    np.testing.assert_array_equal(mig.get_xdata(), [2.0, 4.0])
    np.testing.assert_array_equal(mig.get_ydata(), [0.5, 1.0])
    intr = _line(ax, "service interruption")
    np.testing.assert_array_equal(intr.get_xdata(), [1.0, 4.0])
    np.testing.assert_array_equal(intr.get_ydata(), [0.5, 1.0])
    palette = {mcolors.to_hex(c) for c in OKABE_ITO}
    assert {mcolors.to_hex(mig.get_color()), mcolors.to_hex(intr.get_color())} <= palette
    assert ax.get_xlabel() == "duration (s)" and ax.get_legend() is not None


def test_market_lines_are_the_per_round_summaries(trace: Trace, tmp_path: Path) -> None:
    axes = plot_market(trace)
    fig = axes[0].figure
    _saved_png(fig.axes[0], tmp_path / "market.png")
    ax_p, ax_b = fig.axes
    price = _line(ax_p, "round mean")
    np.testing.assert_array_equal(price.get_xdata(), [20.0, 55.0])
    np.testing.assert_array_equal(price.get_ydata(), [3.0, 4.0])
    np.testing.assert_array_equal(_line(ax_b, "round total").get_ydata(), [1.0, 3.0])
    offers = ax_p.collections[0].get_offsets()
    np.testing.assert_array_equal(offers, [[20, 2], [20, 4], [55, 3], [55, 5]])
    assert len(ax_b.collections[0].get_offsets()) == 3  # pairs that bought
    assert ax_p.get_ylabel() == "price (price/MHz)" and ax_b.get_ylabel() == "bandwidth (MHz)"


def test_revenue_bars_are_revenue_and_profit(trace: Trace, tmp_path: Path) -> None:
    ax = plot_revenue(trace)
    fig = ax.figure
    _saved_png(fig.axes[0], tmp_path / "revenue.png")
    ax = fig.axes[0]
    rev, prof = ax.containers
    assert [b.get_height() for b in rev] == [8.0, 5.0]
    assert [b.get_height() for b in prof] == [5.0, 3.5]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["RSU 0", "RSU 1"]


def _greedy_trace(path: Path) -> Trace:
    """Two greedy rounds of three iterations each, with their equilibrium references."""
    from simulator.trace.writer import TraceWriter

    with TraceWriter(path, scenario_yaml="simulation:\n  name: g\n", seed=1) as tw:
        tw.append("/pricing/rounds", round_id=[0, 1], t_s=[10.0, 30.0], solver=[3, 3],
                  n_uavs=[1, 1], n_rsus=[2, 2], iterations=[3, 3], converged=[False, False],
                  residual=[0.1, 0.1], wall_time_s=[0.01, 0.01], mean_rsu_utility=[3.0, 5.0],
                  mean_uav_utility=[1.0, 1.0], reference_rsu_utility=[4.0, 4.0],
                  reference_uav_utility=[1.0, 1.0])
        tw.append("/pricing/paths", round_id=[0, 0, 0, 1, 1, 1], iteration=[0, 1, 2] * 2,
                  mean_rsu_utility=[1.0, 2.0, 3.0, 3.0, 4.0, 5.0])
    return open_trace(path)


def test_reward_paths_with_equilibrium_line(trace: Trace, tmp_path: Path) -> None:
    greedy = _greedy_trace(tmp_path / "g.h5")
    ax = plot_reward_paths(greedy)
    _saved_png(ax, tmp_path / "paths.png")
    mean = _line(ax, "mean over rounds")
    np.testing.assert_array_equal(mean.get_xdata(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(mean.get_ydata(), [2.0, 3.0, 4.0])
    # The reference of the same rounds: mean of 4 and 4.
    np.testing.assert_array_equal(_line(ax, "equilibrium").get_ydata(), [4.0, 4.0])
    # An equilibrium run has one value per round: no path to draw, and it says why.
    assert "one value per round" in reward_paths_missing(trace)
    with pytest.raises(ValueError, match="one value per round"):
        plot_reward_paths(trace)
    written, skipped = figures.write_figures(trace, tmp_path / "eq", only=("reward_paths",))
    assert written == [] and skipped[0][0] == "reward_paths"


def test_optimality_points_are_the_per_round_ratios(trace: Trace, tmp_path: Path) -> None:
    ax = plot_optimality(_greedy_trace(tmp_path / "g.h5"))
    _saved_png(ax, tmp_path / "opt.png")
    rounds = _line(ax, "round")
    np.testing.assert_array_equal(rounds.get_xdata(), [10.0, 30.0])
    np.testing.assert_array_equal(rounds.get_ydata(), [0.75, 1.25])
    np.testing.assert_array_equal(_line(ax, "run: ratio of means").get_ydata(), [1.0, 1.0])
    # The small trace predates the reference: the figure is skipped, with the reason.
    _, skipped = figures.write_figures(trace, tmp_path / "eq", only=("optimality",))
    assert skipped == [("optimality", "no equilibrium reference recorded (pricing.reference "
                                      "was off)")]


def test_every_figure_draws_on_given_axes_and_in_the_paper_style(trace: Trace,
                                                                  tmp_path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from analysis.figures_style import STYLES, use_style

    fig = Figure(figsize=(12, 12))
    FigureCanvasAgg(fig)
    grid = list(fig.subplots(4, 4).ravel())
    assert plot_map(trace, ax=grid[0]) is grid[0]
    assert plot_market(trace, ax=grid[1:3]) == grid[1:3]
    assert plot_sensing(trace, ax=grid[3:6]) == grid[3:6]
    assert plot_training(trace, ax=grid[6:10]) == grid[6:10]
    assert plot_revenue(trace, ax=grid[10]) is grid[10]
    with pytest.raises(ValueError, match="draws 3 panel"):
        plot_sensing(trace, ax=grid[:2])
    written, _ = figures.write_figures(trace, tmp_path / "paper", style="paper",
                                       only=("map", "market", "revenue"))
    assert [p.suffix for p in written] == [".pdf"] * 3
    assert written[0].read_bytes()[:4] == b"%PDF"
    with use_style("paper"):
        ax = plot_revenue(trace)
        assert tuple(ax.figure.get_size_inches()) == STYLES["paper"].figsize_in
        assert ax.figure.get_suptitle() == ""  # the caption carries the title
        assert ax.xaxis.label.get_fontsize() == 8
    with pytest.raises(ValueError, match="figure style 'poster'"):
        figures.write_figures(trace, tmp_path, style="poster")


def test_immersion_mean_line(trace: Trace, tmp_path: Path) -> None:
    ax = plot_immersion(trace)
    fig = ax.figure
    _saved_png(fig.axes[0], tmp_path / "immersion.png")
    ax = fig.axes[0]
    line = _line(ax, "mean per bin")  # 20 bins of 5 s over the 100 s run
    np.testing.assert_array_equal(line.get_xdata(), [22.5, 57.5])
    np.testing.assert_array_equal(line.get_ydata(), [1.5, 2.5])
    np.testing.assert_array_equal(_gid(ax, "requests").get_offsets(), [[55, 2.5], [20, 1.5]])


def test_sensing_panels(trace: Trace, tmp_path: Path) -> None:
    axes = plot_sensing(trace)
    fig = axes[0].figure
    _saved_png(fig.axes[0], tmp_path / "sensing.png")
    share, intensity, value = fig.axes
    np.testing.assert_array_equal(_line(share, "VSP 0").get_ydata(), [0.5, 0.6, 0.7])
    np.testing.assert_array_equal(_line(share, "VSP 1").get_xdata(), [0.0, 10.0, 20.0])
    np.testing.assert_array_equal(_line(intensity, "VSP 1").get_ydata(), [0.2, 0.4, 0.6])
    np.testing.assert_array_equal(_line(value, "VSP 0").get_ydata(), [1.0, 1.5, 2.0])
    assert value.get_xlabel() == "simulation time (s)"


def test_training_panels(trace: Trace, tmp_path: Path) -> None:
    axes = plot_training(trace)
    fig = axes[0].figure
    _saved_png(fig.axes[0], tmp_path / "training.png")
    rewards, ratio, losses, sparsity = fig.axes
    np.testing.assert_array_equal(_line(rewards, "agents' mean").get_ydata(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(_line(rewards, "equilibrium").get_ydata(), [4.0, 4.0, 4.0])
    np.testing.assert_array_equal(_line(ratio, "agents / equilibrium (training").get_ydata(),
                                  [0.25, 0.5, 0.75])
    held = _line(ratio, "agents / equilibrium (held-out")  # NaN rows (no evaluation) left out
    np.testing.assert_array_equal(held.get_xdata(), [1.0, 2.0])
    np.testing.assert_array_equal(held.get_ydata(), [0.97, 0.99])
    np.testing.assert_array_equal(_line(losses, "value loss").get_ydata(), [1.0, 0.5, 0.25])
    np.testing.assert_array_equal(_line(sparsity, "pruned fraction").get_xdata(),
                                  [0.0, 1.0, 2.0])


@pytest.mark.parametrize(("fmt", "magic"), [("pdf", b"%PDF"), ("svg", b"<svg")])
def test_vector_formats(trace: Trace, tmp_path: Path, fmt: str, magic: bytes) -> None:
    written, skipped = figures.write_figures(trace, tmp_path, fmt, only=("revenue",))
    assert written == [tmp_path / f"revenue.{fmt}"] and skipped == []
    assert magic in written[0].read_bytes()[:400]


def test_write_figures_skips_empty_tables(tmp_path: Path) -> None:
    t = open_trace(write_small_trace(tmp_path / "s.h5", sensing=False, training=False))
    written, skipped = figures.write_figures(t, tmp_path / "out", only=("map", "sensing",
                                                                         "training"))
    assert written == [tmp_path / "out" / "map.png"]
    assert skipped == [("sensing", "no rows in /sensing/state"),
                       ("training", "no rows in /training/iterations")]
    assert [f.name for f in figures.FIGURES] == [
        "map", "timeline", "migration_cdf", "market", "revenue", "reward_paths", "optimality",
        "immersion", "sensing", "training"]
    with pytest.raises(ValueError, match="figure format 'jpg'"):
        figures.write_figures(t, tmp_path, "jpg")
    with pytest.raises(ValueError, match=r"unknown figure\(s\) \['mapp'\]"):
        figures.write_figures(t, tmp_path, only=("mapp",))
