"""Sampled UAV positions, recorded while the clock advances.

``/mobility/positions`` holds every UAV's position every ``simulation.sample_interval_s``
within its presence interval (long format, time-major). The positions follow from the
trajectories alone, so they could all be computed after the simulation; but a trace writer
then encodes all their chunks at the end of the run, while the simulating thread waits.
A :class:`PositionSampler` instead writes the samples in slices as the clock passes them
(after each stretch of :func:`simulator.app.run.simulate`), so the compressing thread
encodes them while the simulation goes on. The rows are the same, in the same order, as
one block written at the end: each slice is whole sample times, taken in order, and a
sample's values do not depend on the other times computed with it.

A run that stops early holds the samples of a prefix of its sample times, none after the
time the clock reached.
"""

from __future__ import annotations

import numpy as np

from simulator.trace.buffer import CHUNK_ROWS
from simulator.trace.recorders import Recorder
from simulator.world.mobility.trajectory import FleetPositions, Trajectory

__all__ = ["PositionSampler"]

TABLE = "/mobility/positions"

#: Rows' worth of sample times the clock must have passed before the next slice is written
#: (one chunk of a trace: each slice gives the compressing thread about a chunk to encode).
SLICE_ROWS = CHUNK_ROWS


class PositionSampler:
    """Writes the position samples of a run to a recorder, a slice at a time.

    Args:
        recorder: where the rows go (``/mobility/positions``).
        trajectories: one trajectory per UAV (row ``k`` is ``uav_id`` ``k``).
        duration_s: the run's horizon; samples at ``0, interval_s, ...`` up to it.
        interval_s: time between two samples (> 0).
        slice_rows: a slice is written once the clock has passed at least this many rows'
            worth of sample times (default :data:`SLICE_ROWS`); fewer are left for the next
            call.
        block_rows: at most about this many rows per append (whole sample times), so that
            the memory a slice needs stays bounded however long the run.
    """

    def __init__(self, recorder: Recorder, trajectories: list[Trajectory], duration_s: float,
                 interval_s: float, *, slice_rows: int | None = None,
                 block_rows: int = 1 << 16) -> None:
        self._recorder = recorder
        self._times = np.arange(0.0, duration_s + 1e-9, interval_s)
        self._n_uav = len(trajectories)
        self._start = np.array([tr.start_time for tr in trajectories])
        self._end = np.array([tr.end_time for tr in trajectories])
        rows = SLICE_ROWS if slice_rows is None else slice_rows
        self._per_slice = max(1, -(-rows // max(self._n_uav, 1)))
        self._per_block = max(1, block_rows // max(self._n_uav, 1))
        self._fleet = FleetPositions(trajectories) if trajectories else None
        self._next = 0  # index of the first sample time not written yet

    @property
    def written_until(self) -> float | None:
        """The last sample time written so far (None: none yet)."""
        return float(self._times[self._next - 1]) if self._next else None

    def advance(self, now: float) -> None:
        """Write the samples at times up to ``now`` if they make a slice (``slice_rows``).

        Args:
            now: the simulated time the clock has reached.
        """
        reached = int(np.searchsorted(self._times, now, side="right"))
        if reached - self._next >= self._per_slice:
            self._write(reached)

    def finish(self) -> None:
        """Write every sample not written yet (the clock reached the horizon)."""
        self._write(len(self._times))

    def _write(self, stop: int) -> None:
        """Write the samples at times ``[next, stop)``, in blocks of whole sample times."""
        n_uav, fleet = self._n_uav, self._fleet
        for first in range(self._next, stop, self._per_block):
            block = self._times[first:min(first + self._per_block, stop)]
            if fleet is not None:
                pos = fleet.at(block)  # [U, T, 3]
                present = ((block[None, :] >= self._start[:, None])
                           & (block[None, :] <= self._end[:, None])).T.ravel()
                self._recorder.append(
                    TABLE, t_s=np.repeat(block, n_uav)[present],
                    uav_id=np.tile(np.arange(n_uav), len(block))[present],
                    x_m=pos[:, :, 0].T.ravel()[present], y_m=pos[:, :, 1].T.ravel()[present],
                    z_m=pos[:, :, 2].T.ravel()[present],
                )
            self._next = first + len(block)
        self._next = max(self._next, stop)
