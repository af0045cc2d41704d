"""The registry of radio models: names, what each needs, and mean path loss between positions.

Every model maps a UAV position and an RSU antenna position to a *mean* path loss (dB), except
``table2``, the seed paper's position-free gain draw. The scenario's ``radio.model`` takes its
choices from :data:`RADIO_MODELS`; the world and the coverage read the model through
:class:`PathLoss`. Heights come from the positions' z (metres above ground).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.world.radio import aerial_3gpp, air_to_ground
from simulator.world.radio.core import free_space_gain_db, log_distance_gain_db

__all__ = ["RADIO_MODELS", "RADIO_MODEL_NAMES", "PathLoss", "RadioModel"]


@dataclass(frozen=True)
class PathLoss:
    """One radio model with its parameters: mean path loss between UAVs and RSU antennas.

    Attributes:
        model: a key of :data:`RADIO_MODELS` other than ``table2``.
        frequency_hz: carrier frequency (Hz).
        environment: Al-Hourani environment (``al_hourani`` only).
        exponent: path-loss exponent (``log_distance`` only).
        reference_loss_db: loss at 1 m (``log_distance`` only).
    """

    model: str
    frequency_hz: float = 2.4e9
    environment: str = "urban"
    exponent: float = 2.5
    reference_loss_db: float = 40.0

    def __post_init__(self) -> None:
        spec = RADIO_MODELS.get(self.model)
        if spec is None or not spec.position_dependent:
            names = [n for n, m in RADIO_MODELS.items() if m.position_dependent]
            raise ValueError(f"PathLoss: model must be one of {', '.join(names)}, got "
                             f"{self.model!r}")
        if not (self.frequency_hz > 0 and math.isfinite(self.frequency_hz)):
            raise ValueError(f"PathLoss: frequency_hz must be > 0, got {self.frequency_hz}")
        if self.model == "al_hourani" and self.environment not in air_to_ground.ENVIRONMENTS:
            raise ValueError(f"PathLoss: environment must be one of "
                             f"{', '.join(air_to_ground.ENVIRONMENTS)}, got {self.environment!r}")

    def mean_path_loss_db(self, uav_xyz: np.ndarray, rsu_xyz: np.ndarray) -> np.ndarray:
        """Mean path loss (dB) between UAV positions and RSU antennas (broadcast ``[..., 3]``)."""
        uav = np.asarray(uav_xyz, dtype=float)
        rsu = np.asarray(rsu_xyz, dtype=float)
        dx = uav[..., 0] - rsu[..., 0]
        dy = uav[..., 1] - rsu[..., 1]
        dz = uav[..., 2] - rsu[..., 2]
        r = np.hypot(dx, dy)
        return RADIO_MODELS[self.model].path_loss(self, r, dz, uav[..., 2] + 0.0 * dz)

    def check_validity(self, uav_height_m: np.ndarray | float,
                       horizontal_m: np.ndarray | float) -> None:
        """Raise ``ValueError`` if a model with a validity range is used outside it."""
        if self.model in aerial_3gpp.AERIAL_MODELS:
            aerial_3gpp.check_validity(self.model, uav_height_m, horizontal_m)


@dataclass(frozen=True)
class RadioModel:
    """A registered radio model.

    Attributes:
        name: the scenario's ``radio.model`` value.
        summary: one line for the docs.
        position_dependent: False for ``table2`` (gain drawn per pair, no geometry).
        path_loss: ``(params, r, dz, h_ut) -> dB`` with horizontal distance ``r``, height
            ``dz`` above the antenna and UAV height ``h_ut`` above ground; None for ``table2``.
    """

    name: str
    summary: str
    position_dependent: bool
    path_loss: Callable[[PathLoss, np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None


def _free_space(p: PathLoss, r: np.ndarray, dz: np.ndarray, h: np.ndarray) -> np.ndarray:
    return -free_space_gain_db(np.hypot(r, dz), p.frequency_hz)


def _log_distance(p: PathLoss, r: np.ndarray, dz: np.ndarray, h: np.ndarray) -> np.ndarray:
    return -log_distance_gain_db(np.hypot(r, dz), exponent=p.exponent,
                                 reference_loss_db=p.reference_loss_db)


def _al_hourani(p: PathLoss, r: np.ndarray, dz: np.ndarray, h: np.ndarray) -> np.ndarray:
    return air_to_ground.mean_path_loss_db(dz, r, p.frequency_hz, p.environment)


def _aerial(p: PathLoss, r: np.ndarray, dz: np.ndarray, h: np.ndarray) -> np.ndarray:
    return aerial_3gpp.mean_path_loss_db(p.model, r, np.hypot(r, dz), h, p.frequency_hz)


RADIO_MODELS: dict[str, RadioModel] = {m.name: m for m in (
    RadioModel("table2", "gain drawn uniformly from radio.gain_db per pair and round "
               "(seed paper Table II; no geometry)", False, None),
    RadioModel("log_distance", "reference_loss_db + 10 n log10(d / 1 m)", True, _log_distance),
    RadioModel("free_space", "Friis free space at frequency_hz", True, _free_space),
    RadioModel("al_hourani", "Al-Hourani et al. 2014 air-to-ground: free space + "
               "elevation-dependent LoS/NLoS excess loss (radio.environment)", True, _al_hourani),
    RadioModel("uma_av", "3GPP TR 36.777 urban macro, aerial UE (22.5-300 m, d2D <= 4 km)",
               True, _aerial),
    RadioModel("umi_av", "3GPP TR 36.777 urban micro, aerial UE (22.5-300 m, d2D <= 4 km)",
               True, _aerial),
    RadioModel("rma_av", "3GPP TR 36.777 rural macro, aerial UE (10-300 m, d2D <= 10 km)",
               True, _aerial),
)}

#: The names, in documentation order (the scenario schema's choices).
RADIO_MODEL_NAMES: tuple[str, ...] = tuple(RADIO_MODELS)
