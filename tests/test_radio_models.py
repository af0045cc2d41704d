"""Radio models of the registry: Al-Hourani 2014 and 3GPP TR 36.777 against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.world.radio import aerial_3gpp, air_to_ground
from simulator.world.radio.registry import RADIO_MODEL_NAMES, RADIO_MODELS, PathLoss

# Al-Hourani et al. 2014, reported optimal elevation angles (degrees)
PAPER_ANGLES = {"suburban": 20.34, "urban": 42.44, "dense_urban": 54.62, "high_rise": 75.52}


@pytest.mark.parametrize("env", sorted(PAPER_ANGLES))
def test_optimal_elevation_matches_the_paper(env: str) -> None:
    assert air_to_ground.optimal_elevation_deg(env) == pytest.approx(PAPER_ANGLES[env], abs=5e-3)


@pytest.mark.parametrize("env", sorted(PAPER_ANGLES))
def test_optimal_altitude_maximises_the_radius(env: str) -> None:
    """R(h) by root finding at fixed h peaks at the altitude of the optimal angle."""
    budget, f = 110.0, 2e9
    h_opt, r_opt = air_to_ground.optimal_altitude(budget, f, env)
    assert math.degrees(math.atan2(h_opt, r_opt)) == pytest.approx(
        air_to_ground.optimal_elevation_deg(env), abs=1e-6)
    assert air_to_ground.coverage_radius_m(h_opt, budget, f, env) == pytest.approx(r_opt,
                                                                                    rel=1e-7)
    for factor in (0.8, 0.95, 1.05, 1.25):
        assert air_to_ground.coverage_radius_m(h_opt * factor, budget, f, env) < r_opt


def test_al_hourani_mean_path_loss_closed_form() -> None:
    h, r, f = 120.0, 400.0, 2e9
    a, b, e_los, e_nlos = 9.61, 0.16, 1.0, 20.0          # urban
    theta = math.degrees(math.atan(h / r))
    p = 1.0 / (1.0 + a * math.exp(-b * (theta - a)))
    d = math.hypot(h, r)
    expected = 20 * math.log10(4 * math.pi * f * d / 299_792_458.0) + p * e_los + (1 - p) * e_nlos
    got = air_to_ground.mean_path_loss_db(h, r, f, "urban")
    assert float(got) == pytest.approx(expected, abs=1e-12)
    assert float(air_to_ground.los_probability(90.0, "suburban")) > 0.99
    assert float(air_to_ground.los_probability(-90.0, "suburban")) < 1e-10


def _ref_los_prob(model: str, d2d: float, h: float) -> float:
    """TR 36.777 Table B-1, restated scalar-wise."""
    lh = math.log10(h)
    if model == "uma_av":
        if h > 100:
            return 1.0
        d1, p1 = max(460 * lh - 700, 18), 4300 * lh - 3800
    elif model == "umi_av":
        d1, p1 = max(294.05 * lh - 432.94, 18), 233.98 * lh - 0.95
    else:
        if h > 40:
            return 1.0
        d1, p1 = max(1350.8 * lh - 1602, 18), max(15021 * lh - 16053, 1000)
    return 1.0 if d2d <= d1 else d1 / d2d + math.exp(-d2d / p1) * (1 - d1 / d2d)


@pytest.mark.parametrize("model", ["uma_av", "umi_av", "rma_av"])
def test_3gpp_los_probability(model: str) -> None:
    for h in (15.0, 30.0, 60.0, 99.0, 150.0, 300.0):
        if h <= aerial_3gpp.AERIAL_MODELS[model].h_min_m:
            continue
        for d in (5.0, 50.0, 300.0, 1000.0, 3000.0):
            got = float(aerial_3gpp.los_probability(model, d, h))
            assert got == pytest.approx(_ref_los_prob(model, d, h), abs=1e-12)
            assert 0.0 <= got <= 1.0


def test_3gpp_spot_values() -> None:
    """Hand-computed Table B-2 values at 2 GHz."""
    los = aerial_3gpp.path_loss_los_db
    nlos = aerial_3gpp.path_loss_nlos_db
    # UMa-AV LoS, d3D = 500 m: 28 + 22 log 500 + 20 log 2 = 93.398
    assert float(los("uma_av", 500.0, 100.0, 2e9)) == pytest.approx(93.398, abs=1e-3)
    # UMi-AV LoS, h = 50 m, d3D = 200 m: 30.9 + (22.25 - 0.5 log 50) log 200 + 20 log 2
    assert float(los("umi_av", 200.0, 50.0, 2e9)) == pytest.approx(86.164, abs=1e-3)
    # UMa-AV NLoS, h = 100 m, d3D = 1000 m: -17.5 + (46 - 14) 3 + 20 log(40 pi 2 / 3)
    assert float(nlos("uma_av", 1000.0, 100.0, 2e9)) == pytest.approx(
        -17.5 + 96 + 20 * math.log10(80 * math.pi / 3), abs=1e-9)
    # RMa-AV LoS above h = 10^((23.9 - 20) / 1.8) ~ 146.8 m is free space
    fs = 20 * math.log10(40 * math.pi * 700 * 2 / 3)
    assert float(los("rma_av", 700.0, 200.0, 2e9)) == pytest.approx(fs, abs=1e-9)
    # UMi-AV LoS never below free space; NLoS never below LoS
    for d in (20.0, 100.0, 1000.0):
        assert float(los("umi_av", d, 250.0, 2e9)) >= 20 * math.log10(40 * math.pi * d * 2 / 3)
        assert float(nlos("umi_av", d, 30.0, 2e9)) >= float(los("umi_av", d, 30.0, 2e9))
        assert float(nlos("rma_av", d, 30.0, 2e9)) >= float(los("rma_av", d, 30.0, 2e9))


def test_3gpp_mean_is_the_los_mixture() -> None:
    d2d, h = 800.0, 60.0
    d3d = math.hypot(d2d, h - 25.0)
    p = _ref_los_prob("uma_av", d2d, h)
    expected = (p * float(aerial_3gpp.path_loss_los_db("uma_av", d3d, h, 2e9))
                + (1 - p) * float(aerial_3gpp.path_loss_nlos_db("uma_av", d3d, h, 2e9)))
    pl = PathLoss("uma_av", frequency_hz=2e9)
    got = float(pl.mean_path_loss_db(np.array([d2d, 0.0, h]), np.array([0.0, 0.0, 25.0])))
    assert got == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("model, h, d", [("uma_av", 20.0, 100.0), ("umi_av", 301.0, 100.0),
                                         ("rma_av", 9.0, 10.0), ("uma_av", 50.0, 4001.0),
                                         ("rma_av", 50.0, 10001.0)])
def test_3gpp_validity_is_enforced(model: str, h: float, d: float) -> None:
    with pytest.raises(ValueError, match=model):
        PathLoss(model).check_validity(h, d)


def test_registry() -> None:
    assert RADIO_MODEL_NAMES[:3] == ("table2", "log_distance", "free_space")
    assert not RADIO_MODELS["table2"].position_dependent
    with pytest.raises(ValueError, match="table2"):
        PathLoss("table2")
    with pytest.raises(ValueError, match="environment"):
        PathLoss("al_hourani", environment="jungle")


def test_free_space_model_equals_friis() -> None:
    pl = PathLoss("free_space", frequency_hz=2.4e9)
    got = float(pl.mean_path_loss_db(np.array([300.0, 0.0, 180.0]), np.array([0.0, 0.0, 10.0])))
    assert got == pytest.approx(20 * math.log10(4 * math.pi * 2.4e9 * math.hypot(300, 170)
                                                / 299_792_458.0), abs=1e-9)
