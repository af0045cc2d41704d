"""Pricing policies: how the RSUs choose their prices in one pricing round (MODEL A4).

A policy turns a :class:`~agents.pricing.game.PricingGame` into a
:class:`RoundOutcome`.  ``equilibrium`` computes the Stackelberg equilibrium directly (the
"theoretical value" of the paper, needing every UAV's private data).  The others play the
round as a repeated game of ``K`` iterations in which each RSU only sees its own prices,
demands and rewards:

- ``random``: every iteration each RSU posts a uniform price in ``[c_j, pbar_j]`` to each UAV;
  the outcome is the last iteration's prices and demands.
- ``greedy``: each RSU keeps, per UAV, the best price it has observed so far (by its reward
  ``(p - c_j) b_ij`` from that UAV).  Even iterations explore: post the best price moved by a
  random fraction of the step to a random side; a better reward is adopted and widens the
  step (x1.5), a worse one shrinks it (x0.8).  Odd iterations and the last one re-post the
  best prices: rivals move too, so the remembered reward of the best price must be refreshed
  (without it a stale, lucky reward freezes an RSU at a poor price).
- ``tiny_madrl`` / ``ppo``: learned policies (:mod:`agents.marl.policy`).

The names, trace codes and labels of all of them live in :mod:`agents.pricing.registry`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from agents.pricing.game import (
    PricingGame,
    follower_demand,
    rsu_utility,
    solve_equilibrium,
    uav_utility,
)
from agents.pricing.outcome import RoundOutcome

__all__ = ["EquilibriumPolicy", "GreedyPolicy", "RandomPolicy", "check_iterations"]

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class EquilibriumPolicy:
    """Post the Stackelberg-equilibrium prices (full information; MODEL A3)."""

    tol: float = 1e-9
    max_iter: int = 500
    name: str = "equilibrium"

    def run_round(self, game: PricingGame, rng: np.random.Generator) -> RoundOutcome:
        """Solve the equilibrium (``rng`` unused). See :class:`PricingPolicy`."""
        eq = solve_equilibrium(game, tol=self.tol, max_iter=self.max_iter)
        return RoundOutcome(prices=eq.prices, demand=eq.demand, rsu_utility=eq.rsu_utility,
                            uav_utility=eq.uav_utility, iterations=eq.iterations,
                            converged=eq.converged, residual=eq.residual,
                            # the mean, bit for bit, without np.mean's dispatch (per round)
                            reward_path=np.array([np.add.reduce(eq.rsu_utility)
                                                  / eq.rsu_utility.size]))


def _repeated_outcome(game: PricingGame, price_path: np.ndarray, tol: float,
                      residual: float | None = None) -> RoundOutcome:
    """Outcome of a repeated game whose posted prices per iteration are ``price_path``.

    ``residual`` defaults to the largest price change of the last iteration.
    """
    demand_path = np.stack([follower_demand(game, p) for p in price_path])
    rewards = ((price_path - game.cost) * demand_path).sum(axis=1)          # [K, J]
    prices, demand = price_path[-1], demand_path[-1]
    if residual is None:
        residual = float(np.abs(price_path[-1] - price_path[-2]).max()) \
            if len(price_path) > 1 else float("inf")
    return RoundOutcome(prices=prices, demand=demand,
                        rsu_utility=rsu_utility(game, prices, demand),
                        uav_utility=uav_utility(game, prices, demand),
                        iterations=len(price_path), converged=residual <= tol,
                        residual=residual, reward_path=rewards.mean(axis=1),
                        price_path=price_path, demand_path=demand_path)


@dataclass(frozen=True)
class RandomPolicy:
    """Uniform random prices in ``[c_j, pbar_j]`` every iteration; outcome = last iteration."""

    iterations: int = 50
    tol: float = 1e-9
    name: str = "random"

    def run_round(self, game: PricingGame, rng: np.random.Generator) -> RoundOutcome:
        """Play ``iterations`` random iterations. See :class:`PricingPolicy`."""
        check_iterations(self.iterations)
        shape = (self.iterations, game.n_uavs, game.n_rsus)
        path = game.cost + (game.price_cap - game.cost) * rng.random(shape)
        return _repeated_outcome(game, path, self.tol)


@dataclass(frozen=True)
class GreedyPolicy:
    """Per-RSU, per-UAV hill climbing on observed rewards (MODEL A4; no private data).

    Uses only what RSU ``j`` observes: its own posted prices and the demand (hence reward)
    it received from each UAV; never the UAVs' ``delta, S, R`` or the rivals' prices.

    Attributes:
        iterations: repeated-game iterations ``K`` (the last one exploits).
        initial_step: first exploration step as a fraction of ``pbar_j - c_j``.
        grow: step factor after an improvement.
        shrink: step factor after a failure.
        tol: ``converged`` when the last price change is at most this.
    """

    iterations: int = 50
    initial_step: float = 0.25
    grow: float = 1.5
    shrink: float = 0.8
    tol: float = 1e-9
    name: str = "greedy"

    def run_round(self, game: PricingGame, rng: np.random.Generator) -> RoundOutcome:
        """Play ``iterations`` greedy iterations. See :class:`PricingPolicy`."""
        check_iterations(self.iterations)
        lo, hi = game.cost, game.price_cap
        width = hi - lo
        shape = (game.n_uavs, game.n_rsus)
        best_p = lo + width * rng.random(shape)          # first posting: uniform
        best_r = np.full(shape, -np.inf)
        step = np.broadcast_to(self.initial_step * width, shape).copy()
        path = np.empty((self.iterations,) + shape)
        post = best_p
        for k in range(self.iterations):
            if k == self.iterations - 1:
                post = best_p                            # final iteration: exploit
            path[k] = post
            # each RSU observes only its own demand from each UAV -> its per-UAV reward
            reward = (post - lo) * follower_demand(game, post)
            same = post == best_p
            better = reward > best_r
            best_r = np.where(same, reward, np.maximum(best_r, reward))
            best_p = np.where(better & ~same, post, best_p)
            step = np.where(same, step, np.where(better, step * self.grow, step * self.shrink))
            step = np.minimum(step, width)
            # next posting: explore around the best price on a random side
            if k % 2 == 1:
                post = best_p                            # re-measure the best prices
            else:
                sign = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
                post = np.clip(best_p + sign * step * rng.random(shape), lo, hi)
        # the hill-climber's remaining price uncertainty: its largest exploration step
        return _repeated_outcome(game, path, self.tol, residual=float(step.max()))


def check_iterations(k: int) -> None:
    if k < 1:
        raise ValueError(f"iterations must be >= 1, got {k!r}")
