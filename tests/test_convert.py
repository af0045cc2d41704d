"""``uavtwin convert``: every example file to CSV exactly, a run's segments out to ns-2 and
BonnMotion and back within 1 mm, and bad input as one line with no output left behind."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.app.cli import main
from simulator.app.convert import convert_file, trace_trajectories
from simulator.world.mobility.formats.bonnmotion import read_bonnmotion
from simulator.world.mobility.formats.ns2 import read_ns2
from simulator.world.mobility.formats.registry import open_rows
from simulator.world.mobility.formats.trace_csv import read_csv

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "scenarios" / "examples" / "mobility"


@pytest.mark.parametrize("name", ["sumo-grid.fcd.xml", "sumo-grid.ns2", "survey.gpx",
                                  "patrol.movements.gz", "survey.csv"])
def test_examples_convert_to_csv_exactly(tmp_path, capsys, name):
    out = tmp_path / "o.csv"
    assert main(["convert", str(EXAMPLES / name), "-o", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    src = open_rows(EXAMPLES / name).collect(EXAMPLES / name)
    back = read_csv(out)
    assert len(back.tracks) == len(src.tracks)
    for a, b in zip(src.tracks, back.tracks, strict=True):
        assert a.name == b.name
        np.testing.assert_array_equal(a.times, b.times)
        np.testing.assert_array_equal(a.points, b.points)


def test_file_to_ns2_and_bonnmotion(tmp_path):
    src = EXAMPLES / "survey.csv"
    convert_file(src, tmp_path / "s.ns2", to="ns2", out_dimensions=3)
    convert_file(src, tmp_path / "s.movements", to="bonnmotion")
    orig = read_csv(src)
    for back in (read_ns2(tmp_path / "s.ns2"), read_bonnmotion(tmp_path / "s.movements")):
        for a, b in zip(orig.tracks, back.tracks, strict=True):
            t = np.linspace(a.start_time, a.end_time, 501)
            assert np.abs(a.position(t) - b.position(t)).max() < 1e-3


@pytest.fixture(scope="module")
def run_trace(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run") / "t.h5"
    assert main(["run", str(ROOT / "scenarios" / "examples" / "trace-gpx.yaml"), "-o", str(out),
                 "-q"]) == 0
    return out


@pytest.mark.parametrize(("to", "suffix", "dims"), [("ns2", "ns2", 2), ("ns2", "ns2", 3),
                                                    ("bonnmotion", "movements.gz", 3)])
def test_run_segments_round_trip_within_a_millimetre(tmp_path, capsys, run_trace, to, suffix,
                                                     dims):
    out = tmp_path / f"r.{suffix}"
    argv = ["convert", str(run_trace), "--to", to, "-o", str(out)]
    if to == "ns2":
        argv += ["--out-dimensions", str(dims)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    trajs, names = trace_trajectories(run_trace)
    assert names == ["drone-1", "drone-2"]
    back = read_ns2(out) if to == "ns2" else read_bonnmotion(out)
    for tr, b in zip(trajs, back.tracks, strict=True):
        t = np.unique(np.concatenate([tr.t0, tr.t1, np.linspace(tr.start_time, tr.end_time,
                                                                 997)]))
        diff = np.abs(b.position(t) - tr.position(t))
        assert diff[:, :2].max() < 1e-3
        if dims == 3:
            assert diff[:, 2].max() < 1e-3
    if dims == 2:  # the survey flights climb to 80 m: the 2-D export says what it drops
        assert "ns-2 setdest is 2-D" in err and "up to 80 m" in err


def test_bad_input_is_one_line_and_leaves_no_output(tmp_path, capsys):
    src = tmp_path / "bad.fcd.xml"
    src.write_text('<fcd-export>\n<timestep time="0">\n<vehicle id="a" x="1" y="2"/>\n'
                   '</timestep>\n<timestep>\n')
    out = tmp_path / "o.csv"
    assert main(["convert", str(src), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"uavtwin: error: {src}:5: <timestep> without its time attribute"
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.fcd.xml"]


def test_bonnmotion_without_dimension_needs_the_option(tmp_path, capsys):
    src = tmp_path / "x.movements"
    src.write_text("0 1 2 3 10 4 5 6\n")
    assert main(["convert", str(src), "-o", str(tmp_path / "o.csv")]) == 1
    assert "--dimensions 2|3" in capsys.readouterr().err
    assert main(["convert", str(src), "--dimensions", "3", "-o", str(tmp_path / "o.csv")]) == 0
