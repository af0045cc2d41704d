"""Benchmark: the compiled batch pricing-equilibrium solver vs a generic scipy solver.

Every solver computes the Stackelberg equilibrium of the same Table II instances (MODEL A3)
by Gauss-Seidel best-response iteration over the RSUs:

- fast: ``agents.pricing.game.solve_equilibrium`` (all UAVs' games in one compiled batch,
  :mod:`agents.pricing.kernel`; closed-form follower response; exact best responses, by the
  linear regime scan above ``DENSE_MAX_RSUS`` RSUs and by scoring every candidate below);
- dense: the same solver forced to score every candidate (``method="dense"``, quadratic in
  the RSUs): the algorithm of the former numpy solver, bit for bit, as the reference;
- generic: every follower response is ``scipy.optimize.minimize(method="SLSQP")`` on the UAV's
  problem and every best response is ``scipy.optimize.minimize_scalar(method="bounded")``
  on the RSU's revenue from that UAV, one UAV-RSU pair at a time.

The game splits exactly into one independent sub-game per UAV (MODEL A3), so the generic
solver's cost is linear in the number of UAVs: it is run on a few UAVs' sub-games only and
its full-instance time is extrapolated (marked ``*``).  For 100x20 even one UAV's generic
solve takes minutes (SLSQP on 20 variables inside every revenue evaluation), so it runs one
sweep started from the fast equilibrium (its price change there is the accuracy check) and
its time is that sweep's times the fast solver's sweep count (same iteration, same start).
Accuracy: the largest relative unilateral gain of any RSU (``max_unilateral_gain``, grid plus
golden section on the exact demand, independent of the solvers), and the largest price
difference between solutions.

The large section (500 UAVs x 100 RSUs, targets: 100x20 in 5 ms, 500x100 in 1 s) times the
fast solver on whole instances and checks a subset of the UAVs (the game splits per UAV):
their unilateral gains, and their prices against the dense reference solving the same UAVs.

Usage: ``python benchmarks/bench_game.py [--quick]``; writes benchmarks/results/bench_game.json.

``--small`` runs only the small-game section instead: the games the simulator solves once per
migration round (1-3 UAVs x 1-6 RSUs, plus the paper's 15x5), a few hundred ``draw_game``
instances per size; it reports the median time to build the :class:`PricingGame` (validation)
and to solve it, the sweep counts and the worst unilateral gain of a sample of the solutions,
and writes benchmarks/results/bench_game_small.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from agents.pricing.draw import draw_game, max_unilateral_gain
from agents.pricing.game import (
    EquilibriumResult,
    PricingGame,
    initial_prices,
    solve_equilibrium,
)

RESULTS = Path(__file__).resolve().parent / "results" / "bench_game.json"
RESULTS_SMALL = RESULTS.with_name("bench_game_small.json")
SMALL_SIZES = ((1, 1), (1, 3), (2, 4), (3, 6), (15, 5))
#: wall-time targets of issue 13 (seconds per solve)
TARGETS_S = {"100x20": 0.005, "500x100": 1.0}


def generic_demand(a: np.ndarray, q: np.ndarray, p: np.ndarray, budget: float) -> np.ndarray:
    """One UAV's demand by SLSQP (generic constrained optimiser).

    The variables are the amounts spent ``x = p b`` (better scaled than ``b``: the budget
    constraint becomes ``sum x <= R``); the demand is ``x / p``.
    """
    k = q / p
    res = minimize(lambda x: -(a @ np.log1p(x * k) - x.sum()), np.full(a.size, budget / a.size),
                   jac=lambda x: -(a * k / (1 + x * k) - 1.0), method="SLSQP",
                   bounds=[(0.0, None)] * a.size,
                   constraints=[{"type": "ineq", "fun": lambda x: budget - x.sum(),
                                 "jac": lambda x: -np.ones_like(x)}],
                   options={"ftol": 1e-14, "maxiter": 500})
    return np.maximum(res.x, 0.0) / p


def generic_equilibrium(game: PricingGame, *, tol: float = 1e-6, max_iter: int = 30,
                        start: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Best-response iteration with a scipy optimiser for every follower and leader move."""
    a, q = game.weight, game.spectral_efficiency
    prices = initial_prices(game) if start is None else start.copy()
    for sweep in range(1, max_iter + 1):
        previous = prices.copy()
        for j in range(game.n_rsus):
            c, pbar = float(game.cost[j]), float(game.price_cap[j])
            for i in range(game.n_uavs):
                def neg_revenue(pj: float, i: int = i, j: int = j, c: float = c) -> float:
                    p = prices[i].copy()
                    p[j] = pj
                    return -(pj - c) * generic_demand(a[i], q[i], p, game.budget[i])[j]

                res = minimize_scalar(neg_revenue, bounds=(c, pbar), method="bounded",
                                      options={"xatol": 1e-10})
                prices[i, j] = res.x
        if np.max(np.abs(prices - previous)) <= tol:
            return prices, sweep
    return prices, max_iter


def sub_game(game: PricingGame, rows: np.ndarray) -> PricingGame:
    """The sub-game of the UAVs in ``rows`` (exactly independent of the others)."""
    per_uav = ("delta", "ssim", "ssim_threshold", "spectral_efficiency", "budget")
    return dataclasses.replace(game, **{k: getattr(game, k)[rows] for k in per_uav})


def bench_size(n_uavs: int, n_rsus: int, seeds: list[int], generic_seeds: list[int],
               generic_uavs: int | None, repeats: int, warm: bool = False) -> list[dict]:
    """Time both solvers on ``n_uavs`` x ``n_rsus`` instances.

    ``warm``: the generic solver runs one sweep from the fast equilibrium (accuracy check)
    and its time is extrapolated to the fast solver's number of sweeps (both run the same
    Gauss-Seidel iteration from the same start).
    """
    rows_out = []
    for seed in seeds:
        game = draw_game(np.random.default_rng(seed), n_uavs, n_rsus)
        solve_equilibrium(draw_game(np.random.default_rng(seed), n_uavs, n_rsus))  # warm-up
        t_fast, cpu_fast, eq = timed(game, repeats, "auto")
        t_dense, _, eq_dense = timed(game, repeats, "dense")
        row = {"size": f"{n_uavs}x{n_rsus}", "seed": seed, "fast_s": t_fast,
               "fast_cpu_s": cpu_fast,
               "fast_sweeps": eq.iterations, "fast_converged": eq.converged,
               "fast_max_gain": float(max_unilateral_gain(game, eq.prices).max()),
               "dense_s": t_dense,
               "dense_max_price_diff": float(np.abs(eq_dense.prices - eq.prices).max())}
        if seed in generic_seeds:
            rows = np.arange(n_uavs if generic_uavs is None else generic_uavs)
            sub = sub_game(game, rows)
            t0 = time.perf_counter()
            if warm:
                p_gen, sweeps = generic_equilibrium(sub, max_iter=1, start=eq.prices[rows])
            else:
                p_gen, sweeps = generic_equilibrium(sub)
            t_gen = time.perf_counter() - t0
            scale = n_uavs / rows.size * (eq.iterations if warm else 1)
            row.update({
                "generic_uavs_solved": int(rows.size), "generic_s_measured": t_gen,
                "generic_s": t_gen * scale, "generic_extrapolated": bool(scale != 1),
                "generic_sweeps": sweeps, "generic_warm_start_one_sweep": warm,
                "generic_max_gain": float(max_unilateral_gain(sub, p_gen).max()),
                "fast_max_gain_same_uavs": float(max_unilateral_gain(sub, eq.prices[rows])
                                                 .max()),
                "max_price_diff": float(np.abs(p_gen - eq.prices[rows]).max()),
                "speedup": t_gen * scale / t_fast,
            })
        rows_out.append(row)
        print(format_row(row), flush=True)
    return rows_out


def timed(game: PricingGame, repeats: int, method: str
          ) -> tuple[float, float, EquilibriumResult]:
    """Mean wall and CPU time of ``repeats`` solves of ``game`` by ``method``, and the solution.

    The CPU time (this process only) is what a solve costs when other processes share the
    cores; the wall time is what it costs on an idle machine only.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        eq = solve_equilibrium(game, method=method)
    return ((time.perf_counter() - t0) / repeats, (time.process_time() - c0) / repeats, eq)


def bench_large(n_uavs: int, n_rsus: int, seeds: list[int], n_checked: int,
                repeats: int) -> dict:
    """The fast solver on ``n_uavs`` x ``n_rsus`` games, checked on ``n_checked`` UAVs.

    For each seed: mean solve time over ``repeats``, sweeps, and for a subset of UAVs (every
    ``n_uavs / n_checked``-th) their worst unilateral gain and the largest difference of
    their prices to the dense reference solving the same UAVs on their own.
    """
    runs = []
    for seed in seeds:
        game = draw_game(np.random.default_rng(seed), n_uavs, n_rsus)
        t_fast, cpu_fast, eq = timed(game, repeats, "auto")
        rows = np.linspace(0, n_uavs - 1, n_checked).astype(int)
        sub = sub_game(game, rows)
        t0 = time.perf_counter()
        ref = solve_equilibrium(sub, method="dense")
        t_dense = time.perf_counter() - t0
        run = {"seed": seed, "fast_s": t_fast, "fast_cpu_s": cpu_fast,
               "fast_sweeps": eq.iterations,
               "fast_converged": eq.converged, "fast_residual": eq.residual,
               "uavs_checked": int(rows.size),
               "fast_max_gain": float(max_unilateral_gain(sub, eq.prices[rows]).max()),
               "dense_s_checked_uavs": t_dense,
               "dense_max_price_diff": float(np.abs(ref.prices - eq.prices[rows]).max())}
        runs.append(run)
        print(f"{n_uavs}x{n_rsus} seed {seed}  fast {t_fast * 1e3:8.1f} ms (CPU "
              f"{cpu_fast * 1e3:.1f} ms, {eq.iterations} "
              f"sweeps, converged {eq.converged}); {rows.size} UAVs checked: gain "
              f"{run['fast_max_gain']:.1e}, |dp| to dense {run['dense_max_price_diff']:.1e}",
              flush=True)
    return {"size": f"{n_uavs}x{n_rsus}", "runs": runs,
            "fast_mean_s": float(np.mean([r["fast_s"] for r in runs])),
            "fast_cpu_mean_s": float(np.mean([r["fast_cpu_s"] for r in runs])),
            "fast_max_s": float(max(r["fast_s"] for r in runs)),
            "fast_worst_gain": float(max(r["fast_max_gain"] for r in runs)),
            "dense_max_price_diff": float(max(r["dense_max_price_diff"] for r in runs))}


def format_row(r: dict) -> str:
    s = (f"{r['size']:>7} seed {r['seed']}  fast {r['fast_s'] * 1e3:8.2f} ms "
         f"({r['fast_sweeps']:2d} sweeps, gain {r['fast_max_gain']:.1e}; dense "
         f"{r['dense_s'] * 1e3:.1f} ms, |dp| {r['dense_max_price_diff']:.1e})")
    if "generic_s" in r:
        star = "*" if r["generic_extrapolated"] else " "
        s += (f" | generic {r['generic_s']:9.2f} s{star} ({r['generic_sweeps']:2d} sweeps, "
              f"gain {r['generic_max_gain']:.1e}, |dp| {r['max_price_diff']:.1e}) "
              f"speed-up {r['speedup']:,.0f}x")
    return s


def bench_small(n_games: int, n_checked: int) -> dict:
    """Median build / solve time per small game, ``n_games`` draws per size of SMALL_SIZES.

    Each game is built from its raw arrays (``PricingGame(...)``, i.e. validation and the
    derived arrays), then solved once, as the simulator does; ``n_checked`` solutions per size
    are verified with :func:`max_unilateral_gain`.
    """
    out = {}
    for n_uavs, n_rsus in SMALL_SIZES:
        rng = np.random.default_rng(1000 * n_uavs + n_rsus)
        games = [draw_game(rng, n_uavs, n_rsus) for _ in range(n_games)]
        raw = [{f.name: getattr(g, f.name) for f in dataclasses.fields(g)} for g in games]
        for g in games[:20]:                                       # warm-up
            solve_equilibrium(g)
        t_build, t_solve, sweeps, gains = [], [], [], []
        for k, kw in enumerate(raw):
            t0 = time.perf_counter()
            game = PricingGame(**kw)
            t1 = time.perf_counter()
            eq = solve_equilibrium(game)
            t2 = time.perf_counter()
            t_build.append(t1 - t0)
            t_solve.append(t2 - t1)
            sweeps.append(eq.iterations)
            if k < n_checked:
                gains.append(float(max_unilateral_gain(game, eq.prices).max()))
        size = f"{n_uavs}x{n_rsus}"
        out[size] = {
            "games": n_games, "build_us_median": float(np.median(t_build)) * 1e6,
            "solve_us_median": float(np.median(t_solve)) * 1e6,
            "total_us_median": float(np.median(np.add(t_build, t_solve))) * 1e6,
            "sweeps_mean": float(np.mean(sweeps)), "sweeps_max": int(max(sweeps)),
            "worst_gain": float(max(gains)), "games_checked": len(gains)}
        m = out[size]
        print(f"{size:>5}: build {m['build_us_median']:7.1f} us  solve "
              f"{m['solve_us_median']:8.1f} us  total {m['total_us_median']:8.1f} us  "
              f"({m['sweeps_mean']:.1f} sweeps, worst gain {m['worst_gain']:.1e})", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer instances (smoke run)")
    parser.add_argument("--small", action="store_true",
                        help="only the small-game timing section (bench_game_small.json)")
    args = parser.parse_args()
    if args.small:
        n_games = 100 if args.quick else 400
        sizes = bench_small(n_games, n_checked=10 if args.quick else 25)
        RESULTS_SMALL.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_SMALL.write_text(json.dumps({
            "benchmark": "bench_game_small", "python": platform.python_version(),
            "machine": platform.machine(), "quick": args.quick, "sizes": sizes}, indent=2))
        print(f"wrote {RESULTS_SMALL}")
        return
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4]
    # generic side bounded in time: (seeds, UAVs solved per instance; None = all)
    small = ([0], 2) if args.quick else ([0, 1], 5)
    large = ([0], 1)
    print("* generic time extrapolated from the UAVs solved (the game splits per UAV);")
    print("  100x20: one generic sweep from the fast equilibrium, times the fast sweep count")
    rows = bench_size(15, 5, seeds, *small, repeats=20)
    rows += bench_size(100, 20, seeds, *large, repeats=3, warm=True)
    summary = {}
    for size in ("15x5", "100x20"):
        sel = [r for r in rows if r["size"] == size]
        gen = [r for r in sel if "speedup" in r]
        summary[size] = {
            "fast_mean_s": float(np.mean([r["fast_s"] for r in sel])),
            "fast_worst_gain": float(max(r["fast_max_gain"] for r in sel)),
            "generic_mean_s": float(np.mean([r["generic_s"] for r in gen])),
            "generic_worst_gain": float(max(r["generic_max_gain"] for r in gen)),
            "max_price_diff": float(max(r["max_price_diff"] for r in gen)),
            "speedup_mean": float(np.mean([r["speedup"] for r in gen])),
            "speedup_min": float(min(r["speedup"] for r in gen)),
            "fast_cpu_mean_s": float(np.mean([r["fast_cpu_s"] for r in sel])),
            "dense_mean_s": float(np.mean([r["dense_s"] for r in sel])),
            "dense_max_price_diff": float(max(r["dense_max_price_diff"] for r in sel)),
        }
        m = summary[size]
        print(f"{size}: fast {m['fast_mean_s'] * 1e3:.2f} ms/solve, generic "
              f"{m['generic_mean_s']:.2f} s/solve, speed-up {m['speedup_mean']:,.0f}x "
              f"(min {m['speedup_min']:,.0f}x); worst gain fast {m['fast_worst_gain']:.1e}, "
              f"generic {m['generic_worst_gain']:.1e}; max |dp| {m['max_price_diff']:.1e}")
    large = bench_large(500, 100, [0] if args.quick else [0, 1, 2], n_checked=10,
                        repeats=1 if args.quick else 3)
    targets = {}
    for size, limit in TARGETS_S.items():
        m = summary[size] if size in summary else large
        targets[size] = t = {"target_s": limit, "wall_s": m["fast_mean_s"],
                             "cpu_s": m["fast_cpu_mean_s"]}
        t["met_wall"], t["met_cpu"] = t["wall_s"] <= limit, t["cpu_s"] <= limit
        print(f"target {size}: {t['wall_s'] * 1e3:.1f} ms wall, {t['cpu_s'] * 1e3:.1f} ms CPU "
              f"(target {limit * 1e3:.0f} ms): {'met' if t['met_wall'] else 'NOT met'} on "
              f"wall time, {'met' if t['met_cpu'] else 'NOT met'} on CPU time")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "bench_game", "python": platform.python_version(),
        "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(), "quick": args.quick, "summary": summary,
        "large": large, "targets": targets, "runs": rows}, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
