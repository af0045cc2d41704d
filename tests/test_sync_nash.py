"""Tests of agents.sync.nash: open-loop Nash (MODEL B4), calibration and paper trends (B7)."""

from __future__ import annotations

import numpy as np
import pytest

from agents.sync.dynamics import simulate
from agents.sync.nash import OpenLoopResult, solve_open_loop
from agents.sync.params import SyncParams
from agents.sync.verify import unilateral_gains

MID = 40.0  # trend tests: horizon 80 s, intensities read at the turnpike, t = 40 s


def _solve(p: SyncParams) -> OpenLoopResult:
    res = solve_open_loop(p)
    assert res.converged, res.message
    return res


def _eta_mid(p: SyncParams) -> np.ndarray:
    return _solve(p).eta_fn(np.array([MID]))[:, 0]


@pytest.fixture(scope="module")
def base4() -> SyncParams:
    return SyncParams.paper_defaults(4, T=80.0)


@pytest.fixture(scope="module")
def base4_eta(base4: SyncParams) -> np.ndarray:
    return _eta_mid(base4)


@pytest.mark.parametrize("x1", [0.2, 0.5, 0.8])
def test_calibration_target_shares(x1: float) -> None:
    """Paper Fig. 3: 2 VSPs settle at (0.33, 0.67) +- 0.02 from any start, T = 300."""
    p = SyncParams.paper_defaults(2, x0=np.array([x1, 1 - x1]))
    assert (p.N, p.delta, p.rho, p.T) == (500.0, 0.05, 1.0, 300.0)
    res = _solve(p)
    tr = simulate(p, res.eta_fn, np.linspace(0.0, p.T, 301))
    np.testing.assert_allclose(tr.x[:, 100:], np.array([[0.33], [0.67]]) + 0 * tr.x[:, 100:],
                               atol=0.02)
    np.testing.assert_allclose(tr.x[:, -1], [0.33, 0.67], atol=0.02)
    # higher decay rate -> higher intensity (Fig. 4)
    assert np.all(tr.eta[1, 50:-20] > tr.eta[0, 50:-20])


def test_bvp_solution_satisfies_dynamics_and_foc() -> None:
    p = SyncParams.paper_defaults(2)
    res = _solve(p)
    tr = simulate(p, res.eta_fn, res.t)
    np.testing.assert_allclose(tr.x, res.y[:2], atol=1e-5)
    np.testing.assert_allclose(tr.z, res.y[2:4], atol=1e-3)
    np.testing.assert_allclose(res.y[4:, -1], 0.0, atol=1e-12)  # transversality


def test_nash_has_no_profitable_unilateral_deviation() -> None:
    p = SyncParams.paper_defaults(2, T=40.0)
    res = _solve(p)
    base = simulate(p, res.eta_fn, np.array([0.0, p.T])).payoff
    gains = unilateral_gains(p, res.eta_fn, rtol=1e-9, maxiter=6, pieces=4)
    assert np.all(gains <= 1e-6 * np.abs(base)), gains
    # the check can fail: 10 % too much synchronisation is not an equilibrium
    off = unilateral_gains(p, lambda t: 1.1 * res.eta_fn(t), rtol=1e-9, maxiter=3, pieces=4)
    assert np.all(off > 1e-3), off


def test_failure_is_reported_not_silent() -> None:
    p = SyncParams.paper_defaults(2)
    res = solve_open_loop(p, nodes=10, max_nodes=12, sweeps=1)
    assert not res.converged
    assert "solve_bvp" in res.message and "nodes" in res.message


def test_four_vsp_paths_converge_and_order_by_decay(base4: SyncParams) -> None:
    """Fig. 5: all paths settle; intensity rises with the decay rate."""
    res = _solve(base4)
    e = res.eta_fn(np.array([35.0, MID, 50.0]))
    np.testing.assert_allclose(e[:, 0], e[:, 2], rtol=1e-2)
    assert np.all(np.diff(e[:, 1]) > 0)


def test_fig6_larger_delta_faster_same_ess() -> None:
    t = np.linspace(0.0, 200.0, 401)
    settle, final = {}, {}
    for delta in (0.02, 0.1):
        p = SyncParams.paper_defaults(4, delta=delta, T=200.0)
        x = simulate(p, _solve(p).eta_fn, t).x
        final[delta] = x[:, 200]
        far = np.any(np.abs(x - x[:, [200]]) > 0.01, axis=0)
        settle[delta] = t[np.flatnonzero(far[:200]).max() + 1]
    assert settle[0.1] < settle[0.02]
    np.testing.assert_allclose(final[0.02], final[0.1], atol=0.02)


def test_fig7_theta1_raises_own_lowers_others(base4: SyncParams, base4_eta: np.ndarray) -> None:
    q = base4.with_vsp_value("theta", 0, 0.15)
    r0, r1 = _solve(base4), _solve(q)
    t = np.array([MID])
    x0 = simulate(base4, r0.eta_fn, np.array([0, MID])).x[:, -1]
    x1 = simulate(q, r1.eta_fn, np.array([0, MID])).x[:, -1]
    e1 = r1.eta_fn(t)[:, 0]
    assert e1[0] > base4_eta[0] and x1[0] > x0[0]
    assert np.all(e1[1:] < base4_eta[1:]) and np.all(x1[1:] < x0[1:])


def test_fig8_larger_rho_lowers_every_eta(base4: SyncParams, base4_eta: np.ndarray) -> None:
    low = _eta_mid(base4.with_changes(rho=0.5))
    assert np.all(base4_eta < low)


def test_fig9_larger_population_raises_every_eta(base4: SyncParams,
                                                  base4_eta: np.ndarray) -> None:
    assert np.all(_eta_mid(base4.with_changes(N=550.0)) > base4_eta)
    assert np.all(_eta_mid(base4.with_changes(N=350.0)) < base4_eta)


def test_fig10_alpha1_raises_eta1(base4: SyncParams, base4_eta: np.ndarray) -> None:
    assert _eta_mid(base4.with_vsp_value("alpha", 0, 1.0))[0] > base4_eta[0]
    assert _eta_mid(base4.with_vsp_value("alpha", 0, 0.01))[0] < base4_eta[0]


def test_fig11_k1_lowers_eta1(base4: SyncParams) -> None:
    e = [_eta_mid(base4.with_vsp_value("k", 0, k))[0] for k in (0.1, 0.3, 0.5)]
    assert e[0] > e[1] > e[2]


def test_fig12_w3_raises_eta1_saturating(base4: SyncParams) -> None:
    e = [_eta_mid(base4.with_vsp_value("w3", 0, w))[0] for w in (0.01, 0.02, 0.03, 0.3)]
    assert e[0] < e[1] < e[2] < e[3]
    assert e[1] - e[0] > e[2] - e[1]                                 # concave
    # saturation: the twin value cannot be pushed beyond v, eta -> theta_1 v_1
    assert e[3] < base4.theta[0] * base4.v[0] * 1.01
