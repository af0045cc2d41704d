"""Tests of agents.marl.ppo: GAE, the clipped loss, determinism and real learning."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from agents.marl.config import PPOConfig
from agents.marl.networks import PricingActorCritic
from agents.marl.policy import learned_round
from agents.marl.ppo import compute_gae, ppo_loss, train
from agents.pricing.game import PricingGame, follower_demand


def _brute_gae(r: np.ndarray, v: np.ndarray, d: np.ndarray, nv: np.ndarray, g: float,
               lam: float) -> np.ndarray:
    """Independent GAE: A_t = sum_l (g lam)^l delta_{t+l}, truncated at episode ends."""
    t_len, n = r.shape
    v_next = np.vstack([v[1:], nv[None]])
    delta = r + g * v_next * (1 - d) - v
    adv = np.zeros_like(r)
    for col in range(n):
        for t in range(t_len):
            acc, coef = 0.0, 1.0
            for s in range(t, t_len):
                acc += coef * delta[s, col]
                if d[s, col]:
                    break
                coef *= g * lam
            adv[t, col] = acc
    return adv


@pytest.mark.parametrize("gamma,lam", [(0.9, 0.95), (0.5, 0.0), (0.99, 1.0), (0.0, 0.7)])
def test_gae_matches_brute_force(gamma: float, lam: float) -> None:
    rng = np.random.default_rng(1)
    r, v = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    d = np.zeros((7, 3))
    d[3, 0] = d[6, :] = d[1, 2] = 1.0
    nv = rng.normal(size=3)
    adv, ret = compute_gae(*(torch.tensor(a) for a in (r, v, d, nv)), gamma, lam)
    expected = _brute_gae(r, v, d, nv, gamma, lam)
    np.testing.assert_allclose(adv.numpy(), expected, atol=1e-12)
    np.testing.assert_allclose(ret.numpy(), expected + v, atol=1e-12)


def test_gae_lambda_one_is_discounted_return_minus_value() -> None:
    r = torch.tensor([[1.0], [2.0], [3.0]])
    v = torch.tensor([[0.5], [0.1], [0.2]])
    d = torch.tensor([[0.0], [0.0], [1.0]])
    adv, ret = compute_gae(r, v, d, torch.tensor([99.0]), 0.5, 1.0)
    np.testing.assert_allclose(ret.flatten().numpy(), [1 + 0.5 * 2 + 0.25 * 3, 2 + 1.5, 3.0])


def test_gae_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="compute_gae"):
        compute_gae(torch.zeros(3, 2), torch.zeros(3, 3), torch.zeros(3, 2), torch.zeros(2),
                    0.9, 0.9)


def test_ppo_loss_closed_form_unclipped_and_clipped() -> None:
    adv = torch.tensor([1.0, -2.0])
    old = torch.zeros(2)
    kw = dict(clip_coef=0.2, vf_coef=0.0, ent_coef=0.0, normalize_advantages=False)
    loss, stats = ppo_loss(old.clone(), old, adv, torch.zeros(2), torch.zeros(2),
                           torch.zeros(2), **kw)
    assert float(loss) == pytest.approx(-float(adv.mean()))
    assert stats["approx_kl"] == pytest.approx(0.0) and stats["clip_fraction"] == 0.0
    new = torch.full((2,), math.log(1.5))  # ratio 1.5 > 1 + kappa
    loss, stats = ppo_loss(new, old, adv, torch.zeros(2), torch.zeros(2), torch.zeros(2), **kw)
    # A>0: min(1.5 A, 1.2 A) = 1.2 A; A<0: min(1.5 A, 1.2 A) = 1.5 A
    assert float(loss) == pytest.approx(-(1.2 * 1.0 + 1.5 * -2.0) / 2)
    assert stats["clip_fraction"] == 1.0
    assert stats["approx_kl"] == pytest.approx(0.5 - math.log(1.5))


def test_ppo_loss_value_and_entropy_terms() -> None:
    z = torch.zeros(3)
    loss, stats = ppo_loss(z, z, z, torch.tensor([1.0, 2.0, 3.0]), torch.zeros(3),
                           torch.full((3,), 0.7), clip_coef=0.2, vf_coef=0.5, ent_coef=0.1,
                           normalize_advantages=False)
    assert stats["value_loss"] == pytest.approx(0.5 * 14 / 3)
    assert float(loss) == pytest.approx(0.5 * 0.5 * 14 / 3 - 0.1 * 0.7)


TINY = replace(PPOConfig(), iterations=4, games_per_iteration=4, round_iterations=4,
               eval_games=2, eval_interval=3, eval_round_iterations=4, prune_start=1,
               prune_frequency=1, prune_steps=2, uav_range=(1, 4), rsu_range=(1, 3))


def test_training_is_deterministic_given_the_seed() -> None:
    threads = torch.get_num_threads()
    a, b = train(TINY), train(TINY)
    c = train(replace(TINY, seed=TINY.seed + 1))
    assert torch.get_num_threads() == threads  # restored
    assert [m.policy_loss for m in a.metrics] == [m.policy_loss for m in b.metrics]
    assert [m.mean_reward for m in a.metrics] == [m.mean_reward for m in b.metrics]
    for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert [m.mean_reward for m in a.metrics] != [m.mean_reward for m in c.metrics]
    # metrics: pruning follows the schedule, counts are those of the compact actor
    last = a.metrics[-1]
    assert last.scheduled_sparsity == pytest.approx(TINY.final_sparsity)
    assert last.live_params == a.compact_actor.dense_parameters()
    assert a.compact_actor.dense_parameters() < a.model.actor.dense_parameters()


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="PPOConfig.iterations"):
        replace(PPOConfig(), iterations=0)
    with pytest.raises(ValueError, match="uav_range"):
        replace(PPOConfig(), uav_range=(3, 2))


def _monopoly_game() -> tuple[PricingGame, float]:
    """1 RSU, 1 UAV, slack budget: V = (p - c)(a/p - 1/q), optimum sqrt(a q c) (MODEL A3)."""
    game = PricingGame(delta=np.array([12.0]), ssim=np.array([[0.95]]),
                       ssim_threshold=np.array([0.52]), spectral_efficiency=np.array([[36.0]]),
                       budget=np.array([10.0]), cost=np.array([2.0]), price_cap=np.array([30.0]))
    a, q, c = float(game.weight[0, 0]), 36.0, 2.0
    p_star = max(math.sqrt(a * q * c), q * (a - 10.0))
    assert a - p_star / q < 10.0  # budget slack at the optimum
    return game, min(p_star, 30.0)


def test_policy_learns_the_monopoly_price() -> None:
    game, p_star = _monopoly_game()
    cfg = replace(PPOConfig(), iterations=25, games_per_iteration=32, round_iterations=6,
                  rsu_range=(1, 1), uav_range=(1, 1), prune=False, eval_games=2,
                  eval_interval=25, eval_rsus=1, eval_uavs=1, learning_rate=5e-3,
                  num_minibatches=4)
    torch.manual_seed(0)
    untrained = PricingActorCritic(cfg.history * 3 + 4, cfg.actor_hidden).actor
    p0 = learned_round(untrained, game, cfg.history, 8)[0][-1, 0, 0]
    result = train(cfg)
    prices, demand, rewards = learned_round(result.compact_actor, game, cfg.history, 8)
    p1 = prices[-1, 0, 0]
    # the price moves most of the way (in log terms) from the untrained price to the optimum
    assert abs(math.log(p1 / p_star)) <= 0.3 * abs(math.log(p0 / p_star))
    np.testing.assert_allclose(demand[-1], follower_demand(game, prices[-1]))
    best = (p_star - 2.0) * float(follower_demand(game, np.array([[p_star]]))[0, 0])
    assert rewards[-1, 0] >= 0.95 * best
