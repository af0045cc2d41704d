"""Stackelberg differential game of the VSPs, by the direct method (MODEL.md B5).

Leaders announce their whole intensity paths first; the followers then play the open-loop
Nash equilibrium among themselves (B4) given those paths.  Instead of the paper's
costate-of-costate system, each leader's path is written as its open-loop Nash path plus a
piecewise-linear correction with knots at a few times (dense early, sparse late; continuous,
so the followers' collocation mesh stays small), the followers' best response to every
candidate is computed with
the B4 boundary-value solver (warm-started from the previous response), and the leader's
discounted objective is maximised with L-BFGS-B (finite-difference gradients).  Several
leaders iterate best responses among themselves.

Because a zero correction reproduces the simultaneous-move Nash equilibrium, a leader's
Stackelberg payoff is never below its Nash payoff (up to solver tolerance): a correction is
only accepted if it improves the leader's objective.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate import simpson
from scipy.optimize import minimize

from agents.sync.dynamics import EtaFn, payoff_rate, simulate
from agents.sync.nash import OpenLoopResult, default_mesh, solve_open_loop
from agents.sync.params import SyncParams
from agents.sync.verify import perturbation_edges

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StackelbergResult:
    """Outcome of the leaders' optimisation.

    Attributes:
        eta_fn: joint control (leaders' corrected paths, followers' response).
        converged: the Nash start, every accepted follower response and the leaders'
            optimisation all succeeded.
        message: one-line diagnostics.
        corrections: leaders' corrections at the knots [L, K + 1] (linear in between).
        edges: knot times [K + 1] of the corrections.
        nash_payoff: leaders' discounted objectives at the simultaneous Nash [L].
        leader_payoff: leaders' discounted objectives at the Stackelberg solution [L].
        follower_solves: number of follower boundary-value solves.
    """

    eta_fn: EtaFn
    converged: bool
    message: str
    corrections: np.ndarray
    edges: np.ndarray
    nash_payoff: np.ndarray
    leader_payoff: np.ndarray
    follower_solves: int


def _leader_control(base: EtaFn, leaders: np.ndarray, edges: np.ndarray,
                    corr: np.ndarray) -> EtaFn:
    def fn(t: np.ndarray) -> np.ndarray:
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        out = base(tt)
        shift = np.stack([np.interp(tt, edges, row) for row in corr])
        out[leaders] = np.maximum(out[leaders] + shift, 0.0)
        return out
    return fn


def _objective(params: SyncParams, eta_fn: EtaFn) -> np.ndarray:
    return simulate(params, eta_fn, np.array([0.0, params.T]), rtol=1e-9, atol=1e-10).payoff


def _objective_on_solution(params: SyncParams, res: OpenLoopResult) -> np.ndarray:
    """Discounted objectives by Simpson quadrature on the collocation solution itself."""
    t = default_mesh(params, 2001)
    y = res.sol(t)
    m = params.M
    rate = payoff_rate(params, y[:m], y[m:2 * m], res.eta_fn(t))
    return simpson(np.exp(-params.rho * t) * rate, x=t, axis=1)


def solve_stackelberg(
    params: SyncParams,
    leaders: Sequence[int],
    *,
    nash: OpenLoopResult | None = None,
    pieces: int = 4,
    maxiter: int = 12,
    rounds: int = 3,
) -> StackelbergResult:
    """Leaders' optimal open-loop paths against the followers' Nash response.

    Args:
        params: the game.
        leaders: 0-based leader indices (non-empty, at least one follower left).
        nash: the simultaneous open-loop Nash solution (computed if None).
        pieces: intervals between the knots of each leader's correction.
        maxiter: L-BFGS-B iterations per leader and round.
        rounds: best-response rounds among several leaders (1 if a single leader).

    Returns:
        The :class:`StackelbergResult`.

    Raises:
        ValueError: for empty leaders, bad indices, or no follower.
    """
    lead = np.asarray(sorted({int(i) for i in leaders}), dtype=int)
    if lead.size == 0 or lead.min() < 0 or lead.max() >= params.M or lead.size == params.M:
        raise ValueError(f"solve_stackelberg: leaders {list(leaders)} invalid for "
                         f"M={params.M} (need 1..M-1 indices in 0..M-1)")
    followers = [i for i in range(params.M) if i not in set(lead.tolist())]
    nash = solve_open_loop(params) if nash is None else nash
    edges = perturbation_edges(params, pieces)
    corr = np.zeros((lead.size, edges.size))
    if not nash.converged:
        return StackelbergResult(nash.eta_fn, False, f"Nash start failed: {nash.message}",
                                 corr, edges, np.full(lead.size, np.nan),
                                 np.full(lead.size, np.nan), 0)
    # warm start for the followers: Nash states + the followers' costates
    m = params.M
    rows = list(range(2 * m))
    for f in followers:
        rows += list(range(2 * m + f * (m + 1), 2 * m + (f + 1) * (m + 1)))
    warm = [OpenLoopResult(nash.t, nash.y[rows], nash.eta_fn, True, "", 0.0, nash.t.size,
                            nash.sol)]
    solves = [0]
    failures: list[str] = []

    def respond(c: np.ndarray) -> tuple[OpenLoopResult, np.ndarray]:
        ctrl = _leader_control(nash.eta_fn, lead, edges, c)
        res = solve_open_loop(params, followers, ctrl, guess=warm[0], max_nodes=4000, sweeps=6)
        solves[0] += 1
        if res.converged:
            warm[0] = res
        else:
            failures.append(res.message)
        return res, _objective_on_solution(params, res)

    base_res, base_obj = respond(corr)
    nash_pay = base_obj[lead].copy()
    best_pay = nash_pay.copy()
    best_res = base_res
    scale = np.maximum(1.0, np.abs(nash.eta_fn(np.linspace(0, params.T, 50))[lead]).mean(1))
    n_rounds = 1 if lead.size == 1 else rounds
    ok = True
    for _ in range(n_rounds):
        for li, leader in enumerate(lead):
            def neg(a: np.ndarray, li: int = li, leader: int = leader,
                    start: np.ndarray = corr) -> float:
                c = start.copy()
                c[li] = a * scale[li]
                res, obj = respond(c)
                return -float(obj[leader]) if res.converged else np.inf
            out = minimize(neg, np.zeros(corr.shape[1]), method="L-BFGS-B",
                           options={"maxiter": maxiter, "eps": 1e-3})
            trial = corr.copy()
            trial[li] = out.x * scale[li]
            res, obj = respond(trial)
            if res.converged and obj[leader] > best_pay[li]:
                corr, best_res = trial, res
                best_pay = obj[lead]
            ok = ok and res.converged
    final_obj = _objective(params, best_res.eta_fn)[lead]
    nash_pay = _objective(params, nash.eta_fn)[lead]
    msg = (f"Stackelberg: leaders {[int(i) + 1 for i in lead]} (1-based), payoff "
           f"{np.round(final_obj, 6).tolist()} vs Nash {np.round(nash_pay, 6).tolist()}; "
           f"{solves[0]} follower solves, {len(failures)} failed")
    return StackelbergResult(best_res.eta_fn, bool(ok and best_res.converged), msg, corr,
                             edges, nash_pay, final_obj, solves[0])
