"""Position samples written while the clock advances (simulator.app.positions)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator.app.positions as positions_mod
from simulator.app.positions import PositionSampler
from simulator.app.run import run_scenario
from simulator.trace.recorders import MemoryRecorder
from simulator.world.mobility.trajectory import Trajectory

DURATION, INTERVAL = 100.0, 2.5


def _fleet() -> list[Trajectory]:
    """Three UAVs: one present throughout, one arriving late, one leaving early (and one
    whose presence ends between two sample times)."""
    return [
        Trajectory.from_samples(np.array([0.0, 40.0, 100.0]),
                                np.array([[0, 0, 50], [400, 0, 50], [400, 300, 60]])),
        Trajectory.from_samples(np.array([31.0, 70.0, 100.0]),
                                np.array([[10, 10, 20], [10, 500, 30], [0, 0, 30]])),
        Trajectory.from_samples(np.array([0.0, 12.0, 47.3]),
                                np.array([[5, 5, 5], [-100, 5, 5], [-100, -90, 15]])),
    ]


def _expected(trajs: list[Trajectory]) -> dict[str, np.ndarray]:
    """The table by definition, one UAV and time at a time: time-major, only where the UAV
    is present, each value the trajectory's own position."""
    rows = []
    for t in np.arange(0.0, DURATION + 1e-9, INTERVAL):
        for u, tr in enumerate(trajs):
            if tr.start_time <= t <= tr.end_time:
                rows.append((t, u, *tr.position(t)))
    cols = list(zip(*rows, strict=True))
    return {"t_s": np.array(cols[0]), "uav_id": np.array(cols[1]),
            "x_m": np.array(cols[2]), "y_m": np.array(cols[3]), "z_m": np.array(cols[4])}


def _table(rec: MemoryRecorder) -> dict[str, np.ndarray]:
    return rec.tables()["/mobility/positions"]


def test_at_the_end_in_one_go_the_rows_are_the_definition() -> None:
    rec = MemoryRecorder()
    PositionSampler(rec, _fleet(), DURATION, INTERVAL).finish()
    got, want = _table(rec), _expected(_fleet())
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
    assert 31.0 not in got["t_s"][got["uav_id"] == 1] and 47.5 not in got["t_s"][got["uav_id"] == 2]


@settings(max_examples=40, deadline=None)
@given(stops=st.lists(st.floats(0.0, DURATION), max_size=12),
       slice_rows=st.integers(1, 40), block_rows=st.integers(1, 20))
def test_slices_while_the_clock_advances_give_the_same_rows(stops, slice_rows,
                                                            block_rows) -> None:
    # however the clock's stretches fall, and whatever the slice and block sizes, the rows
    # are bit for bit the ones written in one go at the end, and never ahead of the clock
    rec = MemoryRecorder()
    sampler = PositionSampler(rec, _fleet(), DURATION, INTERVAL, slice_rows=slice_rows,
                              block_rows=block_rows)
    times = np.arange(0.0, DURATION + 1e-9, INTERVAL)
    for now in sorted(stops):
        sampler.advance(now)
        written = rec.tables().get("/mobility/positions", {"t_s": np.zeros(0)})["t_s"]
        assert (written <= now).all()
        # whole sample times only: a prefix of the table by definition
        np.testing.assert_array_equal(written, _expected(_fleet())["t_s"][:len(written)])
        last = sampler.written_until
        assert (last is None and not len(written)) or last == times[times <= last][-1]
        assert now - (last if last is not None else -INTERVAL) < INTERVAL * (
            -(-slice_rows // 3) + 1)  # at most a slice's worth of times left behind
    sampler.finish()
    got, want = _table(rec), _expected(_fleet())
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_a_failed_run_holds_the_positions_the_clock_passed(tmp_path, small_scenario,
                                                           monkeypatch) -> None:
    # A run that fails halfway leaves the samples up to the time it reached (written in
    # slices while it ran, here one slice per sample time), the same rows as the complete
    # run's; before, a stopped run's trace held no positions at all.
    import simulator.world.world as world_mod

    scenario = small_scenario  # 8 UAVs, 120 s, a sample every 5 s
    complete = run_scenario(scenario, trace_path=tmp_path / "c.h5")
    with h5py.File(complete.trace_path, "r") as f:
        full = {k: f[f"/mobility/positions/{k}"][:] for k in f["/mobility/positions"]}
    assert len(full["t_s"]) == 8 * 25

    original = world_mod.Market._round

    def boom(self, batch):  # type: ignore[no-untyped-def]
        if self.env.now > 60:
            raise RuntimeError("solver exploded")
        return original(self, batch)

    monkeypatch.setattr(world_mod.Market, "_round", boom)
    monkeypatch.setattr(positions_mod, "SLICE_ROWS", 1)
    path = tmp_path / "x.h5"
    with pytest.raises(RuntimeError, match="solver exploded"):
        run_scenario(scenario, trace_path=path)
    with h5py.File(tmp_path / "x.partial.h5", "r") as f:
        assert f.attrs["status"] == "failed"
        part = {k: f[f"/mobility/positions/{k}"][:] for k in f["/mobility/positions"]}
    n = len(part["t_s"])
    assert 8 * 12 <= n < 8 * 25 and n % 8 == 0
    assert part["t_s"].max() <= 66.0  # the stretch in which the solver failed ends at 66 s
    for name in full:
        np.testing.assert_array_equal(part[name], full[name][:n], err_msg=name)
