"""Twin-synchronisation games of the VSPs (MODEL.md Part B): one entry point per controller.

The pieces live in small modules; this facade re-exports them and adds :func:`solve`, which
turns a :class:`SyncParams` and a controller name into a :class:`SyncSolution` (intensity
paths plus the forward simulation that scores them):

- ``nash``: open-loop Nash equilibrium of the differential game (B4, ``sync_nash``);
- ``stackelberg``: leaders first, followers' open-loop Nash response (B5,
  ``sync_stackelberg``);
- ``static``: Nash equilibrium in constant intensities (B6, ``sync_static``);
- ``constant``: the user's constant intensities ``params.intensity``.

Every solution is scored the same way (forward integration of the intensity paths), so the
payoffs of different controllers are comparable, and can be checked with
:func:`unilateral_gains`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from agents.sync.dynamics import (
    ConstantControl,
    EtaFn,
    SyncSolution,
    constant_control,
    control_from_samples,
    simulate,
)
from agents.sync.nash import default_mesh, solve_open_loop
from agents.sync.params import SyncParams
from agents.sync.stackelberg import solve_stackelberg
from agents.sync.static import solve_static

__all__ = ["MODES", "output_grid", "solve"]

log = logging.getLogger(__name__)

MODES = ("nash", "stackelberg", "static", "constant")


def output_grid(params: SyncParams, points: int = 301) -> np.ndarray:
    """Default output times: ``points`` equally spaced on [0, T].

    Args:
        params: the game.
        points: number of times (>= 2).

    Returns:
        Times [points].
    """
    return np.linspace(0.0, params.T, max(int(points), 2))


def _held(params: SyncParams, fn: EtaFn) -> EtaFn:
    """Control held at its value at T beyond the horizon (and at 0 before it); a constant
    control is returned as it is (holding changes none of its values)."""
    if isinstance(fn, ConstantControl):
        return fn

    def held(t: np.ndarray) -> np.ndarray:
        return fn(np.clip(np.atleast_1d(np.asarray(t, dtype=float)), 0.0, params.T))
    return held


def solve(params: SyncParams, mode: str, *, leaders: Sequence[int] | None = None,
          points: int = 301) -> SyncSolution:
    """Solve the synchronisation game with one controller and score it.

    Args:
        params: the game.
        mode: one of :data:`MODES`.
        leaders: 0-based leader indices for ``stackelberg`` (default ``params.leaders``).
        points: output grid size of the trajectory.

    Returns:
        The :class:`SyncSolution` (``converged`` False with a message on solver failure).

    Raises:
        ValueError: unknown mode, ``constant`` without ``params.intensity``, or
            ``stackelberg`` without leaders.
    """
    start = time.perf_counter()
    grid = output_grid(params, points)
    info: dict[str, float] = {}
    lead: tuple[int, ...] = ()
    if mode == "nash":
        res = solve_open_loop(params)
        fn, ok, msg = res.eta_fn, res.converged, res.message
        info.update(nodes=float(res.nodes), max_residual=res.max_residual)
    elif mode == "stackelberg":
        lead = tuple(params.leaders if leaders is None else (int(i) for i in leaders))
        if not lead:
            raise ValueError("solve: mode 'stackelberg' needs leaders (e.g. leaders=[2])")
        st = solve_stackelberg(params, lead)
        fn, ok, msg = st.eta_fn, st.converged, st.message
        info.update(follower_solves=float(st.follower_solves))
    elif mode == "static":
        consts, ok, msg = solve_static(params)
        fn = constant_control(consts)
    elif mode == "constant":
        if params.intensity is None:
            raise ValueError("solve: mode 'constant' needs params.intensity (one value per VSP)")
        fn, ok, msg = constant_control(params.intensity), True, "user-given constant intensities"
    else:
        raise ValueError(f"solve: unknown mode {mode!r}; expected one of {MODES}")
    fn = _held(params, fn)
    if mode in ("nash", "stackelberg"):
        # score a dense tabulation (cheap to evaluate inside the integrator)
        tab = np.union1d(default_mesh(params, 3001), grid)
        traj = simulate(params, control_from_samples(tab, fn(tab)), grid)
    else:
        traj = simulate(params, fn, grid)
    info["solve_seconds"] = time.perf_counter() - start
    if not ok:
        log.warning("sync %s did not converge: %s", mode, msg)
    return SyncSolution(mode=mode, eta_fn=fn, trajectory=traj, converged=bool(ok),
                        message=msg, leaders=lead, info=info)
