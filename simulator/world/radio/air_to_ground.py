"""Air-to-ground path loss of Al-Hourani, Kandeepan and Lardner (IEEE WCL 2014), MODEL.md D1.

A UAV seen from a ground antenna is in line of sight (LoS) with a probability that grows with
the elevation angle ``theta`` (degrees), a sigmoid fitted to ITU-R urban statistics:
``P_LoS = 1 / (1 + a exp(-b (theta - a)))``. Each path adds an excess loss to free space,
``eta_LoS`` or ``eta_NLoS`` dB, so the *mean* path loss at height ``h`` above the antenna and
horizontal distance ``r`` is

``PL(h, r) = FSPL(d) + P_LoS eta_LoS + (1 - P_LoS) eta_NLoS``,  ``d = sqrt(h^2 + r^2)``.

Raising a UAV lengthens the path but clears the buildings: for a given maximum path loss the
coverage radius ``R(h)`` has one maximum. Writing ``d = r / cos(theta)`` shows that
``PL = 20 log10(r) + [FSPL(1 m) - 20 log10(cos theta) + excess(theta)]``, so the radius is
largest at the elevation angle that minimises the bracket, whatever the path-loss budget:
:func:`optimal_elevation_deg` finds it (about 20.34, 42.44, 54.62 and 75.52 degrees for the
four environments, the paper's values) and :func:`optimal_altitude` turns it into ``(h*, R*)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.world.radio.core import SPEED_OF_LIGHT_MPS

__all__ = [
    "ENVIRONMENTS",
    "AlHouraniEnvironment",
    "coverage_radius_m",
    "elevation_deg",
    "los_probability",
    "mean_path_loss_db",
    "optimal_altitude",
    "optimal_elevation_deg",
]


@dataclass(frozen=True)
class AlHouraniEnvironment:
    """One environment of the paper's Table I (parameters as widely reproduced).

    Attributes:
        name: registry key (``suburban``, ``urban``, ``dense_urban``, ``high_rise``).
        a, b: sigmoid parameters of the LoS probability (``a`` in degrees, ``b`` per degree).
        eta_los_db: mean excess loss of LoS paths over free space, dB.
        eta_nlos_db: mean excess loss of NLoS paths, dB.
    """

    name: str
    a: float
    b: float
    eta_los_db: float
    eta_nlos_db: float


ENVIRONMENTS: dict[str, AlHouraniEnvironment] = {
    e.name: e for e in (
        AlHouraniEnvironment("suburban", 4.88, 0.43, 0.1, 21.0),
        AlHouraniEnvironment("urban", 9.61, 0.16, 1.0, 20.0),
        AlHouraniEnvironment("dense_urban", 12.08, 0.11, 1.6, 23.0),
        AlHouraniEnvironment("high_rise", 27.23, 0.08, 2.3, 34.0),
    )
}


def _env(environment: str | AlHouraniEnvironment) -> AlHouraniEnvironment:
    if isinstance(environment, AlHouraniEnvironment):
        return environment
    try:
        return ENVIRONMENTS[environment]
    except KeyError:
        raise ValueError(f"environment: expected one of {', '.join(ENVIRONMENTS)}, got "
                         f"{environment!r}") from None


def elevation_deg(height_m: np.ndarray | float, horizontal_m: np.ndarray | float) -> np.ndarray:
    """Elevation angle ``atan2(h, r)`` in degrees (90 right above the antenna, < 0 below it)."""
    return np.degrees(np.arctan2(np.asarray(height_m, dtype=float),
                                 np.asarray(horizontal_m, dtype=float)))


def los_probability(elevation: np.ndarray | float,
                    environment: str | AlHouraniEnvironment) -> np.ndarray:
    """``P_LoS = 1 / (1 + a exp(-b (theta - a)))`` for elevation angles ``theta`` (degrees).

    Raises:
        ValueError: an unknown environment.
    """
    env = _env(environment)
    theta = np.asarray(elevation, dtype=float)
    with np.errstate(over="ignore"):  # far below the horizon exp() overflows: P -> 0
        return 1.0 / (1.0 + env.a * np.exp(-env.b * (theta - env.a)))


def _excess_db(theta: np.ndarray | float, env: AlHouraniEnvironment) -> np.ndarray:
    p = los_probability(theta, env)
    return p * env.eta_los_db + (1.0 - p) * env.eta_nlos_db


def mean_path_loss_db(height_m: np.ndarray | float, horizontal_m: np.ndarray | float,
                      frequency_hz: float, environment: str | AlHouraniEnvironment, *,
                      min_distance_m: float = 1.0) -> np.ndarray:
    """Mean air-to-ground path loss ``FSPL(d) + P_LoS eta_LoS + (1 - P_LoS) eta_NLoS`` (dB).

    Args:
        height_m: UAV height above the antenna (m); negative = below it.
        horizontal_m: horizontal UAV-antenna distance (m), ``>= 0``.
        frequency_hz: carrier frequency (Hz), ``> 0``.
        environment: a key of :data:`ENVIRONMENTS` or an environment.
        min_distance_m: near-field clamp of ``d`` (m).

    Returns:
        Path loss (dB, positive), broadcast shape of the inputs.

    Raises:
        ValueError: bad frequency or environment.
    """
    env = _env(environment)
    if not (frequency_hz > 0 and math.isfinite(frequency_hz)):
        raise ValueError(f"frequency_hz: expected a positive frequency, got {frequency_hz}")
    h = np.asarray(height_m, dtype=float)
    r = np.asarray(horizontal_m, dtype=float)
    d = np.maximum(np.hypot(h, r), min_distance_m)
    fspl = 20.0 * np.log10(4.0 * math.pi * frequency_hz * d / SPEED_OF_LIGHT_MPS)
    return fspl + _excess_db(elevation_deg(h, r), env)


def optimal_elevation_deg(environment: str | AlHouraniEnvironment) -> float:
    """The elevation angle that maximises the coverage radius for any path-loss budget.

    Minimises ``excess(theta) - 20 log10(cos theta)`` over ``(0, 90)`` degrees (bounded
    Brent search to 1e-10 degrees).
    """
    from scipy.optimize import minimize_scalar  # scipy.optimize is heavy: only when solving

    env = _env(environment)
    res = minimize_scalar(
        lambda t: float(_excess_db(t, env)) - 20.0 * math.log10(math.cos(math.radians(t))),
        bounds=(1e-6, 90.0 - 1e-6), method="bounded", options={"xatol": 1e-10})
    return float(res.x)


def coverage_radius_m(height_m: float, max_path_loss_db: float, frequency_hz: float,
                      environment: str | AlHouraniEnvironment) -> float:
    """Largest horizontal distance at which the mean path loss is at most ``max_path_loss_db``.

    The mean path loss grows with ``r`` at fixed height (the path lengthens and the angle
    drops), so the radius is the one root of ``PL(h, r) = L``, found by Brent's method to
    1e-9 m; 0 if even the point straight above the antenna loses more than ``L``.
    """
    from scipy.optimize import brentq  # scipy.optimize is heavy: only when solving

    env = _env(environment)

    def gap(r: float) -> float:
        return float(mean_path_loss_db(height_m, r, frequency_hz, env)) - max_path_loss_db

    if gap(0.0) > 0:
        return 0.0
    hi = max(1.0, abs(height_m))
    while gap(hi) <= 0:
        hi *= 2.0
        if hi > 1e9:
            raise ValueError(f"coverage_radius_m: no finite radius for {max_path_loss_db} dB")
    return float(brentq(gap, 0.0, hi, xtol=1e-9, rtol=4 * np.finfo(float).eps))


def optimal_altitude(max_path_loss_db: float, frequency_hz: float,
                     environment: str | AlHouraniEnvironment) -> tuple[float, float]:
    """Altitude ``h*`` (above the antenna) of the largest coverage radius ``R*`` (both m).

    At the optimum the cell edge is seen at :func:`optimal_elevation_deg`, so
    ``PL(R* tan theta*, R*) = L`` fixes ``R*`` (one root, Brent to 1e-9 m).
    """
    from scipy.optimize import brentq  # scipy.optimize is heavy: only when solving

    env = _env(environment)
    tan_opt = math.tan(math.radians(optimal_elevation_deg(env)))

    def gap(r: float) -> float:
        return float(mean_path_loss_db(r * tan_opt, r, frequency_hz, env)) - max_path_loss_db

    hi = 1.0
    while gap(hi) <= 0:
        hi *= 2.0
    r_opt = float(brentq(gap, 1e-9, hi, xtol=1e-9))
    return r_opt * tan_opt, r_opt
