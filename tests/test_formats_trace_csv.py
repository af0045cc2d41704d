"""The uavtwin trace CSV and the format registry: exact round trips of rows, one-line errors,
format recognition."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.world.mobility.formats.registry import FORMATS, open_rows, resolve_format, sniff
from simulator.world.mobility.formats.trace_csv import read_csv, write_csv_rows
from simulator.world.mobility.formats.tracks import MobilityFileError

HYP = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def row_sets(draw: st.DrawFn) -> list[tuple]:
    """Rows of several UAVs, interleaved, times increasing within each UAV."""
    rows = []
    for u in range(draw(st.integers(1, 4))):
        n = draw(st.integers(1, 6))
        times = np.cumsum(draw(st.lists(st.floats(1e-6, 1e6), min_size=n, max_size=n)))
        name = draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                            max_size=8)).strip() or str(u)
        rows += [(u, float(t), draw(finite), draw(finite), draw(finite), name) for t in times]
    return sorted(rows, key=lambda r: (r[1], r[0]))


@HYP
@given(rows=row_sets())
def test_rows_round_trip_bit_for_bit(tmp_path, rows):
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "r.csv"
    assert write_csv_rows(rows, path) == len(rows)
    back = list(open_rows(path, "auto").rows)
    assert back == rows
    ts = read_csv(path)
    for tr in ts.tracks:
        mine = [r for r in rows if r[0] == tr.uav_id]
        np.testing.assert_array_equal(tr.times, [r[1] for r in mine])
        assert tr.name == mine[0][5]


@pytest.mark.parametrize(("text", "line", "words"), [
    ("uav_id,t_s,x_m\n0,1,2\n", 1, "expected a header"),
    ("uav_id,t_s,x_m,y_m,z_m\n0,1,2,3\n", 2, "expected 5 fields"),
    ("uav_id,t_s,x_m,y_m,z_m\n0,1,2,3,4\n0,1,2,3,4\n", 3, "does not increase"),
    ("uav_id,t_s,x_m,y_m,z_m\nx,1,2,3,4\n", 2, "uav_id"),
    ("uav_id,t_s,x_m,y_m,z_m\n0,1,2,nan,4\n", 2, "finite"),
    ("uav_id,t_s,x_m,y_m,z_m,name\n", 2, "no data rows"),
])
def test_bad_rows_are_one_line_errors(tmp_path, text, line, words):
    path = tmp_path / "b.csv"
    path.write_text(text)
    with pytest.raises(MobilityFileError) as err:
        read_csv(path)
    assert str(err.value).startswith(f"{path}:{line}: ") and words in str(err.value)


def test_ids_must_have_no_gaps(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("uav_id,t_s,x_m,y_m,z_m\n0,0,0,0,0\n2,0,0,0,0\n")
    with pytest.raises(MobilityFileError, match="missing \\[1\\]"):
        read_csv(path)


def test_partial_output_is_removed_on_error(tmp_path):
    def rows():
        yield (0, 0.0, 1.0, 2.0, 3.0, "a")
        raise MobilityFileError("in.xml", 7, "boom")

    out = tmp_path / "o.csv"
    with pytest.raises(MobilityFileError):
        write_csv_rows(rows(), out)
    assert not out.exists() and not list(tmp_path.iterdir())
    buf = io.StringIO()
    write_csv_rows([(0, 0.0, 1.0, 2.0, 3.0, "a")], buf)
    assert buf.getvalue() == "uav_id,t_s,x_m,y_m,z_m,name\n0,0.0,1.0,2.0,3.0,a\n"


@pytest.mark.parametrize(("name", "head", "fmt"), [
    ("x.tcl", "", "ns2"), ("run.movements.gz", None, "bonnmotion"), ("a.gpx", "", "gpx"),
    ("t.csv", "", "csv"), ("trace.fcd.xml", "", "sumo-fcd"),
    ("noext", '<?xml version="1.0"?>\n<fcd-export>\n', "sumo-fcd"),
    ("noext", "<gpx version='1.1'>", "gpx"), ("noext", "$node_(3) set X_ 1\n", "ns2"),
    ("noext", "uav_id,t_s,x_m,y_m,z_m\n", "csv"), ("noext", "0.0 1 2 5.0 3 4\n", "bonnmotion"),
])
def test_formats_are_recognised_by_name_then_content(tmp_path, name, head, fmt):
    path = tmp_path / name
    if head is not None:
        path.write_text(head)
    assert sniff(path) == fmt
    assert resolve_format("auto", path) is FORMATS[fmt]


def test_unknown_content_and_names_are_errors(tmp_path):
    path = tmp_path / "mystery"
    path.write_text("hello world\n")
    with pytest.raises(MobilityFileError, match="cannot tell its format"):
        resolve_format("auto", path)
    with pytest.raises(ValueError, match="unknown mobility format 'kml'"):
        resolve_format("kml", path)


def test_registry_names_equal_the_pure_data_names():
    from simulator.world.mobility.formats.names import FORMAT_NAMES

    assert tuple(FORMATS) == FORMAT_NAMES


@HYP
@given(data=st.data())
def test_random_corruptions_give_an_error_with_its_line(tmp_path, data):
    lines = ["uav_id,t_s,x_m,y_m,z_m,name", "0,0.0,1.0,2.0,3.0,a", "1,0.0,5.0,5.0,5.0,b",
             "0,4.0,1.5,2.5,3.5,a", "1,2.0,6.0,6.0,6.0,b"]
    k = data.draw(st.integers(1, len(lines) - 1))
    fields = lines[k].split(",")
    kind = data.draw(st.sampled_from(["drop", "inf", "text", "id"]))
    if kind == "drop":
        del fields[data.draw(st.integers(0, 4))]
    elif kind == "inf":
        fields[data.draw(st.integers(1, 4))] = "inf"
    elif kind == "text":
        fields[data.draw(st.integers(1, 4))] = "1,5"
    else:
        fields[0] = "-2"
    lines[k] = ",".join(fields)
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "c.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MobilityFileError) as err:
        read_csv(path)
    assert str(err.value).startswith(f"{path}:{k + 1}: ") and "\n" not in str(err.value)
