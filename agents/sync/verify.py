"""Checking an equilibrium by brute force: can any VSP gain by changing its own path?

A candidate solution of the synchronisation game (Nash, Stackelberg followers, static) is
verified independently of how it was computed: holding the other VSPs' intensity paths fixed,
VSP ``m``'s path is perturbed by a piecewise-constant function on a few intervals (short ones
early, where discounting makes payoffs count, long ones late), its discounted objective is
recomputed by forward integration, and the best perturbation is searched for (a handful of
fixed directions, then L-BFGS-B with central-difference gradients; every candidate of one
gradient is integrated in one batched ODE solve).  The largest improvement found is the VSP's
*unilateral gain*; at an open-loop Nash equilibrium it is ~0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from agents.sync.dynamics import EtaFn, simulate_batch
from agents.sync.params import SyncParams

log = logging.getLogger(__name__)


def perturbation_edges(params: SyncParams, pieces: int) -> np.ndarray:
    """Interval edges for piecewise-constant perturbations: geometric, from ~0.5/rho to T.

    Args:
        params: the game (uses T, rho).
        pieces: number of intervals (>= 1).

    Returns:
        Increasing edges [pieces + 1] from 0 to T.
    """
    first = min(params.T / pieces, 0.5 / max(params.rho, 1e-3))
    inner = np.geomspace(first, params.T, pieces)[:-1] if pieces > 1 else np.array([])
    return np.concatenate([[0.0], inner, [params.T]])


def perturbed_batch(base: EtaFn, player: int, edges: np.ndarray, deltas: np.ndarray,
                    scale: np.ndarray | None = None) -> Callable[[float], np.ndarray]:
    """Batched control: ``base`` with VSP ``player`` shifted by piecewise constants.

    Args:
        base: the unperturbed control (times [q] -> [M, q]).
        player: 0-based VSP index whose path is perturbed.
        edges: interval edges [K + 1].
        deltas: additive perturbations [K, B], one column per candidate.
        scale: optional multiplicative factors [B] applied to the player's base path.

    Returns:
        time (scalar) -> intensities [M, B].
    """
    n_batch = deltas.shape[1]
    fac = np.ones(n_batch) if scale is None else np.asarray(scale, dtype=float)

    def fn(t: float) -> np.ndarray:
        e = base(np.array([t]))[:, 0]
        out = np.repeat(e[:, None], n_batch, axis=1)
        piece = min(int(np.searchsorted(edges, t, side="right")) - 1, edges.size - 2)
        out[player] = e[player] * fac + deltas[max(piece, 0)]
        return out

    return fn


def unilateral_gains(
    params: SyncParams,
    eta_fn: EtaFn,
    players: Sequence[int] | None = None,
    *,
    pieces: int = 6,
    maxiter: int = 25,
    rtol: float = 1e-10,
) -> np.ndarray:
    """Each VSP's best improvement of its discounted objective by changing only its own path.

    Args:
        params: the game.
        eta_fn: the joint control to check (times [q] -> [M, q]), e.g. ``solution.eta_fn``.
        players: 0-based VSPs to check (default all); others get NaN.
        pieces: intervals of the piecewise-constant perturbation.
        maxiter: L-BFGS-B iterations per VSP.
        rtol: integrator tolerance (atol scales with it).

    Returns:
        Gains [M] (>= 0; NaN for unchecked VSPs).
    """
    players = list(range(params.M)) if players is None else [int(i) for i in players]
    edges = perturbation_edges(params, pieces)
    gains = np.full(params.M, np.nan)
    for m in players:
        gains[m] = _gain_of(params, eta_fn, m, edges, maxiter, rtol)
    return gains


def _gain_of(params: SyncParams, eta_fn: EtaFn, m: int, edges: np.ndarray, maxiter: int,
             rtol: float) -> float:
    k = edges.size - 1
    probe = eta_fn(np.linspace(0.0, params.T, 50))[m]
    size = 0.05 * max(1.0, float(np.mean(np.abs(probe))))
    atol = rtol * 1e-2

    def run(deltas: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
        ctrl = perturbed_batch(eta_fn, m, edges, deltas, scale)
        return simulate_batch(params, ctrl, deltas.shape[1], rtol=rtol, atol=atol)[m]

    # fixed directions: none, +/- each piece, +/- 1 % and 5 % of the whole path
    eye = np.eye(k) * size
    fixed = np.concatenate([np.zeros((k, 5)), eye, -eye], axis=1)
    scales = np.concatenate([[1.0, 1.01, 0.99, 1.05, 0.95], np.ones(2 * k)])
    vals = run(fixed, scales)
    base_val = float(vals[0])
    best = float(vals.max())

    h = 1e-3 * size
    cache: dict[bytes, tuple[float, np.ndarray]] = {}

    def fun(a: np.ndarray) -> tuple[float, np.ndarray]:
        key = a.tobytes()
        if key not in cache:
            cols = np.concatenate([a[:, None], a[:, None] + np.eye(k) * h,
                                   a[:, None] - np.eye(k) * h], axis=1)
            j = run(cols)
            grad = (j[1:k + 1] - j[k + 1:]) / (2 * h)
            cache[key] = (-float(j[0]), -grad)
        return cache[key]

    res = minimize(fun, np.zeros(k), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "gtol": 1e-9})
    best = max(best, -float(res.fun))
    gain = max(0.0, best - base_val)
    log.debug("VSP %d: base %.6g, gain %.3g (%s)", m, base_val, gain, res.message)
    return gain
