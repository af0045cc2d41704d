"""The observation layout of a pricing agent: how many numbers describe one (RSU, UAV) pair.

The environment (:mod:`agents.marl.env`) builds observations of this width, the actor's first
layer takes it, and a checkpoint records it; this module holds the one formula so that a
checkpoint can be checked without loading the environment (gymnasium, PettingZoo) or torch.
"""

from __future__ import annotations

__all__ = ["n_features"]


def n_features(history: int) -> int:
    """Observation width of one (RSU, UAV) pair for a history of ``history`` iterations.

    Three numbers per past iteration (price, demand, exists flag) and four public ones.
    """
    return 3 * int(history) + 4
