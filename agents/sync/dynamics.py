"""State dynamics and payoffs of the synchronisation game (MODEL.md B2-B3).

Two coupled states per VSP ``m``: the share ``x_m`` of sensing UAVs working for it and the
value ``z_m`` of its digital twins.  Twins lose value at rate ``theta_m`` and regain it by
synchronisation, ``dz_m/dt = eta_m - theta_m z_m``; the UAVs imitate better-paid colleagues,
which in the mean-field limit is the replicator equation
``dx_m/dt = delta x_m (u_m - ubar)`` with ``u_m = P_m / (N x_m) - c_m``.  Multiplying out the
``1/x_m`` gives the form used here,
``dx_m/dt = delta (P_m/N - x_m sum_k P_k/N - c_m x_m + x_m sum_k x_k c_k)``, which is smooth at
``x_m = 0`` and keeps ``sum_m x_m = 1`` exactly.

Everything is vectorised over VSPs (last axis or first axis as documented), so one call
handles a whole mesh of time points or a batch of candidate controls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from agents.sync.params import SyncParams
from agents.sync.rk45 import solve_ivp_rk45
from agents.sync.scalar import MAX_VSPS, InterpTable, ScalarGame, clip0

#: A control: times [n] -> intensities [M, n].
EtaFn = Callable[[np.ndarray], np.ndarray]


def incentive_pool(params: SyncParams, eta: np.ndarray) -> np.ndarray:
    """Incentive pool ``P_m = eta_m d_m g(theta_m)``.

    Args:
        params: the game.
        eta: intensities, VSPs on axis 0 ([M] or [M, n]).

    Returns:
        Pools, same shape as ``eta``.
    """
    scale = params.d * params.g
    return eta * scale.reshape((-1,) + (1,) * (np.ndim(eta) - 1))


def uav_utility(params: SyncParams, x: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Utility of a UAV working for each VSP, ``u_m = P_m / (N x_m) - c_m``.

    Args:
        params: the game.
        x: shares [M] (entries > 0; a VSP without UAVs gets ``inf`` if its pool is > 0).
        eta: intensities [M].

    Returns:
        Utilities [M].
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return incentive_pool(params, eta) / (params.N * x) - params.c


def replicator_rhs(params: SyncParams, x: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Replicator right-hand side ``dx/dt`` (MODEL B2), VSPs on axis 0.

    Args:
        params: the game.
        x: shares, [M] or [M, n].
        eta: intensities, same shape as ``x``.

    Returns:
        ``dx/dt``, same shape; its sum over VSPs is 0.
    """
    shape = (-1,) + (1,) * (np.ndim(x) - 1)
    pool = incentive_pool(params, eta) / params.N
    c = params.c.reshape(shape)
    return params.delta * (pool - x * pool.sum(axis=0) - c * x + x * (x * c).sum(axis=0))


def twin_value_rhs(params: SyncParams, z: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Twin value right-hand side ``dz_m/dt = eta_m - theta_m z_m``.

    Args:
        params: the game.
        z: twin values, [M] or [M, n].
        eta: intensities, same shape.

    Returns:
        ``dz/dt``, same shape.
    """
    return eta - params.theta.reshape((-1,) + (1,) * (np.ndim(z) - 1)) * z


def twin_value_step(params: SyncParams, z: np.ndarray, eta: np.ndarray, h: float) -> np.ndarray:
    """Exact twin values after ``h`` seconds of constant intensity.

    ``z(t+h) = eta/theta + (z(t) - eta/theta) exp(-theta h)``.

    Args:
        params: the game.
        z: twin values [M].
        eta: constant intensities [M] over the step.
        h: step length in seconds (>= 0).

    Returns:
        Twin values [M] at ``t + h``.

    Raises:
        ValueError: if ``h`` is negative.
    """
    if h < 0:
        raise ValueError(f"twin_value_step: negative step {h}")
    target = eta / params.theta
    return target + (z - target) * np.exp(-params.theta * h)


def payoff_rate(params: SyncParams, x: np.ndarray, z: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """Instantaneous VSP payoff ``J_m`` (paper eqs. 7-8, MODEL B3), VSPs on axis 0.

    ``J_m = w1 alpha_m x_m N b + w2 beta_m z_m d_m - w3 (z_m - v_m)^2
    - w4 (d_m eta_m k_m - x_m N b)^2``.

    Args:
        params: the game.
        x, z, eta: shares, twin values, intensities ([M] or [M, n]).

    Returns:
        Payoff rates, same shape.
    """
    shape = (-1,) + (1,) * (np.ndim(x) - 1)
    w1, w2, w3, w4 = (params.w[i].reshape(shape) for i in range(4))
    alpha, beta, d, k, v = (a.reshape(shape) for a in
                            (params.alpha, params.beta, params.d, params.k, params.v))
    supply = x * params.N * params.b
    return (w1 * alpha * supply + w2 * beta * z * d - w3 * (z - v) ** 2
            - w4 * (d * eta * k - supply) ** 2)


@dataclass(frozen=True)
class Trajectory:
    """A forward-simulated path of the game.

    Attributes:
        t: times [n].
        x: shares [M, n].
        z: twin values [M, n].
        eta: intensities [M, n].
        payoff_rate: instantaneous payoffs ``J_m(t)`` [M, n].
        payoff: discounted objectives ``int_0^T e^(-rho t) J_m dt`` [M].
    """

    t: np.ndarray
    x: np.ndarray
    z: np.ndarray
    eta: np.ndarray
    payoff_rate: np.ndarray
    payoff: np.ndarray


class SampledControl:
    """Intensities sampled on a time grid, linearly interpolated (held outside the grid).

    Calling it with times [q] gives intensities [M, q] (``np.interp`` per VSP); :meth:`at`
    gives the same numbers at one time as floats, without NumPy's per-call costs.

    Attributes:
        t_grid: increasing times [n].
        eta: intensities [M, n].
    """

    def __init__(self, t_grid: np.ndarray, eta: np.ndarray) -> None:
        """Keep the samples (see :func:`control_from_samples`)."""
        self.t_grid, self.eta = t_grid, eta
        self._table: InterpTable | None = None

    def __call__(self, t: np.ndarray) -> np.ndarray:
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        return np.stack([np.interp(tt, self.t_grid, row) for row in self.eta])

    def at(self, t: float) -> list[float]:
        """Intensities [M] at one time ``t``, bit for bit ``self(np.array([t]))[:, 0]``."""
        if self._table is None:
            self._table = InterpTable(self.t_grid, self.eta)
        return self._table.at(t)


def control_from_samples(t_grid: np.ndarray, eta: np.ndarray) -> SampledControl:
    """Turn intensities sampled on a time grid into a control (linear interpolation).

    Args:
        t_grid: increasing times [n].
        eta: intensities [M, n]; held constant outside the grid.

    Returns:
        A :class:`SampledControl`: times [q] -> intensities [M, q].

    Raises:
        ValueError: on shape mismatch.
    """
    t_grid = np.asarray(t_grid, dtype=float)
    eta = np.atleast_2d(np.asarray(eta, dtype=float))
    if eta.shape[1] != t_grid.shape[0]:
        raise ValueError(f"control_from_samples: eta shape {eta.shape} vs {t_grid.shape[0]} times")
    return SampledControl(t_grid, eta)


class ConstantControl:
    """Each VSP's intensity held constant: times [q] -> intensities [M, q].

    Attributes:
        values: intensities [M].
    """

    def __init__(self, values: np.ndarray) -> None:
        """Keep a copy of ``values`` (see :func:`constant_control`)."""
        self.values = np.asarray(values, dtype=float).copy()
        self._list: list[float] = self.values.tolist()

    def __call__(self, t: np.ndarray) -> np.ndarray:
        tt = np.atleast_1d(np.asarray(t, dtype=float))
        return np.repeat(self.values[:, None], tt.shape[0], axis=1)

    def at(self, t: float) -> list[float]:
        """Intensities [M] at any time, as a new list of floats."""
        return list(self._list)


def constant_control(values: np.ndarray) -> ConstantControl:
    """A control holding each VSP's intensity constant.

    Args:
        values: intensities [M].

    Returns:
        A :class:`ConstantControl`: times [q] -> intensities [M, q].
    """
    return ConstantControl(values)


def _as_control(eta: EtaFn | np.ndarray, t_grid: np.ndarray) -> EtaFn:
    if callable(eta):
        return eta
    return control_from_samples(t_grid, eta)


def forward_point(params: SyncParams, ctrl: EtaFn
                  ) -> Callable[[float, list[float]], list[float]] | None:
    """:func:`forward_rhs` on lists of floats, where its float path applies (a control with an
    ``at(t)`` method, :class:`SampledControl` or :class:`ConstantControl`, of at most
    :data:`agents.sync.scalar.MAX_VSPS` VSPs), else None.

    Args:
        params: the game.
        ctrl: the control, times [q] -> intensities [M, q].

    Returns:
        ``rhs(t, state [3 M] as floats) -> d state / dt`` as floats, or None.
    """
    at = getattr(ctrl, "at", None)
    if at is None or params.M > MAX_VSPS:
        return None
    game = ScalarGame(params)

    def point(t: float, s: list[float]) -> list[float]:
        return game.forward(t, s, clip0(at(t)))
    return point


def forward_rhs(params: SyncParams, ctrl: EtaFn) -> Callable[[float, np.ndarray], np.ndarray]:
    """The right-hand side of ``(x, z, discounted payoff)`` under a control, for an integrator
    (:func:`simulate`, the simulator's sensing process): the replicator, the twin values and
    ``exp(-rho t) J_m``, intensities clipped at 0.

    Where :func:`forward_point` applies, it is evaluated in float arithmetic
    (:class:`agents.sync.scalar.ScalarGame`): the same numbers without NumPy's per-call costs.

    Args:
        params: the game.
        ctrl: the control, times [q] -> intensities [M, q].

    Returns:
        ``rhs(t, state [3 M]) -> d state / dt [3 M]``.
    """
    m, disc = params.M, params.rho
    point = forward_point(params, ctrl)
    if point is not None:
        def fast(t: float, s: np.ndarray) -> np.ndarray:
            return np.array(point(t, s.tolist()))
        return fast

    def rhs(t: float, s: np.ndarray) -> np.ndarray:
        e = np.maximum(ctrl(np.array([t]))[:, 0], 0.0)
        x, z = s[:m], s[m:2 * m]
        return np.concatenate([
            replicator_rhs(params, x, e),
            twin_value_rhs(params, z, e),
            np.exp(-disc * t) * payoff_rate(params, x, z, e),
        ])
    return rhs


def simulate(
    params: SyncParams,
    eta: EtaFn | np.ndarray,
    t_grid: np.ndarray | None = None,
    *,
    x0: np.ndarray | None = None,
    z0: np.ndarray | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_step: float = np.inf,
) -> Trajectory:
    """Forward-simulate shares, twin values and discounted payoffs under a control.

    Args:
        params: the game.
        eta: a control (times [q] -> [M, q]) or intensities [M, n] sampled on ``t_grid``.
        t_grid: output times [n] in [0, T]; default 601 points on [0, T].
        x0, z0: initial states (default ``params.x0``, ``params.z0``).
        rtol, atol, max_step: integrator settings (RK45: scipy's ``solve_ivp``, bit for bit,
            via :func:`agents.sync.rk45.solve_ivp_rk45`).

    Returns:
        The :class:`Trajectory` on ``t_grid``; intensities are clipped at 0.

    Raises:
        RuntimeError: if the integrator fails.
    """
    t_grid = np.linspace(0.0, params.T, 601) if t_grid is None else np.asarray(t_grid, float)
    ctrl = _as_control(eta, t_grid)
    m = params.M
    point = forward_point(params, ctrl)
    s0 = np.concatenate([params.x0 if x0 is None else x0,
                         params.z0 if z0 is None else z0, np.zeros(m)])
    sol = solve_ivp_rk45(forward_rhs(params, ctrl) if point is None else point,
                         (float(t_grid[0]), float(t_grid[-1])), s0, t_grid,
                         rtol=rtol, atol=atol, max_step=max_step, lists=point is not None)
    if not sol.success:
        raise RuntimeError(f"simulate: integrator failed: {sol.message}")
    x, z = sol.y[:m], sol.y[m:2 * m]
    e = np.maximum(ctrl(t_grid), 0.0)
    return Trajectory(t=t_grid, x=x, z=z, eta=e, payoff_rate=payoff_rate(params, x, z, e),
                      payoff=sol.y[2 * m:, -1].copy())


def simulate_batch(
    params: SyncParams,
    eta_batch: Callable[[float], np.ndarray],
    batch: int,
    *,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> np.ndarray:
    """Discounted objectives of a batch of controls, integrated together.

    Args:
        params: the game.
        eta_batch: time (scalar) -> intensities [M, B] for the B candidate controls.
        batch: B.
        rtol, atol: integrator tolerances.

    Returns:
        Discounted objectives [M, B] over ``[0, T]``.

    Raises:
        RuntimeError: if the integrator fails.
    """
    m = params.M

    def rhs(t: float, s: np.ndarray) -> np.ndarray:
        st = s.reshape(3 * m, batch)
        e = np.maximum(eta_batch(t), 0.0)
        x, z = st[:m], st[m:2 * m]
        return np.concatenate([
            replicator_rhs(params, x, e), twin_value_rhs(params, z, e),
            np.exp(-params.rho * t) * payoff_rate(params, x, z, e),
        ]).ravel()

    s0 = np.concatenate([np.repeat(params.x0[:, None], batch, 1),
                         np.repeat(params.z0[:, None], batch, 1), np.zeros((m, batch))])
    sol = solve_ivp(rhs, (0.0, params.T), s0.ravel(), rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"simulate_batch: integrator failed: {sol.message}")
    return sol.y[:, -1].reshape(3 * m, batch)[2 * m:]


@dataclass(frozen=True)
class SyncSolution:
    """A controller's answer: the intensity paths and the resulting forward simulation.

    Attributes:
        mode: controller name (``nash``, ``stackelberg``, ``static``, ``constant``).
        eta_fn: the control, times [q] -> intensities [M, q] (held at the last value
            beyond the horizon).
        trajectory: forward simulation of ``eta_fn`` (payoffs are the discounted objectives).
        converged: whether the solver met its tolerance.
        message: solver diagnostics in one line.
        leaders: 0-based leader indices (Stackelberg), else empty.
        info: extra numbers (iterations, residuals, timings).
    """

    mode: str
    eta_fn: EtaFn
    trajectory: Trajectory
    converged: bool
    message: str
    leaders: tuple[int, ...] = ()
    info: dict[str, float] | None = None

    @property
    def payoff(self) -> np.ndarray:
        """Discounted objective of each VSP [M]."""
        return self.trajectory.payoff
