"""Static baseline (MODEL.md B6) and user-given constant intensities.

In the paper's "static Stackelberg game with an evolutionary game" the VSPs choose one
intensity each at time 0 and keep it; the UAV population then evolves under those constants.
The constants here are a Nash equilibrium of the discounted objectives obtained by forward
simulation: Gauss-Seidel best responses, each a 1-D search (a batched grid of candidates,
zoomed in around the best one until the interval is tiny).
"""

from __future__ import annotations

import logging

import numpy as np

from agents.sync.dynamics import simulate_batch
from agents.sync.params import SyncParams

log = logging.getLogger(__name__)


def intensity_upper_bound(params: SyncParams) -> np.ndarray:
    """Generous upper bound on sensible constant intensities [M].

    Args:
        params: the game.

    Returns:
        ``4 max(theta_m v_m, N b / (d_m k_m), 1)`` per VSP.
    """
    return 4.0 * np.maximum.reduce([params.theta * np.abs(params.v),
                                    params.N * params.b / (params.d * params.k),
                                    np.ones(params.M)])


def constant_best_response(params: SyncParams, eta: np.ndarray, m: int, *, grid: int = 21,
                           zooms: int = 8, rtol: float = 1e-9) -> tuple[float, float]:
    """Best constant intensity of VSP ``m`` against the others' constants.

    Args:
        params: the game.
        eta: current constants [M] (entry m is ignored).
        m: 0-based VSP index.
        grid: candidates per zoom level (one batched ODE solve each).
        zooms: zoom levels (interval shrinks by ``grid / 4`` per level).
        rtol: integrator tolerance.

    Returns:
        (best constant, its discounted objective).
    """
    lo, hi = 0.0, float(intensity_upper_bound(params)[m])
    best_c, best_j = float(eta[m]), -np.inf
    for _ in range(zooms):
        cand = np.linspace(lo, hi, grid)
        vals = np.repeat(np.asarray(eta, float)[:, None], grid, axis=1)
        vals[m] = cand
        obj = simulate_batch(params, lambda t, vals=vals: vals, grid, rtol=rtol,
                             atol=rtol * 1e-2)[m]
        i = int(np.argmax(obj))
        if obj[i] > best_j:
            best_c, best_j = float(cand[i]), float(obj[i])
        step = (hi - lo) / (grid - 1)
        lo, hi = max(0.0, cand[i] - 2 * step), cand[i] + 2 * step
    return best_c, best_j


def solve_static(params: SyncParams, *, tol: float = 1e-6, max_rounds: int = 40
                 ) -> tuple[np.ndarray, bool, str]:
    """Nash equilibrium in constant intensities (MODEL B6).

    Args:
        params: the game.
        tol: stop when no constant moves more than ``tol`` times its upper bound.
        max_rounds: Gauss-Seidel rounds.

    Returns:
        (constants [M], converged, message).
    """
    bound = intensity_upper_bound(params)
    eta = np.minimum(params.x0 * params.N * params.b / (params.d * params.k), bound)
    moved = np.inf
    for rnd in range(1, max_rounds + 1):
        moved = 0.0
        for m in range(params.M):
            c, _ = constant_best_response(params, eta, m)
            moved = max(moved, abs(c - eta[m]) / bound[m])
            eta[m] = c
        log.debug("static round %d: eta %s, move %.2e", rnd, eta, moved)
        if moved <= tol:
            return eta, True, f"static best responses converged in {rnd} rounds (move {moved:.1e})"
    return eta, False, f"static best responses did not converge in {max_rounds} rounds " \
                       f"(last relative move {moved:.1e})"

