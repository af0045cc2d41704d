"""The coverage clock walks the merged timeline in blocks (clock.BLOCK resumes), so that a long
run does not hold every coverage event as Python objects; the blocks must not change a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.app.run import run_scenario
from simulator.config.loader import load_scenario
from simulator.world import clock

ROOT = Path(__file__).resolve().parents[1]


def _run(margin: float) -> dict:
    sc = load_scenario(ROOT / "scenarios" / "default.yaml", [
        "simulation.duration_s=600", "uavs.count=6", "sensing.enabled=false",
        "pricing.solver=equilibrium",
        f"pricing.prediction_margin_s={margin}"])
    return run_scenario(sc, in_memory=True).tables


@pytest.mark.parametrize("margin", [0.0, 2.0])
def test_blocks_of_any_size_give_the_same_run(monkeypatch: pytest.MonkeyPatch,
                                              margin: float) -> None:
    whole = _run(margin)
    uavs = whole["/coverage/events"]["uav_id"]
    assert len(uavs) > 3 * 2  # several blocks of 2
    monkeypatch.setattr(clock, "BLOCK", 2)
    blocks = _run(margin)
    assert whole.keys() == blocks.keys()
    for name, table in whole.items():
        assert table.keys() == blocks[name].keys(), name
        for col, values in table.items():
            if col != "wall_time_s":
                np.testing.assert_array_equal(values, blocks[name][col], err_msg=f"{name}/{col}")
