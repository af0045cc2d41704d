"""What one pricing round produced, and what a pricing policy is (MODEL A4).

Every policy, whether it solves the equilibrium, searches greedily or asks a learned actor,
returns a :class:`RoundOutcome` from :meth:`PricingPolicy.run_round`. This module is the
shared bottom of the policies: the classical ones (:mod:`agents.pricing.policies`) and the
learned ones (:mod:`agents.marl.policy`) both build on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from agents.pricing.game import PricingGame

__all__ = ["PricingPolicy", "RoundOutcome"]


@dataclass(frozen=True)
class RoundOutcome:
    """Result of one pricing round under some policy.

    Attributes:
        prices: ``[I, J]`` final prices.
        demand: ``[I, J]`` final bandwidth bought (MHz).
        rsu_utility: ``[J]`` final RSU utilities.
        uav_utility: ``[I]`` final UAV utilities.
        iterations: solver sweeps (equilibrium) or repeated-game iterations ``K``.
        converged: ``residual <= tol``.
        residual: equilibrium: largest price change of the last sweep; random: largest
            price change of the last iteration; greedy: largest remaining exploration step.
        reward_path: ``[K]`` average RSU reward per iteration (length 1 for equilibrium).
        price_path: ``[K, I, J]`` prices per iteration (repeated-game policies).
        demand_path: ``[K, I, J]`` demands per iteration (repeated-game policies).
    """

    prices: np.ndarray
    demand: np.ndarray
    rsu_utility: np.ndarray
    uav_utility: np.ndarray
    iterations: int
    converged: bool
    residual: float
    reward_path: np.ndarray
    price_path: np.ndarray | None = None
    demand_path: np.ndarray | None = None


class PricingPolicy(Protocol):
    """Anything that can play one pricing round."""

    name: str

    def run_round(self, game: PricingGame, rng: np.random.Generator) -> RoundOutcome:
        """Play one round of ``game`` using ``rng`` for any randomness."""
        ...
