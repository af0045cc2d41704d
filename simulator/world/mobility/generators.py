"""Random mobility models for UAV fleets: random waypoint and 3-D Gauss-Markov.

* random waypoint: fly at a uniform random speed to a uniform random point of the box, hover a
  uniform random time, repeat;
* 3-D Gauss-Markov, after ns-3's ``GaussMarkovMobilityModel``: speed, direction and pitch are
  AR(1) processes with memory ``alpha`` around their means, updated every
  ``update_interval_s``; a step that would leave the box has its offending velocity
  components negated, the mean direction/pitch reflected, and direction/pitch reset to the
  means (one segment per update step).

Both produce :class:`~simulator.world.mobility.trajectory.Trajectory` objects
(piecewise-linear segments). All
randomness comes from the ``numpy.random.Generator`` passed in. The batch generators
(:func:`random_waypoints`, :func:`gauss_markov_many`) draw many UAVs at once, vectorised; the
single-UAV functions are thin wrappers around them.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from simulator.world.mobility.trajectory import (
    Trajectory,
    area_box,
    check_duration,
    check_range,
    start_positions,
)

__all__ = ["gauss_markov", "gauss_markov_many", "random_waypoint", "random_waypoints"]

log = logging.getLogger(__name__)


def random_waypoints(rng: np.random.Generator, n_uavs: int, *, duration_s: float,
                     area_m: tuple[float, float], speed_mps: tuple[float, float],
                     pause_s: tuple[float, float], altitude_m: tuple[float, float],
                     start: np.ndarray | None = None) -> list[Trajectory]:
    """Random-waypoint trajectories for ``n_uavs`` UAVs over ``[0, duration_s]``, vectorised.

    Each UAV repeatedly flies in a straight line at a speed drawn uniformly from ``speed_mps``
    to a point drawn uniformly from the box ``[0, ax] x [0, ay] x altitude_m``, then hovers for
    a time drawn uniformly from ``pause_s``. Zero-length pauses produce no segment.

    Args:
        rng: generator for every draw.
        n_uavs: number of UAVs.
        duration_s: trajectory length (s); the last segment is cut at this time.
        area_m: ``(ax, ay)`` horizontal box sizes (m).
        speed_mps: ``(lo, hi)`` speed range, ``lo > 0`` (m/s).
        pause_s: ``(lo, hi)`` hover time range (s).
        altitude_m: ``(lo, hi)`` altitude range (m).
        start: ``[3]`` or ``[n_uavs, 3]`` start positions inside the box; ``None`` = uniform.

    Returns:
        One trajectory per UAV, each spanning exactly ``[0, duration_s]``.

    Raises:
        ValueError: a range is empty/negative, speed ``lo <= 0``, or ``start`` is outside.
    """
    duration = check_duration(duration_s)
    lo, hi = area_box(area_m, altitude_m)
    v_lo, v_hi = check_range("speed_mps", speed_mps, positive=True)
    p_lo, p_hi = check_range("pause_s", pause_s)
    n = int(n_uavs)
    pos0 = start_positions(rng, n, start, lo, hi)
    typical_leg = 0.5 * float(np.linalg.norm(hi - lo)) / (0.5 * (v_lo + v_hi)) + 0.5 * (
        p_lo + p_hi)
    block = max(4, math.ceil(1.3 * duration / max(typical_leg, 1e-9)) + 2)
    steps: list[np.ndarray] = []   # [n, 2*block] travel/pause durations, interleaved
    points: list[np.ndarray] = [pos0[:, None]]
    total = np.zeros(n)
    prev = pos0
    while n and not (total >= duration).all():
        way = rng.uniform(lo, hi, size=(n, block, 3))
        speed = rng.uniform(v_lo, v_hi, size=(n, block))
        pause = rng.uniform(p_lo, p_hi, size=(n, block))
        legs = np.linalg.norm(np.diff(np.concatenate([prev[:, None], way], axis=1), axis=1),
                              axis=2)
        step = np.stack([legs / speed, pause], axis=2).reshape(n, 2 * block)
        steps.append(step)
        points.append(np.repeat(way, 2, axis=1))
        total += step.sum(axis=1)
        prev = way[:, -1]
    if not n:
        return []
    times = np.concatenate([np.zeros((n, 1)), np.cumsum(np.concatenate(steps, axis=1), axis=1)],
                           axis=1)
    pts = np.concatenate(points, axis=1)
    k_end = (times < duration).sum(axis=1)  # times[k_end] >= duration > times[k_end - 1]
    out = []
    for u in range(n):
        k = int(k_end[u])
        t_u, p_u = times[u, : k + 1].copy(), pts[u, : k + 1].copy()
        f = (duration - t_u[k - 1]) / (t_u[k] - t_u[k - 1])
        p_u[k] = (1.0 - f) * p_u[k - 1] + f * p_u[k]
        t_u[k] = duration
        keep = np.concatenate([[True], np.diff(t_u) > 0])
        out.append(Trajectory.from_samples(t_u[keep], p_u[keep]))
    return out


def random_waypoint(rng: np.random.Generator, *, duration_s: float, area_m: tuple[float, float],
                    speed_mps: tuple[float, float], pause_s: tuple[float, float],
                    altitude_m: tuple[float, float], start: np.ndarray | None = None
                    ) -> Trajectory:
    """One random-waypoint trajectory; see :func:`random_waypoints` (use it for many UAVs)."""
    return random_waypoints(rng, 1, duration_s=duration_s, area_m=area_m, speed_mps=speed_mps,
                            pause_s=pause_s, altitude_m=altitude_m, start=start)[0]


def _ar1(y_prev: np.ndarray, drive: np.ndarray, alpha: float) -> np.ndarray:
    """``y[w] = alpha * y[w-1] + drive[w]`` along axis 1, starting from ``y_prev``."""
    from scipy.signal import lfilter  # ~0.5 s to import: only Gauss-Markov runs need it

    y, _ = lfilter([1.0], [1.0, -alpha], drive, axis=1, zi=(alpha * y_prev)[:, None])
    return y


def gauss_markov_many(rng: np.random.Generator, n_uavs: int, *, duration_s: float,
                      area_m: tuple[float, float], altitude_m: tuple[float, float],
                      alpha: float, mean_speed_mps: float, speed_std_mps: float,
                      direction_std_rad: float, pitch_std_rad: float,
                      update_interval_s: float, mean_pitch_rad: float = 0.0,
                      start: np.ndarray | None = None, window: int = 48) -> list[Trajectory]:
    """3-D Gauss-Markov trajectories (ns-3's ``GaussMarkovMobilityModel``), vectorised.

    Each UAV keeps a speed ``v``, direction ``d`` and pitch ``p``. At every update step
    ``x <- alpha x + (1 - alpha) mean_x + sqrt(1 - alpha^2) N(0, std_x^2)`` for each of them,
    then the UAV flies ``v (cos d cos p, sin d cos p, sin p)`` for one interval. The speed
    starts at ``mean_speed_mps``, the direction at a mean drawn uniformly in ``[0, 2 pi)`` per
    UAV, the pitch at ``mean_pitch_rad``. If a step would leave the box, every velocity
    component whose axis is crossed is negated (x: mean direction ``-> pi - mean``; y:
    ``-> -mean``; z: mean pitch ``-> -mean``), direction and pitch are reset to their means,
    and the step is flown with the reflected velocity, its end clamped into the box. A
    negative ``v`` flies backwards, as in ns-3. One segment per update step; the last step is
    shortened to end at ``duration_s``.

    The AR(1) recurrences run in windows of ``window`` steps for all UAVs at once
    (``scipy.signal.lfilter``); a UAV that hits a border restarts its window after the
    reflected step. The noise is drawn once, up front, so the result does not depend on
    ``window``.

    Args:
        rng: generator for every draw.
        n_uavs: number of UAVs.
        duration_s: trajectory length (s).
        area_m: ``(ax, ay)`` horizontal box sizes (m).
        altitude_m: ``(lo, hi)`` altitude range (m).
        alpha: memory in ``[0, 1]`` (0 = memoryless, 1 = constant velocity).
        mean_speed_mps: mean speed (m/s).
        speed_std_mps, direction_std_rad, pitch_std_rad: standard deviations of the Gaussian
            innovations.
        update_interval_s: time between updates (s).
        mean_pitch_rad: initial mean pitch (rad); 0 = level flight on average.
        start: ``[3]`` or ``[n_uavs, 3]`` start positions inside the box; ``None`` = uniform.
        window: steps per vectorised window (performance only).

    Returns:
        One trajectory per UAV spanning ``[0, duration_s]``.

    Raises:
        ValueError: a parameter is out of range or ``start`` is outside the box.
    """
    duration = check_duration(duration_s)
    lo, hi = area_box(area_m, altitude_m)
    a = float(alpha)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha: expected a value in [0, 1], got {alpha}")
    dt = float(update_interval_s)
    if not (dt > 0 and math.isfinite(dt)):
        raise ValueError(f"update_interval_s: expected a positive time, got {update_interval_s}")
    stds = np.array([speed_std_mps, direction_std_rad, pitch_std_rad], dtype=float)
    if not (np.isfinite(stds).all() and (stds >= 0).all()):
        raise ValueError(f"Gauss-Markov standard deviations must be >= 0, got {stds.tolist()}")
    n = int(n_uavs)
    n_steps = max(1, math.ceil(duration / dt - 1e-9))
    grid = np.minimum(np.arange(n_steps + 1) * dt, duration)
    grid[-1] = duration
    step_dt = np.diff(grid)
    pos = start_positions(rng, n, start, lo, hi)
    mean_dir = rng.uniform(0.0, 2.0 * math.pi, size=n)
    mean_pitch = np.full(n, float(mean_pitch_rad))
    noise = rng.standard_normal((n, n_steps, 3)) * (stds * math.sqrt(max(0.0, 1.0 - a * a)))
    speed = np.full(n, float(mean_speed_mps))
    direction = mean_dir.copy()
    pitch = mean_pitch.copy()
    out_pos = np.empty((n, n_steps + 1, 3))
    out_pos[:, 0] = pos
    k = np.zeros(n, dtype=np.int64)  # steps done per UAV
    w_idx = np.arange(int(window))
    active = np.arange(n)
    while active.size:
        ka = k[active]
        idx = ka[:, None] + w_idx[None, :]
        valid = idx < n_steps
        idxc = np.minimum(idx, n_steps - 1)
        z = noise[active[:, None], idxc]
        vv = _ar1(speed[active], (1 - a) * mean_speed_mps + z[..., 0], a)
        dd = _ar1(direction[active], (1 - a) * mean_dir[active, None] + z[..., 1], a)
        pp = _ar1(pitch[active], (1 - a) * mean_pitch[active, None] + z[..., 2], a)
        vel = np.stack([vv * np.cos(dd) * np.cos(pp), vv * np.sin(dd) * np.cos(pp),
                        vv * np.sin(pp)], axis=2)
        disp = vel * step_dt[idxc][..., None]
        path = pos[active, None, :] + np.cumsum(disp, axis=1)
        outside = ((path < lo) | (path > hi)).any(axis=2) & valid
        hit = outside.any(axis=1)
        first = np.where(hit, outside.argmax(axis=1), valid.sum(axis=1))  # clean steps
        rows, cols = np.nonzero(w_idx[None, :] < first[:, None])
        out_pos[active[rows], ka[rows] + 1 + cols] = path[rows, cols]
        moved = first > 0
        last = np.maximum(first - 1, 0)
        r_all = np.arange(active.size)
        pos[active[moved]] = path[r_all[moved], last[moved]]
        speed[active[moved]] = vv[r_all[moved], last[moved]]
        direction[active[moved]] = dd[r_all[moved], last[moved]]
        pitch[active[moved]] = pp[r_all[moved], last[moved]]
        k[active] += first
        if hit.any():
            r = np.flatnonzero(hit)
            u, w = active[r], first[r]
            v_ref = vel[r, w].copy()
            cross = (path[r, w] < lo) | (path[r, w] > hi)
            v_ref[cross] *= -1.0
            mean_dir[u] = np.where(cross[:, 0], math.pi - mean_dir[u], mean_dir[u])
            mean_dir[u] = np.where(cross[:, 1], -mean_dir[u], mean_dir[u])
            mean_pitch[u] = np.where(cross[:, 2], -mean_pitch[u], mean_pitch[u])
            new_pos = np.clip(pos[u] + v_ref * step_dt[k[u]][:, None], lo, hi)
            out_pos[u, k[u] + 1] = new_pos
            pos[u] = new_pos
            speed[u] = vv[r, w]
            direction[u] = mean_dir[u]
            pitch[u] = mean_pitch[u]
            k[u] += 1
        active = active[k[active] < n_steps]
    log.debug("gauss_markov: %d UAVs x %d steps", n, n_steps)
    return [Trajectory.from_samples(grid, out_pos[u]) for u in range(n)]


def gauss_markov(rng: np.random.Generator, *, duration_s: float, area_m: tuple[float, float],
                 altitude_m: tuple[float, float], alpha: float, mean_speed_mps: float,
                 speed_std_mps: float, direction_std_rad: float, pitch_std_rad: float,
                 update_interval_s: float, mean_pitch_rad: float = 0.0,
                 start: np.ndarray | None = None) -> Trajectory:
    """One 3-D Gauss-Markov trajectory; see :func:`gauss_markov_many` (use it for many UAVs)."""
    return gauss_markov_many(
        rng, 1, duration_s=duration_s, area_m=area_m, altitude_m=altitude_m, alpha=alpha,
        mean_speed_mps=mean_speed_mps, speed_std_mps=speed_std_mps,
        direction_std_rad=direction_std_rad, pitch_std_rad=pitch_std_rad,
        update_interval_s=update_interval_s, mean_pitch_rad=mean_pitch_rad, start=start,
        window=256)[0]
