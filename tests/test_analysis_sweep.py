"""Tests of analysis.sweep: the run table of a real sweep and its confidence intervals."""

from __future__ import annotations

import math
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.sweep import open_sweep, summarise_sweep
from simulator.errors import TraceError
from simulator.trace.schema import COVERAGE_KIND, code_of

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    """A real 12-run sweep (2 densities x 2 solvers x 3 repetitions); density 1e-4 fails."""
    from simulator.app.sweep import run_sweep

    tmp = tmp_path_factory.mktemp("sweep")
    path = tmp / "s.yaml"
    path.write_text(
        f"name: dens\nbase: {ROOT / 'scenarios' / 'default.yaml'}\nseed: 3\nrepetitions: 3\n"
        "parameters:\n  rsus.poisson.density_per_km2: [0.0001, 3.0]\n"
        "  pricing.solver: [equilibrium, greedy]\n"
        "overrides:\n  - rsus.placement=poisson\n  - simulation.duration_s=30\n"
        "  - uavs.count=4\n")
    result = run_sweep(path, tmp / "out", workers=2, progress=False)
    assert (result.complete, result.failed) == (6, 6)
    return tmp / "out"


def test_open_sweep_joins_index_and_trace_metrics(sweep_dir) -> None:
    df = open_sweep(sweep_dir)
    assert df.attrs["name"] == "dens"
    assert df.attrs["parameters"] == ["rsus.poisson.density_per_km2", "pricing.solver"]
    assert {"handovers", "revenue", "price_paid_mean", "rsus"} <= set(df.attrs["metrics"])
    assert len(df) == 12 and list(df["run_id"]) == [f"run-{i:04d}" for i in range(12)]
    assert list(df["repetition"]) == [0, 1, 2] * 4
    complete = df[df["status"] == "complete"]
    failed = df[df["status"] == "failed"]
    assert (complete["rsus.poisson.density_per_km2"] == 3.0).all()
    assert (failed["rsus.poisson.density_per_km2"] == 0.0001).all()
    assert failed[df.attrs["metrics"]].isna().all().all()
    assert failed["error"].str.contains("placed no RSU").all()
    for _, row in complete.iterrows():  # metrics against the raw HDF5 datasets
        with h5py.File(sweep_dir / row["trace"], "r") as f:
            assert row["rsus"] == f["rsus/rsu_id"].shape[0]
            assert row["uavs"] == 4 == f["uavs/uav_id"].shape[0]
            kinds = f["coverage/events/kind"][()]
            assert int(f.attrs["seed"]) == row["seed"]
            n_rounds = f["pricing/rounds/round_id"].shape[0]
        assert row["handovers"] == np.count_nonzero(kinds == code_of(COVERAGE_KIND, "leave"))
        assert row["rounds"] == n_rounds
    assert complete["handovers"].sum() > 0


def test_summarise_sweep_matches_scipy_t_intervals(sweep_dir) -> None:
    df = open_sweep(sweep_dir)
    summary = summarise_sweep(df, metrics=["revenue", "handovers"])
    assert list(summary.columns[:3]) == ["rsus.poisson.density_per_km2", "pricing.solver", "runs"]
    assert len(summary) == 4 and (summary["runs"] == 3).all()
    for _, row in summary.iterrows():
        group = df[(df["rsus.poisson.density_per_km2"] == row["rsus.poisson.density_per_km2"])
                   & (df["pricing.solver"] == row["pricing.solver"])]
        for m in ("revenue", "handovers"):
            values = group[m].dropna().to_numpy()
            if row["rsus.poisson.density_per_km2"] < 1:
                assert row[f"{m}_n"] == 0 and math.isnan(row[f"{m}_mean"])
                continue
            low, high = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values),
                                         scale=stats.sem(values))
            assert row[f"{m}_n"] == 3
            assert row[f"{m}_mean"] == pytest.approx(np.mean(values))
            assert row[f"{m}_std"] == pytest.approx(np.std(values, ddof=1))
            assert (row[f"{m}_ci95_low"], row[f"{m}_ci95_high"]) == pytest.approx((low, high))


def test_summarise_sweep_on_known_numbers() -> None:
    df = pd.DataFrame({"k": ["a"] * 4 + ["b"] * 2 + ["c"],
                       "x": [1.0, 2.0, 3.0, 4.0, 5.0, np.nan, 9.0]})
    out = summarise_sweep(df, by=["k"], metrics=["x"]).set_index("k")
    half = stats.t.ppf(0.975, 3) * np.std([1, 2, 3, 4], ddof=1) / 2.0
    assert out.loc["a", "x_ci95_low"] == pytest.approx(2.5 - half)
    assert out.loc["a", "x_ci95_high"] == pytest.approx(2.5 + half)
    assert half == pytest.approx(2.05426, abs=1e-5)  # t(0.975, 3) = 3.18245, std 1.29099
    assert (out.loc["b", "runs"], out.loc["b", "x_n"], out.loc["b", "x_mean"]) == (2, 1, 5.0)
    assert math.isnan(out.loc["b", "x_ci95_low"]) and math.isnan(out.loc["c", "x_std"])
    wider = summarise_sweep(df, by=["k"], metrics=["x"], confidence=0.99).set_index("k")
    assert wider.loc["a", "x_ci95_low"] < out.loc["a", "x_ci95_low"]
    everything = summarise_sweep(df, by=[], metrics=["x"])
    assert everything["x_n"].iloc[0] == 6 and everything["runs"].iloc[0] == 7


def test_errors() -> None:
    with pytest.raises(ValueError, match=r"no column\(s\) \['nope'\]"):
        summarise_sweep(pd.DataFrame({"k": [1]}), by=["k"], metrics=["nope"])
    with pytest.raises(ValueError, match="confidence must be in"):
        summarise_sweep(pd.DataFrame({"k": [1], "x": [1.0]}), by=["k"], metrics=["x"],
                        confidence=95)
    with pytest.raises(TraceError, match="not a sweep directory"):
        open_sweep(ROOT / "scenarios")


def test_paired_differences_of_a_real_sweep(sweep_dir) -> None:
    from analysis.stats import paired_difference
    from analysis.sweep import describe_difference, paired_differences

    df = open_sweep(sweep_dir)
    diffs = paired_differences(df, "pricing.solver", "equilibrium", metrics=["revenue"])
    assert list(diffs["rsus.poisson.density_per_km2"]) == [0.0001, 3.0]
    row = diffs.set_index("rsus.poisson.density_per_km2").loc[3.0]
    runs = df[df["rsus.poisson.density_per_km2"] == 3.0].set_index("repetition")
    eq = runs[runs["pricing.solver"] == "equilibrium"]
    gr = runs[runs["pricing.solver"] == "greedy"]
    assert (eq["seed"] == gr["seed"]).all()  # common random numbers
    expected = paired_difference(gr["revenue"].to_numpy(), eq["revenue"].to_numpy())
    assert row["n"] == 3 and row["low_n"]
    assert (row["diff"], row["diff_low"], row["p_value"]) == pytest.approx(
        (expected.diff, expected.low, expected.p_value), nan_ok=True)
    text = describe_difference(row.to_dict() | {"pricing.solver": "greedy"}, "pricing.solver")
    assert text.startswith("greedy minus equilibrium revenue: ")
    assert text.endswith("(n < 5: interval unreliable)") and ", n = 3, paired" in text
    summary = summarise_sweep(df, metrics=["revenue"], compare="pricing.solver",
                              baseline="equilibrium")
    greedy = summary[(summary["pricing.solver"] == "greedy")
                     & (summary["rsus.poisson.density_per_km2"] == 3.0)].iloc[0]
    assert greedy["revenue_diff"] == pytest.approx(expected.diff)
    assert greedy["revenue_unpaired_ci95_high"] == pytest.approx(expected.unpaired_high)
    assert greedy["revenue_low_n"]
    assert summary[summary["pricing.solver"] == "equilibrium"]["revenue_diff"].isna().all()


def test_paired_differences_refuse_unpaired_runs_and_bad_arguments() -> None:
    from analysis.sweep import paired_differences

    df = pd.DataFrame({"s": ["a", "a", "b", "b"], "repetition": [0, 1, 0, 1],
                       "seed": [1, 2, 1, 3], "x": [1.0, 2.0, 1.5, 2.5]})
    with pytest.raises(ValueError, match="repetition 1 of s='b' and 'a' ran with different "
                                         r"seeds \(3 and 2\): the runs are not paired"):
        paired_differences(df, "s", metrics=["x"], by=[])
    ok = paired_differences(df.assign(seed=[1, 2, 1, 2]), "s", metrics=["x"], by=[])
    assert (ok["diff"].iloc[0], ok["baseline"].iloc[0], ok["n"].iloc[0]) == (0.5, "a", 2)
    with pytest.raises(ValueError, match="baseline 'c' is not a value of 's'"):
        paired_differences(df, "s", "c", metrics=["x"], by=[])
    with pytest.raises(ValueError, match="compare='k' must be one of by"):
        summarise_sweep(df, by=["s"], metrics=["x"], compare="k")
