"""ns-2 movement files: exact semantics against an independent replay, round trips within
1 mm, and one-line errors for corrupted files."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from mobility_files import random_trajectory, sample_times

from simulator.world.mobility.formats.ns2 import read_ns2, write_ns2
from simulator.world.mobility.formats.tracks import MobilityFileError
from simulator.world.mobility.trajectory import Trajectory

HYP = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


def replay(text: str, node: int, t: float) -> np.ndarray:
    """Independent reading of one node's position at time t: apply its events in time order
    and move along the last one (a direct transcription of ns-2's setdest)."""
    pos = np.zeros(3)
    events = []
    for line_no, line in enumerate(text.splitlines()):
        line = line.split("#")[0].strip()
        tok = line.replace('"', " ").split()
        if len(tok) == 4 and tok[0] == f"$node_({node})":
            pos["XYZ".index(tok[2][0])] = float(tok[3])
        elif len(tok) >= 8 and tok[3] == f"$node_({node})" and tok[4] == "setdest":
            vals = [float(v) for v in tok[5:]]
            events.append((float(tok[2]), line_no, vals[:-1], vals[-1]))
    events.sort(key=lambda e: (e[0], e[1]))
    leg = None  # (t0, p0, p1, t1)
    for te, _n, dest, speed in events:
        if te > t:
            break
        if leg is not None:
            t0, p0, p1, t1 = leg
            pos = p1 if te >= t1 else p0 + (p1 - p0) * (te - t0) / (t1 - t0)
        target = pos.copy()
        target[: len(dest)] = dest
        dist = np.linalg.norm(target - pos)
        leg = (te, pos, target, te + dist / speed) if speed > 0 and dist > 0 else None
    if leg is None:
        return pos
    t0, p0, p1, t1 = leg
    return p1 if t >= t1 else p0 + (p1 - p0) * (t - t0) / (t1 - t0)


@st.composite
def ns2_files(draw: st.DrawFn) -> str:
    """A random valid file: nodes with initial positions (some after the events), setdest
    events at random times in shuffled order, comments, $god_ lines, optional 3-D setdest."""
    n_nodes = draw(st.integers(1, 4))
    three_d = draw(st.booleans())
    coord = st.floats(-1000, 1000, allow_nan=False).map(lambda v: round(v, 3))
    lines = []
    for i in range(n_nodes):
        lines += [f"$node_({i}) set X_ {draw(coord)}", f"$node_({i}) set Y_ {draw(coord)}"]
        if draw(st.booleans()):
            lines.append(f"$node_({i}) set Z_ {draw(coord)}")
    events = []
    for i in range(n_nodes):
        for _ in range(draw(st.integers(1, 6))):
            t = round(draw(st.floats(0, 200)), 2)
            dest = [draw(coord), draw(coord)] + ([draw(coord)] if three_d else [])
            speed = draw(st.sampled_from([0.0, 0.5, 3.0, 12.0, 40.0]))
            events.append(f'$ns_ at {t} "$node_({i}) setdest '
                          f'{" ".join(map(str, dest))} {speed}"')
    events.append('$ns_ at 1.0 "$god_ set-dist 0 1 2"')
    events.append("# a comment")
    order = draw(st.permutations(events))
    cut = draw(st.integers(0, len(lines)))
    return "\n".join(lines[:cut] + list(order) + [""] + lines[cut:]) + "\n"


@HYP
@given(text=ns2_files())
def test_positions_match_an_independent_replay(tmp_path, text):
    path = tmp_path / "m.ns2"
    path.write_text(text)
    try:
        ts = read_ns2(path)
    except MobilityFileError as err:
        assert "ever moves" in str(err)  # every speed drawn was 0: zero-duration trace
        return
    horizon = max(tr.end_time for tr in ts.tracks)
    for tr in ts.tracks:
        assert tr.start_time == 0.0 and tr.end_time == horizon
        assert np.all(np.diff(tr.times) > 0)
        for t in np.linspace(0, horizon, 37):
            np.testing.assert_allclose(tr.position(t), replay(text, tr.uav_id, t), atol=1e-6)


def test_redirect_wait_and_stop_exactly(tmp_path):
    path = tmp_path / "m.tcl"
    path.write_text(
        '$ns_ at 10.0 "$node_(0) setdest 100 0 5"\n'   # redirected at t=15 (at x=25)
        '$ns_ at 15.0 "$node_(0) setdest 25 40 2"\n'   # arrives at t=35, waits
        '$ns_ at 50.0 "$node_(0) setdest 0 40 1"\n'    # stopped at t=60 by speed 0
        '$ns_ at 60.0 "$node_(0) setdest 99 99 0"\n'
        '$ns_ at 70.0 "$node_(1) setdest 1 0 1"\n'
        "$node_(0) set X_ 0\n$node_(0) set Y_ 0\n$node_(0) set Z_ 30\n"
        "$node_(1) set X_ 0\n$node_(1) set Y_ 0\n"
    )
    ts = read_ns2(path)
    a, b = ts.tracks
    np.testing.assert_array_equal(a.times, [0, 10, 15, 35, 50, 60, 71])
    np.testing.assert_allclose(a.points[:, :2], [[0, 0], [0, 0], [25, 0], [25, 40], [25, 40],
                                                 [15, 40], [15, 40]])
    assert (a.points[:, 2] == 30).all() and ts.dimensions == 3
    np.testing.assert_array_equal(b.times, [0, 70, 71])
    assert b.name == "1"


@HYP
@given(seed=st.integers(0, 2**32 - 1), dims=st.sampled_from([2, 3]))
def test_round_trip_within_a_millimetre(tmp_path, seed, dims):
    rng = np.random.default_rng(seed)
    trajs = [random_trajectory(rng, t_start=float(rng.choice([0.0, 7.25])), flat=dims == 2)
             for _ in range(int(rng.integers(1, 5)))]
    # a file in which no node ever moves has no horizon: the reader refuses it (see
    # test_a_file_where_no_node_moves_is_refused)
    assume(any((np.linalg.norm(tr.p1 - tr.p0, axis=1) > 0).any() for tr in trajs))
    path = tmp_path / "out.ns2"
    z_err = write_ns2(trajs, path, names=[f"u{i}" for i in range(len(trajs))], dimensions=dims)
    assert z_err == 0.0
    ts = read_ns2(path)
    assert len(ts.tracks) == len(trajs)
    for tr, back in zip(trajs, ts.tracks, strict=True):
        t = sample_times([tr])
        t = t[(t >= tr.start_time) & (t <= tr.end_time)]
        assert np.abs(back.position(t) - tr.position(t)).max() < 1e-3


def test_two_d_export_reports_the_altitude_it_drops():
    tr = Trajectory.from_samples(np.array([0.0, 10.0, 20.0]),
                                 np.array([[0, 0, 100.0], [50, 0, 130.0], [50, 50, 90.0]]))
    buf = io.StringIO()
    assert write_ns2([tr], buf) == pytest.approx(30.0)
    assert '$ns_ at 0.0 "$node_(0) setdest 50.0 0.0 5.0"' in buf.getvalue()
    assert "$node_(0) set Z_ 100.0" in buf.getvalue()


VALID = ("$node_(0) set X_ 1.0\n$node_(0) set Y_ 2.0\n"
         '$ns_ at 1.0 "$node_(0) setdest 10.0 2.0 3.0"\n'
         '$ns_ at 5.0 "$node_(0) setdest 10.0 20.0 3.0"\n')


@pytest.mark.parametrize(("text", "line", "words"), [
    (VALID + '$ns_ at 6.0 "$node_(3) setdest 1 1 1"\n', 5, "no initial position"),
    (VALID.replace("10.0 20.0 3.0", "10.0 20.0 -3.0"), 4, "expected >= 0"),
    (VALID.replace("10.0 20.0 3.0", "10.0 20.0 nan"), 4, "finite"),
    (VALID + '$ns_ at 7.0 "$node_(0) setdest 1', 5, "expected '$node_(i)"),
    (VALID + "set opt(x) 100\n", 5, "expected '$node_(i)"),
    (VALID + '$ns_ at 9.0 "$node_(0) set X_ 99.0"\n', 5, "jump"),
    (VALID + '$ns_ at -1 "$node_(0) setdest 1 1 1"\n', 5, "event time"),
    (VALID.replace("set Y_ 2.0", "set Y_ abc"), 2, "expected a number"),
])
def test_bad_lines_are_one_line_errors(tmp_path, text, line, words):
    path = tmp_path / "bad.ns2"
    path.write_text(text)
    with pytest.raises(MobilityFileError) as err:
        read_ns2(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}: ") and words in msg and "\n" not in msg


@HYP
@given(data=st.data())
def test_random_corruptions_give_an_error_with_its_line(tmp_path, data):
    lines = VALID.splitlines()
    k = data.draw(st.integers(0, len(lines)))
    junk = data.draw(st.sampled_from([
        '$ns_ at 2.0 "$node_(0) setdest 1 1 -2"', '$ns_ at 2.0 "$node_(7) setdest 1 1 2"',
        '$ns_ at 2.0 "$node_(0) setdest 1 1', "$node_(0) set W_ 3", "proc foo {} {}",
        '$ns_ at x "$node_(0) setdest 1 1 1"', "$node_(0) set X_ inf"]))
    path = tmp_path / "c.ns2"
    path.write_text("\n".join(lines[:k] + [junk] + lines[k:]) + "\n")
    with pytest.raises(MobilityFileError) as err:
        read_ns2(path)
    assert str(err.value).startswith(f"{path}:{k + 1}: ")


def test_a_file_where_no_node_moves_is_refused(tmp_path):
    path = tmp_path / "static.ns2"
    path.write_text("$node_(0) set X_ 1.0\n$node_(0) set Y_ 2.0\n")
    with pytest.raises(MobilityFileError, match="no node ever moves"):
        read_ns2(path)
