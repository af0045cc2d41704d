"""Configuration and result records of a PPO / Tiny MADRL training run.

A run is described by one frozen :class:`PPOConfig` (every hyperparameter, with a docstring
per field, and the seed from which all randomness derives) and reported by a
:class:`TrainResult`: the config, one :class:`IterationMetrics` per PPO iteration (rewards
against the Stackelberg equilibrium, losses, sparsity of the pruned actor) and the trained
networks. The training loop itself lives in :mod:`agents.marl.ppo`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from agents.marl.networks import PricingActorCritic
from agents.marl.pruning import IMPORTANCE_METHODS, PruningSchedule
from agents.pricing.draw import GameDistribution

__all__ = ["IterationMetrics", "PPOConfig", "TrainResult"]


@dataclass(frozen=True)
class PPOConfig:
    """Hyperparameters of one training run (all randomness derives from ``seed``)."""

    seed: int = 7
    """Seed of the run: games, initial weights, action noise, minibatch order."""
    iterations: int = 120
    """PPO iterations (rollout + update); also the pruning schedule's time axis."""
    games_per_iteration: int = 16
    """Pricing rounds (games) rolled out per iteration."""
    round_iterations: int = 12
    """``K`` of the training rounds: repeated-game iterations per episode."""
    history: int = 3
    """``L``: past (price, demand) iterations in an observation."""
    rsu_range: tuple[int, int] = (1, 6)
    """Inclusive range of the number of RSUs of a training game."""
    uav_range: tuple[int, int] = (1, 20)
    """Inclusive range of the number of UAVs of a training game."""
    dist: GameDistribution = field(default_factory=GameDistribution)
    """Parameter ranges of the drawn games (Table II)."""
    actor_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the actor."""
    critic_hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the critic."""
    learning_rate: float = 3e-3
    """Adam step size (annealed linearly to 0 when ``anneal_lr``)."""
    anneal_lr: bool = True
    """Linearly anneal the learning rate over the iterations."""
    gamma: float = 0.0
    """Discount factor of a pair's reward stream (0: each iteration's price is judged by
    that iteration's revenue, i.e. agents learn a best response to what they observe)."""
    gae_lambda: float = 0.9
    """GAE lambda."""
    update_epochs: int = 4
    """Passes over the rollout per iteration."""
    num_minibatches: int = 8
    """Minibatches per pass."""
    clip_coef: float = 0.2
    """PPO ratio clip ``kappa`` (eq. 41)."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    target_kl: float | None = None
    """Stop the epochs of an iteration once the mean approximate KL exceeds this."""
    reward_scale: float = 1.0
    """Multiplier on the pair rewards ``(p - c) b`` before GAE."""
    init_log_std: float = -0.5
    """Initial log standard deviation of the Gaussian over the pre-squash action."""
    prune: bool = True
    """Tiny MADRL (True) or plain PPO (False)."""
    prune_critic: bool = False
    """Also prune the critic's hidden neurons (the checkpoint holds only the actor)."""
    prune_start: int = 10
    """Pruning schedule ``t0`` (iteration of the first mask update)."""
    prune_frequency: int = 5
    """Pruning schedule ``dt`` (iterations between mask updates)."""
    prune_steps: int = 10
    """Pruning schedule ``n`` (mask updates until the final sparsity)."""
    initial_sparsity: float = 0.0
    """Pruning schedule ``w_init``: fraction of each hidden layer off at ``t0``."""
    final_sparsity: float = 0.625
    """Pruning schedule ``w_final``: fraction of each hidden layer off at the end."""
    prune_importance: str = "activation"
    """Neuron importance (``agents.marl.pruning.IMPORTANCE_METHODS``): ``activation``
    (incoming-weight norm x mean |activation|) or ``output`` (outgoing-weight norm x
    activation standard deviation)."""
    prune_compensate: bool = True
    """Fold a pruned neuron's batch-mean activation into the next layer's bias (the next
    layer's input then loses only the neuron's fluctuation). Measured in docs/tiny-madrl.md:
    with it, pruned agents converge in fewer iterations than plain PPO over 24 seeds;
    without it they do not."""
    eval_rsus: int = 5
    """RSUs of the held-out evaluation games (Fig. 3 setting)."""
    eval_uavs: int = 15
    """UAVs of the held-out evaluation games (Fig. 3 setting)."""
    eval_games: int = 32
    """Number of held-out evaluation games (drawn from a stream separate from training)."""
    eval_interval: int = 5
    """Iterations between held-out evaluations (and always after the last one)."""
    eval_round_iterations: int = 50
    """``K`` of the evaluation rounds."""
    band: float = 0.02
    """Relative band around the equilibrium reward that counts as converged."""

    def __post_init__(self) -> None:
        for name in ("iterations", "games_per_iteration", "round_iterations", "history",
                     "update_epochs", "num_minibatches", "eval_games", "eval_interval",
                     "eval_round_iterations", "eval_rsus", "eval_uavs"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"PPOConfig.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("rsu_range", "uav_range"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise ValueError(f"PPOConfig.{name} must satisfy 1 <= lo <= hi, got {(lo, hi)}")
        if not (0.0 <= self.gamma <= 1.0 and 0.0 <= self.gae_lambda <= 1.0):
            raise ValueError(f"PPOConfig: gamma/gae_lambda must be in [0, 1], got "
                             f"{self.gamma}, {self.gae_lambda}")
        if self.prune_importance not in IMPORTANCE_METHODS:
            raise ValueError(f"PPOConfig.prune_importance must be one of "
                             f"{IMPORTANCE_METHODS}, got {self.prune_importance!r}")
        if self.prune:
            _ = self.schedule  # validates the schedule fields

    @property
    def schedule(self) -> PruningSchedule:
        """The cubic pruning schedule (eq. 51) built from the ``prune_*`` fields."""
        return PruningSchedule(self.prune_start, self.prune_frequency, self.prune_steps,
                               self.initial_sparsity, self.final_sparsity)

    def plain(self) -> dict[str, Any]:
        """The config as plain dicts/lists/scalars (for checkpoints and traces)."""
        return asdict(self)


@dataclass(frozen=True)
class IterationMetrics:
    """Metrics of one PPO iteration (namespaced in traces as ``charts/`` and ``losses/``).

    Attributes:
        iteration: 0-based PPO iteration.
        mean_reward: average RSU reward in the last iteration of the rollout rounds
            (stochastic policy), mean over the iteration's games.
        se_reward: equilibrium average RSU reward of the same games.
        reward_ratio: ``mean_reward / se_reward``.
        eval_ratio: greedy-policy ratio on the held-out Fig. 3 games (NaN when not
            evaluated this iteration).
        policy_loss, value_loss, entropy, approx_kl, clip_fraction: last minibatch's PPO
            statistics.
        sparsity: fraction of the actor's hidden neurons that are masked.
        scheduled_sparsity: ``w(t)`` of the schedule (0 for plain PPO).
        live_params: parameter count of the actor without masked neurons.
        agent_rewards: last-iteration reward of RSU index j (0-based) averaged over the
            games that have it (NaN if none).
        wall_time_s: seconds since training started.
    """

    iteration: int
    mean_reward: float
    se_reward: float
    reward_ratio: float
    eval_ratio: float
    policy_loss: float
    value_loss: float
    entropy: float
    approx_kl: float
    clip_fraction: float
    sparsity: float
    scheduled_sparsity: float
    live_params: int
    agent_rewards: tuple[float, ...]
    wall_time_s: float


@dataclass(frozen=True)
class TrainResult:
    """Outcome of ``train``: config, per-iteration metrics and the trained networks.

    Attributes:
        config: the run's configuration.
        metrics: one record per iteration.
        model: the trained actor-critic (masks in place).
        compact_actor: the actor rebuilt without masked neurons.
        eval_se_reward: equilibrium average RSU reward of the held-out games.
        wall_time_s: training wall time.
    """

    config: PPOConfig
    metrics: tuple[IterationMetrics, ...]
    model: PricingActorCritic
    compact_actor: torch.nn.Module
    eval_se_reward: float
    wall_time_s: float

    def iterations_to_band(self) -> int | None:
        """First iteration whose held-out ratio is within ``band`` of 1 and stays there
        for every later evaluation (None if never)."""
        evals = [(m.iteration, m.eval_ratio) for m in self.metrics
                 if not np.isnan(m.eval_ratio)]
        first: int | None = None
        for it, ratio in evals:
            inside = abs(ratio - 1.0) <= self.config.band
            if inside and first is None:
                first = it
            elif not inside:
                first = None
        return first
