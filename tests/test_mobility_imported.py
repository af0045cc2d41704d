"""Imported fleets: altitude draws for 2-D files, offsets, presence clipping, the area check
that names both boxes, area fit, and uavs.count taken from the file."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.world.mobility.formats.tracks import Track, TrackSet
from simulator.world.mobility.imported import fleet_from_tracks


def tracks(dims: int = 2) -> TrackSet:
    a = Track(0, "veh-a", np.array([0.0, 10.0, 30.0]),
              np.array([[100.0, 100.0, 5.0], [200.0, 100.0, 5.0], [200.0, 300.0, 9.0]]))
    b = Track(1, "veh-b", np.array([20.0, 25.0]),
              np.array([[-50.0, 40.0, 0.0], [-40.0, 40.0, 0.0]]))
    return TrackSet([a, b], dims, format="test")


def test_two_d_tracks_fly_at_drawn_altitudes():
    fleet = fleet_from_tracks(tracks(2), rng=np.random.default_rng(1), altitude_m=(50, 90),
                              offset_m=(60.0, 0.0), area_m=(500, 500))
    z = [t.p0[0, 2] for t in fleet.trajectories]
    expected = np.random.default_rng(1).uniform(50, 90, 2)
    np.testing.assert_array_equal(z, expected)
    for t in fleet.trajectories:
        assert (t.p0[:, 2] == t.p0[0, 2]).all() and (t.p1[:, 2] == t.p0[0, 2]).all()
    assert fleet.names == ["veh-a", "veh-b"]
    np.testing.assert_array_equal(fleet.trajectories[1].p0[0, :2], [10.0, 40.0])


def test_three_d_tracks_keep_their_altitude_and_presence():
    fleet = fleet_from_tracks(tracks(3), rng=np.random.default_rng(0), altitude_m=(50, 90),
                              offset_m=(60.0, 0.0, 1.0), time_offset_s=5.0)
    a, b = fleet.trajectories
    assert (a.start_time, a.end_time) == (5.0, 35.0)
    assert (b.start_time, b.end_time) == (25.0, 30.0)
    np.testing.assert_array_equal(a.p1[-1], [260.0, 300.0, 10.0])


def test_negative_time_offset_cuts_presence_at_zero():
    fleet = fleet_from_tracks(tracks(3), rng=np.random.default_rng(0), altitude_m=(0, 0),
                              offset_m=(60.0, 0.0), time_offset_s=-22.0)
    a, b = fleet.trajectories
    assert (a.start_time, a.end_time) == (0.0, 8.0)
    np.testing.assert_allclose(a.position(0.0),
                               [200.0 + 60.0, 100.0 + 12 / 20 * 200, 5.0 + 12 / 20 * 4])
    assert (b.start_time, b.end_time) == (0.0, 3.0)
    with pytest.raises(ScenarioError, match=r"UAV 1 \('veh-b'\) leaves at t=-1 s <= 0"):
        fleet_from_tracks(tracks(3), rng=np.random.default_rng(0), altitude_m=(0, 0),
                          time_offset_s=-26.0)


def test_outside_the_area_names_both_boxes():
    with pytest.raises(ScenarioError) as err:
        fleet_from_tracks(tracks(2), rng=np.random.default_rng(0), altitude_m=(50, 50),
                          area_m=(250, 250), source="f.fcd.xml")
    msg = str(err.value)
    assert msg.startswith("f.fcd.xml: the trace (x -50..200 m, y 40..300 m after offset_m)")
    assert "area (x 0..250 m, y 0..250 m)" in msg and "\n" not in msg


def test_fit_moves_the_box_to_the_origin():
    fleet = fleet_from_tracks(tracks(2), rng=np.random.default_rng(0), altitude_m=(50, 50),
                              fit=True)
    lo = np.min([t.p0.min(axis=0) for t in fleet.trajectories], axis=0)
    assert lo[0] == 0.0 and lo[1] == 0.0
    np.testing.assert_array_equal(fleet.shift_m, [50.0, -40.0, 0.0])


def test_single_sample_uav_is_an_error():
    ts = TrackSet([Track(0, "x", np.array([3.0]), np.zeros((1, 3)))], 3)
    with pytest.raises(ScenarioError, match="single sample"):
        fleet_from_tracks(ts, rng=np.random.default_rng(0), altitude_m=(0, 0))
