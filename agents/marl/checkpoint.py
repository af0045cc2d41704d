"""One-file checkpoints of trained pricing agents (compact actor + what is needed to run it).

A checkpoint is a plain ``dict`` of tensors, lists, strings, ints, floats and bools saved with
``torch.save``, so it loads with ``torch.load(weights_only=True)``: no arbitrary object is
ever unpickled. It holds the *compact* actor (masked neurons already removed), the
observation layout it was trained on (history length, feature count), the Gaussian log-std,
the training configuration and a summary of the training results. The loader validates
everything and turns any wrong, truncated or foreign file into one ``ValueError`` line that
names the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from agents.marl.env import n_features as layout_width
from agents.marl.networks import MaskedMLP

if TYPE_CHECKING:
    from agents.marl.config import TrainResult

__all__ = ["FORMAT", "VERSION", "AgentCheckpoint", "checkpoint_from_training", "load_checkpoint",
           "save_checkpoint"]

FORMAT = "uavtwin-pricing-agents"
VERSION = 1
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


def _fail(path: Path, msg: str) -> ValueError:
    return ValueError(f"{path}: not a valid uavtwin agent checkpoint: {msg}")


def _get(payload: dict[str, Any], key: str, kind: type | tuple[type, ...], path: Path) -> Any:
    if key not in payload:
        raise _fail(path, f"missing key '{key}'")
    value = payload[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _fail(path, f"key '{key}' has type {type(value).__name__}")
    return value


def load_checkpoint(path: str | Path) -> AgentCheckpoint:
    """Read and validate a checkpoint written by ``save_checkpoint``.

    Args:
        path: checkpoint file.

    Returns:
        The agents, with a ready-to-run compact actor in eval mode.

    Raises:
        ValueError: one line naming the file, if it is missing, truncated, not a torch file,
            a foreign torch file, another format version, or has inconsistent weights.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: agent checkpoint file not found")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt/foreign files
        first = (str(err).strip().splitlines() or [""])[0][:160]
        raise _fail(path, f"cannot read it ({type(err).__name__}: {first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise _fail(path, f"no '{FORMAT}' format marker (foreign file)")
    version = payload.get("version")
    if version != VERSION:
        raise _fail(path, f"format version {version!r}, this code reads {VERSION}")
    name = _get(payload, "name", str, path)
    sizes = _get(payload, "actor_sizes", list, path)
    if len(sizes) < 2 or not all(isinstance(s, int) and s >= 1 for s in sizes):
        raise _fail(path, f"bad actor_sizes {sizes!r}")
    state = _get(payload, "actor_state", dict, path)
    history = _get(payload, "history", int, path)
    n_features = _get(payload, "n_features", int, path)
    log_std = float(_get(payload, "log_std", (int, float), path))
    dense = _get(payload, "dense_actor_parameters", int, path)
    if history < 1 or n_features != layout_width(history) or n_features != sizes[0] \
            or sizes[-1] != 1:
        raise _fail(
            path, f"inconsistent layout: n_features={n_features}, history={history}, "
            f"actor_sizes={sizes}"
        )
    expected = {f"{k}.{part}" for k in range(len(sizes) - 1) for part in ("weight", "bias")}
    if set(state) != expected:
        raise _fail(path, f"actor_state keys {sorted(state)} != {sorted(expected)}")
    # the stored tensors must match actor_sizes *before* a network of that size is built:
    # sizes like [13, 1e9, 1] would otherwise allocate gigabytes for a file of a few bytes
    for k in range(len(sizes) - 1):
        for part, shape in (("weight", (sizes[k + 1], sizes[k])), ("bias", (sizes[k + 1],))):
            tensor = state[f"{k}.{part}"]
            if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != shape:
                got = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else None
                raise _fail(path, f"actor_state {k}.{part} has shape {got}, expected {shape}")
            if not bool(torch.isfinite(tensor).all()):
                raise _fail(path, f"actor_state {k}.{part} has non-finite values")
    actor = MaskedMLP(sizes)
    with torch.no_grad():
        for k, layer in enumerate(actor.layers):
            for part in ("weight", "bias"):
                target = getattr(layer, part)
                target.copy_(state[f"{k}.{part}"].to(target.dtype))
    if not math.isfinite(log_std):
        raise _fail(path, f"log_std is {log_std}")
    extras = {key: payload.get(key) or {} for key in ("config", "summary")}
    for key, value in extras.items():
        if not isinstance(value, dict):
            raise _fail(path, f"key '{key}' has type {type(value).__name__}")
    actor.eval()
    return AgentCheckpoint(
        name=name,
        actor=actor,
        history=history,
        n_features=n_features,
        log_std=log_std,
        dense_actor_parameters=dense,
        config=dict(extras["config"]),
        summary=dict(extras["summary"]),
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
