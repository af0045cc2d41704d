"""Random pricing rounds (Table II of seed 000) and an independent check of equilibria.

A round of the twin-migration pricing game needs, per UAV, an immersion weight, an SSIM
threshold and a budget; per RSU, a bandwidth cost and a price cap; per UAV-RSU pair, an SSIM
``l c s`` and a spectral efficiency ``log2(1 + m_j g_ij / sigma_j^2)``.  The paper draws them
uniformly from Table II; :class:`GameDistribution` holds those ranges and :func:`draw_game`
draws one :class:`agents.pricing.game.PricingGame` from them.

MODEL.md A3 asks that every equilibrium be verified: no RSU may gain more than a relative
1e-6 by any unilateral price in its interval.  :func:`max_unilateral_gain` measures that gain
without the solver's best-response machinery (grid plus golden-section search on the exact
follower demand of :func:`demand_core`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from agents.pricing.checks import check_prices
from agents.pricing.game import PricingGame

__all__ = ["GameDistribution", "demand_core", "draw_game", "max_unilateral_gain"]


@dataclass(frozen=True)
class GameDistribution:
    """Ranges ``(lo, hi)`` of the paper's Table II, each drawn uniformly by :func:`draw_game`.

    Attributes:
        noise_dbm: noise power ``sigma_j^2`` per RSU (dBm).
        gain_db: channel gain ``g_ij`` per UAV-RSU pair (dB); the paper draws it per RSU.
        power_dbm: transmit power ``m_j`` per RSU (dBm).
        ssim_component: range of each of ``l, c, s`` per pair; ``SSIM = l c s``.  The paper
            says ``[0, 1]``; (0.85, 1.0) keeps every pair above the threshold by default.
        ssim_threshold: ``SSIM_th_i`` per UAV.
        delta: immersion weight ``delta_i`` per UAV.
        cost: bandwidth cost ``c_j`` per RSU.
        price_cap: price cap ``pbar_j`` per RSU (raised to ``c_j`` if drawn below it).
        budget: budget ``R_i`` per UAV (not in the paper; chosen so that budgets bind for
            most UAVs with 5 RSUs and are slack for some with 1-2).
    """

    noise_dbm: tuple[float, float] = (-116.0, -112.0)
    gain_db: tuple[float, float] = (-25.0, -22.0)
    power_dbm: tuple[float, float] = (20.0, 25.0)
    ssim_component: tuple[float, float] = (0.85, 1.0)
    ssim_threshold: tuple[float, float] = (0.5, 0.55)
    delta: tuple[float, float] = (10.0, 20.0)
    cost: tuple[float, float] = (1.0, 4.0)
    price_cap: tuple[float, float] = (5.0, 35.0)
    budget: tuple[float, float] = (2.0, 10.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            lo, hi = getattr(self, f.name)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise ValueError(f"GameDistribution.{f.name}: expected finite lo <= hi, "
                                 f"got {(lo, hi)!r}")


def draw_game(rng: np.random.Generator, n_uavs: int, n_rsus: int,
              dist: GameDistribution = GameDistribution()) -> PricingGame:  # noqa: B008
    """Draw a random pricing round from the Table II ranges of ``dist``.

    Args:
        rng: the generator to draw from (the caller owns the seed).
        n_uavs: number of UAVs ``I`` (>= 1).
        n_rsus: number of RSUs ``J`` (>= 1).
        dist: the ranges.

    Returns:
        A :class:`~agents.pricing.game.PricingGame` with every pair available; ``q_ij`` from
        ``SNR = m_j g_ij / sigma_j^2`` in linear units.

    Raises:
        ValueError: if ``n_uavs`` or ``n_rsus`` < 1 or a drawn value is out of range.
    """
    if n_uavs < 1 or n_rsus < 1:
        raise ValueError(f"draw_game: need n_uavs, n_rsus >= 1, got {n_uavs}, {n_rsus}")

    def u(r: tuple[float, float], shape: tuple[int, ...]) -> np.ndarray:
        return rng.uniform(r[0], r[1], size=shape)

    i, j = n_uavs, n_rsus
    snr_db = u(dist.power_dbm, (j,)) + u(dist.gain_db, (i, j)) - u(dist.noise_dbm, (j,))
    ssim = np.prod(u(dist.ssim_component, (3, i, j)), axis=0)
    cost = u(dist.cost, (j,))
    return PricingGame(
        delta=u(dist.delta, (i,)), ssim=np.clip(ssim, 1e-12, 1.0),
        ssim_threshold=u(dist.ssim_threshold, (i,)),
        spectral_efficiency=np.log2(1.0 + 10.0 ** (snr_db / 10.0)),
        budget=u(dist.budget, (i,)), cost=cost,
        price_cap=np.maximum(u(dist.price_cap, (j,)), cost))


def demand_core(a: np.ndarray, q: np.ndarray, p: np.ndarray, budget: np.ndarray,
                 viable: np.ndarray) -> np.ndarray:
    """Exact follower demand over the last axis (RSUs) of broadcastable arrays.

    ``a, q, p, viable`` have shape ``[..., J]`` and ``budget`` ``[...]``; prices must be > 0.
    Returns ``b`` of shape ``[..., J]``: ``b = max(0, a / (p nu) - 1 / q)`` with the budget
    multiplier ``nu = max(1, max_k A_k / (R + W_k))`` over the prefixes of the pairs sorted by
    ``a q / p`` (MODEL A2; see :mod:`agents.pricing.game`).
    """
    a, q, p, viable = np.broadcast_arrays(a, q, p, viable)
    a_v = np.where(viable, a, 0.0)
    w = np.divide(p, q, out=np.zeros(p.shape), where=viable)      # p / q
    t = np.divide(a_v, w, out=np.zeros(p.shape), where=viable)    # a q / p
    order = np.argsort(-t, axis=-1, kind="stable")
    cum_a = np.cumsum(np.take_along_axis(a_v, order, axis=-1), axis=-1)
    cum_w = np.cumsum(np.take_along_axis(w, order, axis=-1), axis=-1)
    in_prefix = np.take_along_axis(viable, order, axis=-1)
    denom = np.asarray(budget, dtype=float)[..., None] + cum_w
    nu_k = np.divide(cum_a, denom, out=np.zeros(denom.shape), where=in_prefix & (denom > 0))
    nu = np.maximum(1.0, nu_k.max(axis=-1, initial=1.0))
    inv_q = np.divide(1.0, q, out=np.zeros(p.shape), where=viable)
    b = a_v / (p * nu[..., None]) - inv_q
    return np.where(viable & (b > 0), b, 0.0)


def max_unilateral_gain(game: PricingGame, prices: np.ndarray, *, grid: int = 401,
                        refine: int = 60) -> np.ndarray:
    """``[J]`` relative gain of each RSU's best unilateral deviation from ``prices``.

    Independent of the best-response machinery: RSU ``j``'s revenue from every UAV is
    evaluated with :func:`demand_core` on a uniform grid of ``grid`` prices in
    ``[c_j, pbar_j]``, then refined per UAV by golden-section search in the bracket around the
    best grid point.  The gain is ``(V_j(best) - V_j(prices)) / max(V_j(prices), 1e-12)``.

    Args:
        game: the pricing round.
        prices: ``[I, J]`` candidate equilibrium prices.
        grid: number of grid prices per RSU (>= 3).
        refine: golden-section iterations.

    Returns:
        ``[J]`` relative gains (>= 0 up to rounding).
    """
    p0 = check_prices(game, prices)
    a, q, v, budget = game.weight, game.spectral_efficiency, game.viable, game.budget
    rows = np.arange(game.n_uavs)
    gains = np.zeros(game.n_rsus)
    for j in range(game.n_rsus):
        c, pbar = float(game.cost[j]), float(game.price_cap[j])

        def revenue(pj: np.ndarray, j: int = j, c: float = c) -> np.ndarray:
            p = np.broadcast_to(p0, pj.shape + (game.n_rsus,)).copy()
            p[..., j] = pj
            return (pj - c) * demand_core(a, q, p, budget, v)[..., j]

        base = revenue(p0[:, j])
        levels = np.linspace(c, pbar, max(grid, 3))
        r_grid = revenue(np.repeat(levels[:, None], game.n_uavs, axis=1))   # [G, I]
        k = np.argmax(r_grid, axis=0)
        lo = levels[np.maximum(k - 1, 0)]
        hi = levels[np.minimum(k + 1, levels.size - 1)]
        ratio = (np.sqrt(5.0) - 1.0) / 2.0
        x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        f1, f2 = revenue(x1), revenue(x2)
        for _ in range(refine):
            left = f1 >= f2
            hi = np.where(left, x2, hi)
            lo = np.where(left, lo, x1)
            x1n, x2n = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
            f_new = revenue(np.where(left, x1n, x2n))
            f2, f1 = np.where(left, f1, f_new), np.where(left, f_new, f2)
            x2, x1 = np.where(left, x1, x2n), np.where(left, x1n, x2)
        best = np.maximum.reduce([r_grid[k, rows], f1, f2, base])
        v_j = float(base.sum())
        gains[j] = (float(best.sum()) - v_j) / max(v_j, 1e-12)
    return gains
