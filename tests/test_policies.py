"""Tests of agents.pricing.policies: equilibrium, random and greedy pricing policies."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from agents.pricing.draw import draw_game
from agents.pricing.game import follower_demand, rsu_utility, solve_equilibrium, uav_utility
from agents.pricing.policies import EquilibriumPolicy, GreedyPolicy, RandomPolicy
from agents.pricing.registry import POLICY_NAMES, make_policy


def small_games(n: int = 8) -> list:
    sizes = [(3, 2), (5, 3), (6, 2), (4, 4)]
    return [draw_game(np.random.default_rng(s), *sizes[s % len(sizes)]) for s in range(n)]


def test_equilibrium_policy_matches_solver() -> None:
    game = draw_game(np.random.default_rng(0), 15, 5)
    out = make_policy("equilibrium").run_round(game, np.random.default_rng(0))
    eq = solve_equilibrium(game)
    np.testing.assert_array_equal(out.prices, eq.prices)
    assert out.reward_path.shape == (1,) and out.price_path is None
    assert np.isclose(out.reward_path[0], eq.rsu_utility.mean())
    assert out.converged and out.iterations == eq.iterations


@pytest.mark.parametrize("name", ["random", "greedy"])
def test_repeated_policies_fill_consistent_paths(name: str) -> None:
    game = draw_game(np.random.default_rng(3), 6, 3)
    out = make_policy(name, iterations=30).run_round(game, np.random.default_rng(5))
    assert out.price_path.shape == out.demand_path.shape == (30, 6, 3)
    assert out.reward_path.shape == (30,) and out.iterations == 30
    assert np.all((out.price_path >= game.cost) & (out.price_path <= game.price_cap))
    for k in (0, 17, 29):    # the demand path is the followers' exact response
        np.testing.assert_allclose(out.demand_path[k], follower_demand(game, out.price_path[k]))
        v = rsu_utility(game, out.price_path[k], out.demand_path[k])
        assert np.isclose(out.reward_path[k], v.mean())
    np.testing.assert_array_equal(out.prices, out.price_path[-1])
    np.testing.assert_allclose(out.rsu_utility, rsu_utility(game, out.prices, out.demand))
    np.testing.assert_allclose(out.uav_utility, uav_utility(game, out.prices, out.demand))
    if name == "random":
        assert out.residual == np.abs(out.price_path[-1] - out.price_path[-2]).max()
    else:   # greedy: remaining exploration step, never wider than a price interval
        assert 0 < out.residual <= (game.price_cap - game.cost).max()
        assert not out.converged
    again = make_policy(name, iterations=30).run_round(game, np.random.default_rng(5))
    np.testing.assert_array_equal(again.price_path, out.price_path)


def test_greedy_ends_close_to_equilibrium_and_beats_random() -> None:
    ratios_greedy, ratios_random = [], []
    for s, game in enumerate(small_games()):
        se = solve_equilibrium(game).rsu_utility.mean()
        greedy = GreedyPolicy(iterations=100).run_round(game, np.random.default_rng(100 + s))
        rand = RandomPolicy(iterations=100).run_round(game, np.random.default_rng(100 + s))
        ratios_greedy.append(greedy.reward_path[-1] / se)
        ratios_random.append(rand.reward_path[-1] / se)
    ratios_greedy = np.array(ratios_greedy)
    assert np.all(np.abs(ratios_greedy - 1.0) < 0.03), ratios_greedy
    assert abs(ratios_greedy.mean() - 1.0) < 0.01
    assert np.mean(ratios_random) < ratios_greedy.mean() - 0.05


def test_greedy_prices_converge_towards_equilibrium_prices() -> None:
    game = draw_game(np.random.default_rng(11), 3, 2)
    eq = solve_equilibrium(game)
    out = GreedyPolicy(iterations=150).run_round(game, np.random.default_rng(1))
    err_start = np.abs(out.price_path[0] - eq.prices).mean()
    err_end = np.abs(out.prices - eq.prices).mean()
    assert err_end < 0.1 * err_start and err_end < 0.05 * eq.prices.mean()


def test_make_policy_names_and_errors() -> None:
    assert isinstance(make_policy("equilibrium", tol=1e-6), EquilibriumPolicy)
    assert make_policy("greedy", iterations=7).iterations == 7
    assert make_policy("random").name == "random"
    with pytest.raises(ValueError, match="unknown pricing policy 'nash'"):
        make_policy("nash")
    with pytest.raises(ValueError, match="iterations"):
        make_policy("random", iterations=0)


def test_learned_policy_without_marl_module_is_a_clear_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "agents.marl.policy", None)   # import now fails
    for name in ("tiny_madrl", "ppo"):
        with pytest.raises(ValueError, match=f"'{name}' cannot be built: .*agents.marl.policy"):
            make_policy(name)


def test_every_reader_of_the_policy_registry_agrees_with_it() -> None:
    """The registry is the one list of solvers: the scenario schema, the trace codes, the
    ``game solve`` choices and the legends all come from it."""
    import argparse
    import typing

    from agents.pricing.registry import POLICIES, policy_label
    from simulator.app.cli import build_parser
    from simulator.config.models import PricingConfig
    from simulator.trace.schema import SOLVER_CODES

    assert dict(SOLVER_CODES) == {s.code: s.name for s in POLICIES.values()}
    assert typing.get_args(PricingConfig.model_fields["solver"].annotation) == POLICY_NAMES
    game = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    solve = game.choices["game"]._actions[-1].choices["solve"]
    assert tuple(next(a for a in solve._actions if a.dest == "solver").choices) == POLICY_NAMES
    labels = [policy_label(n) for n in POLICY_NAMES]
    assert len(set(labels)) == len(labels) and policy_label("unknown") == "unknown"
