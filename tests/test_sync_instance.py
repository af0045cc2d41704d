"""Tests of agents.sync.instance (JSON parameter files for `uavtwin sync solve`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.sync.instance import load_sync_params, parse_leaders, solve_sync

GOOD = {
    "N": 500, "b": 0.2, "delta": 0.05, "rho": 1.0, "T": 30.0, "g0": 2.2, "g1": 10.0,
    "w": [1.0, 0.01, 0.02, 0.001],
    "theta": [0.05, 0.1], "d": [80, 80], "alpha": [0.5, 0.5], "k": [0.3, 0.3],
    "v": [60, 60], "c": [0.01, 0.01], "x0": [0.5, 0.5], "z0": [40, 40],
    "intensity": [3.0, 5.0], "leaders": [2],
}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    return path


def test_load_and_solve_constant(tmp_path: Path) -> None:
    p = load_sync_params(_write(tmp_path, GOOD))
    assert p.M == 2 and p.leaders == (1,)
    out = solve_sync(p, "constant", points=31)
    assert set(out) >= {"t", "x", "z", "eta", "payoff", "converged", "message", "mode"}
    assert len(out["t"]) == 31 and np.array(out["x"]).shape == (2, 31)
    np.testing.assert_allclose(np.array(out["x"]).sum(axis=0), 1.0, atol=1e-9)
    json.dumps(out)


def test_solve_nash_json(tmp_path: Path) -> None:
    p = load_sync_params(_write(tmp_path, GOOD))
    out = solve_sync(p, "nash", points=11)
    assert out["converged"] and len(out["payoff"]) == 2


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"x0": [0.6, 0.6]}, r"p\.json: x0: expected shares summing to 1"),
        ({"delta": -1}, r"p\.json: delta: expected >= 0"),
        ({"d": [80, 80, 80]}, r"p\.json: d: expected 2 values"),
        ({"w": [1, 2]}, r"p\.json: w: expected 4 values"),
        ({"theta": "x"}, r"p\.json: theta: expected a list"),
        ({"N": "many"}, r"p\.json: N: expected a number"),
        ({"leaders": [3]}, r"p\.json: leaders: expected VSP numbers in 1\.\.2"),
        ({"extra": 1}, r"p\.json: extra: unknown key"),
    ],
)
def test_bad_input_one_clear_line(tmp_path: Path, change: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern) as err:
        load_sync_params(_write(tmp_path, {**GOOD, **change}))
    assert "\n" not in str(err.value)


def test_missing_key_and_bad_json(tmp_path: Path) -> None:
    data = dict(GOOD)
    del data["rho"]
    with pytest.raises(ValueError, match="rho: expected a value"):
        load_sync_params(_write(tmp_path, data))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_sync_params(bad)
    with pytest.raises(ValueError, match="mode"):
        solve_sync(load_sync_params(_write(tmp_path, GOOD)), "nope")


def test_parse_leaders() -> None:
    assert parse_leaders("1,3", 4) == (0, 2)
    assert parse_leaders(3, 4) == (2,)
    with pytest.raises(ValueError, match="follower"):
        parse_leaders([1, 2], 2)
