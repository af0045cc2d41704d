"""How far does each pruning step move the policy? Mean compensation on vs off.

For seeds ``0..N-1`` this trains ``tiny_madrl`` (``PPOConfig()`` defaults, mean
compensation on) and the same with ``prune_compensate=False``, and records at every mask
update the root-mean-square change of the actor's output (the pre-squash mean action) on
that iteration's rollout observations, right before vs right after the update; plus
iterations to the 2% band. It tests the obvious explanation of why compensated pruning
converges faster (smaller jumps); docs/tiny-madrl.md reports the answer.

Usage: ``python benchmarks/bench_pruning_jumps.py [--seeds 4]``; prints a table and writes
``benchmarks/results/bench_pruning_jumps.json``. Runs go to 2 worker processes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULTS = Path(__file__).resolve().parent / "results" / "bench_pruning_jumps.json"


def _run(seed: int, compensate: bool) -> dict[str, Any]:
    """Train one run, measuring the actor's output change at every mask update."""
    import torch

    import agents.marl.ppo as ppo
    from agents.marl.pruning import update_masks

    jumps: list[float] = []

    def measured(net: Any, x: torch.Tensor, sparsity: float, method: str = "activation",
                 compensate: bool = False) -> list[int]:
        with torch.no_grad():
            before = net(x)
        live = update_masks(net, x, sparsity, method, compensate)
        with torch.no_grad():
            jumps.append(float((net(x) - before).pow(2).mean().sqrt()))
        return live

    ppo.update_masks = measured  # this worker process only
    cfg = replace(ppo.PPOConfig(), seed=seed, prune_compensate=compensate, eval_interval=2)
    result = ppo.train(cfg)
    return {"seed": seed, "compensate": compensate, "jumps": [round(j, 5) for j in jumps],
            "total_jump": round(sum(jumps), 5), "max_jump": round(max(jumps), 5),
            "iterations_to_band": result.iterations_to_band()}


def main(argv: list[str] | None = None) -> int:
    """Run both variants over the seeds, print a table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="N: seeds 0..N-1")
    args = parser.parse_args(argv)
    jobs = [(s, c) for s in range(args.seeds) for c in (True, False)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(_run, *zip(*jobs, strict=True)))
    print(f"{'seed':>4} {'compensate':>10} {'total jump':>10} {'max jump':>9} {'band at':>7}")
    for r in runs:
        print(f"{r['seed']:>4} {str(r['compensate']):>10} {r['total_jump']:>10.4f} "
              f"{r['max_jump']:>9.4f} {str(r['iterations_to_band']):>7}")
    summary = {}
    for c in (True, False):
        sel = [r for r in runs if r["compensate"] == c]
        summary["compensated" if c else "uncompensated"] = {
            "mean_total_jump": round(statistics.fmean(r["total_jump"] for r in sel), 4),
            "mean_max_jump": round(statistics.fmean(r["max_jump"] for r in sel), 4),
            "mean_iterations_to_band": statistics.fmean(
                120 if r["iterations_to_band"] is None else r["iterations_to_band"]
                for r in sel)}
    for name, st in summary.items():
        print(f"{name:>13}: mean total jump {st['mean_total_jump']}, mean max jump "
              f"{st['mean_max_jump']}, mean iterations to band {st['mean_iterations_to_band']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "command": "python benchmarks/bench_pruning_jumps.py " + " ".join(
            argv if argv is not None else sys.argv[1:]),
        "summary": summary, "runs": runs}, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
