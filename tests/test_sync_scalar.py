"""The float fast paths of the synchronisation game are the NumPy formulas bit for bit.

Every comparison is ``==`` on the float64 bits (so the sign of zero counts and NaN equals
NaN): one reordered operation, a fused multiply-add or a sum started elsewhere fails them.
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import RK45

from agents.sync import nash
from agents.sync.dynamics import (
    control_from_samples,
    forward_rhs,
    payoff_rate,
    replicator_rhs,
    simulate,
    twin_value_rhs,
)
from agents.sync.game import solve
from agents.sync.params import SyncParams
from agents.sync.scalar import MAX_VSPS, InterpTable, ScalarGame, clip0
from simulator.trace.recorders import MemoryRecorder
from simulator.world.sensing import ATOL, RTOL, SensingProcess


def same_bits(a: object, b: object) -> bool:
    """Equal float64 bit patterns (shapes flattened)."""
    x = np.ascontiguousarray(np.asarray(a, dtype=float)).ravel()
    y = np.ascontiguousarray(np.asarray(b, dtype=float)).ravel()
    return x.shape == y.shape and x.tobytes() == y.tobytes()


def random_values(rng: np.random.Generator, shape: tuple[int, ...],
                  zeros: float = 0.08) -> np.ndarray:
    """Values of mixed sign and magnitude, a fraction ``zeros`` of them signed zeros."""
    vals = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, size=shape)
    zeros = rng.random(shape) < zeros
    vals[zeros] = np.where(rng.random(shape) < 0.5, 0.0, -0.0)[zeros]
    return vals


def random_game(rng: np.random.Generator, m: int) -> SyncParams:
    x0 = rng.dirichlet(np.ones(m))
    return SyncParams(
        N=float(rng.integers(10, 900)), b=float(rng.uniform(0.05, 2)),
        delta=float(rng.uniform(0, 0.3)), rho=float(rng.uniform(0, 2)), T=100.0,
        g0=float(rng.uniform(0.5, 3)), g1=float(rng.uniform(0, 20)),
        w=rng.uniform(0.001, 2, size=(4, m)), theta=rng.uniform(0.01, 0.3, m),
        d=rng.uniform(1, 100, m), alpha=rng.uniform(0, 1, m), k=rng.uniform(0.1, 1, m),
        v=rng.uniform(0, 100, m), c=rng.uniform(0, 0.1, m), x0=x0 / x0.sum(),
        z0=rng.uniform(0, 80, m))


# ---------------------------------------------------------------- interpolation
@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 40), rows=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_interp_table_is_np_interp(n: int, rows: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    xp = np.cumsum(rng.uniform(1e-3, 3.0, n)) - rng.uniform(0, 50)
    fp = random_values(rng, (rows, n))
    if rng.random() < 0.3:
        fp[:, 1::2] = fp[:, ::2][:, :fp[:, 1::2].shape[1]]  # flat segments
    tab = InterpTable(xp, fp)
    assert tab.usable
    ts = np.concatenate([xp, rng.uniform(xp[0] - 5, xp[-1] + 5, 60), [np.nextafter(xp[0], -1),
                         np.nextafter(xp[-1], 1), np.nextafter(xp[n // 2], 1)]])
    for t in ts.tolist():
        got = tab.at(t)
        want = [np.interp(t, xp, row) for row in fp]
        assert same_bits(got, want), (t, got, want)


def test_interp_table_nan_and_infinite_values() -> None:
    xp = np.array([0.0, 1.0, 2.0, 3.0])
    fp = np.array([[np.inf, np.inf, 1.0, -np.inf], [0.0, np.nan, 2.0, 2.0],
                   [-0.0, -0.0, 5.0, 5.0]])
    tab = InterpTable(xp, fp)
    for t in (np.nan, -1.0, 0.0, 0.5, 1.0, 1.5, 2.5, 3.0, 7.0):
        assert same_bits(tab.at(t), [np.interp(t, xp, row) for row in fp]), t


def test_interp_table_falls_back_on_unsorted_nodes() -> None:
    xp = np.array([0.0, 2.0, 1.0, 3.0])
    fp = np.array([[1.0, 2.0, 3.0, 4.0]])
    tab = InterpTable(xp, fp)
    assert not tab.usable
    for t in (0.5, 1.5, 2.5):
        assert same_bits(tab.at(t), [np.interp(t, xp, fp[0])])


def test_sampled_control_at_is_its_call() -> None:
    rng = np.random.default_rng(5)
    grid = np.union1d(np.linspace(0, 300, 301), rng.uniform(0, 300, 50))
    ctrl = control_from_samples(grid, random_values(rng, (3, grid.size)))
    for t in np.concatenate([grid[::7], rng.uniform(-10, 320, 200)]).tolist():
        assert same_bits(ctrl.at(t), ctrl(np.array([t]))[:, 0])


def test_clip0_is_np_maximum() -> None:
    vals = np.array([1.5, -2.0, 0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -5e-324])
    for m in range(1, 8):
        for start in range(0, vals.size - m + 1):
            col = np.repeat(vals[start:start + m, None], 2, axis=1)[:, 0]  # strided, as used
            assert same_bits(clip0(col.tolist()), np.maximum(col, 0.0))


# ---------------------------------------------------------------- the game's formulas
def test_scalar_game_is_the_numpy_formulas() -> None:
    rng = np.random.default_rng(11)
    for m in range(1, MAX_VSPS + 1):
        for _ in range(6):
            p = random_game(rng, m)
            game = ScalarGame(p)
            for i in range(40):
                x, z, e = (random_values(rng, (m,), 0.08 if i % 2 else 0.9) for _ in range(3))
                xl, zl, el = x.tolist(), z.tolist(), e.tolist()
                assert same_bits(game.replicator(xl, el), replicator_rhs(p, x, e))
                assert same_bits(game.twin(zl, el), twin_value_rhs(p, z, e))
                assert same_bits(game.payoff(xl, zl, el), payoff_rate(p, x, z, e))
                t = float(rng.uniform(0, 400))
                y = np.concatenate([x, z, random_values(rng, (m,))])
                want = np.concatenate([replicator_rhs(p, x, e), twin_value_rhs(p, z, e),
                                       np.exp(-p.rho * t) * payoff_rate(p, x, z, e)])
                assert same_bits(game.forward(t, y.tolist(), el), want)


def test_costate_point_is_costate_rhs() -> None:
    """As the sweeps call it: [M, 1] states, costates reshaped to [P, M + 1, 1]."""
    if not nash.einsum_sums_in_lanes():
        pytest.skip("this machine's einsum sums otherwise: the sweeps keep NumPy's code")
    rng = np.random.default_rng(12)
    for m in range(1, nash.MAX_POINT_VSPS + 1):
        for players in ([list(range(m))] + [[i] for i in range(m)]
                        + ([[0, m - 1]] if m > 2 else [])):
            p = random_game(rng, m)
            can = nash._Canonical(p, players, None)  # noqa: SLF001
            for i in range(60):
                zeros = 0.08 if i % 2 else 0.9
                s = random_values(rng, (2 * m, 1), zeros)
                e = random_values(rng, (m, 1), zeros)
                lam = random_values(rng, (can.P * (m + 1),), zeros)
                lmat = lam.reshape(can.P, m + 1, 1)
                dlx, dlz = can.costate_rhs(s[:m], s[m:], e, lmat[:, :m], lmat[:, m])
                want = np.concatenate([dlx, dlz[:, None]], axis=1).ravel()
                got = can.costate_point(s[:m, 0].tolist(), s[m:, 0].tolist(),
                                        e[:, 0].tolist(), lam.tolist())
                assert same_bits(got, want), (m, players)


# ---------------------------------------------------------------- whole integrations
def test_nash_solve_is_unchanged_by_the_point_paths(monkeypatch) -> None:
    """The sweeps, the scoring and the solution with and without the float paths."""
    p = SyncParams.paper_defaults(4).subset([0, 1, 2]).with_changes(T=40.0)
    fast = solve(p, "nash", points=41)
    monkeypatch.setattr(nash, "MAX_POINT_VSPS", 0)
    monkeypatch.setattr("agents.sync.dynamics.MAX_VSPS", 0)
    slow = solve(p, "nash", points=41)
    tf, ts = fast.trajectory, slow.trajectory
    for a, b in ((tf.x, ts.x), (tf.z, ts.z), (tf.eta, ts.eta), (tf.payoff, ts.payoff)):
        assert same_bits(a, b)
    grid = np.linspace(-1, 41, 301)
    assert same_bits(fast.eta_fn(grid), slow.eta_fn(grid))


def test_simulate_is_unchanged_by_the_point_path() -> None:
    rng = np.random.default_rng(13)
    p = random_game(rng, 3)
    grid = np.linspace(0, p.T, 57)
    ctrl = control_from_samples(grid, np.abs(random_values(rng, (3, grid.size))) % 30)
    fast = simulate(p, ctrl, grid)
    slow = simulate(p, lambda t: ctrl(t), grid)  # a plain function: the NumPy right-hand side
    for a, b in ((fast.x, slow.x), (fast.z, slow.z), (fast.payoff, slow.payoff)):
        assert same_bits(a, b)


class _ScipyRK45(RK45):
    """scipy's own RK45 with the method the sensing process reads its dense output by."""

    @property
    def y_list(self) -> list[float]:
        return self.y.tolist()

    def at_list(self, t: float) -> list[float]:
        return self.dense_output()(t).tolist()


def _sensing_rows(p: SyncParams, reference: bool, revision: str) -> dict[str, np.ndarray]:
    sol = solve(p, "nash", points=31)
    env, rec = simpy.Environment(), MemoryRecorder()
    proc = SensingProcess(env, p, sol, revision=revision, step_s=0.7, recorder=rec,
                          rng=np.random.default_rng(4), end_s=40.0)  # outlasts its bound
    if reference:  # the NumPy paths: no float control, scipy's integrator and dense output
        proc._at = proc._game = None  # noqa: SLF001

        def scipy_solver(t0: float, y0: np.ndarray, bound: float) -> RK45:
            return _ScipyRK45(forward_rhs(p, proc.control), t0, y0, bound, rtol=RTOL, atol=ATOL)
        proc._new_solver = scipy_solver  # type: ignore[method-assign]  # noqa: SLF001
        if revision == "replicator":
            proc._solver = scipy_solver(proc.t, np.concatenate(  # noqa: SLF001
                [proc.x, proc.z, proc.cumulative]), proc._bound)  # noqa: SLF001
    env.run(until=90.0)
    proc.finish()
    return rec.tables()["/sensing/state"]


def test_sensing_process_rows_are_unchanged_by_the_fast_paths() -> None:
    p = SyncParams.paper_defaults(2).with_changes(T=30.0)
    for revision in ("replicator", "agent"):
        fast, slow = _sensing_rows(p, False, revision), _sensing_rows(p, True, revision)
        assert fast.keys() == slow.keys()
        for key in fast:
            assert same_bits(fast[key], slow[key]), (revision, key)
