"""Radio link quality between a UAV and an RSU, as pure vectorised functions: the dB chain.

The chain is: distance -> channel gain (dB, negative = loss) -> SNR -> spectral efficiency.
MODEL A1: ``tau = m g / sigma^2`` in linear units, i.e. in decibels
``tau_dB = P_tx[dBm] + G[dB] - N[dBm]``, and ``q = log2(1 + tau)`` bit/s/Hz, so a bandwidth
``b`` MHz carries ``b q`` Mbit/s. Gains come from free-space (Friis) or log-distance path loss,
or from the paper's Table II draw (uniform in a fixed dB range, independent of distance).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "SPEED_OF_LIGHT_MPS",
    "db_to_linear",
    "dbm_to_watt",
    "free_space_gain_db",
    "linear_to_db",
    "log_distance_gain_db",
    "snr_linear",
    "spectral_efficiency",
    "table2_gain_db",
]

SPEED_OF_LIGHT_MPS = 299_792_458.0


def _distances(distance_m: np.ndarray | float, name: str = "distance_m") -> np.ndarray:
    d = np.asarray(distance_m, dtype=float)
    bad = ~(d >= 0) | ~np.isfinite(d)
    if bad.any():
        raise ValueError(f"{name}: expected finite distances >= 0, got {d[bad].ravel()[0]}")
    return d


def db_to_linear(x: np.ndarray | float) -> np.ndarray:
    """``10^(x/10)``: decibels to a linear power ratio."""
    return np.power(10.0, np.asarray(x, dtype=float) / 10.0)


def _non_negative(x: np.ndarray | float, what: str) -> np.ndarray:
    """``x`` as floats, or ``ValueError("{what} >= 0, got v")`` for the first negative or NaN."""
    v = np.asarray(x, dtype=float)
    if v.size and not np.minimum.reduce(v, axis=None) >= 0:  # NaN fails too (one reduction)
        bad = ~(v >= 0)
        raise ValueError(f"{what} >= 0, got {v[bad].ravel()[0]}")
    return v


def linear_to_db(x: np.ndarray | float) -> np.ndarray:
    """``10 log10(x)``: linear power ratio to decibels (``-inf`` at 0).

    Raises:
        ValueError: a value is negative or NaN.
    """
    v = _non_negative(x, "linear_to_db: expected values")
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(v)


def dbm_to_watt(x: np.ndarray | float) -> np.ndarray:
    """Power in dBm to watts: ``10^((x - 30)/10)``."""
    return np.power(10.0, (np.asarray(x, dtype=float) - 30.0) / 10.0)


def free_space_gain_db(distance_m: np.ndarray | float, frequency_hz: float, *,
                       min_distance_m: float = 1.0) -> np.ndarray:
    """Friis free-space gain ``-20 log10(4 pi d f / c)`` (dB).

    Args:
        distance_m: UAV-RSU distances (m), ``>= 0``; values below ``min_distance_m`` are
            raised to it (the far-field formula diverges at 0).
        frequency_hz: carrier frequency (Hz), ``> 0``.
        min_distance_m: near-field clamp (m), ``> 0``.

    Returns:
        Gains (dB), same shape as ``distance_m``.

    Raises:
        ValueError: a negative/non-finite distance (the value is named), or a bad frequency.
    """
    d = _distances(distance_m)
    if not (frequency_hz > 0 and math.isfinite(frequency_hz)):
        raise ValueError(f"frequency_hz: expected a positive frequency, got {frequency_hz}")
    if not min_distance_m > 0:
        raise ValueError(f"min_distance_m: expected > 0, got {min_distance_m}")
    d = np.maximum(d, min_distance_m)
    return -20.0 * np.log10(4.0 * math.pi * d * frequency_hz / SPEED_OF_LIGHT_MPS)


def log_distance_gain_db(distance_m: np.ndarray | float, *, exponent: float,
                         reference_loss_db: float, reference_distance_m: float = 1.0
                         ) -> np.ndarray:
    """Log-distance gain ``-(PL0 + 10 n log10(d / d0))`` (dB).

    Distances below ``reference_distance_m`` get the reference loss ``PL0``.

    Args:
        distance_m: UAV-RSU distances (m), ``>= 0``.
        exponent: path-loss exponent ``n`` (``>= 0``; 2 = free space).
        reference_loss_db: loss ``PL0`` at the reference distance (dB).
        reference_distance_m: reference distance ``d0`` (m), ``> 0``.

    Returns:
        Gains (dB), same shape as ``distance_m``.

    Raises:
        ValueError: a negative/non-finite distance (the value is named), or bad parameters.
    """
    d = _distances(distance_m)
    if not (exponent >= 0 and math.isfinite(exponent)):
        raise ValueError(f"exponent: expected a finite value >= 0, got {exponent}")
    if not math.isfinite(reference_loss_db):
        raise ValueError(f"reference_loss_db: expected a finite value, got {reference_loss_db}")
    if not (reference_distance_m > 0 and math.isfinite(reference_distance_m)):
        raise ValueError(f"reference_distance_m: expected > 0, got {reference_distance_m}")
    ratio = np.maximum(d, reference_distance_m) / reference_distance_m
    return -(reference_loss_db + 10.0 * exponent * np.log10(ratio))


def snr_linear(tx_power_dbm: np.ndarray | float, gain_db: np.ndarray | float,
               noise_dbm: np.ndarray | float) -> np.ndarray:
    """SNR ``tau = m g / sigma^2`` (linear) from transmit power, gain and noise in dB(m).

    Inputs broadcast against each other (e.g. ``[J]`` powers with ``[I, J]`` gains).
    """
    return db_to_linear(np.asarray(tx_power_dbm, dtype=float) + np.asarray(gain_db, dtype=float)
                        - np.asarray(noise_dbm, dtype=float))


def spectral_efficiency(snr_linear: np.ndarray | float) -> np.ndarray:
    """Shannon spectral efficiency ``q = log2(1 + tau)`` (bit/s/Hz).

    Raises:
        ValueError: an SNR is negative or NaN.
    """
    return np.log2(1.0 + _non_negative(snr_linear, "spectral_efficiency: expected SNR"))


def table2_gain_db(rng: np.random.Generator, shape: int | tuple[int, ...],
                   gain_db: tuple[float, float] = (-25.0, -22.0)) -> np.ndarray:
    """The paper's Table II channel gain: uniform in ``gain_db`` (dB), independent of position.

    Args:
        rng: generator for the draw.
        shape: output shape (e.g. ``(I, J)``).
        gain_db: ``(lo, hi)`` range (dB), ``lo <= hi``.

    Returns:
        Gains (dB) of the given shape.

    Raises:
        ValueError: an empty or non-finite range.
    """
    lo, hi = float(gain_db[0]), float(gain_db[1])
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise ValueError(f"gain_db: expected a finite range lo <= hi, got {gain_db}")
    return rng.uniform(lo, hi, size=shape)

