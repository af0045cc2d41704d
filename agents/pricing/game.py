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
response keeps the best candidate (every candidate scored exactly for small games; a walk
over the regimes, linear in RSUs, for large ones); best responses are iterated Gauss-Seidel
over RSUs until the prices stop moving, all UAVs' games in one compiled batch
(:mod:`agents.pricing.kernel`).

Input validation (shapes, ranges, prices) lives in :mod:`agents.pricing.checks`; random
instances and the unilateral-deviation check in :mod:`agents.pricing.draw`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import NamedTuple

import numpy as np

from agents import compiled
from agents.pricing.checks import FIELDS, check_prices, validated_fields

__all__ = [
    "BEST_RESPONSE_METHODS", "ArraySolution", "EquilibriumResult", "PackedSolution", "PricingGame",
    "best_response", "follower_demand", "initial_prices", "pair_weights", "round_sums",
    "rsu_utility", "solve_arrays", "solve_equilibrium", "solve_packed", "split_sums",
    "uav_utility",
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
        s, a, v = pair_weights(game.delta, game.ssim, game.ssim_threshold,
                               game.spectral_efficiency, game.available)
        for x in (s, a, v):
            x.flags.writeable = False
        self.quality_gain, self.weight, self.viable = s, a, v
        self.ctx: _Context | None = None


def pair_weights(delta: np.ndarray, ssim: np.ndarray, ssim_threshold: np.ndarray,
                 q: np.ndarray, available: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A game's derived arrays from its fields: ``(quality_gain, weight, viable)``, as
    :attr:`PricingGame.quality_gain`, :attr:`~PricingGame.weight` and
    :attr:`~PricingGame.viable` (fresh, writable arrays; ``available`` None means all)."""
    s = np.log(ssim / ssim_threshold[:, None])
    a = delta[:, None] * s
    v = (a > 0) & (q > 0)
    if available is not None:
        v &= available
    return s, a, v


def _derived(game: PricingGame) -> _Derived:
    """The game's derived arrays, computed on first use and kept on the game (in its
    ``__dict__``, not a field: copy a game with ``dataclasses.replace``)."""
    d = game.__dict__.get("_derived")
    if d is None:
        d = _Derived(game)
        object.__setattr__(game, "_derived", d)
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

#: ``best_response`` methods: ``dense`` scores every candidate, ``scan`` walks the regimes
#: (both exact, :mod:`agents.pricing.kernel`); ``auto`` picks dense for small games
BEST_RESPONSE_METHODS = ("auto", "dense", "scan")

#: ``auto`` uses the dense best response up to this many RSUs (bit for bit the former numpy
#: solver: the market rounds of the default scenario and the examples keep their traces) and
#: the linear scan above
DENSE_MAX_RSUS = 16


def best_response(game: PricingGame, prices: np.ndarray, j: int, *,
                  method: str = "auto") -> np.ndarray:
    """Exact best-response prices of RSU ``j`` to every UAV, the other prices fixed (A3).

    Args:
        game: the pricing round.
        prices: ``[I, J]`` current prices (column ``j`` is ignored).
        j: index of the RSU that moves.
        method: one of :data:`BEST_RESPONSE_METHODS` (same maximiser; ``scan`` is linear in
            the RSUs, ``dense`` quadratic; ``auto`` = dense up to :data:`DENSE_MAX_RSUS`).

    Returns:
        ``[I]`` maximisers of ``(p - c_j) b_ij(p)`` on ``[c_j, pbar_j]``; ``c_j`` where no price
        sells anything at a profit (non-viable pair, ``a q <= c``, zero budget).

    Raises:
        ValueError: bad ``prices``, ``j`` out of range or unknown ``method``.
    """
    if method not in BEST_RESPONSE_METHODS:
        raise ValueError(f"best_response: method must be one of {BEST_RESPONSE_METHODS}, "
                         f"got {method!r}")
    if not 0 <= j < game.n_rsus:
        raise ValueError(f"best_response: RSU index {j!r} not in [0, {game.n_rsus})")
    p = np.array(check_prices(game, prices), dtype=np.float64, order="C")
    ctx = _context(game)
    return compiled.call(_kernel().best_response_rows, p, int(j), *ctx.kernel,
                         _dense(method, game.n_rsus))


def _dense(method: str, n_rsus: int) -> bool:
    return method == "dense" or (method == "auto" and n_rsus <= DENSE_MAX_RSUS)


class _Context(NamedTuple):
    """Price-independent arrays of one game, built once (:func:`_context`) for the solver.

    ``[I, J]`` unless noted.  Non-viable pairs get weight 0 and ``q = inf`` as rivals
    (spending ``p / q = 0``), ``q = 1`` as the moving RSU (``q_j``).  ``kernel`` holds the
    C-contiguous writable arrays :func:`agents.pricing.kernel.solve_batch` takes.
    """

    rows: np.ndarray      # [I, 1] row index for per-row fancy indexing
    viable: np.ndarray
    a_v: np.ndarray       # a where viable else 0
    q_inf: np.ndarray     # q where viable else inf
    inv_q: np.ndarray     # 1 / q where viable else 0
    budget: np.ndarray    # [I, 1]
    init: np.ndarray      # initial prices: slack clipped to [c, pbar]
    # a_v, q_inf, q_j (q where viable else 1), 1 / q_j, q_j c a_v, slack sqrt(a_v q_j c)
    # (eq. 36), budget [I], cost [J], cap [J]
    kernel: tuple[np.ndarray, ...]


def _context(game: PricingGame) -> _Context:
    """The game's :class:`_Context`, built on first use and kept with its derived arrays."""
    d = _derived(game)
    if d.ctx is not None:
        return d.ctx
    v, q, c = d.viable, game.spectral_efficiency, game.cost
    a_v = np.ascontiguousarray(np.where(v, d.weight, 0.0))
    q_inf = np.ascontiguousarray(np.where(v, q, np.inf))
    q_j = np.ascontiguousarray(np.where(v, q, 1.0))
    slack = np.sqrt(a_v * q_j * c)
    kernel = (a_v, q_inf, q_j, 1.0 / q_j, q_j * c * a_v, slack,
              np.array(game.budget, dtype=np.float64), np.array(c, dtype=np.float64),
              np.array(game.price_cap, dtype=np.float64))
    ctx = _Context(np.arange(game.n_uavs)[:, None], v, a_v, q_inf, 1.0 / q_inf,
                   game.budget[:, None], np.minimum(np.maximum(slack, c), game.price_cap),
                   kernel)
    d.ctx = ctx
    return ctx


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


def solve_equilibrium(game: PricingGame, *, tol: float = 1e-9, max_iter: int = 500,
                      method: str = "auto") -> EquilibriumResult:
    """Stackelberg equilibrium by Gauss-Seidel iteration of exact best responses.

    All UAVs' games are solved as one batch by :func:`agents.pricing.kernel.solve_batch`:
    every sweep lets RSU ``0, ..., J-1`` respond in turn, until a sweep moves no price by
    more than ``tol``.

    Args:
        game: the pricing round.
        tol: stop when a full sweep over the RSUs moves no price by more than this.
        max_iter: maximum number of sweeps.
        method: best response used, as in :func:`best_response`.

    Returns:
        The equilibrium with follower demands and utilities; ``converged`` tells whether the
        tolerance was met (the solver reports, never assumes, convergence).

    Raises:
        ValueError: if ``tol`` <= 0, ``max_iter`` < 1 or ``method`` is unknown.
    """
    if not tol > 0:
        raise ValueError(f"solve_equilibrium: tol must be > 0, got {tol!r}")
    if max_iter < 1:
        raise ValueError(f"solve_equilibrium: max_iter must be >= 1, got {max_iter!r}")
    if method not in BEST_RESPONSE_METHODS:
        raise ValueError(f"solve_equilibrium: method must be one of "
                         f"{BEST_RESPONSE_METHODS}, got {method!r}")
    d = _derived(game)
    # Writable C copies: one compiled signature, typed by numba's C code
    sol = solve_arrays(
        *(np.array(x, order="C") for x in (d.weight, d.viable, game.spectral_efficiency,
                                           game.budget, game.cost, game.price_cap)),
        tol=tol, max_iter=max_iter, dense=_dense(method, game.n_rsus))
    sol.prices.flags.writeable = False
    return EquilibriumResult(prices=sol.prices, demand=sol.demand, rsu_utility=sol.rsu_utility,
                             uav_utility=sol.uav_utility, converged=sol.residual <= tol,
                             iterations=sol.sweeps, residual=sol.residual)


class ArraySolution(NamedTuple):
    """:func:`solve_arrays`' equilibrium of one round."""

    prices: np.ndarray       # [I, J]
    demand: np.ndarray       # [I, J] follower demand at the prices (MHz)
    rsu_utility: np.ndarray  # [J]
    uav_utility: np.ndarray  # [I]
    revenue: np.ndarray      # [J] sum_i p_ij b_ij
    bandwidth: np.ndarray    # [I] sum_j b_ij, bought by each UAV
    rate: np.ndarray         # [I] sum_j b_ij q_ij
    immersion: np.ndarray    # [I] sum_j a_ij ln(1 + b_ij q_ij)
    sweeps: int
    residual: float
    mean_rsu_utility: float  # np.mean(rsu_utility), bit for bit
    mean_uav_utility: float  # np.mean(uav_utility)


@functools.cache
def _kernel() -> ModuleType:
    """The compiled solver (numba takes ~1 s to import: loaded by the solvers on first use,
    not by ``uavtwin --help`` or ``validate``)."""
    from agents.pricing import kernel

    return kernel


def solve_arrays(weight: np.ndarray, viable: np.ndarray, q: np.ndarray, budget: np.ndarray,
                 cost: np.ndarray, cap: np.ndarray, *, tol: float = 1e-9, max_iter: int = 500,
                 dense: bool | None = None) -> ArraySolution:
    """:func:`solve_equilibrium` on a game's arrays, without the game and result objects.

    For the simulator's market, which plays many one-UAV rounds whose arrays it has just
    computed: the objects, their checks and copies cost more than the solve. Bit for bit
    :func:`solve_equilibrium` of the same game (which calls this), the utilities bit for bit
    :func:`rsu_utility` and :func:`uav_utility`, the sums bit for bit NumPy's ``sum``.

    Args:
        weight: ``[I, J]`` ``a_ij`` (:attr:`PricingGame.weight`).
        viable: ``[I, J]`` bool (:attr:`PricingGame.viable`).
        q: ``[I, J]`` spectral efficiency.
        budget: ``[I]``; cost, cap: ``[J]``. All float64 (bool ``viable``), C order and
            writable.
        tol, max_iter: as :func:`solve_equilibrium` (trusted here).
        dense: the dense best response (default: ``auto``'s choice for ``J``).
    """
    sol = solve_packed(weight, viable, q, budget, cost, cap, tol=tol, max_iter=max_iter,
                       dense=dense)
    rsu_u, revenue, uav_u, bandwidth, rate, immersion = split_sums(sol.sums, *weight.shape)
    return ArraySolution(sol.game[0], sol.game[1], rsu_u, uav_u, revenue, bandwidth, rate,
                         immersion, sol.sweeps, sol.residual, sol.mean_rsu_utility,
                         sol.mean_uav_utility)


class PackedSolution(NamedTuple):
    """:func:`solve_packed`'s equilibrium of one round, in the kernels' packed arrays."""

    game: np.ndarray         # [3, I, J]: the prices, the follower demand b (MHz), b q
    sums: np.ndarray         # [2 J + 4 I]: the round's sums, in the order of split_sums
    sweeps: int
    residual: float
    mean_rsu_utility: float  # np.mean of the RSU utilities, bit for bit
    mean_uav_utility: float  # np.mean of the UAV utilities


def solve_packed(weight: np.ndarray, viable: np.ndarray, q: np.ndarray, budget: np.ndarray,
                 cost: np.ndarray, cap: np.ndarray, *, tol: float = 1e-9, max_iter: int = 500,
                 dense: bool | None = None) -> PackedSolution:
    """:func:`solve_arrays` as the compiled calls return it: the prices and demand in one
    array, the sums in another (:func:`split_sums` takes them apart, as arrays or as the
    lists of ``tolist()``). For the market, which wants lists: every view of an array costs
    about as much as a short kernel on its one-UAV rounds. Arguments as :func:`solve_arrays`.
    """
    kernel = _kernel()
    if dense is None:
        dense = _dense("auto", weight.shape[1])
    # compiled calls: the solver's arrays, the sweeps and the demand, then the utilities
    # (bit for bit the numpy of _context, _demand and the utilities, which cost more than
    # the sweeps on a market's games); the logarithm stays NumPy's
    # (try/except around the calls, not compiled.call: a frame fewer on every round)
    try:
        game, sweep, residual = kernel.solve_game(weight, viable, q, budget, cost, cap,
                                                  float(tol), int(max_iter), dense)
    except SystemError as err:
        compiled.unwrap(err)
    if not residual <= tol:
        logger.warning("pricing equilibrium not converged: %d sweeps, residual %.3g",
                       sweep, residual)
    try:
        sums, mean_rsu, mean_uav = kernel.round_utilities(game, weight, q, cost,
                                                          np.log1p(game[2]))  # b q
    except SystemError as err:
        compiled.unwrap(err)
    return PackedSolution(game, sums, int(sweep), float(residual), mean_rsu, mean_uav)


def split_sums(sums: Sequence[float], n_uavs: int, n_rsus: int) -> tuple[Sequence[float], ...]:
    """A round's packed sums (``kernel.round_utilities``, as an array or a list) as
    ``(rsu_utility [J], revenue [J], uav_utility [I], bandwidth [I], rate [I],
    immersion [I])``: slices, so views of an array and lists of a list."""
    a, b = 2 * n_rsus, 2 * n_rsus + n_uavs
    return (sums[:n_rsus], sums[n_rsus:a], sums[a:b], sums[b:b + n_uavs],
            sums[b + n_uavs:b + 2 * n_uavs], sums[b + 2 * n_uavs:])


def round_sums(prices: np.ndarray, demand: np.ndarray, weight: np.ndarray, q: np.ndarray,
               cost: np.ndarray) -> tuple[np.ndarray, ...]:
    """A round's sums at any prices and demands ``[I, J]`` (weight ``a`` and ``q`` of the
    game, ``cost [J]``): ``(rsu_utility [J], revenue [J], uav_utility [I], bandwidth [I],
    rate [I], immersion [I])``, as :func:`solve_arrays` gives them for the equilibrium (bit
    for bit :func:`rsu_utility`, :func:`uav_utility` and NumPy's sums)."""
    prices, demand, weight, q, cost = (np.array(x, dtype=np.float64, order="C")
                                       for x in (prices, demand, weight, q, cost))
    sums = compiled.call(_kernel().round_utilities, np.stack([prices, demand]), weight, q,
                         cost, np.log1p(demand * q))[0]
    return split_sums(sums, *weight.shape)
