"""The run's random generators: one seed, one independent stream per subsystem.

``numpy.random.SeedSequence(seed).spawn`` gives every subsystem its own generator, so adding a
draw in one subsystem never shifts the draws of another, and two runs with the same seed see
the same world. The order of :data:`SUBSYSTEMS` is part of reproducibility: append new
subsystems at the end, never reorder.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SUBSYSTEMS", "spawn_rngs"]

SUBSYSTEMS = ("placement", "uavs", "mobility", "radio", "market", "sensing", "agents",
              "faults", "shadowing")
"""Order in which the run seed is spawned into per-subsystem generators (never reorder)."""


def spawn_rngs(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per subsystem, derived from the run's single seed.

    Args:
        seed: the run seed (>= 0).

    Returns:
        ``{name: Generator}`` for every name in :data:`SUBSYSTEMS`.
    """
    children = np.random.SeedSequence(seed).spawn(len(SUBSYSTEMS))
    return {name: np.random.default_rng(s) for name, s in zip(SUBSYSTEMS, children, strict=True)}
