"""The sensing population and the VSPs' twin synchronisation as a SimPy process (MODEL.md B, C).

Besides the migrating UAVs, a population of ``N`` IoT-sensing UAVs works for ``M`` virtual
service providers (VSPs). Each VSP keeps ``d_m`` digital twins whose value ``z_m`` decays
unless it synchronises them at intensity ``eta_m``; the intensity sets the incentive pool
that attracts the sensing UAVs, who drift towards better-paying VSPs (replicator dynamics,
or N individual UAVs imitating each other). The math lives in :mod:`agents.sync.game`; this
module runs it on the simulator's clock:

1. at start, the chosen controller (open-loop Nash, Stackelberg, static or constant) is solved
   once over the horizon ``T``; its intensity paths are held at their last value afterwards;
2. every ``step_s`` simulated seconds the process advances the shares ``x`` and the twin
   values ``z`` and appends one block of ``M`` rows to ``/sensing/state`` (shares, twin values,
   intensities, instantaneous payoff rates ``J_m`` and the discounted payoff accumulated so
   far, ``int_0^t e^(-rho s) J_m ds``).

Replicator mode integrates ``(x, z, discounted payoff)`` with the same embedded Runge-Kutta
45 stepper, tolerances and right-hand side as :func:`agents.sync.game.simulate`, kept alive
across SimPy steps and read through its dense output, so the recorded path is the forward
simulation of the controller (the twin-value part is the exact solution of
``dz/dt = eta - theta z`` to integrator tolerance). Agent mode follows
:func:`agents.sync.game.simulate_population`: the intensity is held at its value at the start
of each step, the UAVs revise by pairwise proportional imitation with the run's ``sensing``
generator, and the twin values take the exact step of MODEL B2; its payoff integral uses
Gauss-Legendre quadrature over each step (shares interpolated linearly within the step).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from itertools import repeat
from typing import Any

import numpy as np
import simpy

from agents.sync.dynamics import (
    EtaFn,
    SyncSolution,
    control_from_samples,
    forward_point,
    forward_rhs,
    payoff_rate,
    twin_value_step,
)
from agents.sync.game import solve
from agents.sync.nash import default_mesh
from agents.sync.params import SyncParams
from agents.sync.population import imitation_step, initial_strategies
from agents.sync.rk45 import LeanRK45
from agents.sync.scalar import MAX_VSPS, ScalarGame, clip0
from simulator.config.models import SensingConfig
from simulator.errors import ScenarioError
from simulator.trace.recorders import rows_sink
from simulator.trace.schema import VSP_ROLE

__all__ = ["SensingProcess", "start_sensing", "sync_params_from_config", "vsp_roles"]

log = logging.getLogger(__name__)

_ROLE_CODE = {name: code for code, name in VSP_ROLE.items()}
#: Integrator settings of the replicator mode (those of ``agents.sync.game.simulate``).
RTOL, ATOL = 1e-8, 1e-10
_GAUSS_NODES, _GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(8)


def sync_params_from_config(cfg: SensingConfig) -> SyncParams:
    """The synchronisation game of a scenario's ``sensing`` section.

    Mapping: ``population`` -> N, ``data_per_uav`` -> b, ``revision_rate`` -> delta,
    ``discount`` -> rho, ``horizon_s`` -> T, ``g0``, ``g1``, ``weights`` -> w (a ``[4, M]``
    array when any VSP has its own ``weights``), per VSP ``theta``, ``twins`` -> d, ``alpha``,
    ``k``, ``v``, ``c``, ``x0``, ``z0``, ``intensity``; ``leaders`` (0-based).

    Args:
        cfg: a validated :class:`simulator.config.models.SensingConfig`.

    Returns:
        The validated :class:`SyncParams`.

    Raises:
        ScenarioError: if the parameters violate a rule of :class:`SyncParams`.
    """
    vsps = cfg.vsps
    per = {name: np.array([getattr(v, name) for v in vsps], dtype=float)
           for name in ("theta", "alpha", "k", "v", "c", "x0", "z0", "intensity")}
    if any(v.weights is not None for v in vsps):
        w = np.array([v.weights if v.weights is not None else cfg.weights for v in vsps],
                     dtype=float).T
    else:
        w = np.array(cfg.weights, dtype=float)
    try:
        return SyncParams(
            N=float(cfg.population), b=cfg.data_per_uav, delta=cfg.revision_rate,
            rho=cfg.discount, T=cfg.horizon_s, g0=cfg.g0, g1=cfg.g1, w=w,
            d=np.array([v.twins for v in vsps], dtype=float), leaders=tuple(cfg.leaders), **per,
        )
    except ValueError as exc:
        raise ScenarioError(f"sensing: {exc}") from exc


def vsp_roles(controller: str, n_vsps: int, leaders: tuple[int, ...]) -> np.ndarray:
    """Role code of each VSP for ``/sensing/vsps/role``.

    Args:
        controller: ``nash``, ``stackelberg``, ``static`` or ``constant``.
        n_vsps: M.
        leaders: 0-based leader indices (used by ``stackelberg`` only).

    Returns:
        uint8 codes [M]: leader/follower under Stackelberg, player otherwise.
    """
    if controller != "stackelberg":
        return np.full(n_vsps, _ROLE_CODE["player"], dtype=np.uint8)
    roles = np.full(n_vsps, _ROLE_CODE["follower"], dtype=np.uint8)
    roles[list(leaders)] = _ROLE_CODE["leader"]
    return roles


def _scoring_control(params: SyncParams, solution: SyncSolution) -> EtaFn:
    """The control a solution is scored with: Nash and Stackelberg paths are tabulated densely
    (as :func:`agents.sync.game.solve` does), constant controls are used as they are."""
    if solution.mode not in ("nash", "stackelberg"):
        return solution.eta_fn
    tab = np.union1d(default_mesh(params, 3001), solution.trajectory.t)
    return control_from_samples(tab, solution.eta_fn(tab))


class SensingProcess:
    """State of the sensing population and the SimPy process that advances and records it.

    Attributes:
        env: the simulation clock.
        params: the synchronisation game.
        solution: the controller's solution (intensity paths, solver diagnostics).
        control: times [q] -> intensities [M, q] actually applied (held beyond T).
        revision: ``replicator`` or ``agent``.
        step_s: recording (and agent revision) step, s.
        t: simulated time of the current state.
        x, z: shares and twin values [M] at ``t``.
        cumulative: discounted payoff integral [M] from 0 to ``t``.
        strategies: VSP index of each sensing UAV [N] (agent mode), else None.
        diagnostics: controller name and solver diagnostics (also written as attributes of
            ``/sensing`` when the recorder supports ``set_attrs``).
        process: the registered SimPy process.
    """

    def __init__(self, env: simpy.Environment, params: SyncParams, solution: SyncSolution, *,
                 revision: str, step_s: float, recorder: Any, rng: np.random.Generator,
                 end_s: float) -> None:
        """Set the initial state and register the process (it records t = 0 when it starts).

        Args:
            env: the simulation clock.
            params: the game.
            solution: the controller's solution.
            revision: ``replicator`` or ``agent``.
            step_s: step between recorded states, s (> 0).
            recorder: sink with ``append(table, **columns)``.
            rng: generator of the agent-based population (unused by the replicator).
            end_s: expected end of the run (bound of the integrator; extended if exceeded).

        Raises:
            ValueError: for a non-positive step or an unknown revision model.
        """
        if not step_s > 0:
            raise ValueError(f"SensingProcess: step_s must be > 0, got {step_s}")
        if revision not in ("replicator", "agent"):
            raise ValueError(f"SensingProcess: unknown revision model {revision!r}")
        self.env, self.params, self.solution = env, params, solution
        self.control = _scoring_control(params, solution)
        # float evaluations of the same formulas (agents.sync.scalar), where they apply
        at = getattr(self.control, "at", None)
        self._at = at if params.M <= MAX_VSPS else None
        self._game = ScalarGame(params) if self._at is not None else None
        # the right-hand side of agents.sync.dynamics.simulate, on floats where it can be
        point = forward_point(params, self.control)
        self._rhs: Callable[[float, Any], Any] = (forward_rhs(params, self.control)
                                                  if point is None else point)
        self._rhs_lists = point is not None
        self.revision, self.step_s = revision, float(step_s)
        self.recorder, self.rng = recorder, rng
        self._state_rows = rows_sink(recorder, "/sensing/state", (
            "t_s", "vsp_id", "share", "twin_value", "intensity", "payoff_rate",
            "cumulative_payoff"))
        self.t = float(env.now)
        # the state as floats: shares, twin values, discounted payoffs ([3 M], see x, z, ...)
        self._state: list[float] = [*params.x0.tolist(), *params.z0.tolist(), *[0.0] * params.M]
        self.strategies: np.ndarray | None = None
        self._solver: LeanRK45 | None = None
        self._bound = max(float(end_s), self.t + self.step_s)
        if revision == "agent":
            self.strategies = initial_strategies(params, rng)
            self._set_state(np.bincount(self.strategies, minlength=params.M)
                            / self.strategies.size, self.z, self.cumulative)
        else:
            self._solver = self._new_solver(self.t, np.array(self._state), self._bound)
        self._recorded: float | None = None
        self.diagnostics: dict[str, Any] = {}
        self.process = env.process(self.run())

    # ------------------------------------------------------------------ state
    @property
    def x(self) -> np.ndarray:
        """Shares [M] at ``t`` (a new array)."""
        return np.array(self._state[:self.params.M])

    @property
    def z(self) -> np.ndarray:
        """Twin values [M] at ``t`` (a new array)."""
        m = self.params.M
        return np.array(self._state[m:2 * m])

    @property
    def cumulative(self) -> np.ndarray:
        """Discounted payoff integral [M] from 0 to ``t`` (a new array)."""
        return np.array(self._state[2 * self.params.M:])

    def _set_state(self, x: np.ndarray, z: np.ndarray, cumulative: np.ndarray) -> None:
        self._state = [*x.tolist(), *z.tolist(), *cumulative.tolist()]

    # ------------------------------------------------------------------ dynamics
    def intensity(self, t: float) -> np.ndarray:
        """Intensities [M] applied at time ``t`` (clipped at 0)."""
        if self._at is not None:
            return np.array(clip0(self._at(t)))
        return np.maximum(self.control(np.array([t]))[:, 0], 0.0)

    def _new_solver(self, t0: float, y0: np.ndarray, bound: float) -> LeanRK45:
        # scipy's RK45, bit for bit (agents.sync.rk45)
        return LeanRK45(self._rhs, t0, y0, bound, rtol=RTOL, atol=ATOL, lists=self._rhs_lists)

    def _advance_replicator(self, t: float) -> None:
        solver = self._solver
        assert solver is not None
        while solver.t < t:
            if solver.status == "finished":  # the run outlasted the integrator's bound
                self._bound = max(t, 2.0 * self._bound)
                solver = self._solver = self._new_solver(solver.t, solver.y, self._bound)
            solver.step()
            if solver.status == "failed":
                raise RuntimeError(f"sensing: integrator failed at t = {solver.t:.6g} s")
        # the state at t: the step's end or its dense output (the same floats as scipy's)
        self._state = solver.y_list if t == solver.t else solver.at_list(t)

    def _advance_agents(self, t: float) -> None:
        p, h = self.params, t - self.t
        assert self.strategies is not None
        e = self.intensity(self.t)
        x_old, z_old = self.x, self.z
        self.strategies = imitation_step(p, self.strategies, e, h, self.rng)
        x = np.bincount(self.strategies, minlength=p.M) / self.strategies.size
        z = twin_value_step(p, z_old, e, h)
        # discounted payoff over the step: Gauss-Legendre on the exact z path
        s = 0.5 * h * (_GAUSS_NODES + 1.0)  # [q] offsets in [0, h]
        xs = x_old[:, None] + (x - x_old)[:, None] * (s / h)[None, :]
        target = (e / p.theta)[:, None]
        zs = target + (z_old[:, None] - target) * np.exp(-p.theta[:, None] * s[None, :])
        rates = payoff_rate(p, xs, zs, np.repeat(e[:, None], s.size, axis=1))
        self._set_state(x, z, self.cumulative + 0.5 * h * (
            rates * (_GAUSS_WEIGHTS * np.exp(-p.rho * (self.t + s)))[None, :]).sum(axis=1))

    def advance_to(self, t: float) -> None:
        """Move the state forward to simulated time ``t``.

        Args:
            t: target time (>= the current time; equal is a no-op).

        Raises:
            ValueError: if ``t`` lies before the current state.
        """
        if t < self.t - 1e-12:
            raise ValueError(f"SensingProcess.advance_to: time {t} is before the state "
                             f"time {self.t}")
        if t <= self.t:
            return
        if self.revision == "agent":
            self._advance_agents(t)
        else:
            self._advance_replicator(t)
        self.t = float(t)

    # ------------------------------------------------------------------ recording
    def record(self) -> None:
        """Append the current state as one block of M rows to ``/sensing/state``."""
        if self._recorded is not None and self.t <= self._recorded:
            return
        m, state, t = self.params.M, self._state, self.t
        x, z = state[:m], state[m:2 * m]
        if self._game is not None:
            assert self._at is not None
            el = clip0(self._at(t))
            rates = self._game.payoff(x, z, el)
        else:
            e = self.intensity(t)
            el, rates = e.tolist(), payoff_rate(self.params, np.array(x), np.array(z),
                                                e).tolist()
        self._state_rows(zip(repeat(t, m), range(m), x, z, el, rates, state[2 * m:],
                             strict=True))
        self._recorded = t

    def finish(self) -> None:
        """Record the state at the current clock time if it is not recorded yet.

        ``env.run(until=t)`` stops before the events at ``t``, so the engine calls this after
        its last ``run`` to get the final row (e.g. the shares at ``t = T``).
        """
        self.advance_to(float(self.env.now))
        self.record()

    def run(self) -> Generator[simpy.Event, Any, None]:
        """SimPy process: record, then step and record every ``step_s`` seconds."""
        self.record()
        while True:
            yield self.env.timeout(self.step_s)
            self.advance_to(float(self.env.now))
            self.record()


def start_sensing(env: simpy.Environment, cfg: SensingConfig, end_s: float,
                  rng: np.random.Generator, recorder: Any) -> SensingProcess | None:
    """Solve the VSPs' controller, write ``/sensing/vsps`` and start the sensing process.

    Args:
        env: the simulation clock (the process starts at ``env.now``, normally 0).
        cfg: the scenario's ``sensing`` section.
        end_s: the run's duration (the process records its last sample there).
        rng: the run's ``sensing`` generator (only the agent-based population draws from it).
        recorder: sink with ``append``; ``set_attrs`` (if present) receives the controller
            and solver diagnostics on ``/sensing``.

    Returns:
        The running :class:`SensingProcess`, or None when ``sensing.enabled`` is false.

    Raises:
        ScenarioError: if the sensing parameters do not form a valid game.
    """
    if not cfg.enabled:
        return None
    params = sync_params_from_config(cfg)
    horizon_points = int(round(params.T / cfg.step_s)) + 1
    points = horizon_points if abs((horizon_points - 1) * cfg.step_s - params.T) < 1e-9 else 301
    solution = solve(params, cfg.controller, leaders=params.leaders or None, points=points)
    m = params.M
    recorder.append(
        "/sensing/vsps", vsp_id=np.arange(m, dtype=np.int32), theta=params.theta.copy(),
        twins=np.array([v.twins for v in cfg.vsps], dtype=np.int32), alpha=params.alpha.copy(),
        k=params.k.copy(), v=params.v.copy(), c=params.c.copy(),
        role=vsp_roles(cfg.controller, m, params.leaders))
    info = solution.info or {}
    diagnostics: dict[str, Any] = {
        "controller": cfg.controller, "revision": cfg.revision,
        "converged": bool(solution.converged), "message": solution.message,
        "solve_time_s": float(info.get("solve_seconds", float("nan"))),
    }
    if not solution.converged:
        log.warning("sensing: controller %s did not converge: %s", cfg.controller,
                    solution.message)
    if hasattr(recorder, "set_attrs"):
        recorder.set_attrs("/sensing", **diagnostics)
    proc = SensingProcess(env, params, solution, revision=cfg.revision, step_s=cfg.step_s,
                          recorder=recorder, rng=rng, end_s=end_s)
    proc.diagnostics = diagnostics
    log.info("sensing: %d VSPs, controller %s (%s), revision %s, step %g s", m,
             cfg.controller, "converged" if solution.converged else "NOT converged",
             cfg.revision, cfg.step_s)
    return proc
