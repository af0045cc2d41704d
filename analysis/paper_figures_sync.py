"""Seed 004 (synchronisation games, Figs. 3-13) redrawn from reproduction traces, with verdicts.

``simulator.app.reproduce`` writes one ``sync-fig*`` trace per experiment: the sensing state of
every VSP over time (share ``x``, twin value ``z``, intensity ``eta``) for each value of the
swept parameter, with the sweep and the payoffs as attributes on ``/sensing``.
:func:`sync_runs` turns such a trace into ``[run, VSP, time]`` arrays; each ``fig_sync_*``
function draws one paper figure from them and checks the paper's claim (convergence to the
ESS, the direction in which a parameter moves the intensity, the leader's payoff by game
mode), returning :class:`~analysis.paper_claims.Finding` records.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from analysis.figures_style import colour, new_figure, save_figure
from analysis.loaders import open_trace
from analysis.paper_claims import Finding, fmt_value, group_attrs, trend_label, verdict

__all__ = ["SYNC_TREND_TOL", "fig_sync_delta", "fig_sync_modes", "fig_sync_paths",
           "fig_sync_starts", "fig_sync_sweep", "sync_runs"]

SYNC_TREND_TOL = 1e-6  # relative change below which a sync value counts as unchanged


# ------------------------------------------------------------------------- readers
def sync_runs(path: Path) -> dict[str, Any]:
    """A sync trace as arrays: ``t`` [n], ``x``/``z``/``eta`` [R, M, n], ``payoff`` [R, M],
    ``theta`` [R, M], ``role`` [R, M], ``values`` (sweep labels), ``parameter``, ``T``.

    Args:
        path: a ``sync-fig*`` trace.

    Returns:
        The dict described above.
    """
    attrs = group_attrs(path, "/sensing")
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
                    f"x1(T/2) = [{fmt_value(mid)}], x1(T) = [{fmt_value(end)}]; "
                    f"max |x1(T/2) - 0.33| "
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
    for ax, lab in zip(axes, ("share x (1)", "twin value z (1)", "intensity eta (1/s)"),
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
                f"x(T/2) = [{fmt_value(nums['x_mid'])}], z(T/2) = [{fmt_value(nums['z_mid'])}]",
                verdict(change < 1e-3), out, nums),
        Finding(key, f"seed 004 Fig. {key[-1]}", "a higher decay rate gives a higher "
                "synchronisation intensity", f"eta(T/2) = [{fmt_value(eta_mid)}] for theta = "
                f"[{fmt_value(run['theta'][0])}]", verdict(rising), out, nums)]


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
                    f"x(T/2) = [{fmt_value(settle)}] s; ESS spread across delta {spread:.4f}",
                    verdict(ok), out, {"settle_s": settle, "ess_spread": spread})]


SYNC_SWEEPS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
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
    claim, checks = SYNC_SWEEPS[key]
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
            parts.append(f"{q}_{n + 1}(T/2) = [{fmt_value(series[:, n])}] ({lab})")
    if key == "sync-fig12":
        inc = np.diff(mid[:, 0])
        nums["increments"] = inc.tolist()
        parts.append(f"increments of eta_1: [{fmt_value(inc)}] ("
                     f"{'shrinking' if np.all(np.diff(inc) < 0) else 'not shrinking'})")
    return [Finding(key, f"seed 004 Fig. {key.split('fig')[1]}", claim,
                    f"{par} = [{fmt_value(vals)}]: " + "; ".join(parts), verdict(ok), out, nums)]


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
