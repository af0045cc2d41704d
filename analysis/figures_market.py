"""Figures of the economic side of a run: the bandwidth market, the solvers' reward paths and
their distance to the exact equilibrium, the sensing (twin synchronisation) market and the
training of the pricing agents.

Each ``plot_*`` function takes an :class:`analysis.loaders.Trace` and optionally ``ax=`` (the
Axes, or for multi-panel figures the sequence of Axes, to draw on; default: a new figure in
the current style) and returns the axes, whose lines and bars hold exactly the values
computed by the corresponding :mod:`analysis.metrics` function.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from analysis import metrics
from analysis.figures_style import axes_for, colour, marker_area, run_label
from analysis.loaders import Trace

__all__ = ["TRAINING_LABELS", "plot_market", "plot_optimality", "plot_revenue",
           "plot_reward_paths", "plot_sensing", "plot_training", "reward_paths_missing"]

#: Readable legend labels of the ``/training/iterations`` columns.
TRAINING_LABELS = {
    "mean_reward": "agents' mean reward", "se_reward": "equilibrium reward",
    "reward_ratio": "agents / equilibrium (training games)",
    "eval_ratio": "agents / equilibrium (held-out games)",
    "policy_loss": "policy loss", "value_loss": "value loss",
    "sparsity": "pruned fraction of hidden neurons", "entropy": "policy entropy (nats)",
}


def plot_market(trace: Trace, ax: Sequence[Axes] | None = None, *, bins: int = 20
                ) -> list[Axes]:
    """Posted prices and bought bandwidth of every offer over time, with per-round summaries.

    Rounds are independent games, so their summaries are drawn as points, not joined; the
    line is the mean over time bins.

    Args:
        trace: The run (``/pricing/offers``, ``/pricing/rounds``).
        ax: Two axes to draw on (default: a new figure).
        bins: Time bins of the trend line.

    Returns:
        Two axes sharing time: prices (scatter of every offer, points ``"round mean"`` =
        ``market_per_round().mean_price``, line ``"mean per time bin"``) and bandwidth
        (scatter of the pairs that bought, points ``"round total"`` =
        ``market_per_round().bandwidth_mhz``, line ``"mean per time bin"``).
    """
    offers = trace.table("/pricing/offers")
    rounds = trace.table("/pricing/rounds")
    per_round = metrics.market_per_round(offers, rounds)
    t = rounds.set_index("round_id")["t_s"].reindex(offers["round_id"]).to_numpy(float)
    ax_p, ax_b = axes_for(ax, f"Bandwidth market per round ({run_label(trace)})", 2, 1,
                          sharex=True)
    ax_p.scatter(t, offers["price"], s=marker_area(8), alpha=0.25, color=colour(5),
                 label="offer (UAV, RSU)")
    ax_p.plot(per_round["t_s"], per_round["mean_price"], color=colour(0), marker="o",
              markersize=3, linestyle="none", label="round mean")
    bought = offers["bandwidth_mhz"].to_numpy(float) > 0
    ax_b.scatter(t[bought], offers["bandwidth_mhz"].to_numpy(float)[bought], s=8, alpha=0.25,
                 color=colour(2), label="pair that bought")
    ax_b.plot(per_round["t_s"], per_round["bandwidth_mhz"], color=colour(3), marker="s",
              markersize=3, linestyle="none", label="round total")
    end = trace.duration_s or float(per_round["t_s"].max() if len(per_round) else 1.0)
    for a, col, k in ((ax_p, "mean_price", 0), (ax_b, "bandwidth_mhz", 3)):
        centre, mean = _binned_mean(per_round["t_s"].to_numpy(float),
                                    per_round[col].to_numpy(float), bins, end)
        a.plot(centre, mean, color=colour(k), linewidth=1.4, label="mean per time bin")
        a.legend(loc="best", fontsize="small")
    ax_p.set_ylabel("price (price/MHz)")
    ax_b.set_ylabel("bandwidth (MHz)")
    ax_b.set_xlabel("round time (s)")
    return [ax_p, ax_b]


def _binned_mean(t: np.ndarray, v: np.ndarray, bins: int, end: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    edges = np.linspace(0.0, end if end > 0 else 1.0, bins + 1)
    k = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, bins - 1)
    count = np.bincount(k, minlength=bins)
    total = np.bincount(k, weights=v, minlength=bins)
    keep = count > 0
    return 0.5 * (edges[:-1] + edges[1:])[keep], total[keep] / count[keep]


def plot_revenue(trace: Trace, ax: Axes | None = None) -> Axes:
    """Revenue and profit of every RSU over the run (bar chart).

    Args:
        trace: The run (``/pricing/revenue``, ``/pricing/offers``).
        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: bars labelled ``"revenue"`` and ``"profit"`` per RSU with heights
        ``market_per_rsu().revenue`` and ``.profit``, x tick labels ``"RSU <id>"``.
    """
    table = metrics.market_per_rsu(trace.table("/pricing/offers"),
                                   trace.table("/pricing/revenue"))
    (ax,) = axes_for(ax, f"RSU revenue over the run ({run_label(trace)})")
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["revenue"], width=0.4, color=colour(0), label="revenue")
    ax.bar(x + 0.2, table["profit"], width=0.4, color=colour(1), hatch="//", label="profit")
    ax.set_xticks(x, [f"RSU {k}" for k in table.index], rotation=45 if len(x) > 10 else 0)
    ax.set_xlabel("RSU")
    ax.set_ylabel("summed over the run's rounds (price units)")
    ax.legend(loc="best", fontsize="small")
    return ax


def reward_paths_missing(trace: Trace) -> str | None:
    """Why :func:`plot_reward_paths` has nothing to show (``None`` if it has).

    The exact equilibrium solver records one value per round (no iteration path), which
    would be a single point at iteration 0.
    """
    paths = trace.table("/pricing/paths", columns=["iteration"])
    if len(paths) == 0:
        return "no rows in /pricing/paths"
    if int(paths["iteration"].max()) == 0:
        return ("one value per round (the equilibrium solver has no iteration path; see "
                "the optimality figure)")
    return None


def plot_reward_paths(trace: Trace, ax: Axes | None = None) -> Axes:
    """Mean RSU utility per solver iteration, averaged over rounds, against the equilibrium.

    Args:
        trace: The run (``/pricing/paths`` of a repeated-game solver; ``/pricing/rounds``
            for the equilibrium line).
        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: a line ``"mean over rounds"`` = ``reward_path_curve().mean`` with a
        +-1 std band, and when the rounds have a reference a dashed line at the mean RSU
        utility of the exact equilibrium of the same rounds (label starting
        ``"equilibrium"``).

    Raises:
        ValueError: The paths have one iteration only (:func:`reward_paths_missing`).
    """
    reason = reward_paths_missing(trace)
    if reason is not None:
        raise ValueError(f"reward paths: {reason}")
    curve = metrics.reward_path_curve(trace.table("/pricing/paths"))
    (ax,) = axes_for(ax, f"Solver reward paths ({run_label(trace)})")
    it = curve.index.to_numpy(float)
    mean, std = curve["mean"].to_numpy(float), curve["std"].to_numpy(float)
    ax.plot(it, mean, color=colour(0), marker="o" if len(it) < 30 else None, markersize=3,
            linewidth=1.6, label="mean over rounds")
    ax.fill_between(it, mean - std, mean + std, color=colour(5), alpha=0.3, label="+-1 std")
    if trace.n_rows("/pricing/rounds"):
        gap = metrics.optimality_gap(trace.table("/pricing/rounds"))
        eq = float(gap["equilibrium_utility"].iloc[0]) if len(gap) == 1 else float("nan")
        if np.isfinite(eq):
            ax.axhline(eq, color=colour(3), linestyle="--", linewidth=1.2,
                       label=f"equilibrium of the same rounds ({eq:.3g})")
    ax.set_xlabel("solver iteration within a round")
    ax.set_ylabel("mean RSU utility (price units)")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_optimality(trace: Trace, ax: Axes | None = None) -> Axes:
    """Each round's mean RSU utility divided by that of the exact equilibrium of its game.

    Args:
        trace: The run (``/pricing/rounds`` with ``reference_rsu_utility``).
        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: points ``"round"`` at ``(t_s, mean_rsu_utility / reference_rsu_utility)``
        for the rounds with a non-zero reference, the run's ratio of means
        (``optimality_gap().ratio``) as a dashed line labelled ``"run: ..."``, and 1 dotted.
    """
    rounds = trace.table("/pricing/rounds")
    ref = rounds["reference_rsu_utility"].to_numpy(float)
    ok = np.isfinite(ref) & (ref != 0)
    (ax,) = axes_for(ax, f"Utility of the RSUs vs the exact equilibrium ({run_label(trace)})")
    ax.plot(rounds["t_s"].to_numpy(float)[ok],
            rounds["mean_rsu_utility"].to_numpy(float)[ok] / ref[ok], marker="o",
            markersize=3, linestyle="none", color=colour(0), alpha=0.6, label="round")
    gap = metrics.optimality_gap(rounds)
    ratio = float(gap["ratio"].iloc[0]) if len(gap) == 1 else float("nan")
    if np.isfinite(ratio):
        ax.axhline(ratio, color=colour(3), linestyle="--", linewidth=1.2,
                   label=f"run: ratio of means {ratio:.4g}")
    ax.axhline(1.0, color="#777777", linestyle=":", linewidth=1.0)
    ax.set_xlabel("round time (s)")
    ax.set_ylabel("RSU utility / equilibrium's (ratio)")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_sensing(trace: Trace, ax: Sequence[Axes] | None = None) -> list[Axes]:
    """Population shares, synchronisation intensities and twin values of every VSP over time.

    Args:
        trace: The run (``/sensing/state``).
        ax: Three axes to draw on (default: a new figure).

    Returns:
        Three axes sharing time with one line per VSP (label ``"VSP <id>"``), whose data are
        ``sensing_trajectory(state, "share" | "intensity" | "twin_value")``; the steady-state
        window (:func:`metrics.sensing_steady_state`) is shaded.
    """
    state = trace.table("/sensing/state")
    axes = axes_for(ax, f"Twin synchronisation market ({run_label(trace)})", 3, 1, sharex=True)
    panels = (("share", "share of\nsensing UAVs"), ("intensity", "sync intensity\nη (1/s)"),
              ("twin_value", "twin value z\n(dimensionless)"))
    steady = metrics.sensing_steady_state(state)
    for ax_, (value, label) in zip(axes, panels, strict=True):
        wide = metrics.sensing_trajectory(state, value)
        for k, vsp in enumerate(wide.columns):
            ax_.plot(wide.index.to_numpy(float), wide[vsp].to_numpy(float), color=colour(k),
                     linestyle=("-", "--", ":", "-.")[k % 4], linewidth=1.4, label=f"VSP {vsp}")
        if "t_from_s" in steady.attrs:
            ax_.axvspan(steady.attrs["t_from_s"], steady.attrs["t_to_s"], color="#e4e4e4",
                        zorder=0, label="steady-state window" if value == "share" else None)
        ax_.set_ylabel(label)
    axes[0].legend(loc="best", fontsize="small")
    axes[-1].set_xlabel("simulation time (s)")
    axes[0].figure.align_ylabels(axes)
    return axes


def plot_training(trace: Trace, ax: Sequence[Axes] | None = None) -> list[Axes]:
    """Training curves of the pricing agents.

    Args:
        trace: The trace of a training run (``/training/iterations``).
        ax: Four axes to draw on (default: a new 2 x 2 figure).

    Returns:
        Four axes against the update index: mean reward and equilibrium reward (price),
        reward ratio (with the held-out ``eval_ratio`` points and the 2% band), losses,
        and sparsity with entropy; line labels are :data:`TRAINING_LABELS` of the
        ``training_curves()`` columns they plot.
    """
    tc = metrics.training_curves(trace.table("/training/iterations"))
    it = tc.index.to_numpy(float)
    axes = axes_for(ax, f"Training of the pricing agents ({run_label(trace)})", 2, 2,
                    sharex=True)
    panels = (
        (("mean_reward", "se_reward"), "reward per game (price units)"),
        (("reward_ratio",), "reward / equilibrium reward"),
        (("policy_loss", "value_loss"), "PPO loss (dimensionless)"),
        (("sparsity", "entropy"), "fraction  |  nats"),
    )
    for ax_, (cols, ylabel) in zip(axes, panels, strict=True):
        for k, col in enumerate(cols):
            ax_.plot(it, tc[col].to_numpy(float), color=colour(k), linewidth=1.4,
                     linestyle="-" if k == 0 else "--", label=TRAINING_LABELS[col])
        ax_.set_ylabel(ylabel)
        ax_.legend(loc="best", fontsize="small")
    if "eval_ratio" in tc:  # held-out evaluations (traces written since the column exists)
        held = tc["eval_ratio"].dropna()
        axes[1].plot(held.index.to_numpy(float), held.to_numpy(float), "o", markersize=3,
                     color=colour(1), label=TRAINING_LABELS["eval_ratio"])
        axes[1].axhspan(0.98, 1.02, color="#cccccc", alpha=0.4, label="± 2% band")
        axes[1].legend(loc="best", fontsize="small")
    axes[1].axhline(1.0, color="#777777", linestyle=":", linewidth=1.0)
    for ax_ in axes[2:]:
        ax_.set_xlabel("training update (PPO iteration)")
    return axes
