"""Figures of the economic side of a run: the bandwidth market, the solvers' reward paths,
the sensing (twin synchronisation) market and the training of the pricing agents.

Each ``plot_*`` function takes an :class:`analysis.loaders.Trace` and returns a
:class:`matplotlib.figure.Figure` whose lines and bars hold exactly the values computed by the
corresponding :mod:`analysis.metrics` function.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from analysis import metrics
from analysis.figures_style import colour, new_figure, run_label
from analysis.loaders import Trace

__all__ = ["plot_market", "plot_revenue", "plot_reward_paths", "plot_sensing", "plot_training"]


def plot_market(trace: Trace) -> Figure:
    """Posted prices and bought bandwidth of every offer over time, with per-round summaries.

    Args:
        trace: The run (``/pricing/offers``, ``/pricing/rounds``).

    Returns:
        Two axes sharing time: prices (scatter of every offer, line ``"round mean"`` =
        ``market_per_round().mean_price``) and bandwidth (scatter of the pairs that bought,
        line ``"round total"`` = ``market_per_round().bandwidth_mhz``).
    """
    offers = trace.table("/pricing/offers")
    rounds = trace.table("/pricing/rounds")
    per_round = metrics.market_per_round(offers, rounds)
    t = rounds.set_index("round_id")["t_s"].reindex(offers["round_id"]).to_numpy(float)
    fig, (ax_p, ax_b) = new_figure(f"Bandwidth market per round ({run_label(trace)})", 2, 1,
                                   sharex=True)
    ax_p.scatter(t, offers["price"], s=10, alpha=0.35, color=colour(0), label="offer (UAV, RSU)")
    ax_p.plot(per_round["t_s"], per_round["mean_price"], color=colour(3), marker="o",
              markersize=3, linewidth=1.4, label="round mean")
    ax_p.set_ylabel("price (price/MHz)")
    ax_p.legend(loc="best", fontsize="small")
    bought = offers["bandwidth_mhz"].to_numpy(float) > 0
    ax_b.scatter(t[bought], offers["bandwidth_mhz"].to_numpy(float)[bought], s=10, alpha=0.35,
                 color=colour(2), label="pair that bought")
    ax_b.plot(per_round["t_s"], per_round["bandwidth_mhz"], color=colour(1), marker="o",
              markersize=3, linewidth=1.4, label="round total")
    ax_b.set_ylabel("bandwidth (MHz)")
    ax_b.set_xlabel("round time (s)")
    ax_b.legend(loc="best", fontsize="small")
    return fig


def plot_revenue(trace: Trace) -> Figure:
    """Revenue and profit of every RSU over the run (bar chart).

    Args:
        trace: The run (``/pricing/revenue``, ``/pricing/offers``).

    Returns:
        The figure: bars labelled ``"revenue"`` and ``"profit"`` per RSU with heights
        ``market_per_rsu().revenue`` and ``.profit``, x tick labels ``"RSU <id>"``.
    """
    table = metrics.market_per_rsu(trace.table("/pricing/offers"),
                                   trace.table("/pricing/revenue"))
    fig, (ax,) = new_figure(f"RSU revenue over the run ({run_label(trace)})")
    x = np.arange(len(table))
    ax.bar(x - 0.2, table["revenue"], width=0.4, color=colour(0), label="revenue")
    ax.bar(x + 0.2, table["profit"], width=0.4, color=colour(1), label="profit")
    ax.set_xticks(x, [f"RSU {k}" for k in table.index], rotation=45 if len(x) > 10 else 0)
    ax.set_xlabel("RSU")
    ax.set_ylabel("money (price units)")
    ax.legend(loc="best", fontsize="small")
    return fig


def plot_reward_paths(trace: Trace) -> Figure:
    """Mean RSU utility per solver iteration, averaged over rounds, against the equilibrium.

    Args:
        trace: The run (``/pricing/paths``; ``/pricing/rounds`` for the equilibrium line).

    Returns:
        The figure: a line ``"mean over rounds"`` = ``reward_path_curve().mean`` with a
        +-1 std band, and when the run has equilibrium rounds a dashed line at their mean
        utility (label starting ``"equilibrium"``).
    """
    curve = metrics.reward_path_curve(trace.table("/pricing/paths"))
    fig, (ax,) = new_figure(f"Solver reward paths ({run_label(trace)})")
    it = curve.index.to_numpy(float)
    mean, std = curve["mean"].to_numpy(float), curve["std"].to_numpy(float)
    ax.plot(it, mean, color=colour(0), marker="o" if len(it) < 30 else None, markersize=3,
            linewidth=1.6, label="mean over rounds")
    ax.fill_between(it, mean - std, mean + std, color=colour(5), alpha=0.3, label="+-1 std")
    if trace.n_rows("/pricing/rounds"):
        gap = metrics.optimality_gap(trace.table("/pricing/rounds"))
        eq = float(gap["equilibrium_utility"].iloc[0]) if len(gap) else float("nan")
        if np.isfinite(eq):
            ax.axhline(eq, color=colour(3), linestyle="--", linewidth=1.2,
                       label=f"equilibrium rounds' mean ({eq:.3g})")
    ax.set_xlabel("solver iteration")
    ax.set_ylabel("mean RSU utility (price)")
    ax.legend(loc="best", fontsize="small")
    return fig


def plot_sensing(trace: Trace) -> Figure:
    """Population shares, synchronisation intensities and twin values of every VSP over time.

    Args:
        trace: The run (``/sensing/state``).

    Returns:
        Three axes sharing time with one line per VSP (label ``"VSP <id>"``), whose data are
        ``sensing_trajectory(state, "share" | "intensity" | "twin_value")``.
    """
    state = trace.table("/sensing/state")
    fig, axes = new_figure(f"Twin synchronisation market ({run_label(trace)})", 3, 1,
                           sharex=True)
    panels = (("share", "population share (fraction)"),
              ("intensity", "sync intensity eta (1/s)"),
              ("twin_value", "twin value z (dimensionless)"))
    for ax, (value, label) in zip(axes, panels, strict=True):
        wide = metrics.sensing_trajectory(state, value)
        for k, vsp in enumerate(wide.columns):
            ax.plot(wide.index.to_numpy(float), wide[vsp].to_numpy(float), color=colour(k),
                    linewidth=1.4, label=f"VSP {vsp}")
        ax.set_ylabel(label)
    axes[0].legend(loc="best", fontsize="small")
    axes[-1].set_xlabel("simulation time (s)")
    return fig


def plot_training(trace: Trace) -> Figure:
    """Training curves of the pricing agents.

    Args:
        trace: The trace of a training run (``/training/iterations``).

    Returns:
        Four axes against the update index: mean reward and equilibrium reward (price),
        reward ratio (with the held-out ``eval_ratio`` points and the 2% band), losses,
        and sparsity with entropy; line labels name the columns of ``training_curves()``
        they plot.
    """
    tc = metrics.training_curves(trace.table("/training/iterations"))
    it = tc.index.to_numpy(float)
    fig, axes = new_figure(f"Training of the pricing agents ({run_label(trace)})", 2, 2,
                           sharex=True)
    panels = (
        (("mean_reward", "se_reward"), "reward (price)"),
        (("reward_ratio",), "reward / equilibrium reward"),
        (("policy_loss", "value_loss"), "loss (dimensionless)"),
        (("sparsity", "entropy"), "fraction / nats"),
    )
    for ax, (cols, ylabel) in zip(axes, panels, strict=True):
        for k, col in enumerate(cols):
            ax.plot(it, tc[col].to_numpy(float), color=colour(k), linewidth=1.4, label=col)
        ax.set_ylabel(ylabel)
        ax.legend(loc="best", fontsize="small")
    if "eval_ratio" in tc:  # held-out evaluations (traces written since the column exists)
        held = tc["eval_ratio"].dropna()
        axes[1].plot(held.index.to_numpy(float), held.to_numpy(float), "o", markersize=3,
                     color=colour(1), label="eval_ratio (held-out)")
        axes[1].axhspan(0.98, 1.02, color="#cccccc", alpha=0.4, label="± 2% band")
        axes[1].legend(loc="best", fontsize="small")
    axes[1].axhline(1.0, color="#777777", linestyle=":", linewidth=1.0)
    for ax in axes[2:]:
        ax.set_xlabel("training update")
    return fig
