"""Tests of agents.sync.dynamics and agents.sync.population (MODEL B2-B3)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from agents.sync.dynamics import (
    constant_control,
    control_from_samples,
    payoff_rate,
    replicator_rhs,
    simulate,
    twin_value_step,
    uav_utility,
)
from agents.sync.params import SyncParams
from agents.sync.population import initial_strategies, simulate_population


def test_replicator_matches_textbook_form() -> None:
    p = SyncParams.paper_defaults(4)
    x = np.array([0.1, 0.2, 0.3, 0.4])
    eta = np.array([2.0, 3.0, 5.0, 7.0])
    u = uav_utility(p, x, eta)
    expected = p.delta * x * (u - x @ u)
    np.testing.assert_allclose(replicator_rhs(p, x, eta), expected, rtol=1e-12)


def test_rest_point_is_pool_share_when_costs_equal() -> None:
    p = SyncParams.paper_defaults(2)
    eta = np.array([3.0, 5.0])
    pool = eta * p.d * p.g
    x = pool / pool.sum()
    np.testing.assert_allclose(replicator_rhs(p, x, eta), 0.0, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(
    x1=st.floats(0.01, 0.99),
    etas=st.lists(st.floats(0.0, 20.0), min_size=3, max_size=3),
    delta=st.floats(0.001, 0.5),
)
def test_shares_stay_on_simplex(x1: float, etas: list[float], delta: float) -> None:
    x0 = np.array([x1, (1 - x1) / 2, (1 - x1) / 2])
    p = SyncParams.paper_defaults(4).subset([0, 1, 2]).with_changes(
        x0=x0, delta=delta, T=60.0)
    tr = simulate(p, constant_control(np.array(etas)), np.linspace(0, 60, 61))
    assert np.all(tr.x >= -1e-9)
    np.testing.assert_allclose(tr.x.sum(axis=0), 1.0, atol=1e-9)


def test_exact_twin_step_matches_ode() -> None:
    p = SyncParams.paper_defaults(4)
    z0 = np.array([40.0, 10.0, 70.0, 0.0])
    eta = np.array([1.0, 4.0, 2.5, 9.0])
    ode = solve_ivp(lambda t, z: eta - p.theta * z, (0, 7.3), z0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(twin_value_step(p, z0, eta, 7.3), ode.y[:, -1], rtol=1e-9)
    # composing steps equals one step
    half = twin_value_step(p, twin_value_step(p, z0, eta, 3.0), eta, 4.3)
    np.testing.assert_allclose(half, twin_value_step(p, z0, eta, 7.3), rtol=1e-12)


def test_payoff_rate_closed_form_and_discounted_objective() -> None:
    p = SyncParams.paper_defaults(2, delta=0.0, T=20.0)
    eta = np.array([2.0, 4.0])
    tr = simulate(p, constant_control(eta), np.linspace(0, 20, 2001))
    # with delta = 0 the shares stay put and z has its closed form
    z = eta[:, None] / p.theta[:, None] + (p.z0 - eta / p.theta)[:, None] * np.exp(
        -p.theta[:, None] * tr.t)
    np.testing.assert_allclose(tr.z, z, rtol=1e-7)
    w1, w2, w3, w4 = p.w[:, 0]
    j0 = (w1 * p.alpha[0] * 0.5 * p.N * p.b + w2 * p.beta[0] * z[0] * p.d[0]
          - w3 * (z[0] - p.v[0]) ** 2 - w4 * (p.d[0] * eta[0] * p.k[0] - 0.5 * p.N * p.b) ** 2)
    np.testing.assert_allclose(tr.payoff_rate[0], j0, rtol=1e-7)
    disc = np.trapezoid(np.exp(-p.rho * tr.t) * j0, tr.t)
    np.testing.assert_allclose(tr.payoff[0], disc, rtol=1e-5)
    np.testing.assert_allclose(payoff_rate(p, tr.x[:, 0], tr.z[:, 0], eta), tr.payoff_rate[:, 0])


def test_sampled_control_interpolates() -> None:
    fn = control_from_samples(np.array([0.0, 10.0]), np.array([[0.0, 10.0], [5.0, 5.0]]))
    np.testing.assert_allclose(fn(np.array([2.5, 20.0])), [[2.5, 10.0], [5.0, 5.0]])


def test_initial_strategies_match_shares() -> None:
    p = SyncParams.paper_defaults(4, x0=np.array([0.1, 0.2, 0.3, 0.4]))
    s = initial_strategies(p, np.random.default_rng(1))
    np.testing.assert_array_equal(np.bincount(s, minlength=4), [50, 100, 150, 200])


def test_agent_population_approaches_replicator() -> None:
    """RMS error to the ODE over the transient shrinks roughly like 1/sqrt(N)."""
    eta = constant_control(np.array([3.0, 5.0]))
    t = np.linspace(0.0, 10.0, 21)
    errors = {}
    for n in (300, 3000, 30000):
        p = SyncParams.paper_defaults(2, N=float(n), x0=np.array([0.8, 0.2]), T=10.0)
        ode = simulate(p, eta, t).x
        errs = []
        for seed in range(8):
            xs, _ = simulate_population(p, eta, t, np.random.default_rng(seed))
            np.testing.assert_allclose(xs.sum(axis=0), 1.0)
            errs.append(np.sqrt(((xs[0] - ode[0]) ** 2).mean()))
        errors[n] = float(np.mean(errs))
    # 10x more UAVs -> ~sqrt(10) = 3.2x smaller error; allow slack for the randomness
    assert errors[3000] < errors[300] / 1.8
    assert errors[30000] < errors[3000] / 1.8
    assert errors[30000] < 0.002
