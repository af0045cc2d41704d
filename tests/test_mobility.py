"""Trajectories and mobility models: exact timing, box limits, statistics, traces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.world.mobility.files import waypoint_trajectory
from simulator.world.mobility.generators import (
    gauss_markov,
    gauss_markov_many,
    random_waypoint,
    random_waypoints,
)
from simulator.world.mobility.trajectory import FleetPositions, Trajectory, sample_positions

BOX = dict(area_m=(500.0, 300.0), altitude_m=(50.0, 120.0))
GM = dict(alpha=0.8, mean_speed_mps=10.0, speed_std_mps=0.5, direction_std_rad=0.3,
          pitch_std_rad=0.05, update_interval_s=1.0)


def in_box(tr: Trajectory) -> bool:
    p = np.concatenate([tr.p0, tr.p1[-1:]])
    lo, hi = np.array([0, 0, 50.0]), np.array([500.0, 300.0, 120.0])
    return bool(((p >= lo - 1e-9) & (p <= hi + 1e-9)).all())


def test_trajectory_validation() -> None:
    t = np.array([0.0, 1.0, 2.0])
    p = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0.0]])
    tr = Trajectory.from_samples(t, p)
    assert tr.n_segments == 2 and tr.start_time == 0.0 and tr.end_time == 2.0
    with pytest.raises(ValueError, match="not contiguous"):
        Trajectory(t[:-1], t[1:], p[:-1], p[1:] + [[0, 0, 1], [0, 0, 0]])
    with pytest.raises(ValueError, match="segment 1 has t1=1.0 <= t0=1.0"):
        Trajectory.from_samples(np.array([0.0, 1.0, 1.0]), p)
    with pytest.raises(ValueError, match="shape"):
        Trajectory(t, t + 1, p[:, :2], p)


def test_position_and_velocity() -> None:
    tr = Trajectory.from_samples(np.array([0.0, 10.0, 15.0]),
                                 np.array([[0, 0, 10], [100, 0, 10], [100, 0, 10.0]]))
    np.testing.assert_array_equal(tr.position(np.array([0.0, 10.0, 15.0])),
                                  [[0, 0, 10], [100, 0, 10], [100, 0, 10]])
    np.testing.assert_allclose(tr.position(2.5), [25, 0, 10])
    np.testing.assert_allclose(tr.position(np.array([-5.0, 99.0])), [[0, 0, 10], [100, 0, 10]])
    np.testing.assert_allclose(tr.velocity(np.array([-1.0, 0.0, 5.0, 10.0, 12.0, 16.0])),
                               [[0, 0, 0], [10, 0, 0], [10, 0, 0], [0, 0, 0], [0, 0, 0],
                                [0, 0, 0]])
    assert tr.position(np.zeros((2, 3))).shape == (2, 3, 3)
    c = tr.clip(5.0, 12.0)
    np.testing.assert_allclose(c.t0, [5.0, 10.0])
    np.testing.assert_allclose(c.p0[0], [50, 0, 10])
    assert c.end_time == 12.0


def test_sample_positions_matches_position() -> None:
    rng = np.random.default_rng(0)
    trs = random_waypoints(rng, 4, duration_s=100.0, speed_mps=(2, 5), pause_s=(0, 5), **BOX)
    times = np.linspace(-1, 101, 37)
    out = sample_positions(trs, times)
    assert out.shape == (4, 37, 3)
    for u, tr in enumerate(trs):
        np.testing.assert_array_equal(out[u], tr.position(times))


def test_fleet_positions_equal_each_trajectory_at_joints_and_outside_spans() -> None:
    # the fleet's one vectorised pass is bit for bit each trajectory's own position, at
    # segment joints, at ends, before a late start and after an early end, one-segment fleets
    rng = np.random.default_rng(4)
    trs = random_waypoints(rng, 5, duration_s=60.0, speed_mps=(2, 5), pause_s=(0, 5), **BOX)
    trs.append(Trajectory.from_samples(np.array([20.0, 30.0]), np.array([[0, 0, 10],
                                                                         [10, 5, 20.0]])))
    trs.append(trs[0].clip(7.5, 41.25))
    joints = np.concatenate([tr.t0 for tr in trs] + [[tr.end_time for tr in trs]])
    times = np.unique(np.concatenate([joints, rng.uniform(-5, 65, 50), [-1e9, 1e9]]))
    out = FleetPositions(trs).at(times)
    assert out.shape == (len(trs), times.size, 3)
    for u, tr in enumerate(trs):
        assert out[u].tobytes() == tr.position(times).tobytes()
    with pytest.raises(ValueError, match="NaN"):
        FleetPositions(trs).at(np.array([1.0, np.nan]))


def test_waypoint_timing_exact() -> None:
    pts = np.array([[0, 0, 10], [30, 40, 10], [30, 40, 20.0]])
    tr = waypoint_trajectory(pts, speeds_mps=np.array([5.0, 2.0]), pauses_s=[1.0, 2.0, 0.0])
    # hover 1 s, 50 m at 5 m/s (10 s), hover 2 s, 10 m at 2 m/s (5 s)
    np.testing.assert_allclose(np.append(tr.t0, tr.t1[-1]), [0, 1, 11, 13, 18])
    np.testing.assert_array_equal(tr.p1[-1], [30, 40, 20])
    longer = waypoint_trajectory(pts, speeds_mps=np.array([5.0, 2.0]), pauses_s=[1.0, 2.0, 0.0],
                                 t_start=100.0, duration_s=20.0)
    assert longer.end_time == 120.0 and longer.start_time == 100.0
    np.testing.assert_array_equal(longer.p0[-1], longer.p1[-1])  # final hover
    cut = waypoint_trajectory(pts, speeds_mps=5.0, pauses_s=1.0, duration_s=5.0)
    assert cut.end_time == 5.0
    np.testing.assert_allclose(cut.p1[-1], [12, 16, 10])  # 4 s of flight at 5 m/s


def test_waypoint_loop() -> None:
    sq = np.array([[0, 0, 10], [10, 0, 10], [10, 10, 10], [0, 10, 10.0]])
    tr = waypoint_trajectory(sq, speeds_mps=1.0, pauses_s=0.0, duration_s=95.0, loop=True)
    # cycle of 40 s: back at the start at 40 and 80, at (10, 0) at 90
    np.testing.assert_allclose(tr.position(np.array([40.0, 80.0, 90.0, 95.0])),
                               [[0, 0, 10], [0, 0, 10], [10, 0, 10], [10, 5, 10]], atol=1e-9)
    with pytest.raises(ValueError, match="duration_s"):
        waypoint_trajectory(sq, speeds_mps=1.0, loop=True)
    # n-1 speeds with loop: the closing leg at the last leg's speed (2 m/s: 5 s)
    tr3 = waypoint_trajectory(sq, speeds_mps=np.array([1.0, 1.0, 2.0]), duration_s=40.0,
                              loop=True)
    np.testing.assert_allclose(tr3.position(np.array([25.0, 30.0])), [[0, 10, 10], [0, 0, 10]])
    with pytest.raises(ValueError, match="3 entries or 4"):
        waypoint_trajectory(sq, speeds_mps=np.ones(2), duration_s=10.0, loop=True)
    with pytest.raises(ValueError, match="> 0"):
        waypoint_trajectory(sq, speeds_mps=np.array([1.0, 0.0, 1.0]))


def test_random_waypoint_structure() -> None:
    rng = np.random.default_rng(7)
    trs = random_waypoints(rng, 20, duration_s=600.0, speed_mps=(3.0, 8.0), pause_s=(1.0, 4.0),
                           **BOX)
    for tr in trs:
        assert tr.start_time == 0.0 and tr.end_time == 600.0
        assert in_box(tr)
        dur = tr.t1 - tr.t0
        speed = np.linalg.norm(tr.p1 - tr.p0, axis=1) / dur
        moving = speed > 0
        assert (speed[moving] >= 3.0 - 1e-9).all() and (speed[moving] <= 8.0 + 1e-9).all()
        # pauses and flights alternate; all pauses but a truncated last one last 1..4 s
        assert (moving[:-1] != moving[1:]).all()
        pauses = dur[~moving][:-1] if not moving[-1] else dur[~moving]
        assert (pauses >= 1.0 - 1e-9).all() and (pauses <= 4.0 + 1e-9).all()
    single = random_waypoint(np.random.default_rng(1), duration_s=50.0, speed_mps=(1, 2),
                             pause_s=(0, 0), start=np.array([10.0, 10.0, 60.0]), **BOX)
    np.testing.assert_array_equal(single.p0[0], [10, 10, 60])
    assert (np.linalg.norm(single.p1 - single.p0, axis=1) > 0).all()  # zero pauses dropped


def test_random_waypoint_determinism_and_errors() -> None:
    kw = dict(duration_s=300.0, speed_mps=(3.0, 8.0), pause_s=(0.0, 4.0), **BOX)
    a = random_waypoints(np.random.default_rng(5), 3, **kw)
    b = random_waypoints(np.random.default_rng(5), 3, **kw)
    c = random_waypoints(np.random.default_rng(6), 3, **kw)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.p0, y.p0)
        np.testing.assert_array_equal(x.t1, y.t1)
    assert not np.array_equal(a[0].p1[0], c[0].p1[0])
    with pytest.raises(ValueError, match="speed_mps"):
        random_waypoints(np.random.default_rng(0), 1, **{**kw, "speed_mps": (0.0, 1.0)})
    with pytest.raises(ValueError, match="start"):
        random_waypoints(np.random.default_rng(0), 1, start=np.array([-1.0, 0, 60]), **kw)


def reference_gauss_markov(seed: int, n: int, duration: float, *, area_m, altitude_m, alpha,
                           mean_speed_mps, speed_std_mps, direction_std_rad, pitch_std_rad,
                           update_interval_s):
    """Step-by-step scalar transcription of ns-3's update rule, same draw order."""
    rng = np.random.default_rng(seed)
    lo = np.array([0.0, 0.0, altitude_m[0]])
    hi = np.array([area_m[0], area_m[1], altitude_m[1]])
    steps = math.ceil(duration / update_interval_s - 1e-9)
    pos = rng.uniform(lo, hi, size=(n, 3))
    mean_d = rng.uniform(0, 2 * math.pi, size=n)
    sd = np.array([speed_std_mps, direction_std_rad, pitch_std_rad]) * math.sqrt(1 - alpha ** 2)
    z = rng.standard_normal((n, steps, 3)) * sd
    out = np.empty((n, steps + 1, 3))
    for u in range(n):
        p = pos[u].copy()
        md, mp = mean_d[u], 0.0
        v, d, pt = mean_speed_mps, md, mp
        out[u, 0] = p
        for k in range(steps):
            dt = min((k + 1) * update_interval_s, duration) - k * update_interval_s
            v = alpha * v + (1 - alpha) * mean_speed_mps + z[u, k, 0]
            d = alpha * d + (1 - alpha) * md + z[u, k, 1]
            pt = alpha * pt + (1 - alpha) * mp + z[u, k, 2]
            vel = v * np.array([math.cos(d) * math.cos(pt), math.sin(d) * math.cos(pt),
                                math.sin(pt)])
            nxt = p + vel * dt
            if ((nxt < lo) | (nxt > hi)).any():
                if nxt[0] < lo[0] or nxt[0] > hi[0]:
                    vel[0], md = -vel[0], math.pi - md
                if nxt[1] < lo[1] or nxt[1] > hi[1]:
                    vel[1], md = -vel[1], -md
                if nxt[2] < lo[2] or nxt[2] > hi[2]:
                    vel[2], mp = -vel[2], -mp
                d, pt = md, mp
                nxt = np.clip(p + vel * dt, lo, hi)
            p = nxt
            out[u, k + 1] = p
    return out


def test_gauss_markov_matches_scalar_reference() -> None:
    kw = dict(area_m=(150.0, 100.0), altitude_m=(50.0, 70.0), **GM)
    ref = reference_gauss_markov(11, 4, 299.5, **kw)
    for window in (5, 64):
        trs = gauss_markov_many(np.random.default_rng(11), 4, duration_s=299.5, window=window,
                                **kw)
        got = np.stack([np.concatenate([t.p0, t.p1[-1:]]) for t in trs])
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-7)
        assert trs[0].end_time == 299.5 and trs[0].t1[-1] - trs[0].t0[-1] == pytest.approx(0.5)


def test_gauss_markov_statistics_and_box() -> None:
    trs = gauss_markov_many(np.random.default_rng(2), 10, duration_s=2000.0, **BOX, **GM)
    speeds = np.concatenate([np.linalg.norm(t.p1 - t.p0, axis=1) / (t.t1 - t.t0) for t in trs])
    assert speeds.mean() == pytest.approx(10.0, rel=0.03)
    assert all(in_box(t) for t in trs)
    # the reflections really happen: each UAV visits both halves of the area
    assert all((t.p0[:, 0] < 250).any() and (t.p0[:, 0] > 250).any() for t in trs)
    one = gauss_markov(np.random.default_rng(2), duration_s=30.0, **BOX, **GM)
    again = gauss_markov(np.random.default_rng(2), duration_s=30.0, **BOX, **GM)
    np.testing.assert_array_equal(one.p1, again.p1)
    assert one.n_segments == 30
    with pytest.raises(ValueError, match="alpha"):
        gauss_markov(np.random.default_rng(0), duration_s=10.0, **BOX, **{**GM, "alpha": 1.5})


def test_gauss_markov_memoryless_and_constant() -> None:
    kw = {**GM, "alpha": 1.0}
    tr = gauss_markov(np.random.default_rng(4), duration_s=200.0, start=np.array([250, 150, 80.0]),
                      **BOX, **kw)
    steps = np.linalg.norm(tr.p1 - tr.p0, axis=1)
    assert np.median(steps) == pytest.approx(10.0)  # alpha = 1: constant speed
    assert in_box(tr)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100), st.floats(0, 100),
                          st.floats(0.01, 50)), min_size=2, max_size=8),
       st.lists(st.floats(-10, 300), min_size=1, max_size=20))
def test_position_is_linear_interpolation(samples, times) -> None:
    pts = np.array([s[:3] for s in samples])
    t = np.concatenate([[0.0], np.cumsum([s[3] for s in samples[1:]])])
    tr = Trajectory.from_samples(t, pts)
    q = np.array(times)
    expect = np.stack([np.interp(q, t, pts[:, i]) for i in range(3)], axis=-1)
    np.testing.assert_allclose(tr.position(q), expect, atol=1e-9)


def test_mobility_registry_names_are_the_scenario_choices() -> None:
    import typing

    from simulator.config.world import MobilityConfig
    from simulator.world.mobility.registry import MOBILITY_MODELS

    choices = typing.get_args(MobilityConfig.model_fields["model"].annotation)
    assert tuple(MOBILITY_MODELS) == choices
