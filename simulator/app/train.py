"""Train the learned pricing agents from a scenario and trace the training.

``uavtwin train SCENARIO -o agents.pt`` maps the scenario onto the PPO configuration of
:mod:`agents.marl.ppo` (game distribution from the scenario's Table II ranges, training and
pruning schedule from its ``training`` section, observation length from
``pricing.history``), trains, writes the compact checkpoint, and writes an HDF5 training
trace (``/training/iterations``, ``/training/agents``) next to it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from agents.pricing.draw import GameDistribution
from simulator.config.models import Scenario
from simulator.trace.writer import TraceWriter


def game_distribution(scenario: Scenario) -> GameDistribution:
    """The pricing games a scenario's world draws, as a :class:`GameDistribution`."""
    rsus, follower = scenario.rsus, scenario.uavs.follower
    pair = lambda r: (float(r.lo), float(r.hi))  # noqa: E731
    return GameDistribution(
        noise_dbm=pair(rsus.noise_dbm), gain_db=pair(scenario.radio.gain_db),
        power_dbm=pair(rsus.tx_power_dbm), ssim_component=pair(follower.ssim_component),
        ssim_threshold=pair(follower.ssim_threshold), delta=pair(follower.delta),
        cost=pair(rsus.cost), price_cap=pair(rsus.price_cap), budget=pair(follower.budget),
    )


def ppo_config(scenario: Scenario, *, prune: bool | None = None, iterations: int | None = None,
               seed: int | None = None) -> Any:
    """The :class:`agents.marl.config.PPOConfig` of a scenario (CLI flags override it).

    Args:
        scenario: a validated scenario.
        prune: override ``training.prune.enabled`` (``--no-prune`` gives False).
        iterations: override ``training.iterations``.
        seed: override the training seed (``training.seed`` or ``simulation.seed``).
    """
    from agents.marl.config import PPOConfig

    t = scenario.training
    hidden = (t.hidden, t.hidden)
    return replace(
        PPOConfig(),
        seed=int(seed if seed is not None else (t.seed if t.seed is not None
                                                 else scenario.simulation.seed)),
        iterations=int(iterations if iterations is not None else t.iterations),
        games_per_iteration=t.games_per_iteration, round_iterations=t.round_iterations,
        history=scenario.pricing.history, rsu_range=(int(t.rsus.lo), int(t.rsus.hi)),
        uav_range=(int(t.uavs.lo), int(t.uavs.hi)), dist=game_distribution(scenario),
        actor_hidden=hidden, critic_hidden=hidden, learning_rate=t.learning_rate,
        prune=t.prune.enabled if prune is None else prune,
        prune_start=t.prune.start_iteration, prune_frequency=t.prune.frequency,
        prune_steps=t.prune.steps, initial_sparsity=t.prune.initial_sparsity,
        final_sparsity=t.prune.final_sparsity, prune_importance=t.prune.importance,
        prune_compensate=t.prune.compensate,
    )


def write_training_trace(writer: Any, metrics: Any) -> None:
    """Append one PPO iteration's metrics to ``/training/iterations`` and ``/agents``."""
    m = metrics
    writer.append(
        "/training/iterations", iteration=m.iteration, step=m.iteration,
        mean_reward=m.mean_reward, se_reward=m.se_reward, reward_ratio=m.reward_ratio,
        eval_ratio=m.eval_ratio,
        policy_loss=m.policy_loss, value_loss=m.value_loss, entropy=m.entropy,
        approx_kl=m.approx_kl, clip_fraction=m.clip_fraction, sparsity=m.sparsity,
        live_params=m.live_params,
    )
    rewards = np.asarray(m.agent_rewards, dtype=float)
    writer.append("/training/agents", iteration=np.full(len(rewards), m.iteration),
                  agent=np.arange(len(rewards)), reward=rewards)


def train_agents(scenario: Scenario, out: str | Path, *, trace_path: str | Path | None = None,
                 prune: bool | None = None, iterations: int | None = None,
                 seed: int | None = None,
                 progress: Callable[[Any], None] | None = None) -> Any:
    """Train agents for ``scenario``, save the checkpoint to ``out``, trace the training.

    Args:
        scenario: a validated scenario.
        out: checkpoint path (``.pt``).
        trace_path: training trace (default: ``out`` with suffix ``.h5``).
        prune, iterations, seed: overrides of the scenario's training section.
        progress: called with each iteration's metrics.

    Returns:
        The :class:`agents.marl.config.TrainResult`.
    """
    from agents.marl.checkpoint import checkpoint_from_training, save_checkpoint
    from agents.marl.ppo import train

    cfg = ppo_config(scenario, prune=prune, iterations=iterations, seed=seed)
    out = Path(out)
    trace = Path(trace_path) if trace_path is not None else out.with_suffix(".h5")
    out.parent.mkdir(parents=True, exist_ok=True)
    trace.parent.mkdir(parents=True, exist_ok=True)
    name = "tiny_madrl" if cfg.prune else "ppo"
    with TraceWriter(trace, scenario_yaml=scenario.to_yaml(), seed=cfg.seed,
                     flush_interval_s=scenario.output.flush_interval_s,
                     compression=scenario.output.compression) as writer:
        def on_iteration(m: Any) -> None:
            write_training_trace(writer, m)
            if progress is not None:
                progress(m)

        result = train(cfg, progress=on_iteration)
        last = result.metrics[-1]
        writer.set_attrs("/training", solver=name, iterations=cfg.iterations,
                         eval_ratio=float(last.eval_ratio),
                         eval_se_reward=float(result.eval_se_reward),
                         iterations_to_band=-1 if result.iterations_to_band() is None
                         else int(result.iterations_to_band()),
                         dense_actor_parameters=int(result.model.actor.dense_parameters()),
                         compact_actor_parameters=int(result.compact_actor.dense_parameters()))
    save_checkpoint(out, checkpoint_from_training(result, name))
    return result


def describe(result: Any, out: Path, trace: Path) -> str:
    """One-screen summary of a training run."""
    last = result.metrics[-1]
    band = result.iterations_to_band()
    ratio = last.eval_ratio if not math.isnan(last.eval_ratio) else last.reward_ratio
    rows = [
        ("held-out reward / equilibrium", f"{ratio:.4f}"),
        (f"iterations to the {result.config.band:.0%} band",
         "never" if band is None else str(band)),
        ("actor parameters dense/compact", f"{result.model.actor.dense_parameters()} / "
                                           f"{result.compact_actor.dense_parameters()}"),
        ("wall time", f"{result.wall_time_s:.1f} s"),
        ("checkpoint", str(out)),
        ("training trace", str(trace)),
    ]
    head = (f"uavtwin train: {'tiny_madrl' if result.config.prune else 'ppo'} "
            f"(seed {result.config.seed}, {result.config.iterations} iterations)")
    return "\n".join([head, *(f"  {k:<32}{v}" for k, v in rows)])
