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

Input validation (shapes, ranges, prices) lives in :mod:`agents.pricing.checks`; random
instances and the unilateral-deviation check in :mod:`agents.pricing.draw`.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from agents.pricing.checks import FIELDS, check_prices, validated_fields

__all__ = [
    "EquilibriumResult", "PricingGame", "best_response", "follower_demand", "initial_prices",
    "rsu_utility", "solve_equilibrium", "uav_utility",
]

logger = logging.getLogger(__name__)


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
        arrs, avail = validated_fields(self)
        set_ = object.__setattr__
        for x, (name, *_) in zip(arrs, FIELDS, strict=True):
            set_(self, name, x)
        if avail is not None:
            set_(self, "available", avail)

    @classmethod
    def from_trusted(cls, *, delta: np.ndarray, ssim: np.ndarray, ssim_threshold: np.ndarray,
                     spectral_efficiency: np.ndarray, budget: np.ndarray, cost: np.ndarray,
                     price_cap: np.ndarray, available: np.ndarray | None = None
                     ) -> PricingGame:
        """A game from arrays the caller guarantees valid, without the checks.

        For the simulator's market, which builds one game per pricing round from scenario
        tables that were validated once at load time (the checks cost as much as a small
        equilibrium solve). The arrays must be fresh float64 arrays (bool for
        ``available``) of the right shapes and ranges; they are made read-only, not copied.
        Anything else must use the normal constructor.
        """
        game = object.__new__(cls)
        set_ = object.__setattr__
        for name, x in (("delta", delta), ("ssim", ssim), ("ssim_threshold", ssim_threshold),
                        ("spectral_efficiency", spectral_efficiency), ("budget", budget),
                        ("cost", cost), ("price_cap", price_cap), ("available", available)):
            if x is not None:
                if x.dtype != (bool if name == "available" else np.float64):
                    raise TypeError(f"PricingGame.from_trusted: {name} has dtype {x.dtype}")
                x.flags.writeable = False
            set_(game, name, x)
        return game

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
        return _derived(self).quality_gain

    @property
    def weight(self) -> np.ndarray:
        """``[I, J]`` ``a_ij = delta_i S_ij``, the weight of ``ln(1 + b q)`` in ``U_i``."""
        return _derived(self).weight

    @property
    def viable(self) -> np.ndarray:
        """``[I, J]`` bool: pair available, ``S_ij > 0``, ``q_ij > 0`` and ``delta_i > 0``."""
        return _derived(self).viable


class _Derived:
    """Arrays derived from one game, computed once: the solver reads them many times."""

    __slots__ = ("ctx", "quality_gain", "viable", "weight")

    def __init__(self, game: PricingGame) -> None:
        s = np.log(game.ssim / game.ssim_threshold[:, None])
        a = game.delta[:, None] * s
        v = (a > 0) & (game.spectral_efficiency > 0)
        if game.available is not None:
            v &= game.available
        for x in (s, a, v):
            x.flags.writeable = False
        self.quality_gain, self.weight, self.viable = s, a, v
        self.ctx: _Context | None = None


# keyed by id(game), dropped when the game is collected; kept off the game itself so that
# ``PricingGame(**game.__dict__)`` still works
_DERIVED: dict[int, _Derived] = {}


def _derived(game: PricingGame) -> _Derived:
    d = _DERIVED.get(id(game))
    if d is None:
        d = _DERIVED[id(game)] = _Derived(game)
        weakref.finalize(game, _DERIVED.pop, id(game), None)
    return d


# ---------------------------------------------------------------- Stage II: followers


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
    return _demand(_context(game), check_prices(game, prices))


def _demand(ctx: _Context, p: np.ndarray) -> np.ndarray:
    """:func:`agents.pricing.draw.demand_core` on one ``[I, J]`` price matrix, faster.

    Non-viable pairs have ``p / inf = 0`` spending and ``0 / 0 = nan`` ratio ``a q / p``,
    which sorts last like its masked ``0``; ``fmax`` skips the ``0 / 0`` prefixes it masks.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        w = p / ctx.q_inf
        order = np.argsort(-(ctx.a_v / w), axis=1, kind="stable")
        cum_a = np.cumsum(ctx.a_v[ctx.rows, order], axis=1)
        cum_w = np.cumsum(w[ctx.rows, order], axis=1)
        nu = np.fmax.reduce(cum_a / (ctx.budget + cum_w), axis=1, initial=1.0)
    b = ctx.a_v / (p * nu[:, None]) - ctx.inv_q
    return np.where(ctx.viable & (b > 0), b, 0.0)


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
    with np.errstate(divide="ignore", invalid="ignore"):
        return _best_response(_context(game), np.asarray(prices, dtype=float), int(j))


class _Context(NamedTuple):
    """Price-independent arrays of one game, built once (:func:`_context`) for the solver.

    ``[I, J]`` unless noted.  ``x_o`` arrays ``[I, J, J-1]`` hold, at ``[:, j]``, RSU ``j``'s
    rivals ``rivals[j]``.  Non-viable pairs get weight 0 and ``q = inf`` as rivals (spending
    ``p / q = 0``), ``q = 1`` as the moving RSU (``q_j``).
    """

    rows: np.ndarray      # [I, 1] row index for per-row fancy indexing
    viable: np.ndarray
    a_v: np.ndarray       # a where viable else 0
    q_inf: np.ndarray     # q where viable else inf
    inv_q: np.ndarray     # 1 / q where viable else 0
    budget: np.ndarray    # [I, 1]
    rivals: np.ndarray    # [J, J-1]
    a_o: np.ndarray
    q_o: np.ndarray
    q_j: np.ndarray       # q where viable else 1
    inv_qj: np.ndarray    # 1 / q_j
    qca_j: np.ndarray     # q_j c a_v
    slack: np.ndarray     # sqrt(a_v q_j c), the slack-budget price (eq. 36)
    init: np.ndarray      # initial prices: slack clipped to [c, pbar]
    cost: list[float]
    cap: list[float]


@lru_cache(maxsize=64)
def _rivals(n_j: int) -> np.ndarray:
    """``[J, J-1]`` the other RSUs of every RSU, in index order."""
    return np.array([[k for k in range(n_j) if k != j] for j in range(n_j)],
                    dtype=np.intp).reshape(n_j, n_j - 1)


def _context(game: PricingGame) -> _Context:
    """The game's :class:`_Context`, built on first use and kept with its derived arrays."""
    d = _derived(game)
    if d.ctx is not None:
        return d.ctx
    v, q, c = d.viable, game.spectral_efficiency, game.cost
    a_v = np.where(v, d.weight, 0.0)
    q_inf = np.where(v, q, np.inf)
    q_j = np.where(v, q, 1.0)
    slack = np.sqrt(a_v * q_j * c)
    rivals = _rivals(game.n_rsus)
    ctx = _Context(
        np.arange(game.n_uavs)[:, None], v, a_v, q_inf, 1.0 / q_inf, game.budget[:, None],
        rivals, a_v[:, rivals], q_inf[:, rivals], q_j, 1.0 / q_j, q_j * c * a_v, slack,
        np.minimum(np.maximum(slack, c), game.price_cap), c.tolist(), game.price_cap.tolist())
    d.ctx = ctx
    return ctx


def _best_response(ctx: _Context, prices: np.ndarray, j: int) -> np.ndarray:
    """:func:`best_response` on the game's context (needs ``np.errstate`` ignoring 0 / 0).

    Candidates (module docstring), in this order: ``c``, ``pbar``, slack ``sqrt(a q c)``,
    ``q (n_m - d_m)`` (budget stops binding, ``m = 0..J-1`` rivals active), binding
    ``sqrt(q c a d_m / A_m)`` (``m >= 1``), rival ``m+1`` enters ``q (n_m / t_(m+1) - d_m)``;
    with ``A_m, W_m`` the rivals' prefix sums sorted by ``t = a q / p``, ``d_m = R + W_m``,
    ``n_m = a_j + A_m``.  NaN candidates (non-viable rivals, ``0 / 0``) become ``c``, infinite
    ones ``pbar``; each is scored by its exact revenue and the best kept.
    """
    n_i, n_j = prices.shape
    c, pbar = ctx.cost[j], ctx.cap[j]
    a_j, q_j = ctx.a_v[:, j, None], ctx.q_j[:, j, None]
    cands = np.empty((n_i, 3 * n_j + 1))
    cands[:, 0], cands[:, 1], cands[:, 2] = c, pbar, ctx.slack[:, j]
    if n_j == 1:    # monopoly: the general formulas with no rivals (A_0 = W_0 = 0)
        np.multiply(q_j, a_j - ctx.budget, out=cands[:, 3:])
        np.fmin(np.fmax(cands, c, out=cands), pbar, out=cands)
        nu = np.maximum(1.0, a_j / (ctx.budget + cands / q_j))
    else:
        x_o = np.empty((2, n_i, n_j - 1))               # rivals' a and spending w = p / q
        x_o[0] = ctx.a_o[:, j]
        np.divide(prices[:, ctx.rivals[j]], ctx.q_o[:, j], out=x_o[1])
        t_o = x_o[0] / x_o[1]                           # nan for non-viable: sorts last
        if n_j > 2:
            order = np.argsort(-t_o, axis=1, kind="stable")
            x_o, t_o = x_o[:, ctx.rows, order], t_o[ctx.rows, order]
        cum = np.zeros((2, n_i, n_j))
        np.cumsum(x_o, axis=2, out=cum[:, :, 1:])
        d_m = ctx.budget + cum[1]                       # R + W_m
        n_m = a_j + cum[0]                              # a_j + A_m
        nu_rivals = np.fmax.reduce(cum[0, :, 1:] / d_m[:, 1:], axis=1, initial=1.0)
        mid = cands[:, 3:3 + n_j]                       # budget stops binding
        np.multiply(q_j, np.subtract(n_m, d_m, out=mid), out=mid)
        bind = cands[:, 3 + n_j:2 + 2 * n_j]            # binding optimum (eq. 32)
        np.multiply(ctx.qca_j[:, j, None], d_m[:, 1:], out=bind)
        np.sqrt(np.divide(bind, cum[0, :, 1:], out=bind), out=bind)
        entry = cands[:, 2 + 2 * n_j:]                  # rival m+1 enters
        np.divide(n_m[:, :-1], t_o, out=entry)
        np.multiply(q_j, np.subtract(entry, d_m[:, :-1], out=entry), out=entry)
        np.fmin(np.fmax(cands, c, out=cands), pbar, out=cands)
        # exact revenue at every candidate: nu = max(1, rivals alone, j + rival prefixes)
        nu = (n_m[:, None, :] / (d_m[:, None, :] + (cands / q_j)[:, :, None])).max(axis=2)
        np.maximum(nu_rivals[:, None], nu, out=nu)
    b = a_j / (cands * nu) - ctx.inv_qj[:, j, None]
    revenue = (cands - c) * np.maximum(0.0, b, out=b)
    best = revenue.argmax(axis=1)
    rows = ctx.rows[:, 0]
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
    return _context(game).init.copy()


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
    ctx = _context(game)
    prices = ctx.init.copy()
    n_j = game.n_rsus
    residual, sweep = float("inf"), 0
    with np.errstate(divide="ignore", invalid="ignore"):
        while sweep < max_iter:
            sweep += 1
            previous = prices.copy()
            for j in range(n_j):
                prices[:, j] = _best_response(ctx, prices, j)
            residual = float(np.max(np.abs(prices - previous)))
            if residual <= tol:
                break
            if n_j == 1 and sweep < max_iter:
                # a monopolist's best response ignores the prices: the next sweep repeats it
                sweep, residual = sweep + 1, 0.0
                break
    converged = residual <= tol
    if not converged:
        logger.warning("pricing equilibrium not converged: %d sweeps, residual %.3g",
                       sweep, residual)
    demand = _demand(ctx, prices)
    prices.flags.writeable = False
    return EquilibriumResult(prices=prices, demand=demand,
                             rsu_utility=rsu_utility(game, prices, demand),
                             uav_utility=uav_utility(game, prices, demand),
                             converged=converged, iterations=sweep, residual=residual)
