"""The seed papers' figures, redrawn from reproduction traces, with claims and verdicts.

``simulator.app.reproduce`` writes one trace per experiment (layouts in its module docstring);
this module reads only those traces (``analysis.open_trace`` for tables, the trace reader for the
experiment attributes on ``/pricing`` and ``/sensing``), draws each figure of seed 000
(Tiny MADRL pricing, Figs. 3-6) and seed 004 (synchronisation games, Figs. 3-13), measures
the numbers behind each paper claim and turns them into a verdict ("agrees"/"differs") with
the small pure functions of :mod:`analysis.paper_claims` (:func:`trend_label`,
:func:`band_entry`, ...), so a verdict is always computed, never written by hand.
:func:`draw_all` draws every figure whose trace is present and :func:`write_report`
assembles ``REPORT.md``. The seed 004 figures live in :mod:`analysis.paper_figures_sync`;
they and the verdict functions are re-exported here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.pricing.registry import policy_label
from analysis.figures_style import colour, line_style, new_figure, save_figure
from analysis.loaders import open_trace
from analysis.paper_claims import (
    Finding,
    band_entry,
    band_entry_at,
    fmt_value,
    group_attrs,
    opposite_fraction,
    settle_index,
    trend_label,
    verdict,
)
from analysis.paper_figures_sync import (
    SYNC_SWEEPS,
    fig_sync_delta,
    fig_sync_modes,
    fig_sync_paths,
    fig_sync_starts,
    fig_sync_sweep,
)

__all__ = [
    "SOLVER_ORDER", "agent_training_paths", "draw_all", "pricing_curves", "sweep_means",
    "write_report"
]

SOLVER_ORDER: tuple[str, ...] = ("tiny_madrl", "ppo", "greedy", "random", "equilibrium")


# ------------------------------------------------------------------------- readers
def pricing_curves(path: Path) -> tuple[dict[str, np.ndarray], float]:
    """Fig. 3 data: mean reward per iteration of each repeated-game solver, and the SE level.

    Args:
        path: a ``tiny-fig3`` trace.

    Returns:
        ``({solver: curve [K]}, equilibrium mean RSU reward)``.
    """
    tr = open_trace(path)
    rounds, paths = tr.pricing_rounds, tr.pricing_paths
    merged = paths.merge(rounds[["round_id", "solver"]], on="round_id")
    curves = {str(s): g.groupby("iteration")["mean_rsu_utility"].mean().to_numpy()
              for s, g in merged.groupby("solver", observed=True) if s != "equilibrium"}
    se = float(rounds.loc[rounds.solver == "equilibrium", "mean_rsu_utility"].mean())
    return curves, se


def sweep_means(path: Path) -> tuple[str, np.ndarray, dict[str, np.ndarray]]:
    """Figs. 5-6 data: mean final RSU reward per solver and sweep value.

    Args:
        path: a pricing sweep trace.

    Returns:
        ``(parameter, values [V], {solver: means [V]})``.
    """
    attrs = group_attrs(path, "/pricing")
    rounds = open_trace(path).pricing_rounds
    offsets = np.asarray(attrs["sweep_round_offsets"])
    idx = np.searchsorted(offsets, rounds.round_id.to_numpy(), side="right") - 1
    rounds = rounds.assign(v=idx)
    table = rounds.groupby(["solver", "v"], observed=True)["mean_rsu_utility"].mean()
    means = {s: table[s].to_numpy() for s in SOLVER_ORDER if s in table.index.get_level_values(0)}
    return str(attrs["sweep_parameter"]), np.asarray(attrs["sweep_values"], float), means



# ------------------------------------------------------------------------- seed 000
def agent_training_paths(path: Path) -> dict[str, np.ndarray]:
    """Fig. 3 (b) data: held-out ratio to the SE vs PPO iteration of the shipped agents.

    Args:
        path: a ``tiny-fig3`` trace.

    Returns:
        ``{solver: [n, 2] array of (PPO iteration, ratio)}`` for the learned solvers whose
        checkpoints recorded their evaluations (empty for older traces).
    """
    attrs = group_attrs(path, "/pricing")
    return {s: np.asarray(attrs[f"training_eval_{s}"], dtype=float).reshape(-1, 2)
            for s in ("tiny_madrl", "ppo") if f"training_eval_{s}" in attrs}


def fig_pricing_convergence(path: Path, out: Path) -> list[Finding]:
    """Seed 000 Fig. 3: (a) average RSU reward per repeated-game iteration of every solver vs
    the SE; (b) the learned agents' held-out ratio to the SE over their PPO training."""
    curves, se = pricing_curves(path)
    training = agent_training_paths(path)
    fig, axes = new_figure("Seed 000 Fig. 3: convergence (5 RSUs, 15 UAVs)", 1,
                           2 if training else 1)
    ax = axes[0]
    ratio, band = {}, {}
    for k, s in enumerate(s for s in SOLVER_ORDER if s in curves):
        c = curves[s]
        ax.plot(np.arange(1, c.size + 1), c, color=colour(k), label=policy_label(s))
        ratio[s], band[s] = float(c[-1] / se), band_entry(c, se)
    ax.axhline(se, color="black", linestyle="--", label="equilibrium (SE)")
    ax.axhspan(0.98 * se, 1.02 * se, color="#cccccc", alpha=0.4, label="SE ± 2%")
    ax.set(xlabel="iteration of the pricing round", ylabel="average RSU reward (price units)",
           title="(a) held-out rounds")
    ax.legend()
    trained = {s: band_entry_at(e[:, 0], e[:, 1], 1.0) for s, e in training.items()}
    if training:
        for k, (s, e) in enumerate(training.items()):
            axes[1].plot(e[:, 0], e[:, 1], marker="o", markersize=3, color=colour(k),
                         label=policy_label(s))
        axes[1].axhline(1.0, color="black", linestyle="--", label="SE")
        axes[1].axhspan(0.98, 1.02, color="#cccccc", alpha=0.4, label="SE ± 2%")
        axes[1].set(xlabel="PPO training iteration", ylabel="held-out reward / SE reward",
                    title="(b) training of the shipped agents")
        axes[1].legend()
    save_figure(fig, out)
    learned = [s for s in ("tiny_madrl", "ppo", "greedy", "random") if s in ratio]
    closest = min(learned, key=lambda s: abs(1 - ratio[s]))
    bt, bp = band.get("tiny_madrl"), band.get("ppo")
    faster = bt is not None and (bp is None or bt < bp)
    text = "; ".join(f"{s}: final/SE {ratio[s]:.4f}, 2% band from iteration "
                     f"{band[s] if band[s] is not None else 'never'}" for s in learned)
    nums = {"se": se, "ratio": ratio, "band_iteration": band, "closest": closest,
            "training_band_iteration": trained}
    found = [
        Finding("tiny-fig3", "seed 000 Fig. 3", "tiny_madrl ends closest to the SE",
                f"SE average reward {se:.4f}; {text}; closest: {closest}",
                verdict(closest == "tiny_madrl"), out, nums),
        Finding("tiny-fig3", "seed 000 Fig. 3",
                "tiny_madrl converges faster than ppo (iterations of a pricing round)",
                f"2% band from iteration tiny_madrl {bt if bt else 'never'} vs ppo "
                f"{bp if bp else 'never'}", verdict(faster), out, nums)]
    if {"tiny_madrl", "ppo"} <= trained.keys():
        tt, tp = trained["tiny_madrl"], trained["ppo"]
        found.append(Finding(
            "tiny-fig3", "seed 000 Fig. 3",
            "tiny_madrl converges faster than ppo (PPO training iterations)",
            f"held-out ratio stays in the 2% band from training iteration tiny_madrl "
            f"{tt if tt is not None else 'never'} vs ppo {tp if tp is not None else 'never'} "
            f"(shipped agents, one seed; multi-seed study in docs/tiny-madrl.md)",
            verdict(tt is not None and (tp is None or tt < tp)), out, nums))
    return found


def fig_price_demand_paths(path: Path, out: Path) -> list[Finding]:
    """Seed 000 Fig. 4: the 6 price and 6 demand paths of tiny_madrl (2 RSUs, 3 UAVs)."""
    tr = open_trace(path)
    rounds, offers = tr.pricing_rounds, tr.pricing_offers.sort_values(
        ["round_id", "uav_id", "rsu_id"], kind="stable")
    k = int((rounds.solver == "tiny_madrl").sum())
    pairs = offers[["uav_id", "rsu_id"]].drop_duplicates().to_numpy()
    price = offers.price.to_numpy().reshape(-1, len(pairs))
    demand = offers.bandwidth_mhz.to_numpy().reshape(-1, len(pairs))
    fig, axes = new_figure("Seed 000 Fig. 4: tiny_madrl price and demand paths "
                           "(2 RSUs, 3 UAVs)", 2, 1, sharex=True)
    it = np.arange(1, k + 1)
    # Colour = UAV, line style = RSU: six curves told apart without relying on two similar
    # hues (orange and vermillion were indistinguishable), also in greyscale.
    uavs = sorted({int(i) for i, _ in pairs})
    rsus = sorted({int(j) for _, j in pairs})
    for n, (i, j) in enumerate(pairs):
        lab = f"UAV {i + 1}-RSU {j + 1}"
        style = {"color": colour(uavs.index(int(i))),
                 "linestyle": ("-", "--", "-.", ":")[rsus.index(int(j)) % 4]}
        axes[0].plot(it, price[:k, n], label=lab, **style)
        axes[0].axhline(price[k, n], color=style["color"], linestyle=":", linewidth=0.8)
        axes[1].plot(it, demand[:k, n], label=lab, **style)
    axes[0].set(ylabel="price (price/MHz)")
    axes[1].set(xlabel="iteration", ylabel="bandwidth bought (MHz)")
    axes[0].legend(ncol=3, fontsize="small",
                   title="colour: UAV, line style: RSU; dotted: SE price")
    save_figure(fig, out)
    both = np.concatenate([price[:k], demand[:k]], axis=1)
    settle = settle_index(both)
    opp = opposite_fraction(price[:k], demand[:k])
    gap = float(np.max(np.abs(price[k - 1] - price[k]) / price[k]))
    nums = {"settle_iteration": settle, "opposite_fraction": opp, "iterations": k,
            "max_rel_price_gap_to_se": gap}
    return [
        Finding("tiny-fig4", "seed 000 Fig. 4", "all 6 price and 6 demand paths converge "
                "(paper: about 110 iterations)",
                f"paths settle (every relative change < 1e-3) from iteration "
                f"{settle if settle else 'never'} of {k}; final prices within "
                f"{100 * gap:.2f}% of the SE prices", verdict(settle is not None), out, nums),
        Finding("tiny-fig4", "seed 000 Fig. 4", "price and demand of a pair move in opposite "
                "directions", f"{100 * opp:.1f}% of the moves of a pair's price and demand "
                "have opposite signs", verdict(bool(opp > 0.5)), out, nums)]


_SWEEP_CLAIMS = {
    "cost": ("unit cost c_j of every RSU (price/MHz)", "falls",
             "average RSU reward falls as c rises"),
    "price_cap": ("price cap pbar_j of every RSU (price/MHz)", "rises then falls",
                  "average RSU reward rises then falls as pbar rises"),
    "n_rsus": ("number of RSUs (15 UAVs)", "falls",
               "average RSU reward falls with more RSUs"),
    "n_uavs": ("number of UAVs (5 RSUs)", "rises", "average RSU reward rises with more UAVs"),
}


def fig_pricing_sweeps(paths: Sequence[Path], out: Path, title: str,
                       key: str) -> list[Finding]:
    """Seed 000 Figs. 5-6: average RSU reward vs a parameter for every solver (one panel
    per trace)."""
    fig, axes = new_figure(title, 1, len(paths))
    findings = []
    for ax, path in zip(axes, paths, strict=True):
        param, values, means = sweep_means(path)
        label, claimed, claim = _SWEEP_CLAIMS[param]
        trends = {}
        for k, (s, m) in enumerate(means.items()):
            style = line_style(k)  # colour, line style and marker differ per solver
            ax.plot(values, m, label=policy_label(s), color=style["color"],
                    marker=style["marker"],
                    linestyle="--" if s == "equilibrium" else style["linestyle"])
            trends[s] = trend_label(m)
        ax.set(xlabel=f"{label}", ylabel="average RSU reward (price units)")
        ax.legend(fontsize="small")
        text = "; ".join(f"{s}: [{fmt_value(m)}] ({trends[s]})" for s, m in means.items())
        ok = all(t == claimed for t in trends.values())
        findings.append(Finding(key, title.split(":")[0].replace("Seed", "seed"), claim,
                                f"{label} = [{fmt_value(values)}]: {text}", verdict(ok), out,
                                {"parameter": param, "values": values.tolist(),
                                 "means": {s: m.tolist() for s, m in means.items()},
                                 "trends": trends}))
    save_figure(fig, out)
    return findings

# ------------------------------------------------------------------------- driver
def draw_all(traces: Mapping[str, Path], fig_dir: str | os.PathLike[str]
             ) -> tuple[list[Finding], list[Path]]:
    """Draw every figure whose traces are present and collect the findings.

    Args:
        traces: experiment name (as in ``simulator.app.reproduce``) -> trace path.
        fig_dir: directory for the PNG figures.

    Returns:
        ``(findings, figure paths)`` in paper order.
    """
    d = Path(fig_dir)
    d.mkdir(parents=True, exist_ok=True)
    found: list[Finding] = []

    def png(name: str) -> Path:
        return d / f"{name}.png"

    if "tiny-fig3" in traces:
        found += fig_pricing_convergence(traces["tiny-fig3"], png("tiny-fig3"))
    if "tiny-fig4" in traces:
        found += fig_price_demand_paths(traces["tiny-fig4"], png("tiny-fig4"))
    for key, names, title in (
            ("tiny-fig5", ("tiny-fig5-cost", "tiny-fig5-pbar"),
             "Seed 000 Fig. 5: average RSU reward vs cost and price cap"),
            ("tiny-fig6", ("tiny-fig6-rsus", "tiny-fig6-uavs"),
             "Seed 000 Fig. 6: average RSU reward vs numbers of RSUs and UAVs")):
        present = [traces[n] for n in names if n in traces]
        if present:
            found += fig_pricing_sweeps(present, png(key), title, key)
    if "sync-fig3" in traces:
        found += fig_sync_starts(traces["sync-fig3"], png("sync-fig3"))
    for key in ("sync-fig4", "sync-fig5"):
        if key in traces:
            found += fig_sync_paths(traces[key], png(key), key)
    if "sync-fig6" in traces:
        found += fig_sync_delta(traces["sync-fig6"], png("sync-fig6"))
    for key in SYNC_SWEEPS:
        if key in traces:
            found += fig_sync_sweep(traces[key], png(key), key)
    if "sync-fig13" in traces:
        found += fig_sync_modes(traces["sync-fig13"], png("sync-fig13"))
    figures = list(dict.fromkeys(f.figure for f in found if f.figure is not None))
    return found, figures


def write_report(findings: Sequence[Finding], path: str | os.PathLike[str], *, command: str,
                 budget: str, budget_values: Mapping[str, Any], wall_time_s: float) -> Path:
    """Write REPORT.md: a verdict table, then each figure with its claims and numbers.

    Args:
        findings: from :func:`draw_all`.
        path: the REPORT.md to write (figures are linked relative to its directory).
        command: the command that produced the run.
        budget: budget name (``full``, ``quick``, ``custom``).
        budget_values: the budget's numbers.
        wall_time_s: wall-clock time of the run.

    Returns:
        The path written.
    """
    out = Path(path)
    agree = sum(f.verdict == "agrees" for f in findings)
    sizes = ", ".join(f"{k}={v}" for k, v in budget_values.items())
    lines = ["# Reproducing the seed papers", "",
             f"Command: `{command}`  ", f"Budget: {budget} ({sizes})  ",
             f"Wall time: {wall_time_s:.0f} s  ",
             f"Claims that agree: {agree} of {len(findings)}", "",
             "| figure | paper claim | verdict |", "|---|---|---|"]
    lines += [f"| {f.title} | {f.claim} | **{f.verdict}** |" for f in findings]
    seen: set[Path | None] = set()
    for f in findings:
        if f.figure not in seen:
            seen.add(f.figure)
            lines += ["", f"## {f.title} ({f.key})", ""]
            if f.figure is not None:
                rel = os.path.relpath(f.figure, out.parent)
                lines += [f"![{f.title}]({rel})", ""]
        lines += [f"- **Claim:** {f.claim}  ", f"  **Measured:** {f.measured}  ",
                  f"  **Verdict:** {f.verdict}"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out
