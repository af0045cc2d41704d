"""PPO for the RSU pricing agents, with optional dynamic structured pruning (Tiny MADRL).

Laid out in CleanRL's order (rollout, GAE, minibatch epochs of the clipped surrogate, value
loss, entropy bonus, KL early stop) but as importable, testable functions:
``compute_gae``, ``ppo_loss`` and ``train(cfg) -> TrainResult``; ``uavtwin train`` is the
thin command line on top. The config and result records (:class:`PPOConfig`,
:class:`IterationMetrics`, :class:`TrainResult`) live in :mod:`agents.marl.config`.

Agents and credit assignment. Every RSU acts on its own observation with one shared
per-pair actor-critic (``agents.marl.networks``): the RSUs are exchangeable in the game
distribution, and sharing lets one model price 1..6 RSUs and 1..20 UAVs. RSU j's reward
``V_j`` is a sum over UAVs of ``r_ij = (p_ij - c_j) b_ij``, and ``p_ij`` does not affect
``r_i'j`` for another UAV ``i'`` (MODEL A3), so each (RSU, UAV) pair is trained as its own
trajectory with reward ``r_ij``: the same policy gradient as ``V_j`` without the other
UAVs' noise.

Rollouts: each PPO iteration draws ``games_per_iteration`` games (1..6 RSUs, 1..20 UAVs by
default), stacks them block-diagonally and plays ``round_iterations`` iterations of the
repeated game through ``RepeatedPricingRound`` (the environment's dynamics). The same games'
Stackelberg equilibria give ``se_reward``. Every ``eval_interval`` iterations the greedy
(mean-action) policy plays held-out games of the Fig. 3 setting; ``eval_ratio`` is its
final-iteration average RSU reward over the equilibrium's.

Determinism: all randomness comes from ``cfg.seed`` (numpy ``SeedSequence`` for games, a
``torch.Generator`` for actions and minibatches, ``manual_seed`` inside ``fork_rng`` for the
initial weights); ``train`` runs torch single-threaded with deterministic algorithms and
restores the caller's settings afterwards.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from agents.marl.config import IterationMetrics, PPOConfig, TrainResult
from agents.marl.env import RepeatedPricingRound, stack_games
from agents.marl.layout import n_features
from agents.marl.networks import PricingActorCritic, compact_mlp
from agents.marl.policy import evaluate_ratio
from agents.marl.pruning import update_masks
from agents.pricing.draw import draw_game
from agents.pricing.game import solve_equilibrium

__all__ = ["compute_gae", "ppo_loss", "train"]

logger = logging.getLogger(__name__)


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    next_value: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over a ``[T, N]`` rollout (paper eq. 42, GAE form).

    ``delta_t = r_t + gamma V_{t+1} (1 - done_t) - V_t`` and
    ``A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}``; returns are ``A + V``.

    Args:
        rewards: ``[T, N]`` rewards.
        values: ``[T, N]`` critic values of the states the actions were taken in.
        dones: ``[T, N]`` 1 where the episode ended after step t (no bootstrap past it).
        next_value: ``[N]`` value of the state after the last step (ignored where done).
        gamma: discount factor in [0, 1].
        gae_lambda: GAE lambda in [0, 1].

    Returns:
        ``(advantages, returns)``, both ``[T, N]``.

    Raises:
        ValueError: on mismatched shapes.
    """
    if rewards.shape != values.shape or rewards.shape != dones.shape or rewards.ndim != 2:
        raise ValueError(
            f"compute_gae: rewards/values/dones must share a [T, N] shape, got "
            f"{tuple(rewards.shape)}, {tuple(values.shape)}, {tuple(dones.shape)}"
        )
    if next_value.shape != rewards.shape[1:]:
        raise ValueError(f"compute_gae: next_value must be [N]={tuple(rewards.shape[1:])}, "
                         f"got {tuple(next_value.shape)}")
    n_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(next_value)
    for t in reversed(range(n_steps)):
        following = next_value if t == n_steps - 1 else values[t + 1]
        live = 1.0 - dones[t]
        delta = rewards[t] + gamma * following * live - values[t]
        last = delta + gamma * gae_lambda * live * last
        advantages[t] = last
    return advantages, advantages + values


def ppo_loss(
    new_logprob: torch.Tensor,
    old_logprob: torch.Tensor,
    advantages: torch.Tensor,
    new_value: torch.Tensor,
    returns: torch.Tensor,
    entropy: torch.Tensor,
    *,
    clip_coef: float,
    vf_coef: float,
    ent_coef: float,
    normalize_advantages: bool = True,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Clipped PPO objective (paper eqs. 39-41) on one minibatch.

    ``loss = -mean(min(f A, clip(f, 1-kappa, 1+kappa) A)) + vf_coef * 0.5 mean((V - G)^2)
    - ent_coef * mean(H)`` with ``f = exp(new_logprob - old_logprob)``.

    Args:
        new_logprob: log-probabilities of the taken actions under the current policy.
        old_logprob: the same under the rollout policy.
        advantages: advantage estimates.
        new_value: current critic values.
        returns: value targets.
        entropy: policy entropies.
        clip_coef: ``kappa``.
        vf_coef: weight of the value loss.
        ent_coef: weight of the entropy bonus.
        normalize_advantages: standardise advantages within the minibatch (if > 1 sample).

    Returns:
        ``(loss, stats)`` with stats ``policy_loss, value_loss, entropy, approx_kl,
        clip_fraction`` (plain floats; ``approx_kl`` is the ``(f - 1) - log f`` estimator).
    """
    log_ratio = new_logprob - old_logprob
    ratio = log_ratio.exp()
    adv = advantages
    if normalize_advantages and adv.numel() > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - clip_coef, 1 + clip_coef)).mean()
    v_loss = 0.5 * (new_value - returns).pow(2).mean()
    ent = entropy.mean()
    loss = pg_loss + vf_coef * v_loss - ent_coef * ent
    with torch.no_grad():
        stats = {
            "policy_loss": float(pg_loss),
            "value_loss": float(v_loss),
            "entropy": float(ent),
            "approx_kl": float(((ratio - 1) - log_ratio).mean()),
            "clip_fraction": float(((ratio - 1.0).abs() > clip_coef).float().mean()),
        }
    return loss, stats


def _draw_games(rng: np.random.Generator, cfg: PPOConfig, count: int,
                rsus: tuple[int, int], uavs: tuple[int, int]) -> list:
    games = []
    for _ in range(count):
        n_j = int(rng.integers(rsus[0], rsus[1] + 1))
        n_i = int(rng.integers(uavs[0], uavs[1] + 1))
        games.append(draw_game(rng, n_i, n_j, cfg.dist))
    return games


def _se_average(games: Sequence) -> tuple[float, list[np.ndarray]]:
    """Mean over games of the equilibrium average RSU reward, and each game's ``V_j``."""
    utils = [solve_equilibrium(g).rsu_utility for g in games]
    return float(np.mean([u.mean() for u in utils])), utils


def _rollout(model: PricingActorCritic, games: Sequence, cfg: PPOConfig,
             gen: torch.Generator) -> dict[str, torch.Tensor | np.ndarray]:
    stacked, _, rsu_game = stack_games(games)
    rnd = RepeatedPricingRound(stacked, cfg.history)
    idx = np.nonzero(rnd.tradable)
    k, n = cfg.round_iterations, len(idx[0])
    obs = torch.zeros((k, n, n_features(cfg.history)))
    actions, logprobs, rewards, values = (torch.zeros((k, n)) for _ in range(4))
    rsu_rewards = np.zeros((k, stacked.n_rsus))
    z_full = np.ones((stacked.n_uavs, stacked.n_rsus))
    for t in range(k):
        obs[t] = torch.from_numpy(rnd.observation()[idx])
        with torch.no_grad():
            mean = model.action_mean(obs[t])
            std = model.log_std.exp()
            u = mean + std * torch.randn(mean.shape, generator=gen)
            logprobs[t] = torch.distributions.Normal(mean, std).log_prob(u)
            values[t] = model.value(obs[t])
        actions[t] = u
        z_full[idx] = torch.sigmoid(u).double().numpy()
        step = rnd.step(z_full)
        rewards[t] = torch.from_numpy(step.pair_revenue[idx]).float()
        rsu_rewards[t] = step.rsu_reward
    return {"obs": obs, "actions": actions, "logprobs": logprobs, "rewards": rewards,
            "values": values, "rsu_rewards": rsu_rewards, "rsu_game": rsu_game}


def _update(model: PricingActorCritic, opt: torch.optim.Optimizer, batch: dict,
            cfg: PPOConfig, gen: torch.Generator) -> dict[str, float]:
    rewards = batch["rewards"] * cfg.reward_scale
    dones = torch.zeros_like(rewards)
    dones[-1] = 1.0  # the round ends after K iterations
    adv, ret = compute_gae(rewards, batch["values"], dones, torch.zeros(rewards.shape[1]),
                           cfg.gamma, cfg.gae_lambda)
    flat = {
        "obs": batch["obs"].reshape(-1, batch["obs"].shape[-1]),
        "actions": batch["actions"].reshape(-1), "logprobs": batch["logprobs"].reshape(-1),
        "adv": adv.reshape(-1), "ret": ret.reshape(-1),
    }
    n = flat["adv"].numel()
    mb_size = max(1, n // cfg.num_minibatches)
    stats: dict[str, float] = {}
    for _epoch in range(cfg.update_epochs):
        perm = torch.randperm(n, generator=gen)
        kls = []
        for start in range(0, n, mb_size):
            mb = perm[start:start + mb_size]
            logp, ent, val = model.evaluate(flat["obs"][mb], flat["actions"][mb])
            loss, stats = ppo_loss(logp, flat["logprobs"][mb], flat["adv"][mb], val,
                                   flat["ret"][mb], ent, clip_coef=cfg.clip_coef,
                                   vf_coef=cfg.vf_coef, ent_coef=cfg.ent_coef)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            opt.step()
            kls.append(stats["approx_kl"])
        if cfg.target_kl is not None and float(np.mean(kls)) > cfg.target_kl:
            break
    return stats


def _train(cfg: PPOConfig, progress: Callable[[IterationMetrics], None] | None) -> TrainResult:
    game_seq, eval_seq = np.random.SeedSequence(cfg.seed).spawn(2)
    game_rng, eval_rng = np.random.default_rng(game_seq), np.random.default_rng(eval_seq)
    gen = torch.Generator().manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    model = PricingActorCritic(n_features(cfg.history), cfg.actor_hidden, cfg.critic_hidden,
                               cfg.init_log_std)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, eps=1e-5)
    schedule = cfg.schedule if cfg.prune else None
    eval_games = _draw_games(eval_rng, cfg, cfg.eval_games, (cfg.eval_rsus,) * 2,
                             (cfg.eval_uavs,) * 2)
    eval_se, _ = _se_average(eval_games)
    history: list[IterationMetrics] = []
    start = time.perf_counter()
    for it in range(cfg.iterations):
        if cfg.anneal_lr:
            opt.param_groups[0]["lr"] = cfg.learning_rate * (1.0 - it / cfg.iterations)
        games = _draw_games(game_rng, cfg, cfg.games_per_iteration, cfg.rsu_range,
                            cfg.uav_range)
        batch = _rollout(model, games, cfg, gen)
        stats = _update(model, opt, batch, cfg, gen)
        sparsity = 0.0
        if schedule is not None:
            sparsity = schedule.sparsity(it)
            if schedule.is_update_step(it):
                sample = batch["obs"].reshape(-1, batch["obs"].shape[-1])
                for net in (model.actor, model.critic) if cfg.prune_critic else (model.actor,):
                    update_masks(net, sample, sparsity, cfg.prune_importance,
                                 cfg.prune_compensate)
        se_avg, se_utils = _se_average(games)
        final = batch["rsu_rewards"][-1]
        rsu_game = batch["rsu_game"]
        per_game = [final[rsu_game == g].mean() for g in range(len(games))]
        mean_reward = float(np.mean(per_game))
        per_agent = [float(np.mean([final[rsu_game == g][j] for g in range(len(games))
                                    if (rsu_game == g).sum() > j] or [np.nan]))
                     for j in range(cfg.rsu_range[1])]
        eval_ratio = float("nan")
        if (it + 1) % cfg.eval_interval == 0 or it == cfg.iterations - 1:
            eval_ratio, _ = evaluate_ratio(model.actor, eval_games, cfg.history,
                                           cfg.eval_round_iterations, eval_se)
        metrics = IterationMetrics(
            iteration=it, mean_reward=mean_reward, se_reward=se_avg,
            reward_ratio=mean_reward / se_avg if se_avg > 0 else float("nan"),
            eval_ratio=eval_ratio, policy_loss=stats["policy_loss"],
            value_loss=stats["value_loss"], entropy=stats["entropy"],
            approx_kl=stats["approx_kl"], clip_fraction=stats["clip_fraction"],
            sparsity=1.0 - sum(model.actor.live_neurons()) / sum(model.actor.sizes[1:-1]),
            scheduled_sparsity=sparsity, live_params=model.actor.live_parameters(),
            agent_rewards=tuple(per_agent), wall_time_s=time.perf_counter() - start)
        history.append(metrics)
        if progress is not None:
            progress(metrics)
        logger.debug("iteration %d: %s", it, metrics)
    compact = compact_mlp(model.actor)
    compact.eval()
    return TrainResult(config=cfg, metrics=tuple(history), model=model, compact_actor=compact,
                       eval_se_reward=eval_se, wall_time_s=time.perf_counter() - start)


def train(cfg: PPOConfig,
          progress: Callable[[IterationMetrics], None] | None = None) -> TrainResult:
    """Train the pricing agents with PPO (plus pruning when ``cfg.prune``).

    Args:
        cfg: hyperparameters and seed.
        progress: optional callback called with each iteration's metrics (progress bars,
            trace writers).

    Returns:
        Per-iteration metrics, the trained (masked) model and the compact actor.
    """
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        with torch.random.fork_rng(devices=[]):
            return _train(cfg, progress)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
