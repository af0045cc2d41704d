"""Radio chain: unit conversions, path loss against closed forms, SNR and spectral efficiency."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.world.radio.core import (
    SPEED_OF_LIGHT_MPS,
    db_to_linear,
    dbm_to_watt,
    free_space_gain_db,
    linear_to_db,
    log_distance_gain_db,
    snr_linear,
    spectral_efficiency,
    table2_gain_db,
)


def test_unit_conversions_closed_form() -> None:
    assert db_to_linear(30.0) == pytest.approx(1000.0)
    assert db_to_linear(-3.0) == pytest.approx(0.501187, rel=1e-5)
    assert linear_to_db(100.0) == pytest.approx(20.0)
    assert linear_to_db(0.0) == -math.inf
    assert dbm_to_watt(30.0) == pytest.approx(1.0)
    assert dbm_to_watt(0.0) == pytest.approx(1e-3)
    assert dbm_to_watt(20.0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="-1"):
        linear_to_db(-1.0)


@given(st.floats(-200, 200))
def test_db_round_trip(x: float) -> None:
    assert linear_to_db(db_to_linear(x)) == pytest.approx(x, abs=1e-9)


def test_free_space_closed_form() -> None:
    d, f = 1000.0, 2.4e9
    expected = -20 * math.log10(4 * math.pi * d * f / SPEED_OF_LIGHT_MPS)
    assert free_space_gain_db(d, f) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(-100.05, abs=0.01)  # textbook FSPL at 1 km, 2.4 GHz
    g = free_space_gain_db(np.array([100.0, 200.0, 400.0]), f)
    np.testing.assert_allclose(np.diff(g), -20 * math.log10(2), atol=1e-12)
    # below the near-field clamp the gain is that of the clamp distance
    assert free_space_gain_db(0.0, f) == pytest.approx(free_space_gain_db(1.0, f))


def test_log_distance_closed_form() -> None:
    g = log_distance_gain_db(np.array([[0.5, 1.0], [10.0, 100.0]]), exponent=3.0,
                             reference_loss_db=40.0)
    np.testing.assert_allclose(g, [[-40.0, -40.0], [-70.0, -100.0]], atol=1e-12)
    g2 = log_distance_gain_db(100.0, exponent=2.0, reference_loss_db=30.0,
                              reference_distance_m=10.0)
    assert g2 == pytest.approx(-50.0)


@pytest.mark.parametrize("bad", [-5.0, np.nan, np.inf])
def test_bad_distance_names_value(bad: float) -> None:
    with pytest.raises(ValueError, match="distance_m"):
        free_space_gain_db(np.array([10.0, bad]), 2.4e9)
    with pytest.raises(ValueError, match=str(bad).replace("inf", "inf")):
        log_distance_gain_db(bad, exponent=2.0, reference_loss_db=30.0)


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match="frequency_hz"):
        free_space_gain_db(10.0, 0.0)
    with pytest.raises(ValueError, match="exponent"):
        log_distance_gain_db(10.0, exponent=-1.0, reference_loss_db=30.0)
    with pytest.raises(ValueError, match="reference_distance_m"):
        log_distance_gain_db(10.0, exponent=2.0, reference_loss_db=30.0, reference_distance_m=0)


def test_snr_and_spectral_efficiency() -> None:
    # MODEL A1: tau = m g / sigma^2; 20 dBm, -22 dB, -114 dBm -> 112 dB
    tau = snr_linear(20.0, -22.0, -114.0)
    assert tau == pytest.approx(10 ** 11.2, rel=1e-12)
    lin = dbm_to_watt(20.0) * db_to_linear(-22.0) / dbm_to_watt(-114.0)
    assert tau == pytest.approx(lin, rel=1e-12)
    np.testing.assert_allclose(spectral_efficiency(np.array([0.0, 1.0, 3.0, 7.0])),
                               [0.0, 1.0, 2.0, 3.0])
    # broadcasting: powers [J] with gains [I, J]
    out = snr_linear(np.array([20.0, 25.0]), np.zeros((3, 2)), -100.0)
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out[0], [1e12, 10 ** 12.5])
    with pytest.raises(ValueError, match="-0.5"):
        spectral_efficiency(np.array([1.0, -0.5]))


@given(st.floats(0.0, 1e9), st.floats(0.0, 1e9))
def test_spectral_efficiency_monotone(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert spectral_efficiency(lo) <= spectral_efficiency(hi)


def test_table2_gain_draw() -> None:
    g = table2_gain_db(np.random.default_rng(3), (200, 4))
    assert g.shape == (200, 4)
    assert g.min() >= -25.0 and g.max() <= -22.0
    assert g.std() > 0.5  # spread over the range, not a constant
    np.testing.assert_array_equal(g, table2_gain_db(np.random.default_rng(3), (200, 4)))
    with pytest.raises(ValueError, match="gain_db"):
        table2_gain_db(np.random.default_rng(0), 3, gain_db=(-20.0, -25.0))
