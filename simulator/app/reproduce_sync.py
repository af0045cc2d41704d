"""Seed 004 (synchronisation games) experiments of ``uavtwin reproduce``.

One trace per paper figure (Figs. 3-13): the base game comes from
``scenarios/sync/figN.yaml`` (paper defaults if the file is missing), the swept value or
controller varies per run, and run ``r`` of an ``M``-VSP game writes ``vsp_id = r * M + m``
to ``/sensing/state`` and ``/sensing/vsps``; ``/sensing`` attributes hold the sweep,
``n_vsps``, the horizon and the exact discounted payoffs. The driver is
:mod:`simulator.app.reproduce`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agents.sync.game import solve
from agents.sync.params import SyncParams
from simulator.trace.writer import TraceWriter

__all__ = ["SYNC_EXPERIMENTS", "run_sync"]

log = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[2]


def _set_vsp(name: str, row: int | None = None) -> Callable[[SyncParams, float], SyncParams]:
    """A setter of a scalar (``row`` None) or of VSP 1's entry of a per-VSP field."""
    def setter(p: SyncParams, value: float) -> SyncParams:
        if name == "x0":
            return dataclasses.replace(p, x0=np.array([value, 1.0 - value]))
        if name == "w3":
            w = np.array(p.w, dtype=float).copy()
            w[2, 0] = value
            return dataclasses.replace(p, w=w)
        if row is None:
            return dataclasses.replace(p, **{name: value})
        arr = np.array(getattr(p, name), dtype=float).copy()
        arr[row] = value
        return dataclasses.replace(p, **{name: arr})
    return setter


# figure -> (M for the fallback defaults, label, values, setter); values as in
# scenarios/sync/figN.yaml ("Varies:" comment); the base game comes from that file.
SYNC_EXPERIMENTS: dict[str, tuple[int, str, tuple[Any, ...], Any]] = {
    "sync-fig3": (2, "x1(0)", (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8), _set_vsp("x0")),
    "sync-fig4": (2, "none", (0.0,), None),
    "sync-fig5": (4, "none", (0.0,), None),
    "sync-fig6": (4, "delta", (0.02, 0.05, 0.1), _set_vsp("delta")),
    "sync-fig7": (4, "theta_1", (0.05, 0.1, 0.15), _set_vsp("theta", 0)),
    "sync-fig8": (4, "rho", (0.5, 1.0, 2.0), _set_vsp("rho")),
    "sync-fig9": (4, "N", (350.0, 500.0, 550.0), _set_vsp("N")),
    "sync-fig10": (4, "alpha_1", (0.01, 0.5, 1.0), _set_vsp("alpha", 0)),
    "sync-fig11": (4, "k_1", (0.1, 0.3, 0.5), _set_vsp("k", 0)),
    "sync-fig12": (4, "w3_1", (0.01, 0.02, 0.03), _set_vsp("w3")),
    "sync-fig13": (3, "controller", ("stackelberg", "nash", "static"), None),
}


def _sync_base(name: str, m_default: int) -> tuple[SyncParams, str]:
    """Base game of a sync figure: scenarios/sync/figN.yaml if present, else paper defaults."""
    scen = REPO_ROOT / "scenarios" / "sync" / f"{name.split('-', 1)[1]}.yaml"
    if scen.is_file():
        from simulator.config.loader import load_scenario
        from simulator.world.sensing import sync_params_from_config

        return sync_params_from_config(load_scenario(scen).sensing), scen.read_text()
    params = SyncParams.paper_defaults(M=4 if m_default == 3 else m_default)
    if m_default == 3:  # Fig. 13: VSPs 1-3 of the 4-VSP setting, delta 0.02, leader VSP 3
        params = dataclasses.replace(
            params, theta=params.theta[:3], d=params.d[:3], alpha=params.alpha[:3],
            k=params.k[:3], v=params.v[:3], c=params.c[:3], x0=np.full(3, 1 / 3),
            z0=params.z0[:3], w=np.asarray(params.w)[:, :3], intensity=None, delta=0.02,
            leaders=(2,))
    return params, yaml.safe_dump({"defaults": f"SyncParams.paper_defaults(M={m_default})"})


def run_sync(name: str, path: Path) -> None:
    """Solve every run of one sync figure and write them into a trace at ``path``."""
    m_default, param, values, setter = SYNC_EXPERIMENTS[name]
    base, text = _sync_base(name, m_default)
    m = base.M
    payoff, converged = [], []
    with TraceWriter(path, scenario_yaml=text, seed=0) as tw:
        for r, value in enumerate(values):
            params = setter(base, value) if setter is not None else base
            mode = value if param == "controller" else "nash"
            lead = (params.leaders or None) if mode == "stackelberg" else None
            sol = solve(params, mode, leaders=lead)
            tr = sol.trajectory
            if not sol.converged:
                log.warning("%s: run %s did not converge: %s", name, value, sol.message)
            payoff.extend(np.asarray(sol.payoff, dtype=float).tolist())
            converged.append(bool(sol.converged))
            disc = np.exp(-params.rho * tr.t)[None, :] * tr.payoff_rate
            cum = np.concatenate([np.zeros((m, 1)), np.cumsum(
                0.5 * (disc[:, 1:] + disc[:, :-1]) * np.diff(tr.t)[None, :], axis=1)], axis=1)
            ids = (r * m + np.arange(m)).astype(np.int32)
            n = tr.t.size
            tw.append("/sensing/state", t_s=np.repeat(tr.t, m), vsp_id=np.tile(ids, n),
                      share=tr.x.T.ravel(), twin_value=tr.z.T.ravel(),
                      intensity=tr.eta.T.ravel(), payoff_rate=tr.payoff_rate.T.ravel(),
                      cumulative_payoff=cum.T.ravel())
            role = np.full(m, 2, dtype=np.uint8)
            if mode == "stackelberg":
                role[:] = 0
                role[list(sol.leaders)] = 1
            tw.append("/sensing/vsps", vsp_id=ids, theta=params.theta, twins=params.d.astype(
                np.int32), alpha=params.alpha, k=params.k, v=params.v, c=params.c, role=role)
        tw.set_attrs("/sensing", experiment=name, sweep_parameter=param,
                     sweep_values=np.asarray([str(v) for v in values], dtype="S"), n_vsps=m,
                     horizon_s=float(base.T), payoff=np.asarray(payoff),
                     converged=np.asarray(converged))
