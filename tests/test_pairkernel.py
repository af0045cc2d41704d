"""The compiled pair arithmetic of a market round against the NumPy formulas, bit for bit.

The reference is what the market computed before the kernel: ``Generator.uniform`` draws of
the Table II gain and the three SSIM components, ``snr_linear``, ``spectral_efficiency``,
``np.multiply.reduce`` of the components and :func:`agents.pricing.game.pair_weights`. The
kernel path draws the same numbers with one ``Generator.random`` call; every array must be
equal with ``==`` (and in the sign of zeros), and both generators must end in the same state.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.pricing.game import pair_weights as numpy_pair_weights
from simulator.world import pairkernel as K
from simulator.world.radio.core import snr_linear, spectral_efficiency


def _reference(seed: int, mode: int, given_gain: np.ndarray, gain_lohi: tuple[float, float],
               ssim_lohi: tuple[float, float], tx: np.ndarray, noise: np.ndarray,
               delta: np.ndarray, threshold: np.ndarray, available: np.ndarray | None):
    rng = np.random.default_rng(seed)
    n_i, n_j = len(delta), len(tx)
    if mode == K.GAIN_GIVEN:
        gain = given_gain
    else:
        gain = rng.uniform(*gain_lohi, (n_i, n_j))
        if mode == K.GAIN_DRAWN_SHADOWED:
            gain = gain + given_gain
    snr = snr_linear(tx[None, :], gain, noise[None, :])
    ssim = np.multiply.reduce(rng.uniform(*ssim_lohi, (3, n_i, n_j)), axis=0)
    q = spectral_efficiency(snr)
    _, weight, viable = numpy_pair_weights(delta, ssim, threshold, q, available)
    return rng, (q, ssim, weight, viable, int(viable.any(axis=1).sum()))


def _among_others(tx: np.ndarray, noise: np.ndarray, threshold: np.ndarray, delta: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """The kernels read the round's rows of whole tables: put the round's RSUs and UAVs among
    others (NaN rows), as ``(uav_ids, rsu_ids, [tx, noise], [threshold, delta])``."""
    uav_ids, rsu_ids = 2 * np.arange(len(delta)) + 1, 3 * np.arange(len(tx))
    tables = [np.full(3 * len(tx), np.nan) for _ in range(2)]
    for table, col in zip(tables, (tx, noise), strict=True):
        table[rsu_ids] = col
    rows = [np.full(2 * len(delta) + 1, np.nan) for _ in range(2)]
    for table, col in zip(rows, (threshold, delta), strict=True):
        table[uav_ids] = col
    return uav_ids, rsu_ids, tables, rows


def _kernel(seed: int, mode: int, given_gain: np.ndarray, gain_lohi: tuple[float, float],
            ssim_lohi: tuple[float, float], tx: np.ndarray, noise: np.ndarray,
            delta: np.ndarray, threshold: np.ndarray, available: np.ndarray | None,
            fused: bool = False):
    """The market's composition (Market._pair_arrays): the split path, or (``fused``) its one
    call where K.fused_agrees()."""
    rng = np.random.default_rng(seed)
    n = len(delta) * len(tx)
    draws = rng.random((3 if mode == K.GAIN_GIVEN else 4) * n)
    (glo, ghi), (slo, shi) = gain_lohi, ssim_lohi
    uav_ids, rsu_ids, tables, rows = _among_others(tx, noise, threshold, delta)
    avail = np.ones((1, 1), bool) if available is None else available
    if fused:
        consts = np.array([glo, float(ghi) - float(glo), slo, float(shi) - float(slo), 10.0,
                           1.0])
        (q, ssim, weight), viable, n_viable, finite = K.pair_arrays(
            draws, mode, given_gain, consts, *tables, rows[0], rows[1], uav_ids, rsu_ids,
            avail, available is not None)
        assert finite
        return rng, (q, ssim, weight, viable, n_viable)
    (x, ssim, ratio), finite = K.pair_inputs(draws, mode, given_gain, float(glo),
                                             float(ghi) - float(glo), float(slo),
                                             float(shi) - float(slo), *tables, rows[0],
                                             uav_ids, rsu_ids)
    assert finite
    q = np.log2(np.add(np.array(1.0), np.power(np.array(10.0), x)))  # 0-d constants
    weight, viable, n_viable = K.pair_weights(np.log(ratio), q, rows[1], uav_ids, avail,
                                              available is not None)
    return rng, (q, ssim, weight, viable, n_viable)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return (a.shape == b.shape and a.dtype == b.dtype
            and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f"
                            else a == b))
            and (a.dtype.kind != "f" or bool(np.all(np.signbit(a) == np.signbit(b)))))


@pytest.mark.parametrize("fused", [False, True], ids=["split", "one-call"])
@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_i=st.integers(1, 4), n_j=st.integers(1, 6),
       mode=st.sampled_from([K.GAIN_GIVEN, K.GAIN_DRAWN, K.GAIN_DRAWN_SHADOWED]),
       restricted=st.booleans(), wide=st.booleans())
def test_kernel_path_equals_numpy_formulas(fused: bool, seed: int, n_i: int, n_j: int,
                                           mode: int, restricted: bool, wide: bool) -> None:
    if fused and not K.fused_agrees():
        pytest.skip("this machine's NumPy computes pow, log2 or log otherwise than the C "
                    "library: the market takes the split path")
    gen = np.random.default_rng(seed + 1)
    scale = 60.0 if wide else 5.0  # wide: gains that make q and the weights change sign
    gain_lohi = (float(gen.uniform(-scale, 0)), float(gen.uniform(0, scale)))
    ssim_lohi = tuple(sorted(gen.uniform(0.5, 1.0, 2)))
    tx, noise = gen.uniform(-10, 30, n_j), gen.uniform(-110, -20, n_j)
    given_gain = gen.uniform(-140, -20, (n_i, n_j)) if mode == K.GAIN_GIVEN \
        else gen.normal(0, 4, (n_i, n_j))
    delta = gen.uniform(0.1, 3, n_i)
    threshold = gen.uniform(0.4, 0.95, n_i)  # some pairs fall below: weight <= 0
    available = gen.random((n_i, n_j)) < 0.7 if restricted else None
    args = (seed, mode, given_gain, gain_lohi, ssim_lohi, tx, noise, delta, threshold,
            available)
    rng_a, ref = _reference(*args)
    rng_b, got = _kernel(*args, fused=fused)
    for name, a, b in zip(("q", "ssim", "weight", "viable"), ref[:4], got[:4], strict=True):
        assert _same(a, b), (name, a, b)
    assert got[4] == ref[4]  # UAVs with a viable pair
    assert rng_a.bit_generator.state == rng_b.bit_generator.state


def test_fixed_range_and_signed_zero_inputs() -> None:
    """A fixed SSIM range (lo == hi), a threshold equal to the SSIM (weight exactly 0, not
    viable) and a gain of -0.0."""
    tx, noise = np.array([0.0, 20.0]), np.array([-0.0, -90.0])
    args = (7, K.GAIN_GIVEN, np.array([[-0.0, -60.0]]), (-25.0, -22.0), (0.9, 0.9), tx, noise,
            np.array([1.5]), np.array([0.9 * 0.9 * 0.9]), None)
    _, ref = _reference(*args)
    _, got = _kernel(*args)
    for a, b in zip(ref[:4], got[:4], strict=True):
        assert _same(a, b)
    assert not got[3].any() and got[4] == ref[4] == 0


def test_nan_exponent_is_flagged() -> None:
    """A NaN gain makes the SNR NaN: the kernel says so and the SNR check raises."""
    (x, _, _), finite = K.pair_inputs(np.full(3, 0.5), K.GAIN_GIVEN, np.array([[np.nan]]),
                                      0.0, 0.0, 0.9, 0.0, np.array([10.0]),
                                      np.array([-90.0]), np.array([0.5]),
                                      np.zeros(1, np.int64), np.zeros(1, np.int64))
    assert not finite
    with pytest.raises(ValueError, match="expected SNR >= 0, got nan"):
        spectral_efficiency(np.power(10.0, x))


def test_the_agreement_check_sees_one_last_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """fused_agrees compares the compiled functions with NumPy's: one value of NumPy's one bit
    off (as SIMD code may give) makes it say no, and the market then takes the split path."""
    real = K.numpy_transcendentals

    def one_bit_off(x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
        out = real(x, ratio)
        out[2, out.shape[1] // 3] = np.nextafter(out[2, out.shape[1] // 3], np.inf)
        return out

    with monkeypatch.context() as patched:
        patched.setattr(K, "numpy_transcendentals", one_bit_off)
        K.fused_agrees.cache_clear()
        try:
            assert not K.fused_agrees()
        finally:
            K.fused_agrees.cache_clear()  # (checked again, with NumPy's own, when next asked)
    x = np.linspace(-4.0, 4.0, 1001)
    ratio = np.linspace(0.05, 20.0, 1001)
    same = np.array_equal(K._transcendentals(x, ratio, np.array([0.0] * 4 + [10.0, 1.0])),
                          real(x, ratio))
    assert K.fused_agrees() or not same  # agreeing here, it agrees on the check's values


def test_fused_kernel_flags_a_nan_exponent() -> None:
    """A NaN gain: the one-call kernel says so (the market then raises through the split
    path's SNR check, test_nan_exponent_is_flagged)."""
    *_, finite = K.pair_arrays(np.full(3, 0.5), K.GAIN_GIVEN, np.array([[np.nan]]),
                               np.array([0.0, 0.0, 0.9, 0.0, 10.0, 1.0]), np.array([10.0]),
                               np.array([-90.0]), np.array([0.5]), np.array([1.0]),
                               np.zeros(1, np.int64), np.zeros(1, np.int64),
                               np.ones((1, 1), bool), False)
    assert not finite


@pytest.mark.skipif(not K.fused_agrees(), reason="the market takes the split path here")
@pytest.mark.parametrize("extra", [
    ("pricing.market_window_s=2",),  # Table II gains, rounds of several UAVs, learned prices
    ("radio.model=free_space", "radio.shadowing_std_db=4", "pricing.market_window_s=0",
     "pricing.solver=equilibrium"),
])
def test_market_runs_the_same_on_either_path(monkeypatch: pytest.MonkeyPatch,
                                             extra: tuple[str, ...]) -> None:
    """A run whose market takes the one-call kernel and the same run on the split path give
    the same tables, column by column (wall-clock columns aside)."""
    from pathlib import Path

    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "default.yaml",
                             overrides=["simulation.duration_s=120", "uavs.count=30", *extra])
    fused = run_scenario(scenario, in_memory=True).tables
    monkeypatch.setattr(K, "fused_agrees", lambda: False)
    split = run_scenario(scenario, in_memory=True).tables
    assert fused is not None and split is not None and fused.keys() == split.keys()
    assert len(fused["/pricing/offers"]["price"]) > 0
    for table, columns in split.items():
        for name, values in columns.items():
            if name != "wall_time_s":
                np.testing.assert_array_equal(fused[table][name], values, err_msg=table)
