"""Reproduce the two seed papers' figures: experiments -> HDF5 traces -> figures -> REPORT.md.

``uavtwin reproduce all|tiny-madrl|sync [--quick] -o DIR`` runs the experiments behind
seed 000 (Tiny MADRL pricing, Figs. 3-6) and seed 004 (twin-synchronisation games,
Figs. 3-13), writes one trace per experiment into ``DIR/traces/``, then draws every figure
*from those traces only* (:mod:`analysis.paper_figures`) into ``DIR/figures/`` and writes
``DIR/REPORT.md``: each figure next to the paper's claim, our numbers and a verdict computed
from the numbers.

Trace layouts (the schema is unchanged; experiment bookkeeping lives in group attributes):

* pricing sweeps: ``/pricing/rounds`` has one row per (sweep value, game, solver), written in
  sweep order; ``/pricing`` attributes ``sweep_parameter``, ``sweep_values`` and
  ``sweep_round_offsets`` (rounds ``offsets[v] <= round_id < offsets[v+1]`` belong to value
  ``v``). Fig. 3 adds ``/pricing/paths`` (reward per iteration of every round) and the
  attributes ``training_eval_tiny_madrl`` / ``training_eval_ppo`` ([n, 2]: PPO iteration,
  held-out ratio to the SE), copied from the shipped checkpoints' training summaries.
* Fig. 4: round ``k < K`` is iteration ``k`` of one tiny_madrl repeated game (its 6 offers in
  ``/pricing/offers``), round ``K`` the Stackelberg equilibrium of the same game.
* sync (:mod:`simulator.app.reproduce_sync`): one trace per paper figure; run ``r`` (a sweep
  value or a controller) of an ``M``-VSP game uses ``vsp_id = r * M + m``; ``/sensing``
  attributes give the sweep, ``n_vsps`` and the exact discounted payoffs (``payoff``,
  [runs * M]).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from agents.marl.checkpoint import load_checkpoint
from agents.marl.checkpoint_file import DEFAULT_CHECKPOINTS
from agents.pricing.draw import draw_game
from agents.pricing.game import PricingGame
from agents.pricing.registry import POLICY_NAMES, make_policy
from simulator.app.reproduce_sync import SYNC_EXPERIMENTS, run_sync
from simulator.trace.schema import SOLVER_CODES, code_of
from simulator.trace.writer import TraceWriter

__all__ = [
    "BUDGETS", "PRICING_EXPERIMENTS", "SEED", "TARGETS", "Budget", "ReproduceResult",
    "cmd_reproduce", "reproduce"
]

log = logging.getLogger(__name__)

TARGETS: tuple[str, ...] = ("all", "tiny-madrl", "sync")
SEED: int = 20250  # held-out games: a seed stream distinct from the agents' training (seed 7)


@dataclass(frozen=True)
class Budget:
    """How much work the pricing experiments do (the sync experiments are always full).

    Attributes:
        fig3_games: held-out games averaged in Fig. 3.
        sweep_games: games per sweep value in Figs. 5-6.
        iterations: iterations K of the repeated-game solvers (Figs. 3, 5, 6).
        fig4_iterations: iterations K of the Fig. 4 round (the paper shows ~110).
    """

    fig3_games: int
    sweep_games: int
    iterations: int
    fig4_iterations: int


BUDGETS: dict[str, Budget] = {
    "full": Budget(fig3_games=100, sweep_games=50, iterations=50, fig4_iterations=200),
    "quick": Budget(fig3_games=20, sweep_games=8, iterations=50, fig4_iterations=200),
}

# name -> (sweep parameter, values, (I, J) of the base game or None)
PRICING_EXPERIMENTS: dict[str, tuple[str, tuple[float, ...]]] = {
    "tiny-fig3": ("none", (0.0,)),
    "tiny-fig4": ("none", (0.0,)),
    "tiny-fig5-cost": ("cost", (1.0, 2.0, 3.0, 4.0)),
    "tiny-fig5-pbar": ("price_cap", (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0)),
    "tiny-fig6-rsus": ("n_rsus", (2.0, 3.0, 4.0, 5.0, 6.0)),
    "tiny-fig6-uavs": ("n_uavs", (5.0, 10.0, 15.0, 20.0, 25.0)),
}


@dataclass(frozen=True)
class ReproduceResult:
    """What a reproduction wrote.

    Attributes:
        out_dir: the output directory.
        report: path of REPORT.md.
        traces: trace files, one per experiment.
        figures: figure files.
        findings: the per-claim findings (:class:`analysis.paper_figures.Finding`).
        wall_time_s: wall-clock time of the whole reproduction.
    """

    out_dir: Path
    report: Path
    traces: tuple[Path, ...]
    figures: tuple[Path, ...]
    findings: tuple[Any, ...]
    wall_time_s: float


# ------------------------------------------------------------------------- pricing
def _subgame(game: PricingGame, n_uavs: int, n_rsus: int) -> PricingGame:
    """The first ``n_uavs`` UAVs and ``n_rsus`` RSUs of a game (nested games per sweep)."""
    i, j = slice(0, n_uavs), slice(0, n_rsus)
    return PricingGame(
        delta=game.delta[i], ssim=game.ssim[i, j], ssim_threshold=game.ssim_threshold[i],
        spectral_efficiency=game.spectral_efficiency[i, j], budget=game.budget[i],
        cost=game.cost[j], price_cap=game.price_cap[j])


def _game_for(param: str, value: float, base: PricingGame) -> PricingGame:
    """The game of one sweep value, from a base game with every other draw unchanged."""
    if param == "cost":
        return dataclasses.replace(base, cost=np.full(base.n_rsus, value))
    if param == "price_cap":
        return dataclasses.replace(base, price_cap=np.full(base.n_rsus, value))
    if param == "n_rsus":
        return _subgame(base, 15, int(value))
    if param == "n_uavs":
        return _subgame(base, int(value), 5)
    return _subgame(base, 15, 5)


def _write_round(tw: TraceWriter, round_id: int, solver: str, outcome: Any, wall: float,
                 t_s: float = 0.0) -> None:
    game_shape = outcome.prices.shape
    tw.append("/pricing/rounds", round_id=round_id, t_s=t_s,
              solver=code_of(SOLVER_CODES, solver), n_uavs=game_shape[0],
              n_rsus=game_shape[1], iterations=int(outcome.iterations),
              converged=bool(outcome.converged),
              residual=float(np.nan if outcome.residual is None else outcome.residual),
              wall_time_s=wall, mean_rsu_utility=float(np.mean(outcome.rsu_utility)))


def _run_pricing(name: str, path: Path, budget: Budget) -> None:
    """Run one pricing experiment of :data:`PRICING_EXPERIMENTS` into a trace at ``path``."""
    param, values = PRICING_EXPERIMENTS[name]
    fig4 = name == "tiny-fig4"
    k_iter = budget.fig4_iterations if fig4 else budget.iterations
    n_games = 1 if fig4 else budget.fig3_games if name == "tiny-fig3" else budget.sweep_games
    spec = {"experiment": name, "paper": "seed 000", "sweep_parameter": param,
            "sweep_values": list(values), "games_per_value": n_games, "iterations": k_iter,
            "game_seed": SEED, "solvers": list(POLICY_NAMES), "distribution": "Table II "
            "(agents.pricing.game.GameDistribution defaults)"}
    exp_id = list(PRICING_EXPERIMENTS).index(name)
    games_rng = np.random.default_rng([SEED, exp_id])
    size = (25, 5) if param == "n_uavs" else (15, 6) if param == "n_rsus" else (15, 5)
    bases = [draw_game(games_rng, 3, 2) if fig4 else draw_game(games_rng, *size)
             for _ in range(n_games)]
    solvers = ("tiny_madrl", "equilibrium") if fig4 else POLICY_NAMES
    policies = {s: make_policy(s, iterations=k_iter) for s in solvers}
    with TraceWriter(path, scenario_yaml=yaml.safe_dump(spec, sort_keys=False),
                     seed=SEED) as tw:
        if fig4:
            _fig4_rounds(tw, bases[0], policies)
            tw.set_attrs("/pricing", experiment=name, iterations=k_iter,
                         layout="round k < iterations: iteration k of tiny_madrl; "
                                "round iterations: equilibrium")
            return
        offsets, rid = [0], 0
        for v, value in enumerate(values):
            for g, base in enumerate(bases):
                game = _game_for(param, value, base)
                for s, solver in enumerate(solvers):
                    t0 = time.perf_counter()
                    out = policies[solver].run_round(game, np.random.default_rng(
                        [SEED, exp_id, v, g, s]))
                    _write_round(tw, rid, solver, out, time.perf_counter() - t0)
                    if name == "tiny-fig3":
                        path_k = np.asarray(out.reward_path, dtype=float)
                        tw.append("/pricing/paths", round_id=np.full(path_k.size, rid),
                                  iteration=np.arange(path_k.size, dtype=np.int32),
                                  mean_rsu_utility=path_k)
                    rid += 1
            offsets.append(rid)
        tw.set_attrs("/pricing", experiment=name, sweep_parameter=param,
                     sweep_values=np.asarray(values, dtype=float),
                     sweep_round_offsets=np.asarray(offsets, dtype=np.int64),
                     iterations=k_iter, games_per_value=n_games)
        if name == "tiny-fig3":  # the agents' own convergence, from their training records
            for solver, ckpt in DEFAULT_CHECKPOINTS.items():
                evals = load_checkpoint(ckpt).summary.get("eval_path")
                if evals:
                    tw.set_attrs("/pricing", **{f"training_eval_{solver}": np.asarray(
                        evals, dtype=float).ravel()})


def _fig4_rounds(tw: TraceWriter, game: PricingGame, policies: dict[str, Any]) -> None:
    out = policies["tiny_madrl"].run_round(game, np.random.default_rng([SEED, 4]))
    eq = policies["equilibrium"].run_round(game, np.random.default_rng([SEED, 4, 1]))
    n_i, n_j = game.n_uavs, game.n_rsus
    uav = np.repeat(np.arange(n_i, dtype=np.int32), n_j)
    rsu = np.tile(np.arange(n_j, dtype=np.int32), n_i)
    k_total = out.price_path.shape[0]
    tiny = code_of(SOLVER_CODES, "tiny_madrl")
    rows = [(k, tiny, out.price_path[k], out.demand_path[k], out.reward_path[k])
            for k in range(k_total)]
    rows.append((k_total, code_of(SOLVER_CODES, "equilibrium"), eq.prices, eq.demand,
                 float(np.mean(eq.rsu_utility))))
    for k, code, prices, demand, reward in rows:
        tw.append("/pricing/rounds", round_id=k, t_s=float(k), solver=code, n_uavs=n_i,
                  n_rsus=n_j, iterations=k + 1, converged=True, residual=np.nan,
                  wall_time_s=0.0, mean_rsu_utility=float(reward))
        tw.append("/pricing/offers", round_id=np.full(n_i * n_j, k), request_id=uav.astype(
            np.int64), uav_id=uav, rsu_id=rsu, price=np.ravel(prices),
            bandwidth_mhz=np.ravel(demand), spectral_efficiency=np.ravel(
                game.spectral_efficiency), ssim=np.ravel(game.ssim))


# ------------------------------------------------------------------------- driver
def experiments_for(target: str) -> list[str]:
    """Experiment names run for a target (``all``, ``tiny-madrl`` or ``sync``).

    Args:
        target: one of :data:`TARGETS`.

    Returns:
        Experiment names in run order.

    Raises:
        ValueError: for an unknown target.
    """
    if target not in TARGETS:
        raise ValueError(f"reproduce: target {target!r}: expected one of {list(TARGETS)}")
    names: list[str] = []
    if target in ("all", "tiny-madrl"):
        names += list(PRICING_EXPERIMENTS)
    if target in ("all", "sync"):
        names += list(SYNC_EXPERIMENTS)
    return names


def reproduce(target: str, out_dir: str | Path, quick: bool = False, progress: bool = True,
              *, budget: Budget | None = None,
              only: Sequence[str] | None = None) -> ReproduceResult:
    """Run the experiments of ``target``, draw the figures from their traces, write REPORT.md.

    Args:
        target: ``all``, ``tiny-madrl`` or ``sync``.
        out_dir: output directory (``traces/``, ``figures/``, ``REPORT.md``).
        quick: use the reduced :data:`BUDGETS` ``quick`` budget.
        progress: show a progress bar over experiments.
        budget: explicit budget (overrides ``quick``; tests use a tiny one).
        only: restrict to these experiment names (subset of the target's).

    Returns:
        The :class:`ReproduceResult`.

    Raises:
        ValueError: unknown target or experiment name.
    """
    from analysis.paper_figures import draw_all, write_report

    start = time.perf_counter()
    names = experiments_for(target)
    if only is not None:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise ValueError(f"reproduce: unknown experiments {unknown} for target {target!r}; "
                             f"expected some of {names}")
        names = [n for n in names if n in only]
    bud = budget or BUDGETS["quick" if quick else "full"]
    out = Path(out_dir)
    (out / "traces").mkdir(parents=True, exist_ok=True)
    traces: dict[str, Path] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(names), desc="reproduce", unit="exp")
    for name in names:
        path = out / "traces" / f"{name}.h5"
        t0 = time.perf_counter()
        if name in PRICING_EXPERIMENTS:
            _run_pricing(name, path, bud)
        else:
            run_sync(name, path)
        log.info("reproduce: %s in %.1f s -> %s", name, time.perf_counter() - t0, path)
        traces[name] = path
        if bar is not None:
            bar.set_postfix_str(name)
            bar.update()
    if bar is not None:
        bar.close()
    findings, figures = draw_all(traces, out / "figures")
    wall = time.perf_counter() - start
    mode = "custom" if budget is not None else "quick" if quick else "full"
    command = f"uavtwin reproduce {target}{' --quick' if quick else ''} -o {out}"
    report = write_report(findings, out / "REPORT.md", command=command, budget=mode,
                          budget_values=dataclasses.asdict(bud), wall_time_s=wall)
    return ReproduceResult(out_dir=out, report=report, traces=tuple(traces.values()),
                           figures=tuple(figures), findings=tuple(findings), wall_time_s=wall)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """``uavtwin reproduce``: run, draw, report; print the report path and verdict counts.

    Args:
        args: parsed arguments (``target``, ``output``, ``quick``, ``quiet``).

    Returns:
        0 (a "differs" verdict is a result, not an error).
    """
    import sys

    res = reproduce(args.target, args.output, quick=args.quick, progress=not args.quiet)
    agree = sum(f.verdict == "agrees" for f in res.findings)
    sys.stdout.write(f"{res.report}\n{agree} of {len(res.findings)} claims agree "
                     f"({res.wall_time_s:.0f} s)\n")
    return 0
