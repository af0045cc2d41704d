"""The seed papers' figures, redrawn from reproduction traces, with claims and verdicts.

``simulator.reproduce`` writes one trace per experiment (layouts in its module docstring);
this module reads only those traces (``analysis.open_trace`` for tables, h5py for the
experiment attributes on ``/pricing`` and ``/sensing``), draws each figure of seed 000
(Tiny MADRL pricing, Figs. 3-6) and seed 004 (synchronisation games, Figs. 3-13), measures
the numbers behind each paper claim and turns them into a verdict ("agrees"/"differs") with
the small pure functions below (:func:`trend_label`, :func:`band_entry`, ...), so a verdict
is always computed, never written by hand. :func:`write_report` assembles ``REPORT.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from analysis.figures_style import colour, new_figure, save_figure
from analysis.loaders import open_trace

__all__ = [
    "SOLVER_ORDER", "Finding", "band_entry", "draw_all", "opposite_fraction",
    "pricing_curves", "settle_index", "sweep_means", "sync_runs", "trend_label", "verdict",
    "write_report",
]

SOLVER_ORDER: tuple[str, ...] = ("tiny_madrl", "ppo", "greedy", "random", "equilibrium")
SYNC_TREND_TOL = 1e-6  # relative change below which a sync value counts as unchanged


@dataclass(frozen=True)
class Finding:
    """One paper claim checked against our numbers.

    Attributes:
        key: experiment/figure id, e.g. ``"tiny-fig3"``.
        title: the paper figure, e.g. ``"seed 000 Fig. 3"``.
        claim: the paper's claim in words.
        measured: our numbers in words.
        verdict: ``"agrees"`` or ``"differs"``.
        figure: the figure file showing it.
        numbers: the numbers themselves (for tests and JSON).
    """

    key: str
    title: str
    claim: str
    measured: str
    verdict: str
    figure: Path | None = None
    numbers: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------- verdict logic
def verdict(ok: bool) -> str:
    """``"agrees"`` if ``ok`` else ``"differs"``."""
    return "agrees" if ok else "differs"


def trend_label(values: Sequence[float], rel_tol: float = 1e-3) -> str:
    """Shape of a series: rises, falls, rises then falls, ... (steps within tolerance are flat).

    Args:
        values: the series in order of the swept parameter.
        rel_tol: a step smaller than ``rel_tol * max|values|`` counts as no change.

    Returns:
        ``"flat"``, ``"rises"``, ``"falls"``, ``"rises then falls"``, ``"falls then rises"``,
        ``"rises then levels off"``, ``"falls then levels off"`` or ``"mixed"``.
    """
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return "flat"
    tol = rel_tol * max(float(np.max(np.abs(v))), 1e-300)
    signs = [int(np.sign(d)) if abs(d) > tol else 0 for d in np.diff(v)]
    nonzero = [s for s in signs if s != 0]
    runs = [s for k, s in enumerate(nonzero) if k == 0 or s != nonzero[k - 1]]
    names = {1: "rises", -1: "falls"}
    if not runs:
        return "flat"
    if len(runs) == 1:
        return names[runs[0]] + (" then levels off" if signs[-1] == 0 else "")
    if len(runs) == 2:
        return f"{names[runs[0]]} then {names[runs[1]]}"
    return "mixed"


def band_entry(curve: Sequence[float], target: float, tol: float = 0.02) -> int | None:
    """First iteration (1-based) from which ``curve`` stays within ``tol`` of ``target``.

    Args:
        curve: values per iteration.
        target: reference value (the equilibrium).
        tol: relative band half-width.

    Returns:
        The 1-based iteration, or None if the last value is outside the band.
    """
    inside = np.abs(np.asarray(curve, dtype=float) - target) <= tol * abs(target)
    if inside.size == 0 or not inside[-1]:
        return None
    outside = np.flatnonzero(~inside)
    return int(outside[-1]) + 2 if outside.size else 1


def settle_index(paths: np.ndarray, rel: float = 1e-3) -> int | None:
    """First iteration (1-based) after which no path changes by ``rel`` or more (relative).

    Args:
        paths: [K, P] values per iteration of P paths.
        rel: relative-change threshold.

    Returns:
        The 1-based iteration k such that every step after it is below ``rel``; None if the
        last step is not.
    """
    p = np.asarray(paths, dtype=float)
    if p.shape[0] < 2:
        return None
    change = np.max(np.abs(np.diff(p, axis=0)) / np.maximum(np.abs(p[1:]), 1e-12), axis=1)
    moving = np.flatnonzero(change >= rel)
    if moving.size and moving[-1] == change.size - 1:
        return None
    return int(moving[-1]) + 2 if moving.size else 1


def opposite_fraction(prices: np.ndarray, demands: np.ndarray, rel: float = 1e-6) -> float:
    """Share of moves in which a pair's price and demand change in opposite directions.

    Args:
        prices: [K, P] price paths.
        demands: [K, P] demand paths of the same pairs.
        rel: changes below ``rel`` (relative) are not moves.

    Returns:
        Opposite-sign moves / moves where both changed (NaN if none).
    """
    dp, db = np.diff(prices, axis=0), np.diff(demands, axis=0)
    moved = (np.abs(dp) > rel * np.abs(prices[1:])) & (np.abs(db) > rel * np.maximum(
        np.abs(demands[1:]), 1e-12))
    if not moved.any():
        return float("nan")
    return float(np.mean(np.sign(dp[moved]) != np.sign(db[moved])))


# ------------------------------------------------------------------------- readers
def _group_attrs(path: Path, group: str) -> dict[str, Any]:
    with h5py.File(path, "r") as f:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                for k, v in f[group].attrs.items()}


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
    attrs = _group_attrs(path, "/pricing")
    rounds = open_trace(path).pricing_rounds
    offsets = np.asarray(attrs["sweep_round_offsets"])
    idx = np.searchsorted(offsets, rounds.round_id.to_numpy(), side="right") - 1
    rounds = rounds.assign(v=idx)
    table = rounds.groupby(["solver", "v"], observed=True)["mean_rsu_utility"].mean()
    means = {s: table[s].to_numpy() for s in SOLVER_ORDER if s in table.index.get_level_values(0)}
    return str(attrs["sweep_parameter"]), np.asarray(attrs["sweep_values"], float), means


def sync_runs(path: Path) -> dict[str, Any]:
    """A sync trace as arrays: ``t`` [n], ``x``/``z``/``eta`` [R, M, n], ``payoff`` [R, M],
    ``theta`` [R, M], ``role`` [R, M], ``values`` (sweep labels), ``parameter``, ``T``.

    Args:
        path: a ``sync-fig*`` trace.

    Returns:
        The dict described above.
    """
    attrs = _group_attrs(path, "/sensing")
    tr = open_trace(path)
    st = tr.sensing_state.sort_values(["vsp_id", "t_s"], kind="stable")
    m = int(attrs["n_vsps"])
    ids = np.sort(st.vsp_id.unique())
    r = ids.size // m
    t = st.loc[st.vsp_id == ids[0], "t_s"].to_numpy()

    def cube(col: str) -> np.ndarray:
        return st[col].to_numpy().reshape(r, m, t.size)

    vs = tr.sensing_vsps.sort_values("vsp_id")
    values = [v.decode() if isinstance(v, bytes) else str(v) for v in attrs["sweep_values"]]
    return {"t": t, "x": cube("share"), "z": cube("twin_value"), "eta": cube("intensity"),
            "payoff": np.asarray(attrs["payoff"], float).reshape(r, m),
            "theta": vs.theta.to_numpy().reshape(r, m),
            "role": vs.role.astype(str).to_numpy().reshape(r, m), "values": values,
            "parameter": str(attrs["sweep_parameter"]), "T": float(attrs["horizon_s"])}


def _mid(run: Mapping[str, Any]) -> int:
    return int(np.argmin(np.abs(run["t"] - run["T"] / 2)))


def _fmt(values: Sequence[float], digits: int = 4) -> str:
    return ", ".join(f"{v:.{digits}g}" for v in values)


# ------------------------------------------------------------------------- seed 000
def fig_pricing_convergence(path: Path, out: Path) -> list[Finding]:
    """Seed 000 Fig. 3: average RSU reward per iteration of every solver vs the SE."""
    curves, se = pricing_curves(path)
    fig, (ax,) = new_figure("Seed 000 Fig. 3: average RSU reward per iteration (5 RSUs, 15 UAVs)")
    ratio, band = {}, {}
    for k, s in enumerate(s for s in SOLVER_ORDER if s in curves):
        c = curves[s]
        ax.plot(np.arange(1, c.size + 1), c, color=colour(k), label=s)
        ratio[s], band[s] = float(c[-1] / se), band_entry(c, se)
    ax.axhline(se, color="black", linestyle="--", label="equilibrium (SE)")
    ax.axhspan(0.98 * se, 1.02 * se, color="#cccccc", alpha=0.4, label="SE ± 2%")
    ax.set(xlabel="iteration", ylabel="average RSU reward (price units)")
    ax.legend()
    save_figure(fig, out)
    learned = [s for s in ("tiny_madrl", "ppo", "greedy", "random") if s in ratio]
    closest = min(learned, key=lambda s: abs(1 - ratio[s]))
    bt, bp = band.get("tiny_madrl"), band.get("ppo")
    faster = bt is not None and (bp is None or bt < bp)
    text = "; ".join(f"{s}: final/SE {ratio[s]:.4f}, 2% band from iteration "
                     f"{band[s] if band[s] is not None else 'never'}" for s in learned)
    nums = {"se": se, "ratio": ratio, "band_iteration": band, "closest": closest}
    return [
        Finding("tiny-fig3", "seed 000 Fig. 3", "tiny_madrl ends closest to the SE",
                f"SE average reward {se:.4f}; {text}; closest: {closest}",
                verdict(closest == "tiny_madrl"), out, nums),
        Finding("tiny-fig3", "seed 000 Fig. 3", "tiny_madrl converges faster than ppo",
                f"2% band from iteration tiny_madrl {bt if bt else 'never'} vs ppo "
                f"{bp if bp else 'never'}", verdict(faster), out, nums)]


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
    for n, (i, j) in enumerate(pairs):
        lab = f"UAV {i + 1}-RSU {j + 1}"
        axes[0].plot(it, price[:k, n], color=colour(n), label=lab)
        axes[0].axhline(price[k, n], color=colour(n), linestyle=":", linewidth=0.8)
        axes[1].plot(it, demand[:k, n], color=colour(n), label=lab)
    axes[0].set(ylabel="price (price/MHz)")
    axes[1].set(xlabel="iteration", ylabel="bandwidth bought (MHz)")
    axes[0].legend(ncol=3, fontsize="small", title="dotted: SE price")
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
    "cost": ("c (all RSUs)", "falls", "average RSU reward falls as c rises"),
    "price_cap": ("pbar (all RSUs)", "rises then falls",
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
            ax.plot(values, m, marker="o", color=colour(k), label=s,
                    linestyle="--" if s == "equilibrium" else "-")
            trends[s] = trend_label(m)
        ax.set(xlabel=f"{label}", ylabel="average RSU reward (price units)")
        ax.legend(fontsize="small")
        text = "; ".join(f"{s}: [{_fmt(m)}] ({trends[s]})" for s, m in means.items())
        ok = all(t == claimed for t in trends.values())
        findings.append(Finding(key, title.split(":")[0].replace("Seed", "seed"), claim,
                                f"{label} = [{_fmt(values)}]: {text}", verdict(ok), out,
                                {"parameter": param, "values": values.tolist(),
                                 "means": {s: m.tolist() for s, m in means.items()},
                                 "trends": trends}))
    save_figure(fig, out)
    return findings


# ------------------------------------------------------------------------- seed 004
def fig_sync_starts(path: Path, out: Path) -> list[Finding]:
    """Seed 004 Fig. 3: shares from every x1(0) converge to the ESS (0.33, 0.67)."""
    run = sync_runs(path)
    fig, (ax,) = new_figure("Seed 004 Fig. 3: share of VSP 1 from different starts (2 VSPs)")
    for r, v in enumerate(run["values"]):
        ax.plot(run["t"], run["x"][r, 0], color=colour(r), label=f"x1(0) = {v}")
    ax.axhline(0.33, color="black", linestyle="--", label="0.33")
    ax.set(xlabel="time (s)", ylabel="share of sensing UAVs x1 (1)")
    ax.legend(fontsize="small")
    save_figure(fig, out)
    mid = run["x"][:, 0, _mid(run)]
    end = run["x"][:, 0, -1]
    dev = float(np.max(np.abs(mid - 0.33)))
    return [Finding("sync-fig3", "seed 004 Fig. 3", "shares converge to (0.33, 0.67) from "
                    "every x1(0) in [0.2, 0.8] (± 0.02)",
                    f"x1(T/2) = [{_fmt(mid)}], x1(T) = [{_fmt(end)}]; max |x1(T/2) - 0.33| "
                    f"= {dev:.4f}", verdict(dev <= 0.02), out,
                    {"x1_mid": mid.tolist(), "x1_end": end.tolist(), "max_dev": dev})]


def fig_sync_paths(path: Path, out: Path, key: str) -> list[Finding]:
    """Seed 004 Figs. 4-5: x, z and eta paths; convergence; intensity rises with theta."""
    run = sync_runs(path)
    m = run["x"].shape[1]
    fig, axes = new_figure(f"Seed 004 Fig. {key[-1]}: {m} VSPs, open-loop Nash", 3, 1,
                           sharex=True)
    for n in range(m):
        for ax, q in zip(axes, ("x", "z", "eta"), strict=True):
            ax.plot(run["t"], run[q][0, n], color=colour(n),
                    label=f"VSP {n + 1} (theta {run['theta'][0, n]:g})")
    for ax, lab in zip(axes, ("share x (1)", "twin value z (price)", "intensity eta (1)"),
                       strict=True):
        ax.set(ylabel=lab)
    axes[2].set(xlabel="time (s)")
    axes[0].legend(fontsize="small", ncol=2)
    save_figure(fig, out)
    i_mid = _mid(run)
    i_ref = int(np.argmin(np.abs(run["t"] - (run["t"][i_mid] - 30.0))))
    stack = np.concatenate([run[q][0] for q in ("x", "z", "eta")])
    change = float(np.max(np.abs(stack[:, i_mid] - stack[:, i_ref]) / np.abs(stack[:, i_mid])))
    eta_mid = run["eta"][0, :, i_mid]
    order = np.argsort(run["theta"][0])
    rising = bool(np.all(np.diff(eta_mid[order]) > 0))
    nums = {"eta_mid": eta_mid.tolist(), "x_mid": run["x"][0, :, i_mid].tolist(),
            "z_mid": run["z"][0, :, i_mid].tolist(), "rel_change_30s": change}
    return [
        Finding(key, f"seed 004 Fig. {key[-1]}", f"with {m} VSPs all paths converge",
                f"largest relative change of x, z, eta over the 30 s before T/2: {change:.2e}; "
                f"x(T/2) = [{_fmt(nums['x_mid'])}], z(T/2) = [{_fmt(nums['z_mid'])}]",
                verdict(change < 1e-3), out, nums),
        Finding(key, f"seed 004 Fig. {key[-1]}", "a higher decay rate gives a higher "
                "synchronisation intensity", f"eta(T/2) = [{_fmt(eta_mid)}] for theta = "
                f"[{_fmt(run['theta'][0])}]", verdict(rising), out, nums)]


def fig_sync_delta(path: Path, out: Path) -> list[Finding]:
    """Seed 004 Fig. 6: larger delta converges faster to the same ESS."""
    run = sync_runs(path)
    i_mid = _mid(run)
    fig, axes = new_figure("Seed 004 Fig. 6: shares for different revision rates delta", 1, 1)
    settle, ess = [], []
    for r, v in enumerate(run["values"]):
        x = run["x"][r][:, : i_mid + 1]
        off = np.max(np.abs(x - x[:, -1:]), axis=0) >= 0.01
        settle.append(float(run["t"][np.flatnonzero(off)[-1] + 1]) if off.any() else 0.0)
        ess.append(x[:, -1])
        for n in range(x.shape[0]):
            axes[0].plot(run["t"], run["x"][r, n], color=colour(n),
                         linestyle=("-", "--", ":", "-.")[r % 4],
                         label=f"VSP {n + 1}, delta {v}" if r == 0 or n == 0 else None)
    axes[0].set(xlabel="time (s)", ylabel="share x (1)")
    axes[0].legend(fontsize="small", ncol=2)
    save_figure(fig, out)
    spread = float(np.max(np.ptp(np.array(ess), axis=0)))
    ok = bool(np.all(np.diff(settle) < 0)) and spread < 0.02
    return [Finding("sync-fig6", "seed 004 Fig. 6", "larger delta converges faster, same ESS",
                    f"delta = [{', '.join(run['values'])}]: time to stay within 0.01 of "
                    f"x(T/2) = [{_fmt(settle)}] s; ESS spread across delta {spread:.4f}",
                    verdict(ok), out, {"settle_s": settle, "ess_spread": spread})]


_SYNC_SWEEPS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    # key -> (claim, [(quantity, which VSPs: "1" | "others" | "all", direction)])
    "sync-fig7": ("raising theta_1 raises eta_1 and x_1 and lowers the others",
                  [("eta", "1", "rises"), ("x", "1", "rises"), ("eta", "others", "falls"),
                   ("x", "others", "falls")]),
    "sync-fig8": ("larger rho lowers every eta", [("eta", "all", "falls")]),
    "sync-fig9": ("larger N raises every eta", [("eta", "all", "rises")]),
    "sync-fig10": ("larger alpha_1 raises eta_1", [("eta", "1", "rises")]),
    "sync-fig11": ("larger k_1 lowers eta_1", [("eta", "1", "falls")]),
    "sync-fig12": ("larger w3_1 raises eta_1, saturating", [("eta", "1", "rises")]),
}


def fig_sync_sweep(path: Path, out: Path, key: str) -> list[Finding]:
    """Seed 004 Figs. 7-12: eta_1 paths per parameter value and mid-horizon eta per VSP."""
    run = sync_runs(path)
    claim, checks = _SYNC_SWEEPS[key]
    i_mid = _mid(run)
    par = run["parameter"]
    vals = np.array([float(v) for v in run["values"]])
    fig, axes = new_figure(f"Seed 004 Fig. {key.split('fig')[1]}: sensitivity to {par}", 1, 2)
    for r, v in enumerate(run["values"]):
        axes[0].plot(run["t"], run["eta"][r, 0], color=colour(r), label=f"{par} = {v}")
    axes[0].set(xlabel="time (s)", ylabel="intensity eta_1 (1)")
    axes[0].legend(fontsize="small")
    mid = run["eta"][:, :, i_mid]  # [R, M]
    for n in range(mid.shape[1]):
        axes[1].plot(vals, mid[:, n], marker="o", color=colour(n), label=f"VSP {n + 1}")
    axes[1].set(xlabel=par, ylabel="eta at T/2 (1)")
    axes[1].legend(fontsize="small")
    save_figure(fig, out)
    parts, ok, nums = [], True, {"values": vals.tolist(), "eta_mid": mid.tolist(),
                                 "x_mid": run["x"][:, :, i_mid].tolist()}
    for q, which, direction in checks:
        series = run[q][:, :, i_mid]
        vsps = {"1": [0], "others": list(range(1, series.shape[1])),
                "all": list(range(series.shape[1]))}[which]
        for n in vsps:
            lab = trend_label(series[:, n], SYNC_TREND_TOL)
            ok &= lab == direction
            parts.append(f"{q}_{n + 1}(T/2) = [{_fmt(series[:, n])}] ({lab})")
    if key == "sync-fig12":
        inc = np.diff(mid[:, 0])
        nums["increments"] = inc.tolist()
        parts.append(f"increments of eta_1: [{_fmt(inc)}] ("
                     f"{'shrinking' if np.all(np.diff(inc) < 0) else 'not shrinking'})")
    return [Finding(key, f"seed 004 Fig. {key.split('fig')[1]}", claim,
                    f"{par} = [{_fmt(vals)}]: " + "; ".join(parts), verdict(ok), out, nums)]


def fig_sync_modes(path: Path, out: Path) -> list[Finding]:
    """Seed 004 Fig. 13: leader payoff under Stackelberg, simultaneous (Nash) and static play."""
    run = sync_runs(path)
    modes = run["values"]
    leader = int(np.flatnonzero(run["role"][modes.index("stackelberg")] == "leader")[0])
    pay = {m: float(run["payoff"][r, leader]) for r, m in enumerate(modes)}
    fig, axes = new_figure("Seed 004 Fig. 13: leader (VSP 3) discounted payoff by mode", 1, 2)
    axes[0].bar(modes, [pay[m] for m in modes], color=[colour(k) for k in range(len(modes))])
    axes[0].set(ylabel="leader discounted payoff (price)")
    base = pay["static"]
    axes[1].bar(modes, [pay[m] - base for m in modes],
                color=[colour(k) for k in range(len(modes))])
    axes[1].set(ylabel="payoff minus static payoff (price)")
    save_figure(fig, out)
    ok = pay["stackelberg"] >= pay["nash"] >= pay["static"]
    return [Finding("sync-fig13", "seed 004 Fig. 13", "leader payoff: Stackelberg >= "
                    "simultaneous >= static", f"leader VSP {leader + 1}: Stackelberg "
                    f"{pay['stackelberg']:.6f}, simultaneous {pay['nash']:.6f}, static "
                    f"{pay['static']:.6f}", verdict(ok), out, {"payoff": pay})]


# ------------------------------------------------------------------------- driver
def draw_all(traces: Mapping[str, Path], fig_dir: str | os.PathLike[str]
             ) -> tuple[list[Finding], list[Path]]:
    """Draw every figure whose traces are present and collect the findings.

    Args:
        traces: experiment name (as in ``simulator.reproduce``) -> trace path.
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
    for key in _SYNC_SWEEPS:
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
