"""Tests of agents.pricing.instance: JSON pricing instances for `uavtwin game solve`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.pricing.draw import draw_game
from agents.pricing.game import solve_equilibrium
from agents.pricing.instance import load_instance, solve_instance

GOOD = {
    "delta": [12.0, 15.0, 18.0],
    "ssim": [[0.9, 0.8], [0.95, 0.7], [0.85, 0.99]],
    "ssim_threshold": [0.5, 0.52, 0.55],
    "spectral_efficiency": [[37.0, 38.5], [36.2, 39.0], [38.0, 37.5]],
    "budget": [4.0, 6.0, 8.0],
    "cost": [1.5, 3.0],
    "price_cap": [20.0, 30.0],
}


def write(tmp_path: Path, data: object, name: str = "inst.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_load_roundtrip_and_solve_equilibrium(tmp_path: Path) -> None:
    game = draw_game(np.random.default_rng(0), 4, 3)
    data = {k: getattr(game, k).tolist() for k in GOOD}
    data["available"] = [[True, True, False]] * 4
    loaded = load_instance(write(tmp_path, data))
    np.testing.assert_array_equal(loaded.spectral_efficiency, game.spectral_efficiency)
    np.testing.assert_array_equal(loaded.available[:, 2], False)
    out = solve_instance(loaded, "equilibrium")
    assert json.loads(json.dumps(out)) == out
    assert set(out) == {"solver", "prices", "demand", "rsu_utility", "uav_utility",
                        "converged", "iterations", "residual"}
    eq = solve_equilibrium(loaded)
    np.testing.assert_allclose(out["prices"], eq.prices)
    assert out["converged"] is True and out["demand"][0][2] == 0.0
    assert all(isinstance(x, float) for row in out["demand"] for x in row)


def test_solve_repeated_solver_has_reward_path_and_uses_seed(tmp_path: Path) -> None:
    game = load_instance(write(tmp_path, GOOD))
    a = solve_instance(game, "greedy", seed=3, iterations=20)
    b = solve_instance(game, "greedy", seed=3, iterations=20)
    c = solve_instance(game, "random", seed=4, iterations=20)
    assert a == b and len(a["reward_path"]) == 20 and a["solver"] == "greedy"
    assert c["prices"] != a["prices"]
    json.dumps(c)
    one = solve_instance(game, "random", iterations=1)
    assert one["residual"] is None and one["converged"] is False
    json.dumps(one, allow_nan=False)
    with pytest.raises(ValueError, match="unknown pricing policy"):
        solve_instance(game, "oracle")


def mutate(key: str, value: object) -> dict:
    data = json.loads(json.dumps(GOOD))
    if value is KeyError:
        del data[key]
    else:
        data[key] = value
    return data


BAD = [
    ("budget", [4.0, 6.0], r"budget: expected 3 entries, got 2"),
    ("budget", [4.0, -6.0, 1.0], r"budget\[1\]: expected a number >= 0, got -6.0"),
    ("ssim", [[0.9, 0.8], [0.95], [0.85, 0.99]], r"ssim\[1\]: expected 2 entries, got 1"),
    ("ssim", [[0.9, 0.8], [0.95, 1.2], [0.85, 0.99]], r"ssim\[1\]\[1\]: expected a number in"),
    ("spectral_efficiency", [[1, 2], [1, 2]], r"spectral_efficiency: expected 3 rows"),
    ("spectral_efficiency", 5.0, r"spectral_efficiency: expected a list of 3 rows, got 5.0"),
    ("price_cap", [1.0, 30.0], r"price_cap\[0\]: expected a number >= cost.*got 1.0"),
    ("cost", [1.5, "x"], r"cost\[1\]: expected a finite number, got \"x\""),
    ("delta", [12.0, None, 18.0], r"delta\[1\]: expected a finite number, got null"),
    ("delta", [12.0, True, 18.0], r"delta\[1\]: expected a finite number, got true"),
    ("delta", KeyError, r"delta: missing key"),
    ("bandwidth", [1.0], r"bandwidth: unknown key"),
    ("available", [[True, 1], [True, True], [True, True]],
     r"available\[0\]\[1\]: expected a finite boolean, got 1"),
    ("cost", [], r"cost: expected at least one entry"),
]


@pytest.mark.parametrize(("key", "value", "match"), BAD)
def test_malformed_instances_raise_one_line_errors(tmp_path: Path, key: str, value: object,
                                                   match: str) -> None:
    path = write(tmp_path, mutate(key, value))
    with pytest.raises(ValueError, match=match) as info:
        load_instance(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: ") and "\n" not in msg


@pytest.mark.parametrize(("text", "match"), [
    ('{"delta": [1.0, NaN]}', r"delta\[1\]: expected a finite number, got nan"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
])
def test_non_json_and_nan(tmp_path: Path, text: str, match: str) -> None:
    data = json.loads(json.dumps(GOOD))
    if text.startswith('{"delta"'):
        text = json.dumps(data).replace('"delta": [12.0, 15.0, 18.0]', '"delta": [1.0, NaN, 2.0]')
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=match) as info:
        load_instance(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_missing_file_is_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read instance file"):
        load_instance(tmp_path / "nope.json")
