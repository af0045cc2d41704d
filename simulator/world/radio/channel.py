"""The channel of a pricing round: the gain of every UAV-RSU pair under the scenario's model.

The paper's Table II model draws the gain per pair and round; every other model of the
registry (:mod:`simulator.world.radio.registry`) gives the *mean* path loss at the UAV's
current position. Optional log-normal shadowing (``radio.shadowing_std_db > 0``) adds one
Gaussian draw in dB per (UAV, RSU, trajectory segment): seeded from the run's ``shadowing``
generator and the triple itself, so a pair keeps its draw while the UAV flies one segment and
the draw does not depend on which rounds happened before. Shadowing feeds the spectral
efficiency of the round; coverage always uses the mean (MODEL.md D1-D3).
"""

from __future__ import annotations

import numpy as np

from simulator.config.world import RadioConfig
from simulator.world.radio.core import free_space_gain_db, log_distance_gain_db
from simulator.world.radio.registry import PathLoss

__all__ = ["channel_gain_db", "path_loss_of", "shadowing_db"]


def path_loss_of(radio: RadioConfig) -> PathLoss:
    """The scenario's radio model with its parameters (not for ``table2``)."""
    return PathLoss(radio.model, frequency_hz=radio.frequency_hz, environment=radio.environment,
                    exponent=radio.path_loss_exponent, reference_loss_db=radio.reference_loss_db)


def reads_positions(radio: RadioConfig) -> bool:
    """Whether :func:`channel_gain_db` reads the positions (all models but Table II's, which
    draws the gain per pair and uses only the number of UAVs and RSUs)."""
    return radio.model != "table2"


def channel_gain_db(radio: RadioConfig, rng: np.random.Generator, uav_positions: np.ndarray,
                    rsu_positions: np.ndarray) -> np.ndarray:
    """Gain (dB) of every UAV-RSU pair under the scenario's radio model (no shadowing).

    The paper's Table II model draws the gain per pair and round from ``rng``; the path-loss
    models use the positions (the distance-only ones the 3-D distance).

    Args:
        radio: the scenario's ``radio`` section (``model`` and its parameters).
        rng: generator of the per-round radio draws.
        uav_positions: ``[I, 3]`` UAV positions (m).
        rsu_positions: ``[J, 3]`` RSU antenna positions (m).

    Returns:
        ``[I, J]`` gains in dB.
    """
    if not reads_positions(radio):
        return radio.gain_db.draw(rng, (len(uav_positions), len(rsu_positions)))
    if radio.model in ("free_space", "log_distance"):
        d = np.linalg.norm(uav_positions[:, None, :] - rsu_positions[None, :, :], axis=2)
        if radio.model == "free_space":
            return free_space_gain_db(d, radio.frequency_hz)
        return log_distance_gain_db(d, exponent=radio.path_loss_exponent,
                                    reference_loss_db=radio.reference_loss_db)
    return -path_loss_of(radio).mean_path_loss_db(uav_positions[:, None, :],
                                                  rsu_positions[None, :, :])


def shadowing_db(root: int, uav_ids: np.ndarray, rsu_ids: np.ndarray, segments: np.ndarray,
                 std_db: float) -> np.ndarray:
    """Shadowing (dB) of every pair: ``N(0, std_db)``, one draw per (UAV, RSU, segment).

    Args:
        root: the run's shadowing entropy (an integer drawn once from its generator).
        uav_ids: ``[I]`` UAV ids.
        rsu_ids: ``[J]`` RSU ids.
        segments: ``[I]`` index of the trajectory segment each UAV is flying.
        std_db: standard deviation (dB), ``>= 0``.

    Returns:
        ``[I, J]`` draws (zeros when ``std_db == 0``).
    """
    out = np.zeros((len(uav_ids), len(rsu_ids)))
    if std_db == 0:
        return out
    for i, (u, k) in enumerate(zip(np.asarray(uav_ids).tolist(), np.asarray(segments).tolist(),
                                   strict=True)):
        for j, r in enumerate(np.asarray(rsu_ids).tolist()):
            seq = np.random.SeedSequence([int(root), int(u), int(r), int(k)])
            out[i, j] = std_db * np.random.default_rng(seq).standard_normal()
    return out
