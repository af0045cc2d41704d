"""Tests of agents.pricing.game (exact follower response, best responses, equilibrium)
and of agents.pricing.paper (where the paper's closed forms agree with it and where not)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from agents.pricing.draw import GameDistribution, draw_game, max_unilateral_gain
from agents.pricing.game import (
    PricingGame,
    best_response,
    follower_demand,
    rsu_utility,
    solve_equilibrium,
    uav_utility,
)
from agents.pricing.paper import (
    paper_algorithm1,
    paper_binding_demand,
    paper_binding_price,
    paper_slack_demand,
    paper_slack_price,
)

# ------------------------------------------------------------------ helpers / instances


def make_game(seed: int, n_uavs: int, n_rsus: int, *, budget=(2.0, 10.0),
              ssim_component=(0.85, 1.0), p_unavailable: float = 0.0,
              zero_q: float = 0.0) -> PricingGame:
    """A Table II game, optionally with a wider budget / SSIM range and dead pairs."""
    rng = np.random.default_rng(seed)
    dist = GameDistribution(budget=budget, ssim_component=ssim_component)
    game = draw_game(rng, n_uavs, n_rsus, dist)
    q = game.spectral_efficiency * (rng.random((n_uavs, n_rsus)) >= zero_q)
    avail = rng.random((n_uavs, n_rsus)) >= p_unavailable
    return dataclasses.replace(game, spectral_efficiency=q, available=avail)


def random_prices(game: PricingGame, rng: np.random.Generator) -> np.ndarray:
    return game.cost + (game.price_cap - game.cost) * rng.random((game.n_uavs, game.n_rsus))


def demand_by_bisection(game: PricingGame, prices: np.ndarray) -> np.ndarray:
    """Independent reference: bisection on nu = 1 + lambda, one UAV at a time."""
    a, q, v = game.weight, game.spectral_efficiency, game.viable
    out = np.zeros_like(prices)
    for i in range(game.n_uavs):
        m = v[i]

        def b_of(nu: float, i: int = i, m: np.ndarray = m) -> np.ndarray:
            return np.maximum(0.0, a[i, m] / (prices[i, m] * nu) - 1.0 / q[i, m])

        if not m.any():
            continue
        if prices[i, m] @ b_of(1.0) <= game.budget[i]:
            out[i, m] = b_of(1.0)
            continue
        lo, hi = 1.0, 1e12
        for _ in range(300):
            mid = np.sqrt(lo * hi) if hi / lo > 4 else 0.5 * (lo + hi)
            lo, hi = (mid, hi) if prices[i, m] @ b_of(mid) > game.budget[i] else (lo, mid)
        out[i, m] = b_of(hi)
    return out


def demand_by_slsqp(game: PricingGame, prices: np.ndarray) -> np.ndarray:
    """Independent generic reference: SLSQP on each follower problem (MODEL A2)."""
    a, q, v = game.weight, game.spectral_efficiency, game.viable
    out = np.zeros_like(prices)
    for i in range(game.n_uavs):
        m = np.flatnonzero(v[i])
        if m.size == 0:
            continue
        ai, qi, pi, r = a[i, m], q[i, m], prices[i, m], game.budget[i]
        res = minimize(lambda b, ai=ai, qi=qi, pi=pi: -(ai @ np.log1p(b * qi) - pi @ b),
                       np.zeros(m.size),
                       jac=lambda b, ai=ai, qi=qi, pi=pi: -(ai * qi / (1 + b * qi) - pi),
                       bounds=[(0.0, None)] * m.size, method="SLSQP",
                       constraints=[{"type": "ineq", "fun": lambda b, pi=pi, r=r: r - pi @ b,
                                     "jac": lambda b, pi=pi: -pi}],
                       options={"ftol": 1e-14, "maxiter": 500})
        out[i, m] = np.maximum(res.x, 0.0)
    return out


REGIMES = {
    "slack": dict(budget=(500.0, 1000.0)),
    "binding": dict(budget=(2.0, 10.0)),
    "binding_dropout": dict(budget=(0.5, 3.0)),
    "nonviable": dict(ssim_component=(0.6, 1.0), p_unavailable=0.2, zero_q=0.1),
}

# ------------------------------------------------------------------ follower (A2)


@pytest.mark.parametrize("regime", sorted(REGIMES))
def test_follower_demand_matches_slsqp_and_bisection(regime: str) -> None:
    rng = np.random.default_rng(1)
    for seed in range(4):
        game = make_game(seed, 6, 5, **REGIMES[regime])
        prices = random_prices(game, rng)
        exact = follower_demand(game, prices)
        ref = demand_by_bisection(game, prices)
        np.testing.assert_allclose(exact, ref, rtol=1e-9, atol=1e-10)
        generic = demand_by_slsqp(game, prices)
        spent = (prices * generic).sum(axis=1)      # SLSQP may overspend by ~1e-6: project
        generic *= np.minimum(1.0, game.budget / np.maximum(spent, 1e-300))[:, None]
        u_exact, u_generic = uav_utility(game, prices, exact), uav_utility(game, prices, generic)
        assert np.all(u_exact >= u_generic - 1e-9 * np.maximum(1.0, np.abs(u_generic)))
        np.testing.assert_allclose(exact, generic, atol=1e-4)
    spent = (prices * exact).sum(axis=1)
    if regime == "slack":
        assert np.all(spent < game.budget)
    if regime in ("binding", "binding_dropout"):
        assert np.allclose(spent, game.budget)
    if regime == "binding_dropout":      # some viable pairs priced out while the budget binds
        assert np.any(game.viable & (exact == 0))


def test_follower_kkt_conditions() -> None:
    game = make_game(3, 40, 6, budget=(0.5, 30.0), ssim_component=(0.6, 1.0),
                     p_unavailable=0.1)
    prices = random_prices(game, np.random.default_rng(0))
    b = follower_demand(game, prices)
    a, q, v = game.weight, game.spectral_efficiency, game.viable
    spent = (prices * b).sum(axis=1)
    # marginal utility per unit of money a q / (p (1 + b q)) equals nu on active pairs
    nu = np.where(b > 0, a * q / (prices * (1 + b * q)), np.nan)
    nu_i = np.where(b > 0, nu, -np.inf).max(axis=1)
    active_rows = nu_i > -np.inf
    assert np.allclose(nu[b > 0], np.broadcast_to(nu_i[:, None], b.shape)[b > 0])
    assert np.all(nu_i[active_rows] >= 1 - 1e-12)
    # inactive viable pairs are not worth their price at that multiplier
    ratio = np.where(v & (b == 0), a * q / prices, -np.inf)
    assert np.all(ratio.max(axis=1)[active_rows] <= nu_i[active_rows] * (1 + 1e-12))
    # complementary slackness: nu > 1 only when the budget binds
    binding = nu_i[active_rows] > 1 + 1e-9
    assert np.allclose(spent[active_rows][binding], game.budget[active_rows][binding])
    assert np.all(b[~v] == 0)


game_params = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000), "n_uavs": st.integers(1, 6), "n_rsus": st.integers(1, 6),
    "budget": st.sampled_from([(0.0, 0.5), (0.5, 3.0), (2.0, 10.0), (50.0, 500.0)]),
    "ssim_component": st.sampled_from([(0.85, 1.0), (0.5, 1.0)]),
    "p_unavailable": st.sampled_from([0.0, 0.3]), "zero_q": st.sampled_from([0.0, 0.2]),
})


@settings(max_examples=80, deadline=None)
@given(params=game_params, scale=st.floats(0.05, 3.0))
def test_follower_invariants(params: dict, scale: float) -> None:
    game = make_game(**params)
    rng = np.random.default_rng(params["seed"] + 1)
    prices = random_prices(game, rng) * scale
    b = follower_demand(game, prices)
    assert np.all(b >= 0)
    assert np.all(b[~game.viable] == 0)
    assert np.all((prices * b).sum(axis=1) <= game.budget * (1 + 1e-12) + 1e-12)
    # raising one RSU's own price never raises its own demand (and rivals' don't fall)
    j = int(rng.integers(game.n_rsus))
    up = prices.copy()
    up[:, j] *= 1.0 + rng.random(game.n_uavs)
    b_up = follower_demand(game, up)
    assert np.all(b_up[:, j] <= b[:, j] + 1e-12)
    others = np.arange(game.n_rsus) != j
    assert np.all(b_up[:, others] >= b[:, others] - 1e-9)


# ------------------------------------------------------------------ leaders (A3)


@pytest.mark.parametrize("method", ["dense", "scan"])
def test_best_response_beats_fine_grid_at_arbitrary_prices(method: str) -> None:
    for regime in sorted(REGIMES):
        game = make_game(7, 8, 4, **REGIMES[regime])
        prices = random_prices(game, np.random.default_rng(2))
        for j in range(game.n_rsus):
            p = prices.copy()
            p[:, j] = best_response(game, prices, j, method=method)
            v_br = (p[:, j] - game.cost[j]) * follower_demand(game, p)[:, j]
            grid = np.linspace(game.cost[j], game.price_cap[j], 4001)
            best_grid = np.zeros(game.n_uavs)
            for g in grid:
                p[:, j] = g
                best_grid = np.maximum(best_grid, (g - game.cost[j])
                                       * follower_demand(game, p)[:, j])
            assert np.all(v_br >= best_grid - 1e-12), regime
            assert np.all(v_br <= best_grid * (1 + 1e-3) + 1e-9), regime


@pytest.mark.parametrize("method", ["dense", "scan"])
def test_best_response_at_a_rival_entry_kink(method: str) -> None:
    # an instance (found by search) whose best response sits exactly where a rival enters
    game = make_game(1422, 1, 3, budget=(0.5, 3.0))
    prices = np.round(random_prices(game, np.random.default_rng(1422)), 1)
    p_br = best_response(game, prices, 0, method=method)[0]

    def revenue(p0: float) -> tuple[float, np.ndarray]:
        p = prices.copy()
        p[0, 0] = p0
        b = follower_demand(game, p)[0]
        return (p0 - game.cost[0]) * b[0], b

    v_br, b_br = revenue(p_br)
    grid = np.linspace(game.cost[0], game.price_cap[0], 20001)
    assert v_br >= max(revenue(g)[0] for g in grid) - 1e-12
    assert v_br > revenue(p_br * (1 - 1e-4))[0] and v_br > revenue(p_br * (1 + 1e-4))[0]
    entering = (b_br[1:] < 1e-9) & (revenue(p_br * (1 + 1e-3))[1][1:] > 0)
    assert entering.any()


@pytest.mark.parametrize("regime", sorted(REGIMES))
def test_equilibrium_no_profitable_unilateral_deviation(regime: str) -> None:
    for seed in range(3):
        game = make_game(seed, 12, 5, **REGIMES[regime])
        eq = solve_equilibrium(game)
        assert eq.converged and eq.residual <= 1e-9
        assert np.all(max_unilateral_gain(game, eq.prices) <= 1e-9)
        assert np.all((eq.prices >= game.cost) & (eq.prices <= game.price_cap))
        np.testing.assert_allclose(eq.demand, follower_demand(game, eq.prices))
        np.testing.assert_allclose(eq.rsu_utility, rsu_utility(game, eq.prices, eq.demand))


def test_unilateral_gain_detects_non_equilibrium() -> None:
    game = make_game(0, 10, 3)
    eq = solve_equilibrium(game)
    off = eq.prices.copy()
    off[:, 1] = 0.5 * (off[:, 1] + game.cost[1])
    gains = max_unilateral_gain(game, off)
    assert gains[1] > 1e-3


def test_monopoly_price_closed_form_and_paper_eq32_divides_by_zero() -> None:
    game = make_game(4, 30, 1, budget=(0.5, 20.0))
    game = dataclasses.replace(game, price_cap=np.array([1e4]))
    a, q, c, r = game.weight[:, 0], game.spectral_efficiency[:, 0], game.cost[0], game.budget
    expected = np.clip(np.maximum(np.sqrt(a * q * c), q * (a - r)), c, 1e4)
    eq = solve_equilibrium(game)
    np.testing.assert_allclose(eq.prices[:, 0], expected, rtol=1e-12)
    binding_at_slack_price = q * (a - r) > np.sqrt(a * q * c)
    assert binding_at_slack_price.any() and (~binding_at_slack_price).any()
    assert not np.isfinite(paper_binding_price(game, eq.prices)).any()


def test_solver_reports_non_convergence_and_validates_arguments() -> None:
    game = make_game(1, 15, 5)
    eq = solve_equilibrium(game, max_iter=1)
    assert not eq.converged and eq.iterations == 1 and eq.residual > 1e-9
    with pytest.raises(ValueError, match="tol"):
        solve_equilibrium(game, tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        solve_equilibrium(game, max_iter=0)


def test_nonviable_pairs_get_no_demand_at_equilibrium() -> None:
    game = make_game(5, 20, 4, **REGIMES["nonviable"])
    assert (~game.viable).any()
    eq = solve_equilibrium(game)
    assert np.all(eq.demand[~game.viable] == 0)
    assert np.all(eq.prices[~game.viable] == np.broadcast_to(game.cost, eq.prices.shape)[
        ~game.viable])


# ------------------------------------------------------------------ the paper's closed forms


def test_paper_slack_forms_agree_when_budget_is_slack() -> None:
    game = make_game(2, 15, 5, budget=(500.0, 1000.0))
    eq = solve_equilibrium(game)
    assert np.all((eq.prices * eq.demand).sum(axis=1) < game.budget)
    expected = np.clip(paper_slack_price(game), game.cost, game.price_cap)
    np.testing.assert_allclose(eq.prices, expected, rtol=1e-12)
    np.testing.assert_allclose(eq.demand, paper_slack_demand(game, eq.prices), rtol=1e-12)
    np.testing.assert_allclose(eq.demand, paper_algorithm1(game, eq.prices), rtol=1e-12)


def test_paper_binding_forms_agree_when_all_active_and_binding() -> None:
    game = make_game(0, 15, 5)        # Table II defaults: every budget binds, all RSUs active
    eq = solve_equilibrium(game)
    assert np.allclose((eq.prices * eq.demand).sum(axis=1), game.budget)
    assert np.all(eq.demand > 0)
    np.testing.assert_allclose(eq.demand, paper_binding_demand(game, eq.prices), rtol=1e-9)
    np.testing.assert_allclose(eq.demand, paper_algorithm1(game, eq.prices), rtol=1e-9)
    interior = (eq.prices > game.cost + 1e-9) & (eq.prices < game.price_cap - 1e-9)
    assert interior.sum() >= 10
    np.testing.assert_allclose(eq.prices[interior],
                               paper_binding_price(game, eq.prices)[interior], rtol=1e-9)


def test_paper_binding_demand_fails_when_an_rsu_drops_out() -> None:
    # one UAV, three identical RSUs; RSU 3 prices itself out while the budget binds
    game = PricingGame(delta=np.array([10.0]), ssim=np.full((1, 3), 0.9),
                       ssim_threshold=np.array([0.9 / np.e ** 0.5]),
                       spectral_efficiency=np.full((1, 3), 10.0), budget=np.array([3.0]),
                       cost=np.ones(3), price_cap=np.full(3, 50.0))
    prices = np.array([[2.0, 2.0, 40.0]])
    exact = follower_demand(game, prices)
    assert exact[0, 2] == 0 and np.isclose(prices[0] @ exact[0], 3.0)
    np.testing.assert_allclose(exact[0, :2], 5.0 / (2.0 * 10.0 / 3.4) - 0.1)
    eq26 = paper_binding_demand(game, prices)
    assert eq26[0, 2] < 0                                  # negative demand
    eq28 = paper_binding_demand(game, prices, eq28_threshold=True)
    assert eq28[0, 2] == 0 and prices[0] @ eq28[0] > game.budget[0] + 0.1   # overspends


def test_paper_forms_fail_at_an_equilibrium_with_a_dropped_out_rsu() -> None:
    # RSU 3's picture barely clears the UAV's SSIM threshold: it is priced out even at cost
    game = PricingGame(delta=np.array([10.0]), ssim=np.array([[0.9, 0.9, 0.56]]),
                       ssim_threshold=np.array([0.55]), spectral_efficiency=np.full((1, 3), 10.0),
                       budget=np.array([0.5]), cost=np.ones(3), price_cap=np.full(3, 30.0))
    eq = solve_equilibrium(game)
    assert eq.converged and np.all(max_unilateral_gain(game, eq.prices) <= 1e-9)
    assert eq.demand[0, 2] == 0 and np.all(eq.demand[0, :2] > 0)
    assert np.isclose(eq.prices[0] @ eq.demand[0], 0.5)
    assert paper_binding_demand(game, eq.prices)[0, 2] < 0           # eq. 26: negative demand
    # eq. 32 (A and B over all RSUs) is not RSU 1's best response: it earns less there
    p32 = eq.prices.copy()
    p32[0, 0] = paper_binding_price(game, eq.prices)[0, 0]
    assert abs(p32[0, 0] - eq.prices[0, 0]) > 0.1
    v_eq = rsu_utility(game, eq.prices, follower_demand(game, eq.prices))[0]
    v_32 = rsu_utility(game, p32, follower_demand(game, p32))[0]
    assert v_32 < v_eq * (1 - 1e-4)


# ------------------------------------------------------------------ instances and validation


def test_draw_game_table_ii_ranges_and_reproducible() -> None:
    g1 = draw_game(np.random.default_rng(9), 50, 7)
    g2 = draw_game(np.random.default_rng(9), 50, 7)
    np.testing.assert_array_equal(g1.ssim, g2.ssim)
    assert (g1.n_uavs, g1.n_rsus) == (50, 7) and g1.available is None
    snr_lo, snr_hi = 20 - 25 + 112, 25 - 22 + 116          # dB
    q = g1.spectral_efficiency
    assert np.all((q >= np.log2(1 + 10 ** (snr_lo / 10))) & (q <= np.log2(1 + 10 ** (snr_hi / 10))))
    assert np.all((g1.ssim >= 0.85 ** 3) & (g1.ssim <= 1.0)) and np.all(g1.viable)
    assert np.all((g1.delta >= 10) & (g1.delta <= 20))
    assert np.all((g1.cost >= 1) & (g1.cost <= 4)) and np.all(g1.price_cap >= 5)
    assert np.all((g1.budget >= 2) & (g1.budget <= 10))
    with pytest.raises(ValueError, match="n_uavs"):
        draw_game(np.random.default_rng(0), 0, 3)
    with pytest.raises(ValueError, match="GameDistribution.cost"):
        GameDistribution(cost=(4.0, 1.0))


@pytest.mark.parametrize(("field", "value", "match"), [
    ("ssim", np.full((2, 3), 1.5), r"ssim\[0, 0\]"),
    ("budget", np.array([1.0, -1.0]), r"budget\[1\]"),
    ("price_cap", np.array([0.5, 9.0, 9.0]), r"price_cap\[0\].*below cost"),
    ("spectral_efficiency", np.ones((3, 2)), "shape"),
    ("delta", np.array([np.nan, 1.0]), "delta"),
    ("available", np.ones((2, 3)), "available"),
])
def test_pricing_game_validation(field: str, value: np.ndarray, match: str) -> None:
    base = dict(delta=np.ones(2), ssim=np.full((2, 3), 0.9), ssim_threshold=np.full(2, 0.5),
                spectral_efficiency=np.ones((2, 3)), budget=np.ones(2), cost=np.ones(3),
                price_cap=np.full(3, 9.0))
    base[field] = value
    with pytest.raises(ValueError, match=match):
        PricingGame(**base)


def test_game_arrays_are_read_only_and_prices_checked() -> None:
    game = make_game(0, 3, 2)
    with pytest.raises(ValueError):
        game.budget[0] = 1.0
    with pytest.raises(ValueError, match="prices"):
        follower_demand(game, np.ones((2, 3)))
    with pytest.raises(ValueError, match="prices"):
        follower_demand(game, np.zeros((3, 2)))


# ------------------------------------------------------------------ fast paths (small games)


def test_fast_demand_matches_generic_core_with_nonviable_pairs() -> None:
    from agents.pricing.draw import demand_core

    rng = np.random.default_rng(21)
    for trial in range(40):
        g = draw_game(rng, int(rng.integers(1, 5)), int(rng.integers(1, 7)))
        game = dataclasses.replace(g, available=rng.random(g.ssim.shape) < 0.6,
                                   budget=g.budget * (trial % 3))     # zero budgets too
        p = rng.uniform(0.5, 40.0, game.ssim.shape)
        expected = demand_core(game.weight, game.spectral_efficiency, p, game.budget,
                               game.viable)
        np.testing.assert_allclose(follower_demand(game, p), expected, rtol=1e-12, atol=0)


def test_derived_arrays_cached_read_only_and_monopoly_sweeps() -> None:
    game = draw_game(np.random.default_rng(4), 6, 1)
    s = np.log(game.ssim / game.ssim_threshold[:, None])
    np.testing.assert_array_equal(game.quality_gain, s)
    np.testing.assert_array_equal(game.weight, game.delta[:, None] * s)
    assert game.weight is game.weight and not game.viable.flags.writeable
    eq = solve_equilibrium(game)
    a, q = game.weight[:, 0], game.spectral_efficiency[:, 0]
    c, pbar = float(game.cost[0]), float(game.price_cap[0])
    mono = np.clip(np.maximum(np.sqrt(a * q * c), q * (a - game.budget)), c, pbar)
    np.testing.assert_allclose(eq.prices[:, 0], mono, rtol=1e-12)
    # the first sweep reaches the monopoly price; a second (if any) cannot move it
    assert eq.converged and eq.iterations <= 2 and eq.residual <= 1e-9
    one = solve_equilibrium(game, max_iter=1)
    np.testing.assert_array_equal(one.prices, eq.prices)
    assert one.iterations == 1


def test_trusted_constructor_gives_the_same_game_and_equilibrium() -> None:
    """``PricingGame.from_trusted`` (the market's fast path) skips the checks, nothing else."""
    game = draw_game(np.random.default_rng(5), 6, 3)
    fields = {f.name: None if getattr(game, f.name) is None else np.array(getattr(game, f.name))
              for f in dataclasses.fields(game)}
    fields["available"] = np.ones((6, 3), dtype=bool)
    fields["available"][0, 1] = False
    checked = PricingGame(**{k: v.copy() for k, v in fields.items()})
    trusted = PricingGame.from_trusted(**fields)
    for f in dataclasses.fields(game):
        np.testing.assert_array_equal(getattr(trusted, f.name), getattr(checked, f.name))
        assert not getattr(trusted, f.name).flags.writeable
    a, b = solve_equilibrium(checked), solve_equilibrium(trusted)
    np.testing.assert_array_equal(a.prices, b.prices)
    np.testing.assert_array_equal(a.demand, b.demand)
    with pytest.raises(TypeError, match="budget has dtype int64"):
        PricingGame.from_trusted(**{**fields, "budget": np.arange(6)})
