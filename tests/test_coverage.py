"""RSU cells: covering() vs brute force, exact crossing times vs closed forms and dense
sampling, border cases (tangents, starts on a border, joints on a border)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.world.coverage import CoverageMap, CrossingEvents
from simulator.world.mobility.generators import gauss_markov_many, random_waypoints
from simulator.world.mobility.trajectory import Trajectory


def path(times: list[float], xy: list[tuple[float, float]]) -> Trajectory:
    pts = np.array([[x, y, 100.0] for x, y in xy])
    return Trajectory.from_samples(np.array(times, dtype=float), pts)


def as_list(ev: CrossingEvents) -> list[tuple[float, int, bool]]:
    return [(round(float(t), 9), int(r), bool(e)) for t, r, e in zip(ev.t, ev.rsu, ev.enter,
                                                                      strict=True)]


def test_covering_brute_force() -> None:
    rng = np.random.default_rng(0)
    centres = rng.uniform(0, 1000, size=(30, 3))
    radii = rng.uniform(50, 200, size=30)
    cm = CoverageMap(centres, radii)
    pts = rng.uniform(-100, 1100, size=(7, 11, 3))
    got = cm.covering(pts)
    assert got.shape == (7, 11, 30)
    for idx in np.ndindex(7, 11):
        d = np.hypot(*(pts[idx][:2] - centres[:, :2]).T)
        np.testing.assert_array_equal(got[idx], d <= radii)
    np.testing.assert_array_equal(cm.covering_ids(pts[0, 0]), np.flatnonzero(got[0, 0]))
    # altitude is irrelevant: cells are vertical cylinders
    assert CoverageMap(np.array([[0.0, 0.0]]), 10.0).covering(np.array([0.0, 10.0, 5e3]))[0]


def test_straight_crossing_closed_form() -> None:
    cm = CoverageMap(np.array([[0.0, 0.0], [100.0, 0.0]]), np.array([10.0, 5.0]))
    ev = cm.crossings(path([0, 40], [(-20, 0), (20, 0)]))
    assert as_list(ev) == [(10.0, 0, True), (30.0, 0, False)]
    # an off-centre chord: y = 6 crosses x = -8 .. 8
    ev = cm.crossings(path([0, 40], [(-20, 6), (20, 6)]))
    assert as_list(ev) == [(12.0, 0, True), (28.0, 0, False)]
    # starting inside: initial enter at the start
    ev = cm.crossings(path([5, 25], [(0, 0), (20, 0)]))
    assert as_list(ev) == [(5.0, 0, True), (15.0, 0, False)]


def test_tangent_and_border_cases() -> None:
    cm = CoverageMap(np.array([[0.0, 0.0]]), 10.0)
    assert len(cm.crossings(path([0, 40], [(-20, 10), (20, 10)]))) == 0  # tangent
    # start on the border heading out: covered only at one instant -> nothing
    assert len(cm.crossings(path([0, 10], [(10, 0), (20, 0)]))) == 0
    # start on the border heading in: enter at the start, leave on the far side
    assert as_list(cm.crossings(path([0, 30], [(10, 0), (-20, 0)]))) == [(0.0, 0, True),
                                                                        (20.0, 0, False)]
    # ending exactly on the border: no leave (the UAV is still covered when it stops)
    assert as_list(cm.crossings(path([0, 20], [(10, 0), (-10, 0)]))) == [(0.0, 0, True)]
    # touch the border at a joint from inside and turn back: no leave
    assert as_list(cm.crossings(path([0, 10, 20], [(0, 0), (10, 0), (0, 0)]))) == [
        (0.0, 0, True)]
    # touch from outside and turn back: no events
    assert len(cm.crossings(path([0, 10, 20], [(20, 0), (10, 0), (20, 0)]))) == 0
    # reach the border exactly at a joint and go in: enter at the joint
    assert as_list(cm.crossings(path([0, 10, 20], [(20, 0), (10, 0), (0, 0)]))) == [
        (10.0, 0, True)]
    # hover exactly on the border, then leave: the boundary counts as outside for stays
    assert len(cm.crossings(path([0, 5, 10], [(10, 0), (10, 0), (20, 0)]))) == 0
    # slide along the border from the joint on, then go in
    ev = cm.crossings(path([0, 10, 20, 30], [(20, 0), (10, 0), (10, 0), (0, 0)]))
    assert as_list(ev) == [(20.0, 0, True)]


def test_ordering_leave_before_enter() -> None:
    # two tangent discs touching at x = 10: leave 0 and enter 1 at the same instant
    cm = CoverageMap(np.array([[0.0, 0.0], [20.0, 0.0]]), 10.0)
    ev = cm.crossings(path([0, 30], [(-5, 0), (25, 0)]))
    assert as_list(ev) == [(0.0, 0, True), (15.0, 0, False), (15.0, 1, True)]


def test_window() -> None:
    cm = CoverageMap(np.array([[0.0, 0.0]]), 10.0)
    tr = path([0, 40], [(-20, 0), (20, 0)])
    assert as_list(cm.crossings(tr, 15.0, 35.0)) == [(15.0, 0, True), (30.0, 0, False)]
    assert as_list(cm.crossings(tr, t_to=20.0)) == [(10.0, 0, True)]
    with pytest.raises(ValueError, match="empty window"):
        cm.crossings(tr, 50.0, 60.0)


def brute_force_check(cm: CoverageMap, tr: Trajectory, ev: CrossingEvents) -> None:
    """Events alternate per RSU, lie on borders, and replay to the sampled coverage state."""
    assert np.all(np.diff(ev.t) >= 0)
    for j in np.unique(ev.rsu):
        kinds = ev.enter[ev.rsu == j]
        assert kinds[0] and np.all(kinds[1:] != kinds[:-1])
        assert len(set(ev.t[ev.rsu == j].tolist())) == kinds.size
    on = ev.t > tr.start_time
    d = np.hypot(*(tr.position(ev.t[on])[:, :2] - cm.centres[ev.rsu[on]]).T)
    np.testing.assert_allclose(d, cm.radii[ev.rsu[on]], atol=1e-6)
    times = np.linspace(tr.start_time, tr.end_time, 4001)
    cov = cm.covering(tr.position(times))
    state = np.zeros((times.size, cm.n_rsus), dtype=bool)
    for t, j, e in zip(ev.t, ev.rsu, ev.enter, strict=True):
        state[times >= t, j] = e
    near = (np.abs(times[:, None] - ev.t[None, :]) < 1e-7).any(axis=1) if len(ev) else \
        np.zeros(times.size, bool)
    # closed-disc covering differs from the stay state only at isolated border points
    dist = np.hypot(*(tr.position(times)[:, None, :2] - cm.centres[None]).transpose(2, 0, 1))
    border = (np.abs(dist - cm.radii) < 1e-7).any(axis=1)
    ok = ~near & ~border
    np.testing.assert_array_equal(state[ok], cov[ok])


coord = st.floats(-60, 60, allow_nan=False).map(lambda v: round(v, 1))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(coord, coord), min_size=2, max_size=7),
       st.lists(st.tuples(coord, coord, st.sampled_from([5.0, 10.0, 25.0, 40.0])),
                min_size=1, max_size=4))
def test_crossings_vs_dense_sampling(xy: list[tuple[float, float]],
                                     discs: list[tuple[float, float, float]]) -> None:
    # rounded coordinates make exact border starts, tangents and joints on circles likely
    times = np.arange(len(xy), dtype=float) * 7.0
    tr = path(times.tolist(), xy)
    cm = CoverageMap(np.array([d[:2] for d in discs]), np.array([d[2] for d in discs]))
    ev = cm.crossings(tr)
    brute_force_check(cm, tr, ev)
    # initial enters are exactly the RSUs covering the start for a positive time
    first = ev.t == tr.start_time
    assert set(ev.rsu[first & ev.enter].tolist()) <= set(cm.covering_ids(tr.p0[0]).tolist())


def test_many_equals_single_and_fast_paths_agree() -> None:
    rng = np.random.default_rng(3)
    centres = rng.uniform(0, 1000, size=(40, 2))
    cm = CoverageMap(centres, rng.uniform(60, 150, size=40))
    box = dict(area_m=(1000.0, 1000.0), altitude_m=(50.0, 100.0))
    trs = random_waypoints(rng, 5, duration_s=600.0, speed_mps=(5, 20), pause_s=(0, 5), **box)
    trs += gauss_markov_many(rng, 5, duration_s=600.0, alpha=0.7, mean_speed_mps=8.0,
                             speed_std_mps=1.0, direction_std_rad=0.4, pitch_std_rad=0.0,
                             update_interval_s=1.0, **box)
    many = cm.crossings_many(trs)
    assert sum(len(e) for e in many) > 50
    for tr, ev in zip(trs, many, strict=True):
        single = cm.crossings(tr)
        np.testing.assert_array_equal(single.t, ev.t)
        np.testing.assert_array_equal(single.rsu, ev.rsu)
        np.testing.assert_array_equal(single.enter, ev.enter)
        brute_force_check(cm, tr, ev)
    # short segments (grid path) and one long segment (k-d tree path) give the same events
    long_tr = path([0.0, 100.0], [(0.0, 500.0), (1000.0, 520.0)])
    fine = Trajectory.from_samples(np.linspace(0, 100, 2001), long_tr.position(
        np.linspace(0, 100, 2001)))
    a, b = cm.crossings(long_tr), cm.crossings(fine)
    np.testing.assert_array_equal(a.rsu, b.rsu)
    np.testing.assert_allclose(a.t, b.t, atol=1e-9)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="radii_m"):
        CoverageMap(np.zeros((2, 2)), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="centres"):
        CoverageMap(np.zeros((2, 4)), 1.0)
    empty = CoverageMap(np.zeros((0, 2)), np.zeros(0))
    assert len(empty.crossings(path([0, 1], [(0, 0), (1, 1)]))) == 0
