"""Multi-seed benchmark: does Tiny MADRL (PPO + dynamic pruning) converge faster than PPO?

Issue 3 asks that the pruned agents reach the equilibrium in fewer PPO iterations than
unpruned PPO on the Fig. 3 setting (held-out 5 RSU x 15 UAV games, 2% band around the
Stackelberg equilibrium's average RSU reward). One seed says nothing about that, so this
script trains, for seeds ``0..N-1``, every requested variant with the same budget
(``PPOConfig()`` defaults, only ``seed``, ``eval_interval`` and the variant's fields
changed) and records per run:

* ``iterations_to_band``: first PPO iteration whose held-out ratio is inside the band and
  stays inside for every later evaluation (``TrainResult.iterations_to_band``; None = never),
* the final held-out ratio and the training wall time.

The held-out evaluation does not consume any training randomness, so ``eval_interval`` only
changes the resolution of ``iterations_to_band`` (and the wall time), not the trajectory.

Variants (``VARIANTS``): ``tiny_madrl`` (defaults: ``prune=True`` with mean compensation),
``ppo`` (``prune=False``), ``tiny_madrl_uncompensated`` (``prune_compensate=False``: the
pruning of the first release), ``tiny_madrl_early`` (uncompensated, ``prune_start=5,
prune_frequency=3``: an earlier, faster schedule) and ``tiny_madrl_output``
(``prune_importance="output"``). Only the first two are the shipped configurations; the
others are measurements.

Summary per variant: mean / median iterations to band (runs that never reach it are counted
as ``iterations`` — censored — and reported separately), and per pruned variant against
``ppo``: how many seeds each reaches the band first, and a paired Wilcoxon signed-rank test
(``scipy.stats.wilcoxon``, two-sided, zero differences dropped) on the iterations.

Runs go to a ``ProcessPoolExecutor(max_workers=2)``; ``train`` runs torch single-threaded.
With ``--reuse`` runs already in the JSON file with the same config are not trained again
(so a variant or seeds can be added later and paired with the same baseline runs). Stored
runs of other variants or seeds are always kept in the file; the summary covers the
variants and seeds of the invocation. The defaults (``--seeds 24``, ``tiny_madrl,ppo``)
retrain the documented 24-seed comparison (about 20 minutes on 2 cores).

Usage: ``python benchmarks/bench_convergence.py [--seeds 24] [--first-seed 0]
[--eval-interval 2] [--variants tiny_madrl,ppo] [--reuse] [--out FILE]``; prints a table and
a summary and writes ``benchmarks/results/bench_convergence.json`` (or ``FILE``).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.marl.config import PPOConfig
from agents.marl.ppo import train

RESULTS = Path(__file__).resolve().parent / "results" / "bench_convergence.json"
BASELINE = "ppo"
VARIANTS: dict[str, dict[str, Any]] = {
    "tiny_madrl": {"prune": True},
    "ppo": {"prune": False},
    "tiny_madrl_uncompensated": {"prune": True, "prune_compensate": False},
    "tiny_madrl_early": {"prune": True, "prune_start": 5, "prune_frequency": 3,
                         "prune_compensate": False},
    "tiny_madrl_output": {"prune": True, "prune_importance": "output"},
}
# The screening that led to mean compensation (seeds 100-103, docs/tiny-madrl.md): wider
# actors and larger learning rates, pruned runs without compensation as they were then.
for _w in (128, 256):
    VARIANTS[f"ppo_wide{_w}"] = {"prune": False, "actor_hidden": (_w, _w)}
    VARIANTS[f"tiny_madrl_wide{_w}"] = {"prune": True, "actor_hidden": (_w, _w),
                                        "final_sparsity": 0.75, "prune_compensate": False}
for _lr in ("6e-3", "1e-2"):
    VARIANTS[f"ppo_lr{_lr}"] = {"prune": False, "learning_rate": float(_lr)}
    VARIANTS[f"tiny_madrl_lr{_lr}"] = {"prune": True, "learning_rate": float(_lr),
                                       "prune_compensate": False}
# Fields that only matter when ``prune`` is on (ignored when comparing plain-PPO configs).
PRUNE_FIELDS = ("prune_critic", "prune_start", "prune_frequency", "prune_steps",
                "initial_sparsity", "final_sparsity", "prune_importance", "prune_compensate")


def _config(variant: str, seed: int, eval_interval: int) -> PPOConfig:
    """The run's config: defaults plus seed, evaluation interval and the variant's fields."""
    if variant not in VARIANTS:
        raise ValueError(f"bench_convergence: unknown variant {variant!r}, "
                         f"expected one of {sorted(VARIANTS)}")
    return replace(PPOConfig(), seed=seed, eval_interval=eval_interval, **VARIANTS[variant])


def _normalised(config: dict[str, Any]) -> dict[str, Any]:
    """A config dict without the pruning fields when pruning is off (they do nothing)."""
    if config.get("prune"):
        return config
    return {k: v for k, v in config.items() if k not in PRUNE_FIELDS}


def _same_config(stored: str, cfg: PPOConfig) -> bool:
    """Whether a stored run's config signature describes the same training as ``cfg``."""
    return _normalised(json.loads(stored)) == _normalised(json.loads(_signature(cfg)))


def _signature(cfg: PPOConfig) -> str:
    """Canonical text of a config (to decide whether a stored run can be reused)."""
    return json.dumps(cfg.plain(), sort_keys=True, default=str)


def _run(variant: str, seed: int, eval_interval: int) -> dict[str, Any]:
    """Train one variant with one seed (in a worker process) and summarise the run.

    Args:
        variant: key of ``VARIANTS``.
        seed: ``PPOConfig.seed``.
        eval_interval: iterations between held-out evaluations.

    Returns:
        JSON-ready record: variant, seed, iterations_to_band, final ratio, wall time,
        the held-out evaluation path and the config signature.
    """
    cfg = _config(variant, seed, eval_interval)
    result = train(cfg)
    evals = [[m.iteration, round(m.eval_ratio, 5)] for m in result.metrics
             if m.eval_ratio == m.eval_ratio]
    return {
        "variant": variant, "seed": seed,
        "iterations_to_band": result.iterations_to_band(),
        "final_ratio": round(result.metrics[-1].eval_ratio, 5),
        "wall_time_s": round(result.wall_time_s, 2),
        "live_params": result.model.actor.live_parameters(),
        "evals": evals,
        "config": _signature(cfg),
    }


def _censored(run: dict[str, Any], iterations: int) -> int:
    it = run["iterations_to_band"]
    return iterations if it is None else int(it)


def _summarise(runs: dict[tuple[str, int], dict[str, Any]], variants: list[str],
               seeds: list[int], iterations: int) -> dict[str, Any]:
    """Per-variant statistics and paired comparisons of each pruned variant with ``ppo``."""
    summary: dict[str, Any] = {"per_variant": {}, "paired_vs_ppo": {}}
    for v in variants:
        its = [_censored(runs[(v, s)], iterations) for s in seeds]
        reached = [runs[(v, s)]["iterations_to_band"] is not None for s in seeds]
        finals = [runs[(v, s)]["final_ratio"] for s in seeds]
        walls = [runs[(v, s)]["wall_time_s"] for s in seeds]
        summary["per_variant"][v] = {
            "reached_band": int(sum(reached)), "runs": len(seeds),
            "mean_iterations_to_band": round(statistics.fmean(its), 2),
            "median_iterations_to_band": statistics.median(its),
            "mean_final_ratio": round(statistics.fmean(finals), 5),
            "min_final_ratio": min(finals),
            "mean_wall_time_s": round(statistics.fmean(walls), 1),
        }
    if BASELINE not in variants:
        return summary
    for v in variants:
        if v == BASELINE:
            continue
        diffs = [_censored(runs[(v, s)], iterations) - _censored(runs[(BASELINE, s)], iterations)
                 for s in seeds]
        entry: dict[str, Any] = {
            "differences_pruned_minus_ppo": diffs,
            "pruned_first": sum(d < 0 for d in diffs),
            "ppo_first": sum(d > 0 for d in diffs),
            "ties": sum(d == 0 for d in diffs),
            "mean_difference": round(statistics.fmean(diffs), 2),
            "median_difference": statistics.median(diffs),
        }
        nonzero = [d for d in diffs if d != 0]
        if len(nonzero) >= 5:
            from scipy.stats import wilcoxon
            test = wilcoxon(diffs, zero_method="wilcox", alternative="two-sided")
            entry["wilcoxon"] = {"statistic": float(test.statistic),
                                 "p_value": round(float(test.pvalue), 4),
                                 "nonzero_pairs": len(nonzero)}
        else:
            entry["wilcoxon"] = f"not computed: only {len(nonzero)} non-tied pairs (< 5)"
        summary["paired_vs_ppo"][v] = entry
    return summary


def _print_table(runs: dict[tuple[str, int], dict[str, Any]], variants: list[str],
                 seeds: list[int]) -> None:
    head = f"{'seed':>4} " + " ".join(f"| {v + ' it/ratio/s':>32}" for v in variants)
    print(head)
    for s in seeds:
        cells = []
        for v in variants:
            r = runs[(v, s)]
            it = "never" if r["iterations_to_band"] is None else str(r["iterations_to_band"])
            cells.append(f"| {it:>10} {r['final_ratio']:>10.4f} {r['wall_time_s']:>10.1f}")
        print(f"{s:>4} " + " ".join(cells))


def main(argv: list[str] | None = None) -> int:
    """Train the variants over the seeds, print a table and summary, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=24, help="N: seeds S..S+N-1")
    parser.add_argument("--first-seed", type=int, default=0, help="S (default 0)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON file to write/reuse")
    parser.add_argument("--eval-interval", type=int, default=2,
                        help="iterations between held-out evaluations (1 = every one)")
    parser.add_argument("--variants", default="tiny_madrl,ppo",
                        help=f"comma-separated, from {sorted(VARIANTS)}")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse runs with identical configs from the existing JSON")
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results = args.out
    iterations = PPOConfig().iterations

    runs: dict[tuple[str, int], dict[str, Any]] = {}
    kept: list[dict[str, Any]] = []  # stored runs outside this invocation, written back
    if results.exists():  # other variants' and seeds' runs are always kept in the file
        stored = json.loads(results.read_text())["runs"]
        kept = [r for r in stored if r["variant"] not in variants or r["seed"] not in seeds]
        for r in stored if args.reuse else ():
            if r["variant"] in variants and r["seed"] in seeds and _same_config(
                    r["config"], _config(r["variant"], r["seed"], args.eval_interval)):
                runs[(r["variant"], r["seed"])] = r
    todo = [(v, s) for s in seeds for v in variants if (v, s) not in runs]
    print(f"{len(runs)} runs reused, {len(todo)} to train (2 workers)", flush=True)
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = {pool.submit(_run, v, s, args.eval_interval): (v, s) for v, s in todo}
        for fut in as_completed(futures):
            r = fut.result()
            runs[(r["variant"], r["seed"])] = r
            print(f"  {r['variant']:>17} seed {r['seed']}: band at {r['iterations_to_band']}, "
                  f"final {r['final_ratio']:.4f}, {r['wall_time_s']:.1f} s", flush=True)
    elapsed = time.perf_counter() - start
    results.parent.mkdir(parents=True, exist_ok=True)
    raw = {"runs": [runs[(v, s)] for s in seeds for v in variants] + kept}
    results.write_text(json.dumps(raw, indent=2) + "\n")  # runs first, in case summary fails

    _print_table(runs, variants, seeds)
    summary = _summarise(runs, variants, seeds, iterations)
    for v, st in summary["per_variant"].items():
        print(f"{v:>17}: reached band {st['reached_band']}/{st['runs']}, iterations to band "
              f"mean {st['mean_iterations_to_band']} median {st['median_iterations_to_band']}, "
              f"final ratio mean {st['mean_final_ratio']} (min {st['min_final_ratio']}), "
              f"wall {st['mean_wall_time_s']} s")
    for v, st in summary["paired_vs_ppo"].items():
        print(f"{v} vs ppo: first {st['pruned_first']}, ppo first {st['ppo_first']}, ties "
              f"{st['ties']}; mean diff {st['mean_difference']}, median diff "
              f"{st['median_difference']}; wilcoxon {st['wilcoxon']}")

    report = {
        "command": "python benchmarks/bench_convergence.py " + " ".join(
            argv if argv is not None else sys.argv[1:]),
        "machine": platform.platform(), "seeds": seeds, "variants": variants,
        "variant_overrides": {v: VARIANTS[v] for v in variants},
        "eval_interval": args.eval_interval, "iterations": iterations,
        "band": PPOConfig().band, "workers": 2, "elapsed_s": round(elapsed, 1),
        "note": "iterations_to_band None (never) counted as `iterations` in means/tests",
        "summary": summary,
        "runs": [runs[(v, s)] for s in seeds for v in variants] + kept,
    }
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
