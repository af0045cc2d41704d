"""Compiled arithmetic of a market round's UAV-RSU pairs (:meth:`Market._pair_arrays`).

Every round computes, for each pair, the SNR from the channel gain, the SSIM from its three
drawn components, the spectral efficiency ``q = log2(1 + SNR)`` and the pair's weight
``a = delta ln(SSIM / SSIM_th)`` with its viability ``a > 0 and q > 0`` (MODEL.md A1). On a
market's one-UAV rounds these are arrays of one to a few entries, where each NumPy call costs
more than its arithmetic; these two kernels do the arithmetic around the transcendental
functions, which stay NumPy's (``np.power``, ``np.log2`` and ``np.log`` use SIMD code that
differs from the C library's in the last bit on some machines):

1. :func:`pair_inputs`: the SNR's exponent ``(m + g - sigma^2) / 10`` (dB), the SSIM and its
   ratio to the UAV's threshold, from the round's uniform draws;
2. NumPy: ``SNR = 10^x``, ``q = log2(1 + SNR)``, ``ln(SSIM / SSIM_th)``;
3. :func:`pair_weights`: the weights, viability and how many UAVs have a viable pair.

Where NumPy's ``power``, ``log2`` and ``log`` give the C library's results (machines whose
NumPy has no SIMD code for them, e.g. without AVX-512), :func:`pair_arrays` does all three
steps in one call, with the transcendental functions compiled from the C library's too:
:func:`fused_agrees` checks, once per process, that the compiled functions and NumPy's agree
bit for bit on a spread of values, and the market takes the fused call only then (one compiled
call instead of two and four NumPy calls: a market round costs about a tenth less). Either
way the numbers are the same.

The operations are those of the NumPy expressions they replace, in the same order (no
fastmath): ``Generator.uniform(lo, hi)`` is ``lo + (hi - lo) u`` of ``Generator.random``'s
``u`` (the same stream), ``np.multiply.reduce`` over the three SSIM components is
``(l c) s``. tests/test_pairkernel.py checks both kernels against the NumPy formulas with
``==``.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from agents import compiled

__all__ = ["GAIN_DRAWN", "GAIN_DRAWN_SHADOWED", "GAIN_GIVEN", "fused_agrees",
           "numpy_transcendentals", "pair_arrays", "pair_inputs", "pair_weights"]

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}

#: Where a round's channel gains come from (``mode`` of :func:`pair_inputs`).
GAIN_GIVEN, GAIN_DRAWN, GAIN_DRAWN_SHADOWED = 0, 1, 2


@njit(inline="always", **_JIT)
def _exponent_ssim(draws: np.ndarray, mode: int, gain: np.ndarray, gain_lo: float,
                   gain_range: float, ssim_lo: float, ssim_range: float, tx: float,
                   noise: float, i: int, j: int, k: int, n: int) -> tuple[float, float]:
    """Pair ``k = i J + j`` of ``n``: the SNR exponent ``(m + g - sigma^2) / 10`` and the SSIM
    (the product of its three drawn components), as :func:`pair_inputs` documents."""
    if mode == GAIN_GIVEN:
        g = gain[i, j]
        base = 0
    else:
        g = gain_lo + gain_range * draws[k]
        if mode == GAIN_DRAWN_SHADOWED:
            g = g + gain[i, j]
        base = n
    e = (tx + g - noise) / 10.0
    s = ((ssim_lo + ssim_range * draws[base + k])
         * (ssim_lo + ssim_range * draws[base + n + k])
         * (ssim_lo + ssim_range * draws[base + 2 * n + k]))
    return e, s


@njit(**_JIT)
def pair_inputs(draws: np.ndarray, mode: int, gain: np.ndarray, gain_lo: float,
                gain_range: float, ssim_lo: float, ssim_range: float, tx_dbm: np.ndarray,
                noise_dbm: np.ndarray, threshold: np.ndarray, uav_ids: np.ndarray,
                rsu_ids: np.ndarray) -> tuple[np.ndarray, bool]:
    """The SNR exponent, SSIM and SSIM ratio of every pair of an ``[I, J]`` round.

    Args:
        draws: the round's uniform draws in ``[0, 1)``, in the order the round makes them:
            with a drawn gain first ``I J`` gains (C order), then ``3 I J`` SSIM components
            (component-major, then C order over the pairs).
        mode: :data:`GAIN_GIVEN` (``gain`` is the gain, dB), :data:`GAIN_DRAWN` (the gain
            is ``gain_lo + gain_range u``) or :data:`GAIN_DRAWN_SHADOWED` (that plus the
            shadowing ``gain``).
        gain: ``[I, J]`` gain or shadowing (dB); unused with :data:`GAIN_DRAWN`.
        gain_lo, gain_range: the drawn gain's lower end and ``hi - lo`` (dB).
        ssim_lo, ssim_range: the same for each SSIM component.
        tx_dbm, noise_dbm: every RSU's transmit and noise power (dBm).
        threshold: every UAV's SSIM threshold.
        uav_ids, rsu_ids: ``[I]`` and ``[J]`` the round's UAVs and RSUs (rows of the tables).

    Returns:
        ``(out [3, I, J], finite)``: ``out`` is ``x, ssim, ratio`` (one array returned, not
        three: each array a compiled call returns costs as much as a short kernel), with
        ``SNR = 10^x`` and ``ratio = ssim / threshold``; ``finite`` is False if some ``x`` is
        NaN (the SNR check then fails).
    """
    n_i, n_j = uav_ids.size, rsu_ids.size
    n = n_i * n_j
    out = np.empty((3, n_i, n_j))
    x, ssim, ratio = out[0], out[1], out[2]
    finite = True
    for i in range(n_i):
        for j in range(n_j):
            r = rsu_ids[j]
            e, s = _exponent_ssim(draws, mode, gain, gain_lo, gain_range, ssim_lo, ssim_range,
                                  tx_dbm[r], noise_dbm[r], i, j, i * n_j + j, n)
            if e != e:
                finite = False
            x[i, j] = e
            ssim[i, j] = s
            ratio[i, j] = s / threshold[uav_ids[i]]
    return out, finite


@njit(**_JIT)
def pair_weights(log_ratio: np.ndarray, q: np.ndarray, delta: np.ndarray,
                 uav_ids: np.ndarray, available: np.ndarray, restricted: bool
                 ) -> tuple[np.ndarray, np.ndarray, int]:
    """Weights ``a = delta ln(SSIM / SSIM_th)`` and viability of an ``[I, J]`` round.

    Args:
        log_ratio: ``[I, J]`` ``ln(SSIM / SSIM_th)``.
        q: ``[I, J]`` spectral efficiency.
        delta: every UAV's immersion weight.
        uav_ids: ``[I]`` the round's UAVs (rows of ``delta``).
        available: ``[I, J]`` pairs that may trade (read when ``restricted``).
        restricted: False when every pair may trade.

    Returns:
        ``(weight [I, J], viable [I, J], n)``, as :func:`agents.pricing.game.pair_weights`;
        ``n`` is the number of UAVs with a viable pair (``viable.any(axis=1).sum()``).
    """
    n_i, n_j = q.shape
    weight = np.empty((n_i, n_j))
    viable = np.empty((n_i, n_j), dtype=np.bool_)
    n = 0
    for i in range(n_i):
        any_viable = False
        for j in range(n_j):
            a = delta[uav_ids[i]] * log_ratio[i, j]
            weight[i, j] = a
            v = a > 0 and q[i, j] > 0 and (not restricted or available[i, j])
            viable[i, j] = v
            if v:
                any_viable = True
        if any_viable:
            n += 1
    return weight, viable, n


@njit(**_JIT)
def pair_arrays(draws: np.ndarray, mode: int, gain: np.ndarray, consts: np.ndarray,
                tx_dbm: np.ndarray, noise_dbm: np.ndarray, threshold: np.ndarray,
                delta: np.ndarray, uav_ids: np.ndarray, rsu_ids: np.ndarray,
                available: np.ndarray, restricted: bool
                ) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """:func:`pair_inputs`, NumPy's ``SNR = 10^x``, ``q = log2(1 + SNR)`` and
    ``ln(SSIM / SSIM_th)``, then :func:`pair_weights`, pair by pair in one call (use it where
    :func:`fused_agrees`).

    Args:
        draws, mode, gain, tx_dbm, noise_dbm, threshold, uav_ids, rsu_ids: as
            :func:`pair_inputs`.
        consts: ``gain_lo, gain_range, ssim_lo, ssim_range, 10.0, 1.0`` (the last two read
            at run time, so that the compiler keeps ``pow(10, x)`` a call of ``pow``).
        delta, available, restricted: as :func:`pair_weights`.

    Returns:
        ``(out [3, I, J], viable [I, J], n, finite)``: ``out`` is ``q, ssim, weight``; ``n``
        and ``viable`` as :func:`pair_weights`; ``finite`` as :func:`pair_inputs` (False: the
        rest is not to be used, the SNR check fails).
    """
    gain_lo, gain_range, ssim_lo, ssim_range, ten, one = (
        consts[0], consts[1], consts[2], consts[3], consts[4], consts[5])
    n_i, n_j = uav_ids.size, rsu_ids.size
    n = n_i * n_j
    out = np.empty((3, n_i, n_j))
    viable = np.empty((n_i, n_j), dtype=np.bool_)
    q_out, ssim_out, weight = out[0], out[1], out[2]
    finite = True
    n_viable = 0
    for i in range(n_i):
        u = uav_ids[i]
        any_viable = False
        for j in range(n_j):
            r = rsu_ids[j]
            e, s = _exponent_ssim(draws, mode, gain, gain_lo, gain_range, ssim_lo, ssim_range,
                                  tx_dbm[r], noise_dbm[r], i, j, i * n_j + j, n)
            if e != e:
                finite = False
            ssim_out[i, j] = s
            q = np.log2(one + ten ** e)
            q_out[i, j] = q
            a = delta[u] * np.log(s / threshold[u])
            weight[i, j] = a
            v = a > 0 and q > 0 and (not restricted or available[i, j])
            viable[i, j] = v
            if v:
                any_viable = True
        if any_viable:
            n_viable += 1
    return out, viable, n_viable, finite


@njit(**_JIT)
def _transcendentals(x: np.ndarray, ratio: np.ndarray, consts: np.ndarray) -> np.ndarray:
    """``10^x``, ``log2(1 + 10^x)`` and ``ln(ratio)`` as :func:`pair_arrays` computes them."""
    ten, one = consts[4], consts[5]
    out = np.empty((3, x.size))
    for k in range(x.size):
        snr = ten ** x[k]
        out[0, k] = snr
        out[1, k] = np.log2(one + snr)
        out[2, k] = np.log(ratio[k])
    return out


@functools.cache
def fused_agrees(samples: int = 1 << 14) -> bool:
    """Whether :func:`pair_arrays`'s transcendental functions give NumPy's results bit for bit
    on this machine (checked once per process, on ``samples`` values spread over SNR
    exponents of -40 to 40 dB and SSIM ratios of 0.05 to 20: a few milliseconds)."""
    wobble = np.arange(samples)  # (off an even grid: every last bit is tried)
    x = np.linspace(-4.0, 4.0, samples) + np.sin(wobble) * 1e-3
    ratio = np.exp(np.linspace(np.log(0.05), np.log(20.0), samples) + np.cos(wobble) * 1e-3)
    got = compiled.call(_transcendentals, x, ratio, np.array([0.0, 0.0, 0.0, 0.0, 10.0, 1.0]))
    return bool(np.array_equal(got, numpy_transcendentals(x, ratio)))


def numpy_transcendentals(x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """``10^x``, ``log2(1 + 10^x)`` and ``ln(ratio)`` by NumPy, as the split path computes
    them (``[3, n]``)."""
    snr = np.power(np.array(10.0), x)
    return np.stack([snr, np.log2(np.add(np.array(1.0), snr)), np.log(ratio)])
