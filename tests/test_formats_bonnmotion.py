"""BonnMotion scenarios: exact waypoints from random files, the dimension rules, round trips
within 1 mm, and one-line errors."""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mobility_files import random_trajectory, sample_times

from simulator.world.mobility.formats.bonnmotion import read_bonnmotion, write_bonnmotion
from simulator.world.mobility.formats.tracks import MobilityFileError

HYP = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, list[list[tuple[float, ...]]]]:
    """Nodes as lists of waypoints (t, x, y[, z]) with increasing times, some starting late."""
    dims = draw(st.sampled_from([2, 3]))
    coord = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
    nodes = []
    for _ in range(draw(st.integers(1, 5))):
        gaps = draw(st.lists(st.floats(1e-3, 100), min_size=1, max_size=8))
        t0 = draw(st.sampled_from([0.0, 3.5, 120.0]))
        times = t0 + np.concatenate([[0.0], np.cumsum(gaps)])
        nodes.append([(float(t), *(draw(coord) for _ in range(dims))) for t in times])
    return dims, nodes


@HYP
@given(sc=scenarios(), gz=st.booleans(), with_params=st.booleans())
def test_waypoints_are_read_exactly(tmp_path, sc, gz, with_params):
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))
    dims, nodes = sc
    body = "\n".join(" ".join(repr(v) for wp in node for v in wp) for node in nodes) + "\n"
    path = tmp_path / ("s.movements.gz" if gz else "s.movements")
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(body)
    else:
        path.write_text(body)
    if with_params:
        (tmp_path / "s.params").write_text(f"model=RandomWaypoint\nx=10.0\nJ={dims}D\n")
    ts = read_bonnmotion(path, dimensions=None if with_params else dims)
    assert ts.dimensions == dims and len(ts.tracks) == len(nodes)
    for tr, node in zip(ts.tracks, nodes, strict=True):
        arr = np.array(node)
        np.testing.assert_array_equal(tr.times, arr[:, 0])
        np.testing.assert_array_equal(tr.points[:, :dims], arr[:, 1:])
        assert tr.start_time == node[0][0] and tr.end_time == node[-1][0]


def test_dimension_comes_from_params_header_or_caller(tmp_path):
    path = tmp_path / "a.movements"
    path.write_text("0 1 2 3 10 4 5 6\n")
    with pytest.raises(MobilityFileError, match="cannot tell 2-D"):
        read_bonnmotion(path)
    ts = read_bonnmotion(path, dimensions=3)
    np.testing.assert_array_equal(ts.tracks[0].points, [[1, 2, 3], [4, 5, 6]])
    path.write_text("#3D\n0 1 2 3 10 4 5 6\n")
    assert read_bonnmotion(path).dimensions == 3
    (tmp_path / "a.params").write_text("model=X\nx=5\ny=5\nz=9\nduration=20\n")
    assert read_bonnmotion(path).dimensions == 3  # BonnMotion: z= without J= means 3-D
    (tmp_path / "a.params").write_text("model=X\nJ=2D\nduration=20\n")
    with pytest.raises(MobilityFileError, match="the scenario says 3-D but a.params says 2-D"):
        read_bonnmotion(path, dimensions=3)
    path.write_text("0 1 2 3 10 4 5 6\n")
    with pytest.raises(MobilityFileError, match=r"a.movements:1: .*multiple of 3"):
        read_bonnmotion(path)


def test_three_d_file_read_as_two_d_is_an_error(tmp_path):
    path = tmp_path / "b.movements"
    path.write_text("0 1 2 3\n0 500 500 80 10 400 500 60\n")
    with pytest.raises(MobilityFileError, match=r"b.movements:1: .*multiple of 3.*3-D file read"):
        read_bonnmotion(path, dimensions=2)
    path.write_text("0 1 2 80 10 4 5 60 20 7 8 70\n")  # 12 numbers: also four 2-D triples
    with pytest.raises(MobilityFileError, match=r"b.movements:1: .*backwards.*3-D file read as"):
        read_bonnmotion(path, dimensions=2)


def test_single_waypoint_waits_until_the_duration(tmp_path):
    path = tmp_path / "c.movements"
    path.write_text("5.0 1 2\n0 0 0 10 10 0\n")
    (tmp_path / "c.params").write_text("J=2D\nduration=30.0\n")
    a, b = read_bonnmotion(path).tracks
    np.testing.assert_array_equal(a.times, [5.0, 30.0])
    np.testing.assert_array_equal(a.points, [[1, 2, 0], [1, 2, 0]])
    assert b.name == "1"


@pytest.mark.parametrize(("body", "line", "words"), [
    ("0 1 2 10 3 4\n5 1 2 4 3 4\n", 2, "time goes backwards"),
    ("0 1 2 10 3 4\n0 1 2 0 3 4\n", 2, "a jump"),
    ("0 1 2 10 3 nan\n", 1, "finite"),
    ("0 1 2 10 3\n", 1, "multiple of 3"),
    ("0 1 2 10 3 4\n\n0 1 2 10 3 4\n", 2, "empty line"),
    ("0 1 2 10 3 x\n", 1, "expected a number"),
])
def test_bad_lines_are_one_line_errors(tmp_path, body, line, words):
    path = tmp_path / "d.movements"
    path.write_text(body)
    with pytest.raises(MobilityFileError) as err:
        read_bonnmotion(path, dimensions=2)
    msg = str(err.value)
    assert msg.startswith(f"{path}:{line}: ") and words in msg and "\n" not in msg


@HYP
@given(seed=st.integers(0, 2**32 - 1), dims=st.sampled_from([2, 3]), gz=st.booleans())
def test_round_trip_within_a_millimetre(tmp_path, seed, dims, gz):
    tmp_path = Path(tempfile.mkdtemp(dir=tmp_path))
    rng = np.random.default_rng(seed)
    trajs = [random_trajectory(rng, t_start=float(rng.choice([0.0, 42.0])), flat=dims == 2)
             for _ in range(int(rng.integers(1, 5)))]
    path = tmp_path / ("r.movements.gz" if gz else "r.movements")
    params = write_bonnmotion(trajs, path, dimensions=dims)
    assert params == tmp_path / "r.params" and "J=" in params.read_text()
    ts = read_bonnmotion(path)
    for tr, back in zip(trajs, ts.tracks, strict=True):
        assert back.start_time == tr.start_time and back.end_time == tr.end_time
        t = sample_times([tr])
        t = t[(t >= tr.start_time) & (t <= tr.end_time)]
        assert np.abs(back.position(t) - tr.position(t))[:, :dims].max() < 1e-3


@HYP
@given(data=st.data())
def test_random_corruptions_give_an_error_with_its_line(tmp_path, data):
    lines = ["0.0 10 20 30 5.0 11 21 31 9.5 12 22 32", "2.0 0 0 50 4.0 1 1 50"]
    k = data.draw(st.integers(0, len(lines) - 1))
    fields = lines[k].split()
    kind = data.draw(st.sampled_from(["drop", "nan", "text", "backwards"]))
    if kind == "drop":
        del fields[data.draw(st.integers(0, len(fields) - 1))]
    elif kind == "nan":
        fields[data.draw(st.integers(0, len(fields) - 1))] = "NaN"
    elif kind == "text":
        fields[data.draw(st.integers(0, len(fields) - 1))] = "x1"
    else:
        fields[4] = "-1.0"  # second waypoint before the first
    lines[k] = " ".join(fields)
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "c.movements"
    path.write_text("#3D\n" + "\n".join(lines) + "\n")
    with pytest.raises(MobilityFileError) as err:
        read_bonnmotion(path)
    assert str(err.value).startswith(f"{path}:{k + 2}: ") and "\n" not in str(err.value)
