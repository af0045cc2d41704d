"""Trained pricing agents playing a pricing round (``tiny_madrl`` and ``ppo`` solvers).

A learned round is the repeated game of MODEL A4 with the trained actor in every RSU: for
``K`` iterations each RSU posts, to each UAV it can serve, the price its actor gives for its
own recent prices and demands to that UAV (the mean action -- no exploration noise), and the
UAVs answer with their exact demands. The dynamics are the environment's
(``agents.marl.env.RepeatedPricingRound``); the outcome is the last iteration's prices and
demands, with the per-iteration paths, in the ``RoundOutcome`` shape every solver returns.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from agents.marl.checkpoint import load_checkpoint
from agents.marl.checkpoint_file import DEFAULT_CHECKPOINTS
from agents.marl.env import RepeatedPricingRound, stack_games
from agents.pricing.decision_time import mlp_flops
from agents.pricing.game import PricingGame, rsu_utility, uav_utility
from agents.pricing.outcome import RoundOutcome

__all__ = [
    "LearnedPricingPolicy",
    "evaluate_ratio",
    "learned_round",
    "load_learned_policy",
]

logger = logging.getLogger(__name__)



def learned_round(
    actor: torch.nn.Module, game: PricingGame, history: int, iterations: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Play ``iterations`` iterations of the repeated game with the greedy actor.

    Args:
        actor: maps pair features ``[P, n_features]`` to pre-squash actions ``[P, 1]``.
        game: the game (any size; pairs with ``available`` False post the cap, demand 0).
        history: ``L`` the actor was trained with.
        iterations: ``K`` (>= 1).

    Returns:
        ``(price_path [K, I, J], demand_path [K, I, J], rsu_reward_path [K, J])``.

    Raises:
        ValueError: if ``iterations < 1``.
    """
    if iterations < 1:
        raise ValueError(f"learned_round: iterations must be >= 1, got {iterations}")
    rnd = RepeatedPricingRound(game, history)
    idx = np.nonzero(rnd.tradable)
    shape = (iterations, game.n_uavs, game.n_rsus)
    prices, demand = np.empty(shape), np.empty(shape)
    rewards = np.empty((iterations, game.n_rsus))
    z = np.ones((game.n_uavs, game.n_rsus))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: extra threads only add synchronisation
    try:
        with torch.no_grad():
            for k in range(iterations):
                obs = torch.from_numpy(rnd.observation()[idx])
                z[idx] = torch.sigmoid(actor(obs).squeeze(-1)).double().numpy()
                step = rnd.step(z)
                prices[k], demand[k], rewards[k] = step.prices, step.demand, step.rsu_reward
    finally:
        torch.set_num_threads(threads)
    return prices, demand, rewards


def evaluate_ratio(
    actor: torch.nn.Module, games: Sequence[PricingGame], history: int, iterations: int,
    se_average: float,
) -> tuple[float, np.ndarray]:
    """Greedy-policy average RSU reward relative to the equilibrium's, over ``games``.

    The games are played side by side (stacked block-diagonally, one actor call per
    iteration).

    Args:
        actor: the actor network.
        games: held-out games.
        history: ``L``.
        iterations: ``K``.
        se_average: mean over the games of the equilibrium average RSU reward.

    Returns:
        ``(ratio, path)``: final-iteration mean average RSU reward over ``se_average``, and
        the ``[K]`` path of the mean average RSU reward.
    """
    stacked, _, rsu_game = stack_games(games)
    _, _, rewards = learned_round(actor, stacked, history, iterations)
    counts = np.bincount(rsu_game, minlength=len(games)).astype(float)
    per_game = np.stack([np.bincount(rsu_game, weights=r, minlength=len(games)) / counts
                         for r in rewards])                                     # [K, G]
    path = per_game.mean(axis=1)
    return float(path[-1] / se_average), path


@dataclass(frozen=True)
class LearnedPricingPolicy:
    """A ``PricingPolicy`` backed by a trained (compact) actor.

    Attributes:
        name: ``tiny_madrl`` or ``ppo``.
        actor: compact actor network.
        history: ``L`` it was trained with.
        iterations: ``K`` iterations per round.
        tol: ``converged`` when the last iteration moved no price by more than this.
    """

    name: str
    actor: torch.nn.Module
    history: int
    iterations: int = 50
    tol: float = 1e-6

    @property
    def flops_per_decision(self) -> int:
        """FLOPs of one price, i.e. one pass of the actor as used (MODEL.md D5): its live
        layer widths, so a compacted (pruned) actor costs less than a dense one."""
        return mlp_flops([self.actor.sizes[0], *self.actor.live_neurons(), self.actor.sizes[-1]])

    def run_round(self, game: PricingGame, rng: np.random.Generator) -> RoundOutcome:
        """Play one round (deterministic: ``rng`` is unused). See ``PricingPolicy``."""
        prices, demand, rewards = learned_round(self.actor, game, self.history,
                                                self.iterations)
        residual = (float(np.abs(prices[-1] - prices[-2]).max()) if self.iterations > 1
                    else float("inf"))
        return RoundOutcome(
            prices=prices[-1], demand=demand[-1],
            rsu_utility=rsu_utility(game, prices[-1], demand[-1]),
            uav_utility=uav_utility(game, prices[-1], demand[-1]),
            iterations=self.iterations, converged=residual <= self.tol, residual=residual,
            reward_path=rewards.mean(axis=1), price_path=prices, demand_path=demand,
        )


def load_learned_policy(name: str, checkpoint: str | None, iterations: int) -> LearnedPricingPolicy:
    """Load trained agents as a pricing policy.

    Args:
        name: ``tiny_madrl`` or ``ppo``.
        checkpoint: checkpoint file; None uses ``scenarios/agents/tiny-madrl.pt`` or
            ``scenarios/agents/ppo.pt`` at the repository root.
        iterations: ``K`` iterations per round (>= 1).

    Returns:
        The policy.

    Raises:
        ValueError: unknown name, bad ``iterations``, or a missing/invalid checkpoint.
    """
    if name not in DEFAULT_CHECKPOINTS:
        raise ValueError(f"load_learned_policy: unknown learned policy {name!r}; expected "
                         f"one of {sorted(DEFAULT_CHECKPOINTS)}")
    if iterations < 1:
        raise ValueError(f"load_learned_policy: iterations must be >= 1, got {iterations}")
    path = Path(checkpoint) if checkpoint is not None else DEFAULT_CHECKPOINTS[name]
    ckpt = load_checkpoint(path)
    if ckpt.name != name:
        logger.warning("checkpoint %s was trained as %r, used as %r", path, ckpt.name, name)
    return LearnedPricingPolicy(name=name, actor=ckpt.actor, history=ckpt.history,
                                iterations=int(iterations))
