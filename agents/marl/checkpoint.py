"""One-file checkpoints of trained pricing agents (compact actor + what is needed to run it).

A checkpoint is a plain ``dict`` of tensors, lists, strings, ints, floats and bools saved with
``torch.save``; :mod:`agents.marl.checkpoint_file` reads it back without torch, with an
unpickler that knows only tensors and plain data, so no arbitrary object is ever unpickled.
It holds the *compact* actor (masked neurons already removed), the observation layout it
was trained on (history length, feature count), the Gaussian log-std, the training
configuration and a summary of the training results. The loader validates everything and
turns any wrong, truncated or foreign file into one ``ValueError`` line that names the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from agents.marl.checkpoint_file import FORMAT, VERSION, inspect_checkpoint
from agents.marl.layout import n_features as layout_width
from agents.marl.networks import MaskedMLP

if TYPE_CHECKING:
    from agents.marl.config import TrainResult

__all__ = ["AgentCheckpoint", "checkpoint_from_training", "load_checkpoint", "save_checkpoint"]

_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class AgentCheckpoint:
    """What a checkpoint file holds.

    Attributes:
        name: solver name the agents were trained as (``tiny_madrl`` or ``ppo``).
        actor: the compact actor network (all masks ones).
        history: number ``L`` of past (price, demand) pairs in an observation.
        n_features: observation width per (RSU, UAV) pair.
        log_std: log standard deviation of the Gaussian policy (unused by the greedy
            mean-action evaluation, kept so training can be inspected/resumed).
        dense_actor_parameters: parameter count of the unpruned actor.
        config: the training configuration (plain values).
        summary: training results (plain values), e.g. final reward ratio, sparsity.
    """

    name: str
    actor: MaskedMLP
    history: int
    n_features: int
    log_std: float
    dense_actor_parameters: int
    config: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any, where: str) -> Any:
    """Convert a config/summary value into plain lists/dicts/scalars (or raise)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    raise TypeError(f"save_checkpoint: {where} holds a non-plain value {value!r}")


def save_checkpoint(path: str | Path, ckpt: AgentCheckpoint) -> None:
    """Write ``ckpt`` to ``path`` (parent directories created).

    Args:
        path: destination file (conventionally ``*.pt``).
        ckpt: the agents; the actor must already be compact (all masks ones).

    Raises:
        ValueError: if the actor still has masked neurons.
        TypeError: if config/summary hold values that are not plain data.
    """
    if any(float(m.min()) < 1.0 for m in ckpt.actor.masks()):
        raise ValueError("save_checkpoint: actor has masked neurons; compact it first")
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "name": ckpt.name,
        "actor_sizes": list(ckpt.actor.sizes),
        "actor_state": {
            f"{k}.{part}": getattr(layer, part).detach().clone().contiguous()
            for k, layer in enumerate(ckpt.actor.layers)
            for part in ("weight", "bias")
        },
        "history": int(ckpt.history),
        "n_features": int(ckpt.n_features),
        "log_std": float(ckpt.log_std),
        "dense_actor_parameters": int(ckpt.dense_actor_parameters),
        "config": _plain(ckpt.config, "config"),
        "summary": _plain(ckpt.summary, "summary"),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, path)


def load_checkpoint(path: str | Path) -> AgentCheckpoint:
    """Read and validate a checkpoint written by ``save_checkpoint``.

    The file is read and checked by :func:`agents.marl.checkpoint_file.inspect_checkpoint`
    (tensors and plain data only; any other object is refused) before the network is built,
    exactly as ``uavtwin validate`` checks it without torch.

    Args:
        path: checkpoint file.

    Returns:
        The agents, with a ready-to-run compact actor in eval mode.

    Raises:
        ValueError: one line naming the file, if it is missing, truncated, not a torch file,
            a foreign torch file, another format version, or has inconsistent weights.
    """
    contents = inspect_checkpoint(path)
    actor = MaskedMLP(contents.actor_sizes)
    with torch.no_grad():
        for k, layer in enumerate(actor.layers):
            for part in ("weight", "bias"):
                target = getattr(layer, part)
                target.copy_(torch.from_numpy(contents.actor_state[f"{k}.{part}"]).to(target.dtype))
    actor.eval()
    return AgentCheckpoint(
        name=contents.name,
        actor=actor,
        history=contents.history,
        n_features=contents.n_features,
        log_std=contents.log_std,
        dense_actor_parameters=contents.dense_actor_parameters,
        config=contents.config,
        summary=contents.summary,
    )


def checkpoint_from_training(result: TrainResult, name: str) -> AgentCheckpoint:
    """Package a training result as a checkpoint (compact actor + config + summary).

    Args:
        result: what ``agents.marl.ppo.train`` returned.
        name: solver name to record (``tiny_madrl`` or ``ppo``).

    Returns:
        The checkpoint, ready for ``save_checkpoint``.
    """
    cfg = result.config
    last = result.metrics[-1]
    summary = {
        "final_eval_ratio": last.eval_ratio,
        "eval_se_reward": result.eval_se_reward,
        "iterations_to_band": result.iterations_to_band(),
        "dense_actor_parameters": result.model.actor.dense_parameters(),
        "compact_actor_parameters": result.compact_actor.dense_parameters(),
        "live_neurons": result.model.actor.live_neurons(),
        "wall_time_s": result.wall_time_s,
        "band": cfg.band,
        # held-out evaluations during training: [[iteration, greedy ratio to the SE], ...]
        "eval_path": [[m.iteration, m.eval_ratio] for m in result.metrics
                      if not math.isnan(m.eval_ratio)],
    }
    return AgentCheckpoint(name=name, actor=result.compact_actor, history=cfg.history,
                           n_features=layout_width(cfg.history),
                           log_std=float(result.model.log_std.detach()[0]),
                           dense_actor_parameters=result.model.actor.dense_parameters(),
                           config=cfg.plain(), summary=summary)
