"""docs/benchmarks.md is generated from benchmarks/results/*.json and must not go stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmarks_page_matches_the_stored_results() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "summary.py")],
                         capture_output=True, text=True, check=True).stdout
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert page == out, ("docs/benchmarks.md is stale: regenerate it with "
                         "`python benchmarks/summary.py > docs/benchmarks.md`")


def test_tiny_madrl_docs_quote_the_stored_convergence_study() -> None:
    """docs/tiny-madrl.md's headline comparison is the one in bench_convergence.json."""
    study = json.loads((ROOT / "benchmarks" / "results" / "bench_convergence.json").read_text())
    per = study["summary"]["per_variant"]
    tiny, ppo = per["tiny_madrl"], per["ppo"]
    paired = study["summary"]["paired_vs_ppo"]["tiny_madrl"]
    text = " ".join((ROOT / "docs" / "tiny-madrl.md").read_text().split())  # unwrap lines
    n = len(study["seeds"])
    assert (f"All {n} seeds: mean {tiny['mean_iterations_to_band']:.1f} vs "
            f"{ppo['mean_iterations_to_band']:.1f} iterations") in text
    assert (f"tiny_madrl first on {paired['pruned_first']}, ppo on {paired['ppo_first']}, "
            f"{paired['ties']} ties, Wilcoxon p = {paired['wilcoxon']['p_value']:.3f}") in text
