"""Mobility round trip through ns-3: a run of the default scenario, its trajectories read back
from the trace and exported to ns-2 by uavtwin, replayed by ns-3's Ns2MobilityHelper, match
uavtwin's positions within 1 mm in x and y at every sample (a grid plus 1 us before and after
each breakpoint); the altitude error is exactly what the exporter reports (ns-2's setdest is
2-D)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.app.convert import trace_trajectories
from simulator.validate import ns3run
from simulator.validate.mobility import probe_times, round_trip_ns2
from simulator.world.mobility.trajectory import Trajectory


def test_probe_times_bracket_every_breakpoint() -> None:
    tr = Trajectory.from_samples(np.array([0.0, 2.0, 5.0]),
                                 np.array([[0, 0, 1], [2, 0, 1], [2, 3, 1]], dtype=float))
    ts = probe_times([tr], every_s=1.0, around_s=1e-6)
    for b in (2.0, 5.0):
        assert b in ts and b - 1e-6 in ts
    assert 2.0 + 1e-6 in ts and ts.max() == 5.0 and ts.min() == 0.0
    assert set(np.arange(0.0, 6.0)) <= set(ts)


@pytest.mark.ns3
def test_default_scenario_replays_in_ns3_within_1mm(tmp_path: Path, default_trace: Path) -> None:
    if not ns3run.available():
        pytest.fail("ns-3 bindings missing: pip install -e '.[validate]' (make test does)")
    trajs = trace_trajectories(default_trace)[0]   # the run of the default scenario
    res = round_trip_ns2(trajs, tmp_path / "default.ns2")
    assert res["nodes"] == 20 and res["samples"] > 500  # instants, each sampling every UAV
    assert res["xy_max_m"] < 1e-3, res
    # altitude: ns-3 holds each UAV at its initial Z_; the error equals the exporter's report,
    # which is the largest altitude change of a UAV from its start
    expect = max(float(np.abs(np.r_[t.p0[:, 2], t.p1[-1:, 2]] - t.p0[0, 2]).max())
                 for t in trajs)
    assert res["z_exporter_m"] == pytest.approx(expect)
    assert res["z_max_m"] == pytest.approx(expect, abs=1e-6)
