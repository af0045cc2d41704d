"""Benchmark of the learned pricing agents (issue 3).

Measures, on this machine:

* training wall time of Tiny MADRL and of plain PPO (same budget, same seed) and the time /
  PPO iteration at which the greedy policy's average RSU reward on held-out Fig. 3 games
  (5 RSUs, 15 UAVs, Table II) enters, and stays in, the 2% band around the Stackelberg
  equilibrium's;
* decisions per second of the compact (pruned, rebuilt) actor vs the dense masked actor of
  the same run, for one pricing iteration of a 5 x 15 round (75 pair decisions per call) and
  for single-pair calls; parameter counts and FLOPs per decision;
* a simulator run of scenarios/default.yaml priced by the shipped tiny_madrl agents vs the
  same run priced at the exact equilibrium: wall time and total RSU revenue ratio.

Usage: ``python benchmarks/bench_agents.py [--seed 7] [--iterations N]``; prints a summary
and writes ``benchmarks/results/bench_agents.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.marl.config import PPOConfig, TrainResult
from agents.marl.layout import n_features  # noqa: E402
from agents.marl.networks import MaskedMLP, flops_per_call  # noqa: E402
from agents.marl.ppo import train

RESULTS = Path(__file__).resolve().parent / "results" / "bench_agents.json"


def _decisions_per_second(actor: MaskedMLP, batch: int, repeats: int) -> float:
    x = torch.randn(batch, actor.sizes[0], generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        for _ in range(50):
            actor(x)
        best = float("inf")
        for _ in range(5):  # best of 5 timing blocks
            start = time.perf_counter()
            for _ in range(repeats):
                actor(x)
            best = min(best, time.perf_counter() - start)
    return batch * repeats / best


def _training_summary(result: TrainResult) -> dict:
    band_it = result.iterations_to_band()
    by_it = {m.iteration: m for m in result.metrics}
    evals = [(m.iteration, round(m.eval_ratio, 5)) for m in result.metrics
             if m.eval_ratio == m.eval_ratio]
    return {
        "wall_time_s": round(result.wall_time_s, 2),
        "iterations": result.config.iterations,
        "final_heldout_ratio": evals[-1][1],
        "iterations_to_2pct_band": band_it,
        "time_to_2pct_band_s": None if band_it is None else round(by_it[band_it].wall_time_s, 2),
        "heldout_ratio_curve": evals,
        "dense_actor_parameters": result.model.actor.dense_parameters(),
        "compact_actor_parameters": result.compact_actor.dense_parameters(),
        "live_neurons": result.model.actor.live_neurons(),
        "heldout_se_reward": round(result.eval_se_reward, 5),
    }


def _simulator_comparison() -> dict:
    """The default scenario priced by the shipped tiny_madrl agents vs the equilibrium."""
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    root = Path(__file__).resolve().parents[1]
    out = {}
    for solver in ("equilibrium", "tiny_madrl"):
        scenario = load_scenario(root / "scenarios" / "default.yaml",
                                 [f"pricing.solver={solver}"])
        started = time.perf_counter()
        result = run_scenario(scenario, in_memory=True)
        out[solver] = {"wall_time_s": time.perf_counter() - started,
                       "rsu_revenue_total": result.summary["revenue"],
                       "pricing_rounds": result.summary["rounds"]}
    out["revenue_ratio_tiny_madrl_vs_equilibrium"] = (
        out["tiny_madrl"]["rsu_revenue_total"] / out["equilibrium"]["rsu_revenue_total"])
    out["wall_time_ratio_tiny_madrl_vs_equilibrium"] = (
        out["tiny_madrl"]["wall_time_s"] / out["equilibrium"]["wall_time_s"])
    print(f"simulator default.yaml: equilibrium {out['equilibrium']['wall_time_s']:.2f}s, "
          f"tiny_madrl {out['tiny_madrl']['wall_time_s']:.2f}s, revenue ratio "
          f"{out['revenue_ratio_tiny_madrl_vs_equilibrium']:.4f}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=None)
    args = parser.parse_args()
    cfg = replace(PPOConfig(), seed=args.seed)
    if args.iterations is not None:
        cfg = replace(cfg, iterations=args.iterations)
    report: dict = {"machine": platform.platform(), "torch": torch.__version__,
                    "torch_threads_training": 1, "config": cfg.plain()}
    results = {}
    for name, prune in (("tiny_madrl", True), ("ppo", False)):
        results[name] = train(replace(cfg, prune=prune))
        report[name] = _training_summary(results[name])
        s = report[name]
        print(f"{name:10s} train {s['wall_time_s']:.1f}s  held-out ratio "
              f"{s['final_heldout_ratio']:.4f}  2% band at iteration "
              f"{s['iterations_to_2pct_band']} ({s['time_to_2pct_band_s']} s)  actor params "
              f"{s['dense_actor_parameters']} -> {s['compact_actor_parameters']}")
    tiny = results["tiny_madrl"]
    dense = tiny.model.actor.eval()
    compact = tiny.compact_actor.eval()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        inference = {}
        for label, batch, repeats in (("round_iteration_5x15", 75, 2000),
                                      ("single_pair", 1, 5000)):
            d = _decisions_per_second(dense, batch, repeats)
            c = _decisions_per_second(compact, batch, repeats)
            inference[label] = {"dense_decisions_per_s": round(d), "compact_decisions_per_s":
                                round(c), "speedup": round(c / d, 3)}
            print(f"{label:22s} dense {d:12.0f}/s  compact {c:12.0f}/s  x{c / d:.2f}")
    finally:
        torch.set_num_threads(threads)
    report["inference"] = inference
    report["flops_per_decision"] = {"dense": flops_per_call(MaskedMLP(dense.sizes)),
                                    "compact": flops_per_call(compact)}
    report["n_features"] = n_features(cfg.history)
    report["simulator"] = _simulator_comparison()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
