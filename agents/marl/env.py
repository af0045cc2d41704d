"""The repeated pricing game as a multi-agent MDP (MODEL.md A4, paper Section IV-A).

A pricing round is a repeated game of ``K`` iterations. In each iteration every RSU ``j``
posts a price ``p_ij`` to every UAV ``i`` it can serve, the UAVs answer with their exact
Stage-II demands (``agents.pricing.game.follower_demand``), and RSU ``j`` earns
``V_j = sum_i (p_ij - c_j) b_ij``. An RSU sees only its *own* prices and the demands it
received -- never the UAVs' private ``delta, S, R`` and never its rivals' prices -- so over
the iterations it must search for the right price from the demand it observes.

Observation of one (RSU j, UAV i) pair (``n_features(L) = 3 L + 4`` numbers), in log space
so that the budget-slack best response is linear in it:

* for each of the last ``L`` iterations (most recent first): the normalised price
  ``log(p/c) / log(pbar/c)`` (in [0, 1]), the normalised demand ``log(1 + b q) / log(pbar/c)``
  and a 0/1 flag telling whether that iteration exists yet;
* public quantities of the pair: ``log c``, ``log pbar / 3``, ``log(1 + q) / 4`` and
  ``log(pbar/c) / 3``.

(When UAV i's budget is slack, ``a_ij = p (b + 1/q)``, so the revenue-maximising price
``sqrt(a q c)`` is ``0.5 * (price feature + demand feature)`` in normalised units.)

Action of a pair: ``z`` in [0, 1], the position of the price in the interval on a log scale,
``p = c * (pbar / c) ** z`` -- always inside ``[c_j, pbar_j]``.

``RepeatedPricingRound`` holds the dynamics (the one source of truth); it works on any
``PricingGame``, including many games stacked block-diagonally by ``stack_games`` (UAVs of
different games cannot trade), which is how PPO rolls out a whole batch of rounds with one
follower-response call per iteration. ``RepeatedPricingEnv`` wraps it as a PettingZoo
``ParallelEnv`` with a *fixed* number of RSUs per environment instance (PettingZoo agents
must come from a fixed ``possible_agents``) and a drawn number of UAVs per episode, padded to
``max_uavs`` rows with a mask.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from agents.marl.layout import n_features
from agents.pricing.draw import GameDistribution, draw_game
from agents.pricing.game import PricingGame, follower_demand

__all__ = [
    "FEATURE_CLIP",
    "RepeatedPricingEnv",
    "RepeatedPricingRound",
    "RoundStep",
    "squash_price",
    "stack_games",
]

FEATURE_CLIP = 10.0
_MIN_SPAN = 1e-6


def squash_price(z: np.ndarray, cost: np.ndarray, price_cap: np.ndarray) -> np.ndarray:
    """Map normalised actions ``z`` in [0, 1] to prices ``c * (pbar / c) ** z``.

    Args:
        z: normalised actions (clipped to [0, 1]).
        cost: ``c_j`` broadcastable to ``z``.
        price_cap: ``pbar_j`` broadcastable to ``z``.

    Returns:
        Prices in ``[c_j, pbar_j]``.
    """
    z = np.clip(np.asarray(z, dtype=float), 0.0, 1.0)
    return np.clip(cost * np.exp(z * np.log(price_cap / cost)), cost, price_cap)


def stack_games(games: Sequence[PricingGame]) -> tuple[PricingGame, np.ndarray, np.ndarray]:
    """Put several games side by side in one block-diagonal game.

    UAVs of game g can only trade with RSUs of game g (``available`` is False across
    blocks). Since the follower response is per UAV, every block behaves exactly as its
    own game.

    Args:
        games: one or more games.

    Returns:
        ``(stacked, uav_game, rsu_game)``: the stacked game and, for each of its UAVs and
        RSUs, the index of the game it came from.

    Raises:
        ValueError: if ``games`` is empty.
    """
    if len(games) == 0:
        raise ValueError("stack_games: no games given")
    sizes_i = [g.n_uavs for g in games]
    sizes_j = [g.n_rsus for g in games]
    n_i, n_j = sum(sizes_i), sum(sizes_j)
    ssim = np.ones((n_i, n_j))
    q = np.ones((n_i, n_j))
    avail = np.zeros((n_i, n_j), dtype=bool)
    i0 = j0 = 0
    for g in games:
        bi, bj = slice(i0, i0 + g.n_uavs), slice(j0, j0 + g.n_rsus)
        ssim[bi, bj] = g.ssim
        q[bi, bj] = g.spectral_efficiency
        avail[bi, bj] = True if g.available is None else g.available
        i0 += g.n_uavs
        j0 += g.n_rsus
    stacked = PricingGame(
        delta=np.concatenate([g.delta for g in games]),
        ssim=ssim,
        ssim_threshold=np.concatenate([g.ssim_threshold for g in games]),
        spectral_efficiency=q,
        budget=np.concatenate([g.budget for g in games]),
        cost=np.concatenate([g.cost for g in games]),
        price_cap=np.concatenate([g.price_cap for g in games]),
        available=avail,
    )
    uav_game = np.repeat(np.arange(len(games)), sizes_i)
    rsu_game = np.repeat(np.arange(len(games)), sizes_j)
    return stacked, uav_game, rsu_game


@dataclass(frozen=True)
class RoundStep:
    """Result of one iteration of the repeated pricing game.

    Attributes:
        prices: ``[I, J]`` posted prices.
        demand: ``[I, J]`` bandwidth bought (MHz), exact follower response.
        pair_revenue: ``[I, J]`` ``(p_ij - c_j) b_ij`` (RSU j's revenue from UAV i).
        rsu_reward: ``[J]`` ``V_j = sum_i pair_revenue[i, j]`` (the agents' rewards).
    """

    prices: np.ndarray
    demand: np.ndarray
    pair_revenue: np.ndarray
    rsu_reward: np.ndarray


class RepeatedPricingRound:
    """State and dynamics of a repeated pricing round on one (possibly stacked) game.

    Args:
        game: the game; ``available`` (or all pairs) says which pairs an RSU prices.
        history: number ``L`` of past iterations in an observation (>= 1).

    Raises:
        ValueError: if ``history < 1``.
    """

    def __init__(self, game: PricingGame, history: int) -> None:
        if history < 1:
            raise ValueError(f"RepeatedPricingRound: history must be >= 1, got {history}")
        self.game = game
        self.history = int(history)
        n_i, n_j = game.n_uavs, game.n_rsus
        self.cost = np.broadcast_to(game.cost[None, :], (n_i, n_j))
        self.price_cap = np.broadcast_to(game.price_cap[None, :], (n_i, n_j))
        self.span = np.maximum(np.log(self.price_cap / self.cost), _MIN_SPAN)
        self.q = np.asarray(game.spectral_efficiency, dtype=float)
        self.tradable = (
            np.ones((n_i, n_j), dtype=bool) if game.available is None
            else np.asarray(game.available, dtype=bool)
        )
        self._public = np.stack(
            [
                np.log(self.cost),
                np.log(self.price_cap) / 3.0,
                np.log1p(self.q) / 4.0,
                np.log(self.price_cap / self.cost) / 3.0,
            ],
            axis=-1,
        )
        self._price_feat = np.zeros((self.history, n_i, n_j))
        self._demand_feat = np.zeros((self.history, n_i, n_j))
        self.iteration = 0

    def observation(self) -> np.ndarray:
        """Observation features ``[I, J, n_features(L)]`` (float32) of every pair."""
        n_i, n_j = self.game.n_uavs, self.game.n_rsus
        seen = np.arange(self.history) < self.iteration  # slot l = iteration t-1-l exists
        flags = np.broadcast_to(seen[:, None, None], (self.history, n_i, n_j)).astype(float)
        hist = np.stack([self._price_feat, self._demand_feat, flags], axis=-1)  # [L,I,J,3]
        hist = np.moveaxis(hist, 0, 2).reshape(n_i, n_j, 3 * self.history)
        obs = np.concatenate([hist, self._public], axis=-1)
        return np.clip(obs, -FEATURE_CLIP, FEATURE_CLIP).astype(np.float32)

    def step(self, z: np.ndarray) -> RoundStep:
        """Post the prices given by normalised actions and collect the UAVs' answers.

        Args:
            z: ``[I, J]`` normalised actions in [0, 1] (clipped); entries of pairs that
                cannot trade are ignored (the RSU posts its cap there).

        Returns:
            The iteration's prices, demands and rewards; the history is updated.

        Raises:
            ValueError: if ``z`` has the wrong shape or non-finite values.
        """
        z = np.asarray(z, dtype=float)
        if z.shape != self.cost.shape or not np.all(np.isfinite(z)):
            raise ValueError(
                f"RepeatedPricingRound.step: expected finite actions of shape "
                f"{self.cost.shape}, got shape {z.shape}"
            )
        prices = np.where(self.tradable, squash_price(z, self.cost, self.price_cap),
                          self.price_cap)
        demand = follower_demand(self.game, prices)
        pair_revenue = (prices - self.cost) * demand
        self._price_feat = np.roll(self._price_feat, 1, axis=0)
        self._demand_feat = np.roll(self._demand_feat, 1, axis=0)
        self._price_feat[0] = np.log(prices / self.cost) / self.span
        self._demand_feat[0] = np.log1p(demand * self.q) / self.span
        self.iteration += 1
        return RoundStep(prices, demand, pair_revenue, pair_revenue.sum(axis=0))


class RepeatedPricingEnv(ParallelEnv):
    """PettingZoo ``ParallelEnv`` of the repeated pricing game, one agent per RSU.

    Every episode draws a game with ``n_rsus`` RSUs and a uniform number of UAVs in
    ``uav_range`` from ``dist`` (or uses ``options["game"]`` given to ``reset``) and lasts
    ``iterations`` steps (truncation). Agent ``rsu_j`` observes a dict with ``features``
    ``[max_uavs, n_features(L)]`` (rows of absent UAVs are zeros) and ``mask`` ``[max_uavs]``
    (1 for UAVs it can price); its action is ``[max_uavs]`` normalised prices ``z`` in [0, 1]
    (entries beyond the drawn UAVs are ignored); its reward is ``V_j``. ``infos[agent]``
    holds the iteration's ``prices``, ``demand`` and per-UAV ``revenue`` of the RSU.

    Args:
        n_rsus: number of RSUs (agents), fixed for the instance.
        uav_range: inclusive (min, max) number of UAVs drawn per episode.
        iterations: ``K``, steps per episode.
        history: ``L``, past iterations in an observation.
        dist: Table II parameter distribution of the drawn games.

    Raises:
        ValueError: on non-positive sizes or an empty range.
    """

    metadata: dict[str, Any] = {"name": "uavtwin_repeated_pricing_v0", "render_modes": []}

    def __init__(
        self,
        n_rsus: int = 5,
        uav_range: tuple[int, int] = (1, 20),
        iterations: int = 50,
        history: int = 4,
        dist: GameDistribution | None = None,
    ) -> None:
        lo, hi = int(uav_range[0]), int(uav_range[1])
        if n_rsus < 1 or lo < 1 or hi < lo or iterations < 1 or history < 1:
            raise ValueError(
                f"RepeatedPricingEnv: need n_rsus>=1, 1<=min<=max UAVs, iterations>=1, "
                f"history>=1; got n_rsus={n_rsus}, uav_range={uav_range}, "
                f"iterations={iterations}, history={history}"
            )
        self.n_rsus = int(n_rsus)
        self.uav_range = (lo, hi)
        self.max_uavs = hi
        self.iterations = int(iterations)
        self.history = int(history)
        self.dist = dist if dist is not None else GameDistribution()
        self.possible_agents = [f"rsu_{j}" for j in range(self.n_rsus)]
        self.agents: list[str] = []
        self._rng = np.random.default_rng()
        self._round: RepeatedPricingRound | None = None

    @functools.cache  # noqa: B019 - PettingZoo requires the same object
    def observation_space(self, agent: str) -> spaces.Dict:
        """Padded per-UAV features plus the mask of UAVs the RSU can price."""
        return spaces.Dict(
            {
                "features": spaces.Box(
                    -FEATURE_CLIP, FEATURE_CLIP,
                    shape=(self.max_uavs, n_features(self.history)), dtype=np.float32,
                ),
                "mask": spaces.MultiBinary(self.max_uavs),
            }
        )

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> spaces.Box:
        """Normalised prices ``z`` in [0, 1], one per (padded) UAV."""
        return spaces.Box(0.0, 1.0, shape=(self.max_uavs,), dtype=np.float32)

    @property
    def round(self) -> RepeatedPricingRound:
        """The current round (after ``reset``)."""
        if self._round is None:
            raise RuntimeError("RepeatedPricingEnv: call reset() first")
        return self._round

    def _observations(self) -> dict[str, dict[str, np.ndarray]]:
        feats = self.round.observation()
        n_i = feats.shape[0]
        out = {}
        for j, agent in enumerate(self.agents):
            padded = np.zeros((self.max_uavs, feats.shape[-1]), dtype=np.float32)
            padded[:n_i] = feats[:, j]
            mask = np.zeros(self.max_uavs, dtype=np.int8)
            mask[:n_i] = self.round.tradable[:, j]
            out[agent] = {"features": padded, "mask": mask}
        return out

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, Any]]]:
        """Start an episode: draw (or take ``options["game"]``) a game, empty histories."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        game = (options or {}).get("game")
        if game is None:
            n_uavs = int(self._rng.integers(self.uav_range[0], self.uav_range[1] + 1))
            game = draw_game(self._rng, n_uavs, self.n_rsus, self.dist)
        elif game.n_rsus != self.n_rsus or game.n_uavs > self.max_uavs:
            raise ValueError(
                f"RepeatedPricingEnv.reset: options['game'] has {game.n_rsus} RSUs and "
                f"{game.n_uavs} UAVs; this env needs {self.n_rsus} RSUs, <= {self.max_uavs} UAVs"
            )
        self._round = RepeatedPricingRound(game, self.history)
        self.agents = self.possible_agents[:]
        return self._observations(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, np.ndarray]) -> tuple[
        dict[str, dict[str, np.ndarray]], dict[str, float], dict[str, bool],
        dict[str, bool], dict[str, dict[str, Any]],
    ]:
        """Apply every live RSU's prices; missing agents post their cap (z = 1)."""
        rnd = self.round
        n_i = rnd.game.n_uavs
        z = np.ones((n_i, self.n_rsus))
        for j, agent in enumerate(self.agents):
            if agent in actions:
                z[:, j] = np.asarray(actions[agent], dtype=float).reshape(-1)[:n_i]
        result = rnd.step(z)
        agents = self.agents
        rewards = {a: float(result.rsu_reward[j]) for j, a in enumerate(agents)}
        infos = {
            a: {
                "prices": result.prices[:, j].copy(),
                "demand": result.demand[:, j].copy(),
                "revenue": result.pair_revenue[:, j].copy(),
            }
            for j, a in enumerate(agents)
        }
        done = rnd.iteration >= self.iterations
        obs = self._observations()
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, done)
        if done:
            self.agents = []
        return obs, rewards, terminations, truncations, infos
