"""Tests of agents.sync.instance (JSON parameter files for `uavtwin sync solve`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.sync.instance import load_sync_params, parse_leaders, solve_sync

GOOD = {
    "population": 500, "data_per_uav": 0.2, "revision_rate": 0.05, "discount": 1.0,
    "horizon_s": 30.0, "g0": 2.2, "g1": 10.0, "weights": [1.0, 0.01, 0.02, 0.001],
    "theta": [0.05, 0.1], "twins": [80, 80], "alpha": [0.5, 0.5], "k": [0.3, 0.3],
    "v": [60, 60], "c": [0.01, 0.01], "x0": [0.5, 0.5], "z0": [40, 40],
    "intensity": [3.0, 5.0], "leaders": [1],
}
#: The same game with the paper's short names (deprecated) and 1-based leaders.
LEGACY = {"N": 500, "b": 0.2, "delta": 0.05, "rho": 1.0, "T": 30.0, "g0": 2.2, "g1": 10.0,
          "w": [1.0, 0.01, 0.02, 0.001], "theta": [0.05, 0.1], "d": [80, 80],
          "alpha": [0.5, 0.5], "k": [0.3, 0.3], "v": [60, 60], "c": [0.01, 0.01],
          "x0": [0.5, 0.5], "z0": [40, 40], "intensity": [3.0, 5.0], "leaders": [2]}


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
        ({"revision_rate": -1}, r"p\.json: revision_rate: expected >= 0"),
        ({"twins": [80, 80, 80]}, r"p\.json: twins: expected 2 values"),
        ({"weights": [1, 2]}, r"p\.json: weights: expected 4 values"),
        ({"theta": "x"}, r"p\.json: theta: expected a list"),
        ({"population": "many"}, r"p\.json: population: expected a number"),
        ({"leaders": [2]}, r"p\.json: leaders: expected 0-based VSP indices in 0\.\.1"),
        ({"extra": 1}, r"p\.json: extra: unknown key"),
    ],
)
def test_bad_input_one_clear_line(tmp_path: Path, change: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern) as err:
        load_sync_params(_write(tmp_path, {**GOOD, **change}))
    assert "\n" not in str(err.value)


def test_missing_key_and_bad_json(tmp_path: Path) -> None:
    data = dict(GOOD)
    del data["discount"]
    with pytest.raises(ValueError, match="discount: expected a value"):
        load_sync_params(_write(tmp_path, data))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_sync_params(bad)
    with pytest.raises(ValueError, match="mode"):
        solve_sync(load_sync_params(_write(tmp_path, GOOD)), "nope")


def test_parse_leaders_is_0_based_like_the_scenario() -> None:
    assert parse_leaders("0,2", 4) == (0, 2)
    assert parse_leaders(3, 4) == (3,)
    assert parse_leaders("1,3", 4, one_based=True) == (0, 2)
    with pytest.raises(ValueError, match="follower"):
        parse_leaders([0, 1], 2)
    with pytest.raises(ValueError, match=r"0-based VSP indices in 0\.\.3, got 4"):
        parse_leaders(4, 4)


def test_deprecated_keys_are_read_with_a_warning(tmp_path: Path) -> None:
    with pytest.warns(FutureWarning, match="key 'N' is deprecated, use 'population'"):
        old = load_sync_params(_write(tmp_path, LEGACY))
    new = load_sync_params(_write(tmp_path, GOOD))
    assert old.leaders == new.leaders == (1,)  # legacy files keep their 1-based leaders
    assert (old.N, old.delta, old.rho, old.T) == (new.N, new.delta, new.rho, new.T)
    np.testing.assert_array_equal(old.d, new.d)
    with pytest.raises(ValueError, match="N: given twice, as 'N' and as 'population'"):
        load_sync_params(_write(tmp_path, {**GOOD, "N": 500}))


@pytest.mark.parametrize("m", [2, 4])
def test_shipped_parameter_files_are_the_calibrated_defaults(m: int) -> None:
    from agents.sync.params import SyncParams

    root = Path(__file__).resolve().parents[1]
    shipped = load_sync_params(root / "scenarios" / "sync" / f"params-{m}vsp.json")
    expected = SyncParams.paper_defaults(M=m, leaders=(2,) if m == 4 else ())
    for field in ("N", "b", "delta", "rho", "T", "g0", "g1", "theta", "d", "alpha", "k", "v",
                  "c", "x0", "z0", "leaders"):
        np.testing.assert_allclose(np.asarray(getattr(shipped, field), dtype=float),
                                   np.asarray(getattr(expected, field), dtype=float))
    np.testing.assert_allclose(np.broadcast_to(shipped.w.T, expected.w.T.shape).T,
                               expected.w)
