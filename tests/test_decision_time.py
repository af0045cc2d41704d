"""Decision time of the pricing agents (MODEL.md D5) in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from agents.pricing.decision_time import (
    learned_decision_time_s,
    mlp_flops,
    solver_decision_time_s,
)


def test_mlp_flops_counts_multiply_adds_and_activations() -> None:
    # 13 -> 64 -> 64 -> 1: 2 (13*64 + 64*64 + 64*1) + (64 + 64)
    assert mlp_flops([13, 64, 64, 1]) == 2 * (832 + 4096 + 64) + 128 == 10112
    # compacted to 24 neurons per layer: 2 (13*24 + 24*24 + 24) + 48
    assert mlp_flops([13, 24, 24, 1]) == 1872
    assert mlp_flops([3, 2]) == 12          # no hidden layer, no activation
    with pytest.raises(ValueError, match="widths"):
        mlp_flops([5])
    with pytest.raises(ValueError, match="widths"):
        mlp_flops([5, 0, 1])


def test_learned_decision_time_is_paced_by_the_slowest_rsu() -> None:
    # K = 50 iterations; RSU 1 prices 3 UAVs at 2 GFLOP/s, RSU 0 prices 4 at 10 GFLOP/s
    t = learned_decision_time_s(10112, np.array([4, 3]), 50, np.array([10.0, 2.0]))
    assert t == pytest.approx(50 * 3 * 10112 / 2e9, rel=1e-15)
    # one RSU: FLOPs per decision x decisions / compute (MODEL.md D5 as written)
    assert learned_decision_time_s(1872, np.array([5]), 20, 0.5) == pytest.approx(
        1872 * 5 * 20 / 0.5e9)
    assert learned_decision_time_s(1872, np.array([], dtype=int), 20, 1.0) == 0.0
    with pytest.raises(ValueError, match="compute_gflops"):
        learned_decision_time_s(1872, np.array([1]), 20, 0.0)


def test_solver_decision_time() -> None:
    assert solver_decision_time_s(37, 2e-4) == pytest.approx(7.4e-3)
    with pytest.raises(ValueError):
        solver_decision_time_s(-1, 1e-3)
