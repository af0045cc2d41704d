"""Tests of agents.sync.game (facade), sync_static and sync_stackelberg (MODEL B5-B6)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.sync.dynamics import constant_control, simulate_batch
from agents.sync.game import solve
from agents.sync.params import SyncParams
from agents.sync.static import constant_best_response
from agents.sync.verify import unilateral_gains


@pytest.fixture(scope="module")
def fig13() -> SyncParams:
    """Paper Fig. 13: VSPs 1-3 of the 4-VSP setting, delta = 0.02, rho = 1, leader VSP 3."""
    return SyncParams.paper_defaults(4).subset([0, 1, 2]).with_changes(
        delta=0.02, rho=1.0, T=60.0, leaders=(2,))


def test_fig13_stackelberg_geq_nash_geq_static(fig13: SyncParams) -> None:
    st = solve(fig13, "stackelberg")
    na = solve(fig13, "nash")
    sa = solve(fig13, "static")
    assert st.converged and na.converged and sa.converged, (st.message, sa.message)
    tol = 1e-7 * abs(na.payoff[2])
    assert st.payoff[2] >= na.payoff[2] - tol
    assert na.payoff[2] > sa.payoff[2]
    # followers of the Stackelberg game are at their Nash response
    gains = unilateral_gains(fig13, st.eta_fn, players=[0, 1], rtol=1e-9, maxiter=3,
                             pieces=4)
    assert np.all(gains[:2] <= 1e-6 * np.abs(st.payoff[:2])), gains
    assert np.isnan(gains[2])


def test_static_constants_are_mutual_best_responses() -> None:
    p = SyncParams.paper_defaults(2, T=60.0)
    sol = solve(p, "static")
    assert sol.converged, sol.message
    c = sol.trajectory.eta[:, 0]
    np.testing.assert_allclose(sol.trajectory.eta, c[:, None] + 0 * sol.trajectory.eta)
    for m in range(2):
        best, _ = constant_best_response(p, c, m)
        assert abs(best - c[m]) < 1e-3 * max(1.0, c[m])
    # a grid of alternative constants never beats the equilibrium constant
    grid = np.linspace(0.5 * c[0], 1.5 * c[0], 11)
    vals = np.repeat(c[:, None], 11, axis=1)
    vals[0] = grid
    obj = simulate_batch(p, lambda t: vals, 11)[0]
    assert obj.max() <= sol.payoff[0] + 1e-6 * abs(sol.payoff[0])


def test_constant_mode_uses_given_intensities() -> None:
    p = SyncParams.paper_defaults(2, T=30.0, intensity=np.array([1.0, 2.0]))
    sol = solve(p, "constant", points=31)
    np.testing.assert_allclose(sol.trajectory.eta, [[1.0] * 31, [2.0] * 31])
    assert sol.converged
    # intensity beyond the horizon is held at the last value
    np.testing.assert_allclose(sol.eta_fn(np.array([1e4]))[:, 0], [1.0, 2.0])
    np.testing.assert_allclose(constant_control(np.array([1.0, 2.0]))(np.array([0.0]))[:, 0],
                               [1.0, 2.0])


def test_mode_errors() -> None:
    p = SyncParams.paper_defaults(2, T=30.0)
    with pytest.raises(ValueError, match="unknown mode"):
        solve(p, "bogus")
    with pytest.raises(ValueError, match="intensity"):
        solve(p, "constant")
    with pytest.raises(ValueError, match="leaders"):
        solve(p, "stackelberg")
