"""Runs on imported traces: UAVs exist only within their presence intervals, the trace
records the intervals, names and projection, and uavs.count comes from the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.app.cli import main
from simulator.app.run import run_scenario
from simulator.config.loader import load_scenario
from simulator.errors import ScenarioError
from simulator.trace.reader import TraceReader
from simulator.world.mobility.imported import resolve_trace_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "scenarios" / "examples"


@pytest.fixture(scope="module")
def gpx_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("gpx") / "t.h5"
    result = run_scenario(load_scenario(EXAMPLES / "trace-gpx.yaml"), trace_path=path)
    with TraceReader(path) as tr:
        tables = {t: tr.read(t) for t in ("/uavs", "/rsus", "/coverage/events",
                                          "/migration/requests", "/mobility/positions",
                                          "/mobility/segments")}
        attrs = {"/mobility": tr.group_attrs("/mobility")}
    return result, tables, attrs


def test_presence_intervals_names_and_projection_are_recorded(gpx_run):
    _result, tables, attrs = gpx_run
    uavs = tables["/uavs"]
    seg = tables["/mobility/segments"]
    for u in (0, 1):
        mine = seg["uav_id"] == u
        assert uavs["present_from_s"][u] == seg["t_start_s"][mine].min()
        assert uavs["present_to_s"][u] == seg["t_end_s"][mine].max()
    assert uavs["present_from_s"][0] == 0.0 and uavs["present_from_s"][1] == 45.0
    mob = attrs["/mobility"]
    assert list(mob["uav_names"]) == ["drone-1", "drone-2"]
    assert mob["source_format"] == "gpx" and mob["projection"].startswith("+proj=tmerc")
    assert mob["epoch"] == "2025-06-03T08:00:00+00:00" and mob["source_dimensions"] == 3


def test_nothing_happens_outside_presence(gpx_run):
    _result, tables, _attrs = gpx_run
    lo, hi = tables["/uavs"]["present_from_s"], tables["/uavs"]["present_to_s"]
    for name in ("/coverage/events", "/migration/requests", "/mobility/positions"):
        t = tables[name]
        u = t["uav_id"]
        when = t["t_s"]
        assert ((when >= lo[u]) & (when <= hi[u])).all(), name
    ev = tables["/coverage/events"]
    assert len(ev["t_s"]) > 0
    rsus, seg = tables["/rsus"], tables["/mobility/segments"]
    departures = 0
    for u in (0, 1):  # every cell entered is left by the departure: enters == leaves
        mine = ev["uav_id"] == u
        assert (ev["kind"][mine] == 1).sum() == (ev["kind"][mine] == 0).sum()
        last = np.flatnonzero(seg["uav_id"] == u)[-1]
        end = np.array([seg["x1_m"][last], seg["y1_m"][last]])
        inside = np.flatnonzero(np.hypot(rsus["x_m"] - end[0], rsus["y_m"] - end[1])
                                < rsus["coverage_radius_m"])
        at_end = mine & (ev["t_s"] == hi[u])
        assert hi[u] < 400.0
        assert sorted(ev["rsu_id"][at_end]) == sorted(inside) and (ev["kind"][at_end] == 0).all()
        departures += len(inside)
    assert departures > 0  # the example lands inside a cell: its departure is recorded


def test_count_comes_from_the_file(tmp_path):
    s = resolve_trace_scenario(load_scenario(EXAMPLES / "trace-sumo-fcd.yaml"))
    assert s.uavs.count == 10
    with pytest.raises(ScenarioError, match=r"uavs.count: 3 disagrees with the 10 nodes of .*"
                                            r"sumo-grid.fcd.xml"):
        resolve_trace_scenario(load_scenario(EXAMPLES / "trace-sumo-fcd.yaml",
                                             ["uavs.count=3"]))


def test_fit_sets_the_area_to_the_trace(gpx_run):
    s = resolve_trace_scenario(load_scenario(EXAMPLES / "trace-gpx.yaml"))
    seg = gpx_run[1]["/mobility/segments"]
    assert s.area.width_m == np.ceil(max(seg["x0_m"].max(), seg["x1_m"].max()))
    assert s.area.height_m == np.ceil(max(seg["y0_m"].max(), seg["y1_m"].max()))
    assert min(seg["x0_m"].min(), seg["y0_m"].min()) == 0.0


@pytest.mark.parametrize("name", ["trace-sumo-fcd", "trace-ns2", "trace-bonnmotion",
                                  "trace-gpx", "trace-csv"])
def test_validate_opens_every_example(capsys, name):
    assert main(["validate", str(EXAMPLES / f"{name}.yaml")]) == 0
    assert "ok (" in capsys.readouterr().out


def test_validate_reports_mobility_file_errors_with_their_line(tmp_path, capsys):
    bad = tmp_path / "m.ns2"
    bad.write_text('$node_(0) set X_ 1\n$node_(0) set Y_ 1\n$ns_ at 1 "$node_(0) setdest 5 5 -1"\n')
    scen = tmp_path / "s.yaml"
    scen.write_text("uavs:\n  mobility:\n    model: trace\n    file: m.ns2\n")
    assert main(["validate", str(scen)]) == 1
    assert capsys.readouterr().err.strip() == (
        f"uavtwin: error: {bad}:3: setdest speed: expected >= 0 m/s, got -1")


def test_a_trace_outside_the_area_is_an_error_naming_both_boxes(tmp_path, capsys):
    assert main(["validate", str(EXAMPLES / "trace-sumo-fcd.yaml"), "--set",
                 "uavs.mobility.offset_m=[0, 0]"]) == 1
    err = capsys.readouterr().err
    assert "the trace (x -1.6..401.6 m, y -1.6..401.6 m after offset_m)" in err
    assert "area (x 0..500 m, y 0..500 m)" in err
