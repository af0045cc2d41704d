"""The paper's closed forms for the pricing game, kept to show where they hold and fail.

Seed 000 (Section III-B) derives the follower demand and the leader prices in closed form
under assumptions it does not check.  MODEL.md A2/A3 lists the errors; these functions
implement the paper's formulas literally (with ``S_ij`` and ``delta_i`` per pair) so that the
tests and docs/pricing-game.md can compare them with the exact solver of
:mod:`agents.pricing.game`:

- eq. (18), slack-budget demand: exact whenever the budget does not bind.
- eq. (26), binding-budget demand: assumes every RSU stays active; when one drops out it
  returns a negative demand.  Eq. (28) zeroes it with a threshold that mixes ``sum_{k != j}``
  and ``sum_j``, and then the other demands are not re-solved, so the budget is overspent.
- eq. (32), binding-budget price: correct only while all RSUs are active and the budget
  binds; with a single RSU ``A - S_ij = 0`` and it divides by zero.
- eq. (36), slack-budget price ``sqrt(delta S q c)``: exact while the budget is slack.

Algorithm 1 of the paper (slack test, then eq. 18 or eq. 28) is :func:`paper_algorithm1`.
"""

from __future__ import annotations

import numpy as np

from agents.pricing.game import PricingGame

__all__ = [
    "paper_algorithm1",
    "paper_binding_demand",
    "paper_binding_price",
    "paper_slack_demand",
    "paper_slack_price",
]


def paper_slack_demand(game: PricingGame, prices: np.ndarray) -> np.ndarray:
    """Eq. (18): ``b = delta S / p - 1 / q`` if ``p < delta q S`` else 0 (budget ignored).

    Args:
        game: the pricing round.
        prices: ``[I, J]`` posted prices (> 0).

    Returns:
        ``[I, J]`` the paper's slack-budget demand.
    """
    a, q, p = game.weight, game.spectral_efficiency, np.asarray(prices, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = a / p - 1.0 / q
    return np.where(p < a * q, b, 0.0)


def paper_binding_demand(game: PricingGame, prices: np.ndarray, *,
                         eq28_threshold: bool = False) -> np.ndarray:
    """Eq. (26): ``b = S (R + sum_j p/q) / (p sum_j S) - 1/q``, every RSU assumed active.

    Args:
        game: the pricing round.
        prices: ``[I, J]`` posted prices (> 0).
        eq28_threshold: apply eq. (28): demand 0 when
            ``p_ij >= S_ij q_ij (R_i + sum_{k != j} p_ik / q_ik) / sum_{k != j} S_ik``.

    Returns:
        ``[I, J]`` the paper's binding-budget demand (may be negative without eq. 28).
    """
    s, q, p = game.quality_gain, game.spectral_efficiency, np.asarray(prices, dtype=float)
    r = game.budget[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        w = p / q
        b = s * (r + w.sum(axis=1, keepdims=True)) / (p * s.sum(axis=1, keepdims=True)) - 1 / q
        if not eq28_threshold:
            return b
        b_rest = w.sum(axis=1, keepdims=True) - w
        s_rest = s.sum(axis=1, keepdims=True) - s
        threshold = s * q * (r + b_rest) / s_rest
    return np.where(p < threshold, b, 0.0)


def paper_algorithm1(game: PricingGame, prices: np.ndarray) -> np.ndarray:
    """Algorithm 1: eq. (18) if its spending fits the budget, else eq. (28), per UAV.

    Args:
        game: the pricing round.
        prices: ``[I, J]`` posted prices (> 0).

    Returns:
        ``[I, J]`` the paper's follower demand.
    """
    p = np.asarray(prices, dtype=float)
    slack = paper_slack_demand(game, p)
    fits = (p * slack).sum(axis=1) <= game.budget
    binding = paper_binding_demand(game, p, eq28_threshold=True)
    return np.where(fits[:, None], slack, binding)


def paper_binding_price(game: PricingGame, prices: np.ndarray) -> np.ndarray:
    """Eq. (32): ``sqrt(q c S (R + B) / (A - S))``, ``A = sum_k S_ik``, ``B = sum_{k!=j} p/q``.

    Not clipped.  With a single RSU ``A - S = 0``: the result is ``inf`` (division by zero,
    as in the paper).

    Args:
        game: the pricing round.
        prices: ``[I, J]`` the other RSUs' prices (column ``j`` is used only for others).

    Returns:
        ``[I, J]`` the paper's best-response price of every RSU to every UAV.
    """
    s, q, p = game.quality_gain, game.spectral_efficiency, np.asarray(prices, dtype=float)
    w = p / q
    b_rest = w.sum(axis=1, keepdims=True) - w
    s_rest = s.sum(axis=1, keepdims=True) - s
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(q * game.cost * s * (game.budget[:, None] + b_rest) / s_rest)


def paper_slack_price(game: PricingGame) -> np.ndarray:
    """Eq. (36): ``sqrt(delta S q c)`` per pair (not clipped to ``[c, pbar]``).

    Args:
        game: the pricing round.

    Returns:
        ``[I, J]`` the paper's slack-budget price (NaN where ``S < 0``).
    """
    with np.errstate(invalid="ignore"):
        return np.sqrt(game.weight * game.spectral_efficiency * game.cost)
