"""`uavtwin animate` and `uavtwin report --snapshot` from the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.app.animate import backhaul_edges, coverage_footprint
from simulator.app.cli import main
from simulator.config.loader import parse_scenario
from simulator.trace.reader import TraceReader
from simulator.world.population import draw_rsus
from simulator.world.rng import spawn_rngs
from simulator.world.topology import build_backhaul


def test_animate_writes_each_format(default_trace, tmp_path, capsys):
    for ext in ("gif", "html"):
        out = tmp_path / f"run.{ext}"
        assert main(["animate", str(default_trace), "-o", str(out), "--end", "4",
                     "--speed", "2", "--fps", "1", "-q"]) == 0
        assert out.stat().st_size > 10_000
    text = capsys.readouterr().out
    assert "gif, " in text and "3 frames 1280x720 at 1 fps" in text and "html, " in text


@pytest.mark.parametrize("argv, message", [
    (["-o", "run.avi"], "unknown replay format '.avi'"),
    (["-o", "run.gif", "--start", "50", "--end", "40"], "empty replay window"),
    (["-o", "run.gif", "--follow", "99"], "--follow 99: no such UAV"),
    (["-o", "run.gif", "--speed", "-1"], "speed must be > 0"),
])
def test_animate_bad_input_is_one_line(default_trace, tmp_path, capsys, argv, message):
    argv = [a if not a.startswith("run.") else str(tmp_path / a) for a in argv]
    assert main(["animate", str(default_trace), *argv, "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("uavtwin: error: ") and message in err[0]
    assert not list(tmp_path.iterdir())


def test_animate_missing_trace(tmp_path, capsys):
    assert main(["animate", str(tmp_path / "nope.h5"), "-o", str(tmp_path / "x.gif")]) == 1
    assert "no such trace file" in capsys.readouterr().err


def test_backhaul_is_rebuilt_from_the_stored_scenario(default_trace):
    with TraceReader(default_trace) as r:
        scenario = parse_scenario(str(r.attrs["scenario_yaml"]))
        hops = r.read("/migration/transfer_hops")
    rsus = draw_rsus(scenario.rsus, scenario.area,
                     spawn_rngs(scenario.simulation.seed)["placement"])
    graph = build_backhaul(rsus.positions[:, :2], topology=scenario.backhaul.topology,
                           k=scenario.backhaul.k, capacity_bps=1e9, latency_s=1e-3,
                           grid_shape=rsus.grid_shape)
    edges = backhaul_edges(default_trace)
    assert {tuple(e) for e in edges} == {tuple(sorted(e)) for e in graph.edges}
    # every hop of every route is one of those links
    order = np.lexsort((hops["hop"], hops["transfer_id"]))
    tid, rsu = hops["transfer_id"][order], hops["rsu_id"][order]
    same = tid[1:] == tid[:-1]
    pairs = zip(rsu[:-1][same], rsu[1:][same], strict=True)
    used = {tuple(sorted(p)) for p in pairs if p[0] != p[1]}
    assert used <= {tuple(e) for e in edges}


def test_report_snapshot(default_trace, tmp_path, capsys):
    assert main(["report", str(default_trace), "--figures", str(tmp_path),
                 "--snapshot", "24.5", "--snapshot", "100"]) == 0
    out = capsys.readouterr().out
    from PIL import Image

    for t in ("24.5", "100"):
        path = tmp_path / f"snapshot-{t}s.png"
        assert f"figure: {path}" in out
        with Image.open(path) as im:
            assert im.size == (2400, 1350)
    assert main(["report", str(default_trace), "--snapshot", "1e6"]) == 1
    assert "outside the run" in capsys.readouterr().err


def test_footprint_of_free_space_is_the_closed_form():
    """Friis: covered while 20 log10(4 pi d f / c) <= L, so r(h) = sqrt(d_max^2 - (h - z)^2)."""
    from simulator.world.radio.core import SPEED_OF_LIGHT_MPS
    from simulator.world.radio.coverage import RadioCoverage
    from simulator.world.radio.registry import PathLoss

    f, budget = 2.4e9, np.array([95.0, 100.0])
    pos = np.array([[0.0, 0.0, 10.0], [3000.0, 0.0, 30.0]])
    cells = RadioCoverage(pos, budget, PathLoss("free_space", frequency_hz=f), (50.0, 400.0))
    alts = np.array([50.0, 120.0, 400.0])
    d_max = SPEED_OF_LIGHT_MPS / (4 * np.pi * f) * 10 ** (budget / 20)
    expected = np.sqrt(d_max[:, None] ** 2 - (alts[None, :] - pos[:, 2:3]) ** 2)
    np.testing.assert_allclose(cells.footprint_radius(alts), expected, atol=2e-3)


@pytest.fixture(scope="module")
def snr_trace(tmp_path_factory):
    """A short run of scenarios/examples/air-to-ground.yaml (cells from the mean SNR)."""
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    path = tmp_path_factory.mktemp("a2g") / "a2g.h5"
    root = Path(__file__).resolve().parents[1]
    run_scenario(load_scenario(root / "scenarios" / "examples" / "air-to-ground.yaml",
                               ["simulation.duration_s=60", "uavs.count=8"]), trace_path=path)
    return path


def test_snr_cells_are_the_footprint_at_the_uav_altitude(snr_trace, default_trace):
    """With radio.coverage snr the replay's cell radius at a UAV's altitude is where the
    trace says it crossed the cell border: every crossing lies on it (within 5 cm)."""
    from analysis import open_trace
    from analysis.replay.load import load_scene

    assert coverage_footprint(default_trace) is None  # discs
    alts, radii = coverage_footprint(snr_trace)
    scene = load_scene(snr_trace, footprint=(alts, radii))
    assert radii.shape == (scene.n_rsus, alts.size) and np.ptp(radii) > 50
    ev = open_trace(snr_trace).coverage_events
    first, _ = scene.presence
    crossed = 0
    for r in ev.itertuples():
        xyz, _ = scene.positions(r.t_s)
        d = np.linalg.norm(xyz[r.uav_id, :2] - scene.rsu_xy[r.rsu_id])
        radius = scene.cell_radius(xyz[r.uav_id:r.uav_id + 1, 2])[0, r.rsu_id]
        if r.t_s > first[r.uav_id]:  # a crossing: on the border
            assert abs(d - radius) < 0.05, r
            crossed += 1
        else:  # inside at the start
            assert d <= radius + 0.05
    assert crossed > 10
    # the state follows: a UAV is waiting exactly when the events leave it uncovered
    for t in np.linspace(scene.t_start + 0.5, scene.t_end - 0.5, 9):
        e = ev[ev["t_s"] <= t]
        inside = np.where(e["kind"].astype(str) == "enter", 1, -1)
        count = np.zeros(scene.n_uavs, dtype=int)
        np.add.at(count, e["uav_id"].to_numpy(), inside)
        xyz, _ = scene.positions(float(t))
        np.testing.assert_array_equal(scene.covered(xyz), count > 0)
