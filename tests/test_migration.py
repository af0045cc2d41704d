"""Twin placement: proportional allocation of twins to RSUs by bandwidth bought."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.pricing.draw import draw_game
from agents.pricing.game import solve_arrays
from simulator.world.market import Market, _cost_total, allocate_twins, primary_host


def test_allocation_follows_bandwidth_shares() -> None:
    # 3 twins, bandwidth 2:1 -> 2 twins on the first RSU, 1 on the second.
    assert allocate_twins(np.array([2.0, 1.0]), 3).tolist() == [0, 0, 1]
    # Unbought RSUs get nothing; a single seller takes every twin.
    assert allocate_twins(np.array([0.0, 5.0, 0.0]), 4).tolist() == [1, 1, 1, 1]


def test_allocation_ties_go_to_lower_index() -> None:
    assert allocate_twins(np.array([1.0, 1.0]), 1).tolist() == [0]


def test_allocation_rejects_nothing_bought() -> None:
    with pytest.raises(ValueError, match="Cannot place"):
        allocate_twins(np.zeros(3), 2)


@given(
    st.lists(st.floats(0.0, 100.0), min_size=1, max_size=8).filter(lambda b: sum(b) > 1e-6),
    st.integers(1, 12),
)
def test_allocation_is_largest_remainder(bandwidth: list[float], n: int) -> None:
    b = np.array(bandwidth)
    placed = allocate_twins(b, n)
    counts = np.bincount(placed, minlength=len(b))
    quota = b / b.sum() * n
    assert counts.sum() == n
    # Largest remainder: every count is floor or ceil of its quota; zero bandwidth gets 0.
    assert np.all(counts >= np.floor(quota) - 1e-9)
    assert np.all(counts <= np.ceil(quota) + 1e-9)
    assert np.all(counts[b == 0] == 0)


def _vectorised_allocation(bandwidth: np.ndarray, n: int) -> np.ndarray:
    """The array formula allocate_twins replaced (plain floats, for speed): the reference."""
    quota = bandwidth / float(np.sum(bandwidth)) * n
    counts = np.floor(quota).astype(int)
    order = np.lexsort((np.arange(len(quota)), -(quota - counts)))
    counts[order[: n - int(counts.sum())]] += 1
    return np.repeat(np.arange(len(quota)), counts)


@given(
    st.lists(st.one_of(st.floats(0.0, 100.0), st.sampled_from([0.0, 0.25, 0.5, 1.0, 1 / 3])),
             min_size=1, max_size=20).filter(lambda b: sum(b) > 1e-6),
    st.integers(1, 12),
)
def test_allocation_equals_the_array_formula(bandwidth: list[float], n: int) -> None:
    b = np.array(bandwidth)
    placed = allocate_twins(b, n)
    assert placed.dtype == np.int64
    assert placed.tolist() == _vectorised_allocation(b, n).tolist()


@given(st.lists(st.integers(-1, 6), min_size=1, max_size=10))
def testprimary_host_is_the_most_common_host(hosts: list[int]) -> None:
    h = np.array(hosts, dtype=np.int64)
    kept = h[h >= 0]
    expected = int(np.bincount(kept).argmax()) if kept.size else -1
    assert primary_host(h) == expected


def _rounds(result):
    from simulator.trace.reader import TraceReader

    with TraceReader(result.trace_path) as r:
        return r.read("/pricing/rounds")


def test_every_round_records_the_exact_equilibrium_of_the_same_game(run_small) -> None:
    eq = _rounds(run_small(name="eq.h5"))
    greedy = _rounds(run_small("pricing.solver=greedy", name="greedy.h5"))
    off = _rounds(run_small("pricing.solver=greedy", "pricing.reference=false", name="off.h5"))
    # An equilibrium round is its own reference.
    np.testing.assert_array_equal(eq["reference_rsu_utility"], eq["mean_rsu_utility"])
    np.testing.assert_array_equal(eq["reference_uav_utility"], eq["mean_uav_utility"])
    # Same seed: the first round is the same game under both solvers (pricing has not yet
    # changed anything), so greedy's recorded reference is the equilibrium run's utility.
    assert greedy["reference_rsu_utility"][0] == pytest.approx(eq["mean_rsu_utility"][0],
                                                               rel=1e-9)
    assert greedy["reference_uav_utility"][0] == pytest.approx(eq["mean_uav_utility"][0],
                                                               rel=1e-9)
    assert np.isfinite(greedy["reference_rsu_utility"]).all()
    assert not np.array_equal(greedy["mean_rsu_utility"], greedy["reference_rsu_utility"])
    # Switched off: NaN references, and otherwise the same run.
    assert np.isnan(off["reference_rsu_utility"]).all()
    np.testing.assert_array_equal(off["mean_rsu_utility"], greedy["mean_rsu_utility"])


@pytest.mark.parametrize(("seed", "n_uavs", "n_rsus"), [(0, 1, 2), (1, 1, 5), (2, 4, 3), (3, 9, 7)])
def test_cost_total_is_the_revenue_less_the_utility_of_each_rsu(seed, n_uavs, n_rsus) -> None:
    # the market's /pricing/revenue cost_total: NumPy's subtraction, float by float, and
    # what it means, each RSU's cost c_j sum_i b_ij (to rounding)
    game = draw_game(np.random.default_rng(seed), n_uavs, n_rsus)
    sol = solve_arrays(game.weight, game.viable, game.spectral_efficiency, game.budget,
                       game.cost.copy(), game.price_cap.copy())
    got = _cost_total(sol.revenue.tolist(), sol.rsu_utility.tolist())
    assert got == (sol.revenue - sol.rsu_utility).tolist()
    assert all(type(x) is float for x in got)
    np.testing.assert_allclose(got, game.cost * sol.demand.sum(axis=0), rtol=1e-9, atol=1e-12)
    assert _cost_total([3.5, 0.1], [1.25, 0.3]) == [2.25, 0.1 - 0.3]


@given(st.sets(st.integers(0, 11)), st.integers(-1, 12),
       st.none() | st.lists(st.booleans(), min_size=12, max_size=12))
def test_candidates_are_the_covering_rsus_but_the_one_left_and_the_failed(
        covering: set[int], leaving: int, down: list[bool] | None) -> None:
    failed = set() if down is None else {r for r, d in enumerate(down) if d}
    got = Market._candidates(set(covering), leaving,
                             None if down is None else np.array(down, dtype=bool))
    assert got == sorted(covering - {leaving} - failed)
    assert all(type(r) is int for r in got)
