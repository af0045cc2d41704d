"""UAV trajectories as piecewise-linear 3-D segments, the mobility models that make them, and
trace import.

A UAV's flight is a sequence of contiguous straight segments: segment ``k`` goes from ``p0[k]``
at ``t0[k]`` to ``p1[k]`` at ``t1[k]`` at constant velocity, and a hover (pause) is a segment
whose two ends coincide. With this representation the position at any time is an exact linear
interpolation, and the moments a UAV crosses a cell border can be solved in closed form per
segment (see :mod:`simulator.coverage`), so the simulator never polls positions.

Models:

* random waypoint: fly at a uniform random speed to a uniform random point of the box, hover a
  uniform random time, repeat;
* 3-D Gauss-Markov, after ns-3's ``GaussMarkovMobilityModel``: speed, direction and pitch are
  AR(1) processes with memory ``alpha`` around their means, updated every
  ``update_interval_s``; a step that would leave the box has its offending velocity
  components negated, the mean direction/pitch reflected, and direction/pitch reset to the
  means (one segment per update step);
* explicit waypoints with speeds and pauses (optionally looped), and CSV traces.

All randomness comes from the ``numpy.random.Generator`` passed in. Batch generators
(:func:`random_waypoints`, :func:`gauss_markov_many`) draw many UAVs at once, vectorised; the
single-UAV functions are thin wrappers around them.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import lfilter

__all__ = [
    "Trajectory",
    "gauss_markov",
    "gauss_markov_many",
    "load_trajectory_csv",
    "random_waypoint",
    "random_waypoints",
    "sample_positions",
    "waypoint_trajectory",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Trajectory:
    """A contiguous piecewise-linear flight: segment ``k`` goes from ``p0[k]`` at ``t0[k]`` to
    ``p1[k]`` at ``t1[k]``.

    Invariants (checked): ``n >= 1`` segments, finite values, ``t1[k] > t0[k]``,
    ``t1[k] == t0[k+1]`` and ``p1[k] == p0[k+1]`` exactly. Pauses are segments with
    ``p0 == p1``. Arrays are float64 and may be views of shared storage (see
    :meth:`from_samples`); treat them as read-only.

    Attributes:
        t0: ``[n]`` segment start times (s).
        t1: ``[n]`` segment end times (s).
        p0: ``[n, 3]`` segment start positions (m).
        p1: ``[n, 3]`` segment end positions (m).
    """

    t0: np.ndarray
    t1: np.ndarray
    p0: np.ndarray
    p1: np.ndarray

    def __post_init__(self) -> None:
        for name in ("t0", "t1", "p0", "p1"):
            arr = np.asarray(getattr(self, name), dtype=float)
            object.__setattr__(self, name, arr)
        n = self.t0.shape[0] if self.t0.ndim == 1 else -1
        if n < 1 or self.t1.shape != (n,) or self.p0.shape != (n, 3) or self.p1.shape != (n, 3):
            raise ValueError(
                f"Trajectory: expected t0,t1 of shape [n>=1] and p0,p1 of shape [n,3], got "
                f"{self.t0.shape}, {self.t1.shape}, {self.p0.shape}, {self.p1.shape}"
            )
        for name in ("t0", "t1", "p0", "p1"):
            arr = getattr(self, name)
            if not np.isfinite(arr).all():
                raise ValueError(f"Trajectory: {name} has non-finite values")
        bad = np.flatnonzero(self.t1 <= self.t0)
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"Trajectory: segment {k} has t1={self.t1[k]} <= t0={self.t0[k]}"
            )
        gap = np.flatnonzero((self.t1[:-1] != self.t0[1:])
                             | (self.p1[:-1] != self.p0[1:]).any(axis=1))
        if gap.size:
            k = int(gap[0])
            raise ValueError(
                f"Trajectory: segments {k} and {k + 1} are not contiguous "
                f"(end t={self.t1[k]}, p={self.p1[k]}; next start t={self.t0[k + 1]}, "
                f"p={self.p0[k + 1]})"
            )

    @classmethod
    def from_samples(cls, times: np.ndarray, points: np.ndarray) -> Trajectory:
        """Trajectory through ``points[k]`` at ``times[k]`` (linear in between).

        Args:
            times: ``[m >= 2]`` strictly increasing sample times (s).
            points: ``[m, 3]`` positions (m).

        Returns:
            The trajectory with ``m - 1`` segments; its arrays are views of the inputs.

        Raises:
            ValueError: shapes disagree or times are not strictly increasing.
        """
        times = np.asarray(times, dtype=float)
        points = np.asarray(points, dtype=float)
        if times.ndim != 1 or times.size < 2 or points.shape != (times.size, 3):
            raise ValueError(
                f"Trajectory.from_samples: expected times [m>=2] and points [m,3], got "
                f"{times.shape} and {points.shape}"
            )
        return cls(times[:-1], times[1:], points[:-1], points[1:])

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return int(self.t0.shape[0])

    @property
    def start_time(self) -> float:
        """Time of the first sample (s)."""
        return float(self.t0[0])

    @property
    def end_time(self) -> float:
        """Time of the last sample (s)."""
        return float(self.t1[-1])

    def _locate(self, t: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(t, dtype=float)
        if np.isnan(t).any():
            raise ValueError("Trajectory: time is NaN")
        idx = np.clip(np.searchsorted(self.t0, t, side="right") - 1, 0, self.n_segments - 1)
        frac = np.clip((t - self.t0[idx]) / (self.t1[idx] - self.t0[idx]), 0.0, 1.0)
        return t, idx, frac

    def position(self, t: np.ndarray | float) -> np.ndarray:
        """Position at time(s) ``t``, clamped to the ends outside ``[start_time, end_time]``.

        Args:
            t: scalar or array of times (s).

        Returns:
            ``[..., 3]`` positions (m), exact at sample times.

        Raises:
            ValueError: ``t`` contains NaN.
        """
        _, idx, frac = self._locate(t)
        f = frac[..., None]
        return (1.0 - f) * self.p0[idx] + f * self.p1[idx]

    def velocity(self, t: np.ndarray | float) -> np.ndarray:
        """Velocity at time(s) ``t``: the velocity of the segment starting at or before ``t``
        (the new segment at a joint), zero outside ``[start_time, end_time]``.

        Args:
            t: scalar or array of times (s).

        Returns:
            ``[..., 3]`` velocities (m/s).

        Raises:
            ValueError: ``t`` contains NaN.
        """
        t, idx, _ = self._locate(t)
        v = (self.p1[idx] - self.p0[idx]) / (self.t1[idx] - self.t0[idx])[..., None]
        inside = (t >= self.start_time) & (t <= self.end_time)
        return np.where(inside[..., None], v, 0.0)

    def clip(self, t_from: float | None = None, t_to: float | None = None) -> Trajectory:
        """The part of the trajectory within ``[t_from, t_to]`` (bounds clamped to the
        trajectory's own span; ``None`` = no bound).

        Raises:
            ValueError: the clamped window is empty (``t_from >= t_to``).
        """
        lo = self.start_time if t_from is None else max(float(t_from), self.start_time)
        hi = self.end_time if t_to is None else min(float(t_to), self.end_time)
        if not lo < hi:
            raise ValueError(
                f"Trajectory.clip: empty window [{t_from}, {t_to}] for a trajectory spanning "
                f"[{self.start_time}, {self.end_time}]"
            )
        if lo == self.start_time and hi == self.end_time:
            return self
        inner = (self.t0 > lo) & (self.t0 < hi)
        times = np.concatenate([[lo], self.t0[inner], [hi]])
        points = np.concatenate([self.position(lo)[None], self.p0[inner],
                                 self.position(hi)[None]])
        return Trajectory.from_samples(times, points)


def sample_positions(trajs: Sequence[Trajectory], times: np.ndarray) -> np.ndarray:
    """Positions of many UAVs at common times.

    Args:
        trajs: one trajectory per UAV.
        times: ``[n_t]`` sample times (s).

    Returns:
        ``[n_uav, n_t, 3]`` positions (m), clamped outside each trajectory's span.
    """
    times = np.asarray(times, dtype=float).reshape(-1)
    out = np.empty((len(trajs), times.size, 3))
    for u, tr in enumerate(trajs):
        out[u] = tr.position(times)
    return out


def _check_range(name: str, rng_: tuple[float, float], *, positive: bool = False,
                 nonneg: bool = True) -> tuple[float, float]:
    lo, hi = float(rng_[0]), float(rng_[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{name}: expected a finite range lo <= hi, got {rng_}")
    if positive and lo <= 0:
        raise ValueError(f"{name}: expected lo > 0, got {rng_}")
    if nonneg and lo < 0:
        raise ValueError(f"{name}: expected lo >= 0, got {rng_}")
    return lo, hi


def _box(area_m: tuple[float, float], altitude_m: tuple[float, float]
         ) -> tuple[np.ndarray, np.ndarray]:
    ax, ay = float(area_m[0]), float(area_m[1])
    if not (ax > 0 and ay > 0 and math.isfinite(ax) and math.isfinite(ay)):
        raise ValueError(f"area_m: expected two positive sizes, got {area_m}")
    z_lo, z_hi = _check_range("altitude_m", altitude_m)
    return np.array([0.0, 0.0, z_lo]), np.array([ax, ay, z_hi])


def _starts(rng: np.random.Generator, n: int, start: np.ndarray | None, lo: np.ndarray,
            hi: np.ndarray) -> np.ndarray:
    if start is None:
        return rng.uniform(lo, hi, size=(n, 3))
    pos = np.broadcast_to(np.asarray(start, dtype=float), (n, 3)).copy()
    if ((pos < lo) | (pos > hi)).any() or not np.isfinite(pos).all():
        raise ValueError(f"start: positions must lie in the box {lo}..{hi}, got {start}")
    return pos


def _check_duration(duration_s: float) -> float:
    d = float(duration_s)
    if not (d > 0 and math.isfinite(d)):
        raise ValueError(f"duration_s: expected a positive finite time, got {duration_s}")
    return d


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
    duration = _check_duration(duration_s)
    lo, hi = _box(area_m, altitude_m)
    v_lo, v_hi = _check_range("speed_mps", speed_mps, positive=True)
    p_lo, p_hi = _check_range("pause_s", pause_s)
    n = int(n_uavs)
    pos0 = _starts(rng, n, start, lo, hi)
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
    duration = _check_duration(duration_s)
    lo, hi = _box(area_m, altitude_m)
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
    pos = _starts(rng, n, start, lo, hi)
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
    t_end = None if duration_s is None else float(t_start) + _check_duration(duration_s)
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


_CSV_COLUMNS = ("uav_id", "t_s", "x_m", "y_m", "z_m")


def load_trajectory_csv(path: str | Path) -> dict[int, Trajectory]:
    """Read UAV traces from CSV (columns ``uav_id,t_s,x_m,y_m,z_m`` in any order, header
    required); positions are linear between consecutive samples of the same UAV.

    Args:
        path: the CSV file.

    Returns:
        ``{uav_id: trajectory}``.

    Raises:
        ValueError: ``"path:line: message"`` for a missing/bad header, a malformed value, a
            non-increasing time of a UAV, a UAV with a single sample, or no data rows.
        OSError: the file cannot be read.
    """
    path = Path(path)
    samples: dict[int, list[tuple[float, float, float, float]]] = {}
    last_line: dict[int, int] = {}
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        names = [h.strip() for h in header] if header else []
        if sorted(names) != sorted(_CSV_COLUMNS):
            raise ValueError(f"{path}:1: expected header with columns {','.join(_CSV_COLUMNS)}"
                             f", got {','.join(names) or '(empty)'}")
        col = [names.index(c) for c in _CSV_COLUMNS]
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(names):
                raise ValueError(f"{path}:{line}: expected {len(names)} fields, got {len(row)}")
            try:
                uav = int(row[col[0]])
            except ValueError:
                raise ValueError(f"{path}:{line}: uav_id: not an integer: {row[col[0]]!r}"
                                 ) from None
            vals = []
            for c, name in zip(col[1:], _CSV_COLUMNS[1:], strict=True):
                try:
                    v = float(row[c])
                except ValueError:
                    raise ValueError(f"{path}:{line}: {name}: not a number: {row[c]!r}"
                                     ) from None
                if not math.isfinite(v):
                    raise ValueError(f"{path}:{line}: {name}: not finite: {row[c]!r}")
                vals.append(v)
            seq = samples.setdefault(uav, [])
            if seq and vals[0] <= seq[-1][0]:
                raise ValueError(f"{path}:{line}: t_s: UAV {uav} time {vals[0]} does not "
                                 f"increase (previous sample at {seq[-1][0]})")
            seq.append((vals[0], vals[1], vals[2], vals[3]))
            last_line[uav] = line
    if not samples:
        raise ValueError(f"{path}:2: no data rows")
    out = {}
    for uav, seq in sorted(samples.items()):
        if len(seq) < 2:
            raise ValueError(f"{path}:{last_line[uav]}: UAV {uav} has a single sample; a "
                             "trajectory needs at least 2")
        arr = np.array(seq)
        out[uav] = Trajectory.from_samples(arr[:, 0], arr[:, 1:])
    return out
