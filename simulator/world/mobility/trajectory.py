"""UAV trajectories as piecewise-linear 3-D segments, and the checks shared by the models that
make them.

A UAV's flight is a sequence of contiguous straight segments: segment ``k`` goes from ``p0[k]``
at ``t0[k]`` to ``p1[k]`` at ``t1[k]`` at constant velocity, and a hover (pause) is a segment
whose two ends coincide. With this representation the position at any time is an exact linear
interpolation, and the moments a UAV crosses a cell border can be solved in closed form per
segment (see :mod:`simulator.world.coverage`), so the simulator never polls positions.

The trajectories come from:

* the random mobility models, random waypoint and 3-D Gauss-Markov
  (:mod:`simulator.world.mobility.generators`);
* explicit waypoints with speeds and pauses, and CSV traces (:mod:`simulator.world.mobility.files`).

Both build on :class:`Trajectory` and on the argument checks at the end of this module.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "FleetPositions",
    "Trajectory",
    "area_box",
    "check_duration",
    "check_range",
    "sample_positions",
    "start_positions",
]


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


class FleetPositions:
    """Positions of many UAVs at common times, computed for all UAVs at once.

    Bit for bit :meth:`Trajectory.position` of each UAV (the same segment choice and the same
    arithmetic, on the fleet's concatenated segments), without a Python call per UAV and time.

    Args:
        trajs: one trajectory per UAV (at least one).
    """

    def __init__(self, trajs: Sequence[Trajectory]) -> None:
        counts = np.array([tr.n_segments for tr in trajs], dtype=np.intp)
        self._first = np.cumsum(counts) - counts  # [U] index of each UAV's first segment
        self._last = counts - 1                    # [U] its last segment's offset
        self._t0 = np.concatenate([tr.t0 for tr in trajs])
        self._t1 = np.concatenate([tr.t1 for tr in trajs])
        self._p0 = np.concatenate([tr.p0 for tr in trajs])
        self._p1 = np.concatenate([tr.p1 for tr in trajs])

    def at(self, times: np.ndarray) -> np.ndarray:
        """``[n_uav, n_t, 3]`` positions at ``times`` (``[n_t]``, s), clamped outside each
        trajectory's span.

        Raises:
            ValueError: a time is NaN.
        """
        times = np.asarray(times, dtype=float).reshape(-1)
        if np.isnan(times).any():
            raise ValueError("Trajectory: time is NaN")
        out = np.empty((self._first.size, times.size, 3))
        for k, t in enumerate(times.tolist()):
            # the segment starting at or before t: searchsorted(t0, t, "right") - 1 per UAV
            started = np.add.reduceat((self._t0 <= t).view(np.int8), self._first,
                                      dtype=np.intp)
            idx = self._first + np.clip(started - 1, 0, self._last)
            t0 = self._t0[idx]
            f = np.clip((t - t0) / (self._t1[idx] - t0), 0.0, 1.0)[:, None]
            out[:, k] = (1.0 - f) * self._p0[idx] + f * self._p1[idx]
        return out


def sample_positions(trajs: Sequence[Trajectory], times: np.ndarray) -> np.ndarray:
    """Positions of many UAVs at common times (:class:`FleetPositions`).

    Args:
        trajs: one trajectory per UAV.
        times: ``[n_t]`` sample times (s).

    Returns:
        ``[n_uav, n_t, 3]`` positions (m), clamped outside each trajectory's span.
    """
    times = np.asarray(times, dtype=float).reshape(-1)
    if not trajs:
        return np.empty((0, times.size, 3))
    return FleetPositions(trajs).at(times)


def check_range(name: str, rng_: tuple[float, float], *, positive: bool = False,
                 nonneg: bool = True) -> tuple[float, float]:
    lo, hi = float(rng_[0]), float(rng_[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{name}: expected a finite range lo <= hi, got {rng_}")
    if positive and lo <= 0:
        raise ValueError(f"{name}: expected lo > 0, got {rng_}")
    if nonneg and lo < 0:
        raise ValueError(f"{name}: expected lo >= 0, got {rng_}")
    return lo, hi


def area_box(area_m: tuple[float, float], altitude_m: tuple[float, float]
         ) -> tuple[np.ndarray, np.ndarray]:
    ax, ay = float(area_m[0]), float(area_m[1])
    if not (ax > 0 and ay > 0 and math.isfinite(ax) and math.isfinite(ay)):
        raise ValueError(f"area_m: expected two positive sizes, got {area_m}")
    z_lo, z_hi = check_range("altitude_m", altitude_m)
    return np.array([0.0, 0.0, z_lo]), np.array([ax, ay, z_hi])


def start_positions(rng: np.random.Generator, n: int, start: np.ndarray | None, lo: np.ndarray,
            hi: np.ndarray) -> np.ndarray:
    if start is None:
        return rng.uniform(lo, hi, size=(n, 3))
    pos = np.broadcast_to(np.asarray(start, dtype=float), (n, 3)).copy()
    if ((pos < lo) | (pos > hi)).any() or not np.isfinite(pos).all():
        raise ValueError(f"start: positions must lie in the box {lo}..{hi}, got {start}")
    return pos


def check_duration(duration_s: float) -> float:
    d = float(duration_s)
    if not (d > 0 and math.isfinite(d)):
        raise ValueError(f"duration_s: expected a positive finite time, got {duration_s}")
    return d
