"""agents.sync.rk45 is the installed scipy's RK45 bit for bit.

Every comparison is ``==`` on the float64 bits, step by step (times, states, the status) and
at many dense-output times, on problems whose steps get rejected, clipped at the bound and
run backwards: one reordered operation in a stage, the error norm, the step-size controller
or the dense output changes a bit somewhere and fails them.  They also fail if a new scipy
changes its RK45.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import RK45, solve_ivp

from agents.sync.dynamics import control_from_samples, forward_point, forward_rhs
from agents.sync.params import SyncParams
from agents.sync.rk45 import LeanRK45, solve_ivp_rk45


def same_bits(a: object, b: object) -> bool:
    """Equal float64 bit patterns (shapes flattened)."""
    x = np.ascontiguousarray(np.asarray(a, dtype=float)).ravel()
    y = np.ascontiguousarray(np.asarray(b, dtype=float)).ravel()
    return x.shape == y.shape and x.tobytes() == y.tobytes()


def forced_pendulum(t: float, y: np.ndarray) -> np.ndarray:
    """A damped, forced pendulum and a decaying passenger: steps of changing size."""
    return np.array([y[1], -np.sin(y[0]) - 0.1 * y[1] + 1.3 * np.cos(0.7 * t),
                     -0.3 * y[2] * y[0]])


def stiffish(t: float, y: np.ndarray) -> np.ndarray:
    """Fast decay towards a moving target: the controller rejects steps."""
    return np.array([-60.0 * (y[0] - np.sin(t)), y[0] - 0.5 * y[1]])


def game_rhs() -> tuple:
    """The sensing process's right-hand side (float fast path) of a 3-VSP game."""
    p = SyncParams.paper_defaults(4).subset([0, 1, 2]).with_changes(T=60.0)
    grid = np.linspace(0.0, p.T, 61)
    eta = 5.0 + 3.0 * np.sin(grid[None, :] / (4.0 + np.arange(3.0))[:, None])
    y0 = np.concatenate([p.x0, p.z0, np.zeros(3)])
    return forward_rhs(p, control_from_samples(grid, eta)), y0


CASES = {
    "pendulum": (forced_pendulum, np.array([0.3, 0.0, 1.0]), 0.0, 25.0, 1e-8, 1e-10, np.inf),
    "pendulum-back": (forced_pendulum, np.array([0.3, 0.0, 1.0]), 0.0, -25.0, 1e-6, 1e-8,
                      np.inf),
    "stiffish": (stiffish, np.array([2.0, -1.0]), 0.0, 12.0, 1e-3, 1e-6, np.inf),
    "max-step": (forced_pendulum, np.array([1.0, 0.5, 2.0]), 3.0, 20.0, 1e-5, 1e-9, 0.37),
    "game": (*game_rhs(), 0.0, 90.0, 1e-8, 1e-10, np.inf),
}


@pytest.mark.parametrize("lists", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_and_dense_output_equal_scipy(case: str, lists: bool) -> None:
    fun, y0, t0, t1, rtol, atol, max_step = CASES[case]
    ref = RK45(fun, t0, y0, t1, rtol=rtol, atol=atol, max_step=max_step)
    calls = [0]

    def counted(t: float, y: np.ndarray) -> np.ndarray:
        calls[0] += 1
        return fun(t, y)

    def on_lists(t: float, y: list[float]) -> list[float]:
        calls[0] += 1
        return fun(t, np.array(y)).tolist()
    lean = LeanRK45(on_lists if lists else counted, t0, y0, t1, rtol=rtol, atol=atol,
                    max_step=max_step, lists=lists)
    steps = 0
    while ref.status == "running":
        ref.step()
        lean.step()
        steps += 1
        assert lean.status == ref.status and lean.t_old == ref.t_old, steps
        assert lean.t == ref.t and same_bits(lean.y, ref.y), steps
        assert same_bits(lean.y_list, ref.y), steps
        dense = ref.dense_output()
        times = np.linspace(ref.t_old, ref.t, 6)
        for t in [*times.tolist(), ref.t_old + 0.123 * (ref.t - ref.t_old)]:
            assert same_bits(lean.at(t), dense(t)), (steps, t)
            assert same_bits(lean.at_list(t), dense(t)), (steps, t)
        assert same_bits(lean.at_times(times[1:]), dense(times[1:])), steps
    assert steps > 20 and lean.t == t1
    assert calls[0] == ref.nfev  # every stage of every tried step, rejected ones included
    if case == "stiffish":
        assert calls[0] > 6 * steps + 2  # some steps were rejected
    with pytest.raises(RuntimeError):
        lean.step()


def test_float_right_hand_sides_equal_their_numpy_forms() -> None:
    """The game's float right-hand side on lists gives scipy's steps (as its array form)."""
    p = SyncParams.paper_defaults(4).subset([0, 1, 2]).with_changes(T=60.0)
    grid = np.linspace(0.0, p.T, 61)
    ctrl = control_from_samples(
        grid, 5.0 + 3.0 * np.cos(grid[None, :] / (3.0 + np.arange(3.0))[:, None]))
    point = forward_point(p, ctrl)
    assert point is not None and forward_point(p, lambda t: ctrl(t)) is None
    y0 = np.concatenate([p.x0, p.z0, np.zeros(3)])
    t_eval = np.linspace(0.0, 70.0, 141)
    want = solve_ivp(lambda t, y: ctrl_rhs(p, ctrl, t, y), (0.0, 70.0), y0, t_eval=t_eval,
                     rtol=1e-8, atol=1e-10)
    got = solve_ivp_rk45(point, (0.0, 70.0), y0, t_eval, rtol=1e-8, atol=1e-10, lists=True)
    assert same_bits(got.t, want.t) and same_bits(got.y, want.y)


def ctrl_rhs(p: SyncParams, ctrl: object, t: float, y: np.ndarray) -> np.ndarray:
    """The NumPy right-hand side of :func:`forward_rhs` (a plain function as the control)."""
    return forward_rhs(p, lambda tt: ctrl(tt))(t, y)  # type: ignore[operator]


@pytest.mark.parametrize("case", ["pendulum", "pendulum-back", "stiffish", "game"])
def test_solve_ivp_rk45_equals_solve_ivp(case: str) -> None:
    fun, y0, t0, t1, rtol, atol, _ = CASES[case]
    rng = np.random.default_rng(7)
    lo, hi = min(t0, t1), max(t0, t1)
    inner = np.sort(rng.uniform(lo, hi, 37))
    for t_eval in (np.linspace(lo, hi, 201), np.concatenate([[lo], inner, [hi]]), inner[:3]):
        if t1 < t0:
            t_eval = t_eval[::-1]
        want = solve_ivp(fun, (t0, t1), y0, t_eval=t_eval, rtol=rtol, atol=atol)
        got = solve_ivp_rk45(fun, (t0, t1), y0, t_eval, rtol=rtol, atol=atol)
        assert same_bits(got.t, want.t) and same_bits(got.y, want.y)
        assert (got.status, got.message, got.success) == (want.status, want.message,
                                                          want.success)


def test_failure_and_input_checks_follow_scipy() -> None:
    def blowup(t: float, y: np.ndarray) -> np.ndarray:
        return y * y
    y0, t_eval = np.array([1.0]), np.linspace(0.0, 2.0, 9)
    want = solve_ivp(blowup, (0.0, 2.0), y0, t_eval=t_eval, rtol=1e-6, atol=1e-9)
    got = solve_ivp_rk45(blowup, (0.0, 2.0), y0, t_eval, rtol=1e-6, atol=1e-9)
    assert want.status == -1 and (got.status, got.message, got.success) == (
        want.status, want.message, want.success)
    assert same_bits(got.t, want.t) and same_bits(got.y, want.y)
    for bad in (np.array([0.5, 0.2]), np.array([0.0, 3.0]), np.zeros((2, 2))):
        with pytest.raises(ValueError):
            solve_ivp_rk45(blowup, (0.0, 2.0), y0, bad)
