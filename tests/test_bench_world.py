"""benchmarks/bench_world.py's reading of its measurements: the large run's resident-memory samples
and the tracing share of interleaved pairs."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture()
def bench(benchmark_script):  # type: ignore[no-untyped-def]
    return benchmark_script("bench_world")


def _samples(growth_mb_per_h: float) -> list[list[float]]:
    """A 1 h run sampled every 0.25 s of wall time: 20 samples of the build (simulated time
    0, memory up to a peak of 900 MB), a simulation at 20 simulated s per wall s whose memory
    grows linearly, and 12 samples of the finish (simulated time 3600, +60 MB)."""
    out = [[0.0, 0.25 * k, 300.0 + 30.0 * k] for k in range(20)]
    wall = 5.0
    for sim in np.arange(5.0, 3600.0, 5.0):
        wall += 0.25
        out.append([float(sim), wall, 400.0 + growth_mb_per_h * sim / 3600])
    end = 400.0 + growth_mb_per_h
    out += [[3600.0, wall + 0.25 * k, end + 5.0 * k] for k in range(1, 13)]
    return out


def test_phases_split_build_simulation_and_finish(bench) -> None:
    phases = bench.rss_phases(_samples(8.0))
    assert len(phases["build"]) == 20 and phases["build"][:, 0].max() == 0
    assert len(phases["simulate"]) == 719
    assert len(phases["finish"]) == 12 and (phases["finish"][:, 0] == 3600).all()


@pytest.mark.parametrize("growth", [0.0, 8.0, -3.0, 36.0])
def test_growth_is_the_slope_while_simulating(bench, growth: float) -> None:
    # the build's peak and the finish's rise must not enter the fit
    assert bench.rss_growth(_samples(growth)) == pytest.approx(growth, abs=1e-9)


def test_growth_needs_three_samples(bench) -> None:
    assert np.isnan(bench.rss_growth([[0.0, 0.1, 300.0], [10.0, 0.2, 310.0]]))
    assert np.isnan(bench.rss_growth([]))



def test_paired_share_is_the_median_of_pairs(bench) -> None:
    # drifting machine: the least traced (1.0) and least in-memory (0.95) come from different
    # pairs; each pair says 20 %, and so must the estimate (least-of-each says 5 %)
    row = {"repeats": [{"wall_s": w, "cpu_s": w} for w in (1.0, 1.5, 2.0)],
           "untraced_repeats": [{"wall_s": w, "cpu_s": w} for w in (0.8, 1.2, 1.6)]}
    row["repeats"][0]["wall_s"] = 1.1875  # wall: pairs 0.16 / 0.2 / 0.2 -> median 0.2
    share = bench.paired_share(row)
    assert share["cpu"] == pytest.approx(0.2) and share["wall"] == pytest.approx(0.2)
    targets = bench.targets([{**row, "uavs": 100, "overhead_vs_bare": 1.0,
                              "cpu_overhead_vs_bare": 1.0, "wall_s": 1.0, "cpu_s": 1.0,
                              "untraced_wall_s": 0.8, "untraced_cpu_s": 0.8}])
    assert targets["tracing_share_paired_100"]["met_cpu"] is False


def test_repeat_counts_per_size(bench) -> None:
    import argparse

    assert bench.repeat_counts("7") == {0: 7}
    assert bench.repeat_counts("100:21,1000:7,5000:3") == {100: 21, 1000: 7, 5000: 3}
    for bad in ("x", "100:0", "100-3"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.repeat_counts(bad)
