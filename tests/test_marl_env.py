"""Tests of agents.marl.env: PettingZoo conformance, dynamics, observations, stacking."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

from agents.marl.env import (
    RepeatedPricingEnv,
    RepeatedPricingRound,
    n_features,
    squash_price,
    stack_games,
)
from agents.pricing.draw import draw_game
from agents.pricing.game import PricingGame, follower_demand, rsu_utility


def test_parallel_api_conformance() -> None:
    parallel_api_test(RepeatedPricingEnv(n_rsus=3, uav_range=(1, 6), iterations=7),
                      num_cycles=20)


def test_parallel_seed_determinism() -> None:
    parallel_seed_test(lambda: RepeatedPricingEnv(n_rsus=2, uav_range=(2, 5), iterations=5))


def test_env_rewards_are_rsu_utilities_and_episode_truncates() -> None:
    env = RepeatedPricingEnv(n_rsus=4, uav_range=(3, 8), iterations=5)
    obs, _ = env.reset(seed=3)
    game = env.round.game
    rng = np.random.default_rng(0)
    for k in range(5):
        actions = {a: rng.random(env.max_uavs).astype(np.float32) for a in env.agents}
        obs, rew, term, trunc, info = env.step(actions)
        prices = np.stack([info[f"rsu_{j}"]["prices"] for j in range(4)], axis=1)
        demand = follower_demand(game, prices)
        v = rsu_utility(game, prices, demand)
        np.testing.assert_allclose([rew[f"rsu_{j}"] for j in range(4)], v, rtol=1e-12)
        z = np.stack([actions[f"rsu_{j}"][: game.n_uavs] for j in range(4)], axis=1)
        np.testing.assert_allclose(prices, squash_price(z, game.cost, game.price_cap))
        assert not any(term.values())
        assert all(trunc.values()) == (k == 4)
    assert env.agents == []
    for a, o in obs.items():
        assert env.observation_space(a).contains(o)
        assert int(o["mask"].sum()) == game.n_uavs


def test_reset_with_given_game_and_wrong_size() -> None:
    env = RepeatedPricingEnv(n_rsus=2, uav_range=(1, 4), iterations=3)
    game = draw_game(np.random.default_rng(1), 3, 2)
    env.reset(options={"game": game})
    assert env.round.game is game
    with pytest.raises(ValueError, match="needs 2 RSUs"):
        env.reset(options={"game": draw_game(np.random.default_rng(1), 3, 3)})
    with pytest.raises(ValueError, match="n_rsus"):
        RepeatedPricingEnv(n_rsus=0)


def test_squash_price_bounds_and_log_interpolation() -> None:
    c, pbar = np.array([2.0]), np.array([32.0])
    np.testing.assert_allclose(squash_price(np.array([0.0, 0.5, 1.0, -3.0, 7.0]), c, pbar),
                               [2.0, 8.0, 32.0, 2.0, 32.0])


def _slack_game() -> PricingGame:
    return PricingGame(delta=np.array([12.0, 15.0]), ssim=np.array([[0.9, 0.95], [0.92, 0.88]]),
                       ssim_threshold=np.array([0.52, 0.5]),
                       spectral_efficiency=np.array([[36.0, 33.0], [35.0, 38.0]]),
                       budget=np.array([1e3, 1e3]), cost=np.array([2.0, 3.0]),
                       price_cap=np.array([30.0, 25.0]))


def test_observation_layout_and_slack_best_response_identity() -> None:
    game = _slack_game()
    rnd = RepeatedPricingRound(game, history=2)
    first = rnd.observation()
    assert first.shape == (2, 2, n_features(2))
    assert np.all(first[..., :6] == 0.0)  # no history yet: zeros, flags 0
    step = rnd.step(np.full((2, 2), 0.3))
    obs = rnd.observation()
    span = np.log(game.price_cap / game.cost)
    np.testing.assert_allclose(obs[..., 0], np.log(step.prices / game.cost) / span, rtol=1e-6)
    np.testing.assert_allclose(
        obs[..., 1], np.log1p(step.demand * game.spectral_efficiency) / span, rtol=1e-6)
    np.testing.assert_allclose(obs[..., 2], 1.0)
    np.testing.assert_allclose(obs[..., 5], 0.0)  # second history slot not filled yet
    # with a slack budget the revenue-maximising price clip(sqrt(a q c)) is 0.5 (x_p + x_d)
    z_star = 0.5 * (obs[..., 0] + obs[..., 1])
    p_star = np.clip(np.sqrt(game.weight * game.spectral_efficiency * game.cost),
                     game.cost, game.price_cap)
    np.testing.assert_allclose(squash_price(z_star, game.cost, game.price_cap), p_star,
                               rtol=1e-5)


def test_observation_hides_private_values_and_rival_prices() -> None:
    """Two games differing only in budgets (both slack) and in the rival's prices give RSU 0
    identical observations: it sees only its own prices and demands."""
    g1 = _slack_game()
    g2 = dataclasses.replace(g1, budget=np.array([500.0, 800.0]))
    r1, r2 = RepeatedPricingRound(g1, 3), RepeatedPricingRound(g2, 3)
    rng = np.random.default_rng(5)
    for _ in range(4):
        z1 = rng.random((2, 2))
        z2 = z1.copy()
        z2[:, 1] = rng.random(2)  # the rival posts different prices
        r1.step(z1)
        r2.step(z2)
        np.testing.assert_array_equal(r1.observation()[:, 0], r2.observation()[:, 0])


def test_stacked_games_behave_like_separate_games() -> None:
    rng = np.random.default_rng(2)
    games = [draw_game(rng, n_i, n_j) for n_i, n_j in [(3, 2), (1, 1), (5, 4)]]
    stacked, uav_game, rsu_game = stack_games(games)
    assert stacked.n_uavs == 9 and stacked.n_rsus == 7
    rs = RepeatedPricingRound(stacked, 2)
    singles = [RepeatedPricingRound(g, 2) for g in games]
    for _ in range(3):
        z = rng.random((9, 7))
        step = rs.step(z)
        for g, rnd in enumerate(singles):
            bi, bj = uav_game == g, rsu_game == g
            s = rnd.step(z[np.ix_(bi, bj)])
            np.testing.assert_allclose(step.demand[np.ix_(bi, bj)], s.demand, atol=1e-12)
            np.testing.assert_allclose(step.rsu_reward[bj], s.rsu_reward, atol=1e-12)
            np.testing.assert_allclose(rs.observation()[np.ix_(bi, bj)], rnd.observation())
        assert np.all(step.demand[uav_game[:, None] != rsu_game[None, :]] == 0.0)
    with pytest.raises(ValueError, match="no games"):
        stack_games([])


def test_step_rejects_bad_actions() -> None:
    rnd = RepeatedPricingRound(_slack_game(), 1)
    with pytest.raises(ValueError, match="shape"):
        rnd.step(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="finite"):
        rnd.step(np.full((2, 2), math.nan))
