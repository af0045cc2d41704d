"""3GPP TR 36.777 (Release 15) aerial-UE channel models UMa-AV, UMi-AV and RMa-AV, MODEL.md D2.

For a UAV (the "aerial UE") at height ``h_UT`` above ground, horizontal distance ``d2D`` and
3-D distance ``d3D`` from a base station (here: an RSU antenna), Annex B of the report gives

* a LoS probability that is 1 within a height-dependent distance ``d1`` and decays beyond it,
  ``P = d1/d2D + exp(-d2D/p1) (1 - d1/d2D)``, and is 1 everywhere above a height threshold
  (UMa-AV above 100 m, RMa-AV above 40 m; UMi-AV keeps the decay up to 300 m);
* LoS and NLoS path losses whose slopes depend on ``h_UT``.

The mean path loss used for coverage is the LoS-probability mixture
``P PL_LoS + (1 - P) PL_NLoS`` (dB), as in MODEL.md D1. ``fc`` is in GHz inside the formulas.

Validity (enforced: :func:`check_validity` raises outside it): the aerial formulas of the
report hold for ``22.5 m < h_UT <= 300 m`` (UMa-AV, UMi-AV) or ``10 m < h_UT <= 300 m``
(RMa-AV), and ``d2D <= 4 km`` (UMa-AV, UMi-AV) or ``10 km`` (RMa-AV). Below the aerial
threshold the report falls back to the terrestrial TR 38.901 models, which uavtwin does not
implement: a UAV lower than the threshold is an error, not a silent extrapolation.

Formulas (Annex B, Tables B-1 and B-2, as cross-checked against three independent public
implementations; ``log`` is base 10):

=========  ==============================================  ===================================
model      LoS probability (``d2D > d1``)                   path loss (dB)
=========  ==============================================  ===================================
UMa-AV     ``d1 = max(460 log h - 700, 18)``,               LoS ``28 + 22 log d3D + 20 log fc``;
           ``p1 = 4300 log h - 3800`` (h <= 100 m)          NLoS ``-17.5 + (46 - 7 log h) log d3D
                                                            + 20 log(40 pi fc / 3)``
UMi-AV     ``d1 = max(294.05 log h - 432.94, 18)``,         LoS ``max(FSPL, 30.9 + (22.25 - 0.5
           ``p1 = 233.98 log h - 0.95``                     log h) log d3D + 20 log fc)``; NLoS
                                                            ``max(LoS, 32.4 + (43.2 - 7.6 log h)
                                                            log d3D + 20 log fc)``
RMa-AV     ``d1 = max(1350.8 log h - 1602, 18)``,           LoS ``max(23.9 - 1.8 log h, 20) log
           ``p1 = max(15021 log h - 16053, 1000)``          d3D + 20 log(40 pi fc / 3)``; NLoS
           (h <= 40 m)                                      ``max(LoS, -12 + (35 - 5.3 log h) log
                                                            d3D + 20 log(40 pi fc / 3))``
=========  ==============================================  ===================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "AERIAL_MODELS",
    "AerialValidity",
    "check_validity",
    "los_probability",
    "mean_path_loss_db",
    "path_loss_los_db",
    "path_loss_nlos_db",
]


@dataclass(frozen=True)
class AerialValidity:
    """Where a TR 36.777 aerial model holds: ``h_min < h_UT <= h_max``, ``d2D <= d2d_max``."""

    h_min_m: float
    h_max_m: float
    d2d_max_m: float


AERIAL_MODELS: dict[str, AerialValidity] = {
    "uma_av": AerialValidity(22.5, 300.0, 4000.0),
    "umi_av": AerialValidity(22.5, 300.0, 4000.0),
    "rma_av": AerialValidity(10.0, 300.0, 10000.0),
}


def _validity(model: str) -> AerialValidity:
    try:
        return AERIAL_MODELS[model]
    except KeyError:
        raise ValueError(f"aerial model: expected one of {', '.join(AERIAL_MODELS)}, got "
                         f"{model!r}") from None


def check_validity(model: str, h_ut_m: np.ndarray | float, d2d_m: np.ndarray | float) -> None:
    """Raise unless every ``(h_UT, d2D)`` lies in the model's validity range.

    Raises:
        ValueError: naming the model, the first offending value and the range.
    """
    v = _validity(model)
    h = np.asarray(h_ut_m, dtype=float)
    bad_h = ~((h > v.h_min_m) & (h <= v.h_max_m))
    if bad_h.any():
        raise ValueError(f"{model}: UAV height {float(h[bad_h].ravel()[0]):g} m is outside the "
                         f"TR 36.777 aerial range ({v.h_min_m:g}, {v.h_max_m:g}] m")
    d = np.asarray(d2d_m, dtype=float)
    bad_d = ~(d <= v.d2d_max_m)
    if bad_d.any():
        raise ValueError(f"{model}: horizontal distance {float(d[bad_d].ravel()[0]):g} m is "
                         f"beyond the TR 36.777 range of {v.d2d_max_m:g} m")


def los_probability(model: str, d2d_m: np.ndarray | float,
                    h_ut_m: np.ndarray | float) -> np.ndarray:
    """LoS probability of Table B-1 for heights in the aerial range (not checked here).

    Args:
        model: ``uma_av``, ``umi_av`` or ``rma_av``.
        d2d_m: horizontal distances (m).
        h_ut_m: UAV heights above ground (m).

    Returns:
        Probabilities in ``[0, 1]``, broadcast shape of the inputs.
    """
    _validity(model)
    d = np.maximum(np.asarray(d2d_m, dtype=float), 1e-9)
    h = np.asarray(h_ut_m, dtype=float)
    lh = np.log10(h)
    if model == "uma_av":
        d1 = np.maximum(460.0 * lh - 700.0, 18.0)
        p1 = 4300.0 * lh - 3800.0
        always = h > 100.0
    elif model == "umi_av":
        d1 = np.maximum(294.05 * lh - 432.94, 18.0)
        p1 = 233.98 * lh - 0.95
        always = np.zeros(np.shape(h), dtype=bool)
    else:  # rma_av
        d1 = np.maximum(1350.8 * lh - 1602.0, 18.0)
        p1 = np.maximum(15021.0 * lh - 16053.0, 1000.0)
        always = h > 40.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        decay = d1 / d + np.exp(-d / p1) * (1.0 - d1 / d)
    return np.where(always | (d <= d1), 1.0, decay)


def _fspl_db(d3d: np.ndarray, fc_ghz: float) -> np.ndarray:
    """Free space ``20 log10(40 pi d fc / 3)`` (d in m, fc in GHz)."""
    return 20.0 * np.log10(40.0 * math.pi * d3d * fc_ghz / 3.0)


def _terms(model: str, d3d_m: np.ndarray | float, h_ut_m: np.ndarray | float,
           frequency_hz: float) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """``(fc in GHz, d3D clamped to >= 1 m, log10 h_UT, log10 d3D)`` of a model's formulas."""
    _validity(model)
    d = np.maximum(np.asarray(d3d_m, dtype=float), 1.0)
    return frequency_hz / 1e9, d, np.log10(np.asarray(h_ut_m, dtype=float)), np.log10(d)


def path_loss_los_db(model: str, d3d_m: np.ndarray | float, h_ut_m: np.ndarray | float,
                     frequency_hz: float) -> np.ndarray:
    """LoS path loss of Table B-2 (dB); ``d3D`` is clamped to >= 1 m."""
    fc, d, lh, ld = _terms(model, d3d_m, h_ut_m, frequency_hz)
    if model == "uma_av":
        return 28.0 + 22.0 * ld + 20.0 * math.log10(fc) + 0.0 * lh
    if model == "umi_av":
        return np.maximum(_fspl_db(d, fc), 30.9 + (22.25 - 0.5 * lh) * ld + 20.0 * math.log10(fc))
    return np.maximum(23.9 - 1.8 * lh, 20.0) * ld + 20.0 * math.log10(40.0 * math.pi * fc / 3.0)


def path_loss_nlos_db(model: str, d3d_m: np.ndarray | float, h_ut_m: np.ndarray | float,
                      frequency_hz: float) -> np.ndarray:
    """NLoS path loss of Table B-2 (dB); ``d3D`` is clamped to >= 1 m.

    UMi-AV and RMa-AV take the maximum with the LoS loss, as the table does; UMa-AV's NLoS
    formula stands alone.
    """
    fc, d, lh, ld = _terms(model, d3d_m, h_ut_m, frequency_hz)
    if model == "uma_av":
        return -17.5 + (46.0 - 7.0 * lh) * ld + 20.0 * math.log10(40.0 * math.pi * fc / 3.0)
    los = path_loss_los_db(model, d, h_ut_m, frequency_hz)
    if model == "umi_av":
        return np.maximum(los, 32.4 + (43.2 - 7.6 * lh) * ld + 20.0 * math.log10(fc))
    return np.maximum(los, -12.0 + (35.0 - 5.3 * lh) * ld
                      + 20.0 * math.log10(40.0 * math.pi * fc / 3.0))


def mean_path_loss_db(model: str, d2d_m: np.ndarray | float, d3d_m: np.ndarray | float,
                      h_ut_m: np.ndarray | float, frequency_hz: float) -> np.ndarray:
    """Mean path loss ``P PL_LoS + (1 - P) PL_NLoS`` (dB), no validity check (see
    :func:`check_validity`).

    Args:
        model: ``uma_av``, ``umi_av`` or ``rma_av``.
        d2d_m: horizontal UAV-antenna distances (m).
        d3d_m: 3-D distances (m).
        h_ut_m: UAV heights above ground (m).
        frequency_hz: carrier frequency (Hz), ``> 0``.

    Returns:
        Path loss (dB), broadcast shape of the inputs.

    Raises:
        ValueError: an unknown model or a bad frequency.
    """
    if not (frequency_hz > 0 and math.isfinite(frequency_hz)):
        raise ValueError(f"frequency_hz: expected a positive frequency, got {frequency_hz}")
    p = los_probability(model, d2d_m, h_ut_m)
    return (p * path_loss_los_db(model, d3d_m, h_ut_m, frequency_hz)
            + (1.0 - p) * path_loss_nlos_db(model, d3d_m, h_ut_m, frequency_hz))
