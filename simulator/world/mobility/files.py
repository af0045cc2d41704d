"""Deterministic UAV trajectories: explicit waypoint routes.

A waypoint route hovers at each point for its pause and flies straight to the next at the
leg's speed, optionally looping back to the first point until the run ends, as a
:class:`~simulator.world.mobility.trajectory.Trajectory`. Recorded traces (CSV, ns-2,
BonnMotion, SUMO, GPX) are read by :mod:`simulator.world.mobility.formats` and turned into
UAVs by :mod:`simulator.world.mobility.imported`.
"""

from __future__ import annotations

import math

import numpy as np

from simulator.world.mobility.trajectory import Trajectory, check_duration

__all__ = ["waypoint_trajectory"]


def _from_steps(t_start: float, start_point: np.ndarray, durations: np.ndarray,
                end_points: np.ndarray, t_end: float | None) -> Trajectory:
    """Trajectory of consecutive linear steps (duration, end point), cut or extended (hover)
    to ``t_end``; zero-duration steps are dropped."""
    times = t_start + np.concatenate([[0.0], np.cumsum(durations)])
    pts = np.concatenate([start_point[None], end_points])
    if t_end is not None:
        if t_end < times[-1]:
            k = int(np.searchsorted(times, t_end, side="left"))  # times[k-1] < t_end <= times[k]
            f = (t_end - times[k - 1]) / (times[k] - times[k - 1])
            last = (1.0 - f) * pts[k - 1] + f * pts[k]
            times = np.concatenate([times[:k], [t_end]])
            pts = np.concatenate([pts[:k], last[None]])
        elif t_end > times[-1]:
            times = np.concatenate([times, [t_end]])
            pts = np.concatenate([pts, pts[-1:]])
    keep = np.concatenate([[True], np.diff(times) > 0])
    times, pts = times[keep], pts[keep]
    if times.size < 2:
        raise ValueError("waypoint_trajectory: the route has zero duration (no pauses, no "
                         "distance, no duration_s)")
    return Trajectory.from_samples(times, pts)


def waypoint_trajectory(points: np.ndarray, *, speeds_mps: np.ndarray | float,
                        pauses_s: np.ndarray | float = 0.0, t_start: float = 0.0,
                        duration_s: float | None = None, loop: bool = False) -> Trajectory:
    """Trajectory through explicit waypoints: hover ``pauses_s[k]`` at ``points[k]``, then fly
    straight to ``points[k+1]`` at ``speeds_mps[k]``.

    Args:
        points: ``[n, 3]`` waypoints (m).
        speeds_mps: flight speed per leg (``[n-1]``) or one speed for all legs; ``> 0``.
            With ``loop`` it may have ``n`` entries, the last for the closing leg back to
            ``points[0]``; with ``n-1`` the closing leg is flown at the last leg's speed.
        pauses_s: hover time at each waypoint (``[n]``) or one for all; ``>= 0``.
        t_start: time at which the UAV is at ``points[0]`` (s).
        duration_s: if given, the trajectory spans exactly ``[t_start, t_start + duration_s]``:
            cut, or extended by hovering at the last point.
        loop: repeat the route (closing leg back to the first point) until ``duration_s``.

    Returns:
        The trajectory.

    Raises:
        ValueError: bad shapes, non-positive speeds, negative pauses, ``loop`` without
            ``duration_s``, or a route of zero duration.
    """
    pts = np.asarray(points, dtype=float)
    if pts.ndim != 2 or pts.shape[1] != 3 or pts.shape[0] < 1 or not np.isfinite(pts).all():
        raise ValueError(f"waypoint_trajectory: points must be finite [n>=1, 3], got shape "
                         f"{pts.shape}")
    n = pts.shape[0]
    n_legs = n if loop else n - 1
    speeds = np.broadcast_to(np.asarray(speeds_mps, dtype=float), (n_legs,)) if np.ndim(
        speeds_mps) == 0 else np.asarray(speeds_mps, dtype=float)
    pauses = np.broadcast_to(np.asarray(pauses_s, dtype=float), (n,)) if np.ndim(
        pauses_s) == 0 else np.asarray(pauses_s, dtype=float)
    if loop and n > 1 and speeds.shape == (n - 1,):
        speeds = np.append(speeds, speeds[-1])  # closing leg at the last leg's speed
    if speeds.shape != (n_legs,):
        raise ValueError(f"waypoint_trajectory: speeds_mps must have {n - 1} entries"
                         f"{f' or {n} (loop)' if loop else ''}, got {speeds.shape}")
    if pauses.shape != (n,):
        raise ValueError(f"waypoint_trajectory: pauses_s must have {n} entries, got "
                         f"{pauses.shape}")
    if not (np.isfinite(speeds).all() and (speeds > 0).all()):
        raise ValueError(f"waypoint_trajectory: speeds_mps must be > 0, got {speeds.tolist()}")
    if not (np.isfinite(pauses).all() and (pauses >= 0).all()):
        raise ValueError(f"waypoint_trajectory: pauses_s must be >= 0, got {pauses.tolist()}")
    t_end = None if duration_s is None else float(t_start) + check_duration(duration_s)
    if loop and t_end is None:
        raise ValueError("waypoint_trajectory: loop=True needs duration_s")
    targets = np.concatenate([pts[1:], pts[:1]]) if loop else pts[1:]
    leg_time = np.linalg.norm(targets - pts[:n_legs], axis=1) / speeds
    durations = np.empty(n + n_legs)
    durations[0::2] = pauses
    durations[1::2] = leg_time
    ends = np.empty((n + n_legs, 3))
    ends[0::2] = pts
    ends[1::2] = targets
    if loop:
        cycle = float(durations.sum())
        if cycle <= 0:
            raise ValueError("waypoint_trajectory: a looped route needs a positive cycle time")
        reps = math.ceil((t_end - float(t_start)) / cycle) + 1
        durations, ends = np.tile(durations, reps), np.tile(ends, (reps, 1))
    return _from_steps(float(t_start), pts[0], durations, ends, t_end)
