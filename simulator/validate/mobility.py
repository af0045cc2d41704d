"""Mobility round trip through ns-3: uavtwin trajectories -> ns-2 movement file -> ns-3's
``Ns2MobilityHelper`` -> positions sampled in ns-3 -> compared with uavtwin's exact positions.

ns-2's ``setdest X Y SPEED`` is 2-D: the exporter writes each UAV's altitude at t = 0 as its
``Z_`` and ns-3 keeps it constant (ns-3 3.44 applies a scheduled ``set Z_`` by moving the node
back to its parse-time position, so altitude steps cannot be expressed either); the altitude
error that leaves is measured here, not assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simulator.validate import ns3run
from simulator.world.mobility.formats.ns2 import write_ns2
from simulator.world.mobility.trajectory import Trajectory, sample_positions

__all__ = ["probe_times", "round_trip_ns2"]


def probe_times(trajectories: Sequence[Trajectory], *, every_s: float = 1.0,
                around_s: float = 1e-6) -> np.ndarray:
    """Times to compare at: a regular grid every ``every_s`` over the run, plus ``around_s``
    before and after every segment boundary of every trajectory (and the boundaries)."""
    end = max(float(tr.end_time) for tr in trajectories)
    start = min(float(tr.start_time) for tr in trajectories)
    grid = np.arange(start, end + 1e-12, every_s)
    bps = np.unique(np.concatenate([np.concatenate([tr.t0, tr.t1[-1:]])
                                    for tr in trajectories]))
    near = np.concatenate([bps - around_s, bps, bps + around_s])
    out = np.unique(np.concatenate([grid, near]))
    return out[(out >= start) & (out <= end)]


def round_trip_ns2(trajectories: Sequence[Trajectory], path: str | Path,
                   times: np.ndarray | None = None) -> dict[str, Any]:
    """Export ``trajectories`` to the ns-2 file ``path``, replay it in ns-3 and compare.

    Returns:
        ``{"nodes", "samples", "xy_max_m", "z_max_m", "z_exporter_m"}``: the largest
        horizontal and vertical distance between ns-3's and uavtwin's positions over all
        nodes and sample times (ns-3's clock is in nanoseconds: uavtwin is evaluated at the
        instants ns-3 actually sampled), and the altitude error the exporter reported.
    """
    z_reported = write_ns2(list(trajectories), path)
    ts = probe_times(trajectories) if times is None else np.asarray(times, dtype=float)
    got_t, got_p = ns3run.sample_ns2(path, len(trajectories), ts)
    ns3 = np.asarray(got_p, dtype=float).transpose(1, 0, 2)  # [node, time, xyz]
    exact = sample_positions(list(trajectories), np.asarray(got_t))
    diff = ns3 - exact
    xy = np.hypot(diff[..., 0], diff[..., 1])
    return {"nodes": len(trajectories), "samples": int(len(got_t)),
            "xy_max_m": float(xy.max()), "z_max_m": float(np.abs(diff[..., 2]).max()),
            "z_exporter_m": float(z_reported)}
