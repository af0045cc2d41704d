"""When the replay's frames are taken.

A replay of simulated times ``[start, end]`` at ``speed`` simulated seconds per second of
video and ``fps`` frames per second has frames at ``start + k * speed / fps``, up to ``end``
included (a last frame at ``end`` is added when the step does not land on it). Without
``--speed`` a replay lasts :data:`DEFAULT_DURATION_S` seconds. Trails cover the last
``max(10 frame steps, 10 s)`` of simulated time and a pricing round stays highlighted for
``max(2 frame steps, 1 s)``, so both stay visible whatever the speed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["DEFAULT_DURATION_S", "DEFAULT_FPS", "Timing", "make_timing"]

DEFAULT_DURATION_S: float = 30.0
"""Length of a replay (seconds of video) when no speed is given."""
DEFAULT_FPS: float = 10.0
"""Frames per second when none is given."""
MAX_FRAMES: int = 100_000
"""Most frames one replay may have (guards against a typo in ``--speed``)."""


@dataclass(frozen=True)
class Timing:
    """Frame times of one replay.

    Attributes:
        times: Simulation time of each frame, s (increasing).
        speed: Simulated seconds per second of replay.
        fps: Frames per second.
        trail_s: Trail length, simulated s.
        highlight_s: How long a pricing round stays highlighted, simulated s.
    """

    times: np.ndarray
    speed: float
    fps: float
    trail_s: float
    highlight_s: float

    @property
    def step_s(self) -> float:
        """Simulated time between two frames, s."""
        return self.speed / self.fps


def make_timing(t_min: float, t_max: float, *, start: float | None = None,
                end: float | None = None, speed: float | None = None,
                fps: float | None = None) -> Timing:
    """Frame times for a replay of a run spanning ``[t_min, t_max]``.

    Args:
        t_min, t_max: The run's time span, s.
        start, end: Replay window (default: the whole run); clipped to the run.
        speed: Simulated seconds per second of replay (default: the window lasts
            :data:`DEFAULT_DURATION_S` seconds).
        fps: Frames per second (default :data:`DEFAULT_FPS`).

    Returns:
        The :class:`Timing`.

    Raises:
        ValueError: An empty window, a non-positive speed or fps, or more than
            :data:`MAX_FRAMES` frames.
    """
    lo = t_min if start is None else max(float(start), t_min)
    hi = t_max if end is None else min(float(end), t_max)
    if not hi > lo:
        raise ValueError(f"empty replay window: start {lo:g} s >= end {hi:g} s "
                         f"(the run spans {t_min:g}..{t_max:g} s)")
    fps = DEFAULT_FPS if fps is None else float(fps)
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be > 0, got {fps}")
    speed = (hi - lo) / DEFAULT_DURATION_S if speed is None else float(speed)
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be > 0, got {speed}")
    step = speed / fps
    n = int(math.floor((hi - lo) / step + 1e-9)) + 1
    if n > MAX_FRAMES:
        raise ValueError(f"{n} frames at speed {speed:g} and {fps:g} fps; at most "
                         f"{MAX_FRAMES} (raise --speed or lower --fps)")
    times = lo + step * np.arange(n)
    if hi - times[-1] > 1e-9 * max(1.0, abs(hi)):
        times = np.append(times, hi)
    return Timing(times=times, speed=speed, fps=fps, trail_s=max(10 * step, 10.0),
                  highlight_s=max(2 * step, 1.0))
