"""Tests of agents.pricing.kernel through the public solver: the linear regime scan against
the dense reference, equilibria of large games, the water-filling order's ties."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.pricing.draw import GameDistribution, draw_game, max_unilateral_gain
from agents.pricing.game import (
    PricingGame,
    best_response,
    follower_demand,
    initial_prices,
    round_sums,
    rsu_utility,
    solve_arrays,
    solve_equilibrium,
    solve_packed,
    split_sums,
    uav_utility,
)

#: corners of the parameter space: binding and slack budgets, caps near costs, cheap
#: bandwidth, weak UAVs, many non-viable pairs
DISTRIBUTIONS = {
    "table2": GameDistribution(),
    "poor": GameDistribution(budget=(0.0, 1.0)),
    "broke": GameDistribution(budget=(0.0, 0.05)),
    "rich": GameDistribution(budget=(20.0, 200.0)),
    "low_caps": GameDistribution(price_cap=(1.0, 6.0)),
    "cheap": GameDistribution(cost=(0.01, 0.5)),
    "weak": GameDistribution(delta=(0.1, 1.0)),
    "nonviable": GameDistribution(ssim_component=(0.5, 1.0)),
}


def with_availability(game: PricingGame, rng: np.random.Generator) -> PricingGame:
    """The game with a random coverage mask (about a third of the pairs unavailable)."""
    return dataclasses.replace(game, available=rng.random(game.ssim.shape) < 0.65)


def revenue(game: PricingGame, prices: np.ndarray, j: int, column: np.ndarray) -> np.ndarray:
    """``[I]`` RSU ``j``'s revenue from each UAV if it posts ``column``, others fixed."""
    p = prices.copy()
    p[:, j] = column
    return (column - game.cost[j]) * follower_demand(game, p)[:, j]


def assert_same_best_responses(game: PricingGame, prices: np.ndarray) -> None:
    for j in range(game.n_rsus):
        dense = best_response(game, prices, j, method="dense")
        scan = best_response(game, prices, j, method="scan")
        r_dense, r_scan = revenue(game, prices, j, dense), revenue(game, prices, j, scan)
        np.testing.assert_allclose(r_scan, r_dense, rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(scan, dense, rtol=1e-9, atol=0)


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
@pytest.mark.parametrize("n_rsus", [2, 3, 9, 30])
def test_scan_best_response_equals_dense(name: str, n_rsus: int) -> None:
    rng = np.random.default_rng([n_rsus, len(name)])
    game = draw_game(rng, 5, n_rsus, DISTRIBUTIONS[name])
    for masked in (False, True):
        g = with_availability(game, rng) if masked else game
        # arbitrary prices (around the costs, some far above the caps' range) ...
        assert_same_best_responses(g, g.cost * np.exp(rng.normal(0.0, 1.0, g.ssim.shape)))
        # ... and prices a few sweeps into the iteration
        assert_same_best_responses(g, solve_equilibrium(g, max_iter=2, method="dense")
                                   .prices.copy())


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_rsus=st.integers(2, 16),
       spread=st.floats(0.05, 3.0))
def test_scan_best_response_equals_dense_property(seed: int, n_rsus: int,
                                                  spread: float) -> None:
    rng = np.random.default_rng(seed)
    name = sorted(DISTRIBUTIONS)[seed % len(DISTRIBUTIONS)]
    game = with_availability(draw_game(rng, 3, n_rsus, DISTRIBUTIONS[name]), rng)
    assert_same_best_responses(game, game.cost * np.exp(rng.normal(0.0, spread,
                                                                   game.ssim.shape)))


def test_ties_in_the_water_filling_order() -> None:
    # identical RSUs (equal t = a q / p at equal prices) and a non-viable RSU
    one = draw_game(np.random.default_rng(3), 4, 1)
    n = 6
    game = PricingGame(delta=one.delta, ssim=np.repeat(one.ssim, n, axis=1),
                       ssim_threshold=one.ssim_threshold,
                       spectral_efficiency=np.repeat(one.spectral_efficiency, n, axis=1),
                       budget=one.budget, cost=np.repeat(one.cost, n),
                       price_cap=np.repeat(one.price_cap, n),
                       available=np.arange(n)[None, :].repeat(4, axis=0) != 2)
    prices = np.broadcast_to(game.price_cap * 0.5, game.ssim.shape).copy()
    assert_same_best_responses(game, prices)
    dense = solve_equilibrium(game, method="dense")
    scan = solve_equilibrium(game, method="scan")
    np.testing.assert_array_equal(scan.prices, dense.prices)
    # symmetric RSUs end at one symmetric price per UAV (the unavailable one at cost)
    live = np.delete(scan.prices, 2, axis=1)
    np.testing.assert_allclose(live, live[:, :1].repeat(n - 1, axis=1), rtol=1e-7)
    np.testing.assert_array_equal(scan.prices[:, 2], game.cost[2])


@pytest.mark.parametrize("n_uavs,n_rsus", [(1, 1), (3, 2), (15, 5), (12, 25)])
def test_scan_equilibrium_matches_dense(n_uavs: int, n_rsus: int) -> None:
    game = draw_game(np.random.default_rng(n_uavs * n_rsus), n_uavs, n_rsus)
    dense = solve_equilibrium(game, method="dense")
    scan = solve_equilibrium(game, method="scan")
    assert dense.converged and scan.converged
    assert scan.iterations == dense.iterations
    np.testing.assert_allclose(scan.prices, dense.prices, rtol=1e-12, atol=0)


def test_large_game_equilibrium_has_no_profitable_deviation() -> None:
    game = draw_game(np.random.default_rng(11), 30, 50)
    eq = solve_equilibrium(game)
    assert eq.converged and eq.residual <= 1e-9
    rows = np.arange(0, 30, 5)          # the game splits per UAV: check a subset's games
    per_uav = ("delta", "ssim", "ssim_threshold", "spectral_efficiency", "budget")
    sub = dataclasses.replace(game, **{k: getattr(game, k)[rows] for k in per_uav})
    assert max_unilateral_gain(sub, eq.prices[rows]).max() <= 1e-9
    # and the same UAVs solved on their own reach the same prices
    np.testing.assert_allclose(solve_equilibrium(sub, method="dense").prices,
                               eq.prices[rows], rtol=1e-7)


def test_unknown_method_and_bad_rsu_index() -> None:
    game = draw_game(np.random.default_rng(0), 2, 3)
    with pytest.raises(ValueError, match="method"):
        solve_equilibrium(game, method="fast")
    with pytest.raises(ValueError, match="method"):
        best_response(game, game.cost[None, :].repeat(2, axis=0), 0, method="fast")
    with pytest.raises(ValueError, match="RSU index"):
        best_response(game, game.cost[None, :].repeat(2, axis=0), 3)


def gauss_seidel(game: PricingGame, tol: float = 1e-9, max_iter: int = 500
                 ) -> tuple[np.ndarray, int]:
    """Independent Gauss-Seidel of the public best responses (all UAVs per RSU move: the
    UAVs' games are separate, so this is the kernel's per-UAV sweep order)."""
    p = initial_prices(game)
    for sweep in range(1, max_iter + 1):
        residual = 0.0
        for j in range(game.n_rsus):
            new = best_response(game, p, j)
            residual = max(residual, float(np.abs(new - p[:, j]).max()))
            p[:, j] = new
        if residual <= tol:
            return p, sweep
        if game.n_rsus == 1:
            return p, sweep + 1
    return p, max_iter


@pytest.mark.parametrize("name", sorted(DISTRIBUTIONS))
def test_one_call_solve_matches_numpy_demand_and_public_sweeps(name: str) -> None:
    """solve_game (arrays, sweeps and demand in one compiled call) is bit for bit the numpy
    follower demand at its prices and the public best responses' fixed point."""
    rng = np.random.default_rng([7, len(name)])
    for n_uavs, n_rsus in [(1, 1), (1, 2), (1, 3), (3, 5), (6, 20)]:
        game = with_availability(draw_game(rng, n_uavs, n_rsus, DISTRIBUTIONS[name]), rng)
        eq = solve_equilibrium(game)
        assert eq.demand.tobytes() == follower_demand(game, eq.prices).tobytes()
        prices, sweeps = gauss_seidel(game)
        assert eq.prices.tobytes() == prices.tobytes()
        assert eq.iterations == sweeps


def _same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b) and bool(
        np.array_equal(np.signbit(a), np.signbit(b)))


@settings(max_examples=300, deadline=None)
@given(n=st.one_of(st.integers(0, 20), st.integers(100, 1200)), seed=st.integers(0, 2**32 - 1),
       zeros=st.booleans())
def test_np_sum_is_numpys_reduction_bit_for_bit(n, seed, zeros) -> None:
    from agents.pricing.kernel import np_sum

    rng = np.random.default_rng(seed)
    # wide magnitudes make the summation order visible in the last bits
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 17, n)
    if zeros:
        x = np.where(rng.random(n) < 0.5, rng.choice([0.0, -0.0], n), x)
    assert _same_bits(np_sum(x), np.add.reduce(x))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(sorted(DISTRIBUTIONS)), seed=st.integers(0, 2**32 - 1),
       n_uavs=st.integers(1, 6), n_rsus=st.integers(1, 40))
def test_solve_arrays_is_solve_equilibrium_and_the_numpy_utilities(name, seed, n_uavs,
                                                                    n_rsus) -> None:
    game = draw_game(np.random.default_rng(seed), n_uavs, n_rsus, DISTRIBUTIONS[name])
    eq = solve_equilibrium(game)
    sol = solve_arrays(*(np.array(x, order="C") for x in (
        game.weight, game.viable, game.spectral_efficiency, game.budget, game.cost,
        game.price_cap)))
    assert _same_bits(sol.prices, eq.prices) and _same_bits(sol.demand, eq.demand)
    assert (sol.sweeps, sol.residual) == (eq.iterations, eq.residual)
    # the compiled utilities against the numpy formulas of the game module
    assert _same_bits(sol.rsu_utility, rsu_utility(game, eq.prices, eq.demand))
    assert _same_bits(sol.uav_utility, uav_utility(game, eq.prices, eq.demand))
    assert _same_bits(sol.revenue, (eq.prices * eq.demand).sum(axis=0))
    bq = eq.demand * game.spectral_efficiency
    assert _same_bits(sol.bandwidth, eq.demand.sum(axis=1))
    assert _same_bits(sol.rate, bq.sum(axis=1))
    assert _same_bits(sol.immersion, (game.weight * np.log1p(bq)).sum(axis=1))
    assert _same_bits(sol.mean_rsu_utility, np.mean(sol.rsu_utility))
    assert _same_bits(sol.mean_uav_utility, np.mean(sol.uav_utility))
    # the market's lists: the packed arrays' tolist() split by the same slices
    packed = solve_packed(*(np.array(x, order="C") for x in (
        game.weight, game.viable, game.spectral_efficiency, game.budget, game.cost,
        game.price_cap)))
    assert packed.game.tolist() == [eq.prices.tolist(), eq.demand.tolist(), bq.tolist()]
    assert _same_bits(packed.game[2], bq)  # NumPy's demand * q, sign of zero included
    as_lists = split_sums(packed.sums.tolist(), n_uavs, n_rsus)
    for got, want in zip(as_lists, (sol.rsu_utility, sol.revenue, sol.uav_utility,
                                    sol.bandwidth, sol.rate, sol.immersion), strict=True):
        assert _same_bits(np.array(got), want)
    # the same sums at any prices (what the market takes from the other policies)
    prices = game.cost + (game.price_cap - game.cost) * np.random.default_rng(seed).random(
        eq.prices.shape)
    demand = follower_demand(game, prices)
    sums = round_sums(prices, demand, game.weight, game.spectral_efficiency, game.cost)
    assert _same_bits(sums[0], rsu_utility(game, prices, demand))
    assert _same_bits(sums[2], uav_utility(game, prices, demand))
    assert _same_bits(sums[4], (demand * game.spectral_efficiency).sum(axis=1))
