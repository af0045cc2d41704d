"""Twin-migration pricing game: RSUs (leaders) sell bandwidth to UAVs (followers).

One pricing round is a multi-leader multi-follower Stackelberg game (MODEL.md Part A).
Every RSU ``j`` posts a price ``p_ij`` per MHz to every UAV ``i``; every UAV then buys the
bandwidth vector that maximises ``sum_j a_ij ln(1 + b_ij q_ij) - p_ij b_ij`` within its budget
``R_i`` (Stage II, MODEL A2); each RSU earns ``V_j = sum_i (p_ij - c_j) b_ij`` (Stage I, A3).

Follower response (A2).  With ``nu = 1 + lambda`` the KKT demand is
``b_ij = max(0, a_ij / (p_ij nu) - 1 / q_ij)``.  The spending ``g(nu) = sum_j p_ij b_ij(nu)``
equals ``max_S sum_{j in S} (a_ij / nu - p_ij / q_ij)`` over subsets ``S``, the best subset
being a prefix of the pairs sorted by ``a_ij q_ij / p_ij`` (water-filling).  Hence the budget
multiplier is ``nu_i = max(1, max_k A_k / (R_i + W_k))`` over those prefixes (``A_k``, ``W_k``:
prefix sums of ``a`` and ``p / q``): one sort per UAV, no iteration; slack and binding
budgets and RSUs dropping out of the active set are all handled by the same formula.

Leaders (A3).  ``b_ij`` depends only on the prices offered to UAV ``i``, so the game is
``I`` independent ``J``-player games, solved side by side.  RSU ``j``'s revenue from UAV ``i``,
``f(p) = (p - c_j) b_ij(p)``, is concave wherever it is positive: concave inside each regime
(budget binding with a given set of rival RSUs active; budget slack), and its kinks (a rival
enters the active set; the budget stops binding) are concave kinks.  Its maximiser is thus a
regime's stationary point or a kink, all in closed form: ``sqrt(a q c)`` (slack),
``sqrt(q c a_ij (R_i + W_m) / A_m)`` (binding, first ``m`` rivals active: the paper's eq. 32
with the right active set), the slack boundary ``q (a_ij + A_m - R_i - W_m)`` (the monopoly
price ``q (a - R)`` when ``m = 0``), the rival-entry kinks and the interval ends.  The best
response evaluates every candidate exactly and keeps the best; best responses are iterated
Gauss-Seidel over RSUs until the prices stop moving.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields

import numpy as np

__all__ = [
    "EquilibriumResult",
    "GameDistribution",
    "PricingGame",
    "best_response",
    "draw_game",
    "follower_demand",
    "max_unilateral_gain",
    "rsu_utility",
    "solve_equilibrium",
    "uav_utility",
]

logger = logging.getLogger(__name__)


def _check(name: str, value: object, shape: tuple[int, ...], *, lo: float | None = None,
           lo_open: bool = False, hi: float | None = None) -> np.ndarray:
    """Coerce ``value`` to a read-only float array of ``shape`` and check its range."""
    arr = np.array(value, dtype=float)
    if arr.shape != shape:
        raise ValueError(f"PricingGame.{name}: expected shape {shape}, got {arr.shape}")
    bad = ~np.isfinite(arr)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= arr > hi
    if bad.any():
        idx = tuple(int(k) for k in np.argwhere(bad)[0])
        rng = f"{'(' if lo_open else '['}{lo}, {hi}]"
        raise ValueError(f"PricingGame.{name}{list(idx)} = {float(arr[idx])!r} not finite "
                         f"in {rng}")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class PricingGame:
    """One pricing round: ``I`` UAVs (followers) x ``J`` RSUs (leaders). Arrays are read-only.

    Attributes:
        delta: ``[I]`` immersion weight ``delta_i = xi_i mu_i`` (>= 0).
        ssim: ``[I, J]`` SSIM of the pair, in ``(0, 1]``.
        ssim_threshold: ``[I]`` SSIM threshold of the UAV, in ``(0, 1]``.
        spectral_efficiency: ``[I, J]`` ``q_ij = log2(1 + SNR)`` in bit/s/Hz (>= 0).
        budget: ``[I]`` payment budget ``R_i`` (>= 0).
        cost: ``[J]`` bandwidth cost ``c_j`` per MHz (> 0).
        price_cap: ``[J]`` price cap ``pbar_j >= c_j``.
        available: ``[I, J]`` bool, the pair can trade (RSU covers UAV); None means all.
    """

    delta: np.ndarray
    ssim: np.ndarray
    ssim_threshold: np.ndarray
    spectral_efficiency: np.ndarray
    budget: np.ndarray
    cost: np.ndarray
    price_cap: np.ndarray
    available: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_i = int(np.size(self.delta)) if np.ndim(self.delta) == 1 else -1
        n_j = int(np.size(self.cost)) if np.ndim(self.cost) == 1 else -1
        if n_i < 1:
            raise ValueError(f"PricingGame.delta: expected a non-empty 1-D array, got "
                             f"shape {np.shape(self.delta)}")
        if n_j < 1:
            raise ValueError(f"PricingGame.cost: expected a non-empty 1-D array, got "
                             f"shape {np.shape(self.cost)}")
        set_ = object.__setattr__
        set_(self, "delta", _check("delta", self.delta, (n_i,), lo=0.0))
        set_(self, "ssim", _check("ssim", self.ssim, (n_i, n_j), lo=0.0, lo_open=True, hi=1.0))
        set_(self, "ssim_threshold", _check("ssim_threshold", self.ssim_threshold, (n_i,),
                                            lo=0.0, lo_open=True, hi=1.0))
        set_(self, "spectral_efficiency", _check("spectral_efficiency",
                                                 self.spectral_efficiency, (n_i, n_j), lo=0.0))
        set_(self, "budget", _check("budget", self.budget, (n_i,), lo=0.0))
        set_(self, "cost", _check("cost", self.cost, (n_j,), lo=0.0, lo_open=True))
        set_(self, "price_cap", _check("price_cap", self.price_cap, (n_j,), lo=0.0))
        below = np.flatnonzero(self.price_cap < self.cost)
        if below.size:
            j = int(below[0])
            raise ValueError(f"PricingGame.price_cap[{j}] = {float(self.price_cap[j])!r} is "
                             f"below cost[{j}] = {float(self.cost[j])!r}")
        if self.available is not None:
            avail = np.array(self.available)
            if avail.shape != (n_i, n_j) or avail.dtype != bool:
                raise ValueError(f"PricingGame.available: expected bool array of shape "
                                 f"{(n_i, n_j)}, got {avail.dtype} {avail.shape}")
            avail.flags.writeable = False
            set_(self, "available", avail)

    @property
    def n_uavs(self) -> int:
        """Number of UAVs ``I``."""
        return int(self.delta.shape[0])

    @property
    def n_rsus(self) -> int:
        """Number of RSUs ``J``."""
        return int(self.cost.shape[0])

    @property
    def quality_gain(self) -> np.ndarray:
        """``[I, J]`` ``S_ij = ln(SSIM_ij / SSIM_th_i)``; <= 0 means the pair is not viable."""
        return np.log(self.ssim / self.ssim_threshold[:, None])

    @property
    def weight(self) -> np.ndarray:
        """``[I, J]`` ``a_ij = delta_i S_ij``, the weight of ``ln(1 + b q)`` in ``U_i``."""
        return self.delta[:, None] * self.quality_gain

    @property
    def viable(self) -> np.ndarray:
        """``[I, J]`` bool: pair available, ``S_ij > 0``, ``q_ij > 0`` and ``delta_i > 0``."""
        ok = (self.weight > 0) & (self.spectral_efficiency > 0)
        return ok if self.available is None else ok & self.available


# ---------------------------------------------------------------- Stage II: followers


def _demand_core(a: np.ndarray, q: np.ndarray, p: np.ndarray, budget: np.ndarray,
                 viable: np.ndarray) -> np.ndarray:
    """Exact follower demand over the last axis (RSUs) of broadcastable arrays.

    ``a, q, p, viable`` have shape ``[..., J]`` and ``budget`` ``[...]``; prices must be > 0.
    Returns ``b`` of shape ``[..., J]`` (see the module docstring for the formula).
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


def follower_demand(game: PricingGame, prices: np.ndarray) -> np.ndarray:
    """Bandwidth every UAV buys from every RSU at the given prices (MODEL A2, exact).

    Args:
        game: the pricing round.
        prices: ``[I, J]`` posted prices, each > 0.

    Returns:
        ``[I, J]`` demand in MHz; 0 for non-viable pairs and RSUs outside the active set.

    Raises:
        ValueError: if ``prices`` has the wrong shape or a non-positive / non-finite entry.
    """
    p = _check_prices(game, prices)
    return _demand_core(game.weight, game.spectral_efficiency, p, game.budget, game.viable)


def _check_prices(game: PricingGame, prices: np.ndarray) -> np.ndarray:
    p = np.asarray(prices, dtype=float)
    if p.shape != (game.n_uavs, game.n_rsus):
        raise ValueError(f"prices: expected shape {(game.n_uavs, game.n_rsus)}, got {p.shape}")
    if not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError(f"prices: every entry must be finite and > 0, got min {p.min()!r}")
    return p


def rsu_utility(game: PricingGame, prices: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """``[J]`` RSU utilities ``V_j = sum_i (p_ij - c_j) b_ij`` (MODEL A3)."""
    return ((np.asarray(prices) - game.cost) * np.asarray(demand)).sum(axis=0)


def uav_utility(game: PricingGame, prices: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """``[I]`` UAV utilities ``U_i = sum_j a_ij ln(1 + b_ij q_ij) - p_ij b_ij`` (MODEL A2)."""
    b = np.asarray(demand)
    gain = np.where(b > 0, game.weight * np.log1p(b * game.spectral_efficiency), 0.0)
    return (gain - np.asarray(prices) * b).sum(axis=1)


# ---------------------------------------------------------------- Stage I: leaders


def best_response(game: PricingGame, prices: np.ndarray, j: int) -> np.ndarray:
    """Exact best-response prices of RSU ``j`` to every UAV, the other prices fixed (A3).

    Args:
        game: the pricing round.
        prices: ``[I, J]`` current prices (column ``j`` is ignored).
        j: index of the RSU that moves.

    Returns:
        ``[I]`` maximisers of ``(p - c_j) b_ij(p)`` on ``[c_j, pbar_j]``; ``c_j`` where no price
        sells anything at a profit (non-viable pair, ``a q <= c``, zero budget).
    """
    a_all, q_all, v_all = game.weight, game.spectral_efficiency, game.viable
    others = np.arange(game.n_rsus) != j
    a, q, v = a_all[:, j], q_all[:, j], v_all[:, j]
    c, pbar, budget = float(game.cost[j]), float(game.price_cap[j]), game.budget
    # rivals sorted by a q / p: prefix sums A_m, W_m for m = 0..J-1 rivals active
    v_o = v_all[:, others]
    a_o = np.where(v_o, a_all[:, others], 0.0)
    w_o = np.divide(prices[:, others], q_all[:, others], out=np.zeros(a_o.shape), where=v_o)
    t_o = np.divide(a_o, w_o, out=np.zeros(a_o.shape), where=v_o)
    order = np.argsort(-t_o, axis=1, kind="stable")
    t_s = np.take_along_axis(t_o, order, axis=1)
    zero = np.zeros((game.n_uavs, 1))
    cum_a = np.hstack([zero, np.cumsum(np.take_along_axis(a_o, order, axis=1), axis=1)])
    cum_w = np.hstack([zero, np.cumsum(np.take_along_axis(w_o, order, axis=1), axis=1)])
    d_m = budget[:, None] + cum_w                                      # R + W_m
    a_j = np.where(v, a, 0.0)[:, None]
    q_j = np.where(v, q, 1.0)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        nu_rivals = np.where(cum_a[:, 1:] > 0, cum_a[:, 1:] / d_m[:, 1:], 0.0)
        nu_rivals = np.maximum(1.0, nu_rivals.max(axis=1, initial=1.0))
        n_m = a_j + cum_a
        cands = np.hstack([
            np.full((game.n_uavs, 1), c), np.full((game.n_uavs, 1), pbar),
            np.sqrt(a_j * q_j * c),                                    # slack optimum (eq. 36)
            q_j * (n_m - d_m),                                         # budget stops binding
            np.sqrt(q_j * c * a_j * d_m[:, 1:] / cum_a[:, 1:]),        # binding optimum (eq. 32)
            q_j * (n_m[:, :-1] / t_s - d_m[:, :-1]),                   # rival m+1 enters
        ])
    cands = np.clip(np.nan_to_num(cands, nan=c, posinf=pbar, neginf=c), c, pbar)
    # exact revenue at every candidate: nu = max(1, rivals alone, j + rival prefixes)
    nu = np.maximum(nu_rivals[:, None], (n_m[:, None, :] / (
        d_m[:, None, :] + cands[:, :, None] / q_j[:, :, None])).max(axis=2))
    b = np.maximum(0.0, a_j / (cands * nu) - 1.0 / q_j)
    revenue = np.where(v[:, None], (cands - c) * b, 0.0)
    best = np.argmax(revenue, axis=1)
    rows = np.arange(game.n_uavs)
    return np.where(revenue[rows, best] > 0, cands[rows, best], c)


@dataclass(frozen=True)
class EquilibriumResult:
    """Stackelberg equilibrium of one pricing round (MODEL A3).

    Attributes:
        prices: ``[I, J]`` equilibrium prices.
        demand: ``[I, J]`` follower demand at those prices (MHz).
        rsu_utility: ``[J]`` RSU utilities ``V_j``.
        uav_utility: ``[I]`` UAV utilities ``U_i``.
        converged: True if the last Gauss-Seidel sweep moved no price by more than ``tol``.
        iterations: number of sweeps performed.
        residual: largest absolute price change of the last sweep.
    """

    prices: np.ndarray
    demand: np.ndarray
    rsu_utility: np.ndarray
    uav_utility: np.ndarray
    converged: bool
    iterations: int
    residual: float


def initial_prices(game: PricingGame) -> np.ndarray:
    """``[I, J]`` slack-budget prices ``clip(sqrt(a q c), c, pbar)`` (``c`` if not viable)."""
    aqc = np.where(game.viable, game.weight * game.spectral_efficiency, 0.0) * game.cost
    return np.clip(np.sqrt(aqc), game.cost, game.price_cap)


def solve_equilibrium(game: PricingGame, *, tol: float = 1e-9,
                      max_iter: int = 500) -> EquilibriumResult:
    """Stackelberg equilibrium by Gauss-Seidel iteration of exact best responses.

    Args:
        game: the pricing round.
        tol: stop when a full sweep over the RSUs moves no price by more than this.
        max_iter: maximum number of sweeps.

    Returns:
        The equilibrium with follower demands and utilities; ``converged`` tells whether the
        tolerance was met (the solver reports, never assumes, convergence).

    Raises:
        ValueError: if ``tol`` <= 0 or ``max_iter`` < 1.
    """
    if not tol > 0:
        raise ValueError(f"solve_equilibrium: tol must be > 0, got {tol!r}")
    if max_iter < 1:
        raise ValueError(f"solve_equilibrium: max_iter must be >= 1, got {max_iter!r}")
    prices = initial_prices(game)
    residual, sweep = float("inf"), 0
    while sweep < max_iter:
        sweep += 1
        previous = prices.copy()
        for j in range(game.n_rsus):
            prices[:, j] = best_response(game, prices, j)
        residual = float(np.max(np.abs(prices - previous)))
        if residual <= tol:
            break
    converged = residual <= tol
    if not converged:
        logger.warning("pricing equilibrium not converged: %d sweeps, residual %.3g",
                       sweep, residual)
    demand = follower_demand(game, prices)
    prices.flags.writeable = False
    return EquilibriumResult(prices=prices, demand=demand,
                             rsu_utility=rsu_utility(game, prices, demand),
                             uav_utility=uav_utility(game, prices, demand),
                             converged=converged, iterations=sweep, residual=residual)


def max_unilateral_gain(game: PricingGame, prices: np.ndarray, *, grid: int = 401,
                        refine: int = 60) -> np.ndarray:
    """``[J]`` relative gain of each RSU's best unilateral deviation from ``prices``.

    Independent of the best-response machinery: RSU ``j``'s revenue from every UAV is
    evaluated with :func:`follower_demand` on a uniform grid of ``grid`` prices in
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
    p0 = _check_prices(game, prices)
    a, q, v, budget = game.weight, game.spectral_efficiency, game.viable, game.budget
    rows = np.arange(game.n_uavs)
    gains = np.zeros(game.n_rsus)
    for j in range(game.n_rsus):
        c, pbar = float(game.cost[j]), float(game.price_cap[j])

        def revenue(pj: np.ndarray, j: int = j, c: float = c) -> np.ndarray:
            p = np.broadcast_to(p0, pj.shape + (game.n_rsus,)).copy()
            p[..., j] = pj
            return (pj - c) * _demand_core(a, q, p, budget, v)[..., j]

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


# ---------------------------------------------------------------- random instances


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
        A :class:`PricingGame` with every pair available; ``q_ij`` from
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
