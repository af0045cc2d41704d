"""How long the pricing agents take to decide: MODEL.md D5.

A pricing round's prices take effect only once they are computed. For the learned agents
(``tiny_madrl``, ``ppo``) the cost is the actor's forward passes: a dense layer ``in -> out``
costs ``2 in out`` FLOPs (one multiply and one add per weight) plus one per activation of a
hidden neuron, and an RSU runs one pass per UAV it prices in every iteration of the round. The
RSUs decide in parallel, each on its own processor, but each iteration waits for the slowest
one (the UAVs answer all prices together), so a round of ``K`` iterations takes
``K * max_j(pairs_j * FLOPs) / (compute_gflops * 1e9)``. With a single RSU this is MODEL.md's
``FLOPs per decision x decisions / compute``. The compacted actor of a pruned agent has fewer
neurons, hence fewer FLOPs, hence a shorter decision.

The equilibrium solver (one central computation) is charged its measured best-response
sweeps times a per-sweep cost. The heuristic policies (``greedy``, ``random``) do a few
comparisons per price and are charged nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "learned_decision_time_s",
    "mlp_flops",
    "round_decision_time",
    "solver_decision_time_s",
]


def mlp_flops(widths: Sequence[int]) -> int:
    """FLOPs of one forward pass of an MLP with layer widths ``[n_in, h_1, ..., h_k, n_out]``.

    ``sum_l 2 w_l w_{l+1}`` for the dense layers plus one per hidden activation
    ``sum_{l=1..k} h_l`` (the output layer is affine, no activation).

    Raises:
        ValueError: fewer than two widths or a width < 1.
    """
    w = [int(x) for x in widths]
    if len(w) < 2 or min(w) < 1:
        raise ValueError(f"mlp_flops: expected >= 2 widths >= 1, got {list(widths)}")
    return sum(2 * a * b for a, b in zip(w[:-1], w[1:], strict=True)) + sum(w[1:-1])


def learned_decision_time_s(flops_per_decision: float, pairs_per_rsu: np.ndarray,
                            iterations: int, compute_gflops: np.ndarray | float) -> float:
    """Decision time (s) of a learned round: ``K * max_j(pairs_j * FLOPs / rate_j)``.

    Args:
        flops_per_decision: FLOPs of one actor pass (the network actually used).
        pairs_per_rsu: ``[J]`` UAVs each RSU prices in the round.
        iterations: ``K`` iterations of the repeated game (>= 0).
        compute_gflops: ``[J]`` (or one) compute rate of the RSUs, GFLOP/s (> 0).

    Returns:
        Seconds (0 if no RSU prices anything).

    Raises:
        ValueError: a negative count or a non-positive compute rate.
    """
    pairs = np.asarray(pairs_per_rsu, dtype=float)
    rate = np.broadcast_to(np.asarray(compute_gflops, dtype=float), pairs.shape)
    if (pairs < 0).any() or iterations < 0 or flops_per_decision < 0:
        raise ValueError(f"learned_decision_time_s: counts must be >= 0, got pairs "
                         f"{pairs.tolist()}, iterations {iterations}, flops {flops_per_decision}")
    if not (rate > 0).all():
        raise ValueError(f"learned_decision_time_s: compute_gflops must be > 0, got "
                         f"{rate.tolist()}")
    if pairs.size == 0:
        return 0.0
    return float(iterations * np.max(pairs * flops_per_decision / (rate * 1e9)))


def solver_decision_time_s(iterations: int, per_iteration_s: float) -> float:
    """Decision time (s) of the equilibrium solver: ``iterations x per_iteration_s``.

    Raises:
        ValueError: a negative count or cost.
    """
    if iterations < 0 or not (per_iteration_s >= 0 and math.isfinite(per_iteration_s)):
        raise ValueError(f"solver_decision_time_s: expected iterations >= 0 and a cost >= 0, "
                         f"got {iterations}, {per_iteration_s}")
    return float(iterations * per_iteration_s)


def round_decision_time(policy: Any, available: np.ndarray, iterations: int,
                        compute_gflops: float, equilibrium_iteration_s: float
                        ) -> tuple[float, float, float]:
    """Decision time of one round played by ``policy`` (MODEL.md D5).

    Args:
        policy: the pricing policy; a learned one exposes ``flops_per_decision`` (> 0).
        available: ``[I, J]`` pairs the round could trade (the agents price each of them).
        iterations: the round's iterations (``K``) or solver sweeps.
        compute_gflops: the RSUs' compute rate, GFLOP/s.
        equilibrium_iteration_s: cost of one sweep of the equilibrium solver, s.

    Returns:
        ``(seconds, FLOPs charged, FLOPs per decision)``; zeros for ``greedy``/``random``.
    """
    per_decision = float(getattr(policy, "flops_per_decision", 0.0))
    if per_decision > 0:
        pairs = np.asarray(available, dtype=bool).sum(axis=0)
        seconds = learned_decision_time_s(per_decision, pairs, iterations, compute_gflops)
        return seconds, per_decision * float(pairs.sum()) * iterations, per_decision
    if policy.name == "equilibrium":
        return solver_decision_time_s(iterations, equilibrium_iteration_s), 0.0, 0.0
    return 0.0, 0.0, 0.0
