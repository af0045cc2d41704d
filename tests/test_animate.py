"""`uavtwin animate` and `uavtwin report --snapshot` from the command line."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.app.animate import backhaul_edges
from simulator.app.cli import main
from simulator.config.loader import parse_scenario
from simulator.trace.reader import TraceReader
from simulator.world.backhaul import build_backhaul
from simulator.world.population import draw_rsus
from simulator.world.rng import spawn_rngs


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
