"""Tests of simulator.app.sweep: sweep files, points, run seeds, the dask runner, index, resume."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import cli_error
from dask.distributed import LocalCluster
from hypothesis import given
from hypothesis import strategies as st

from simulator.app.cli import build_parser
from simulator.app.sweep import run_point, run_sweep
from simulator.app.sweep_file import expand_points, load_sweep, plan_runs, run_seed, yaml_value
from simulator.errors import InputError, ScenarioError, UavtwinError
from simulator.trace.schema import WALL_CLOCK_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "default.yaml"
TINY = "  - simulation.duration_s=20\n  - uavs.count=3\n"


def write_sweep(tmp_path: Path, body: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"base: {BASE}\n{body}", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def scheduler():
    """One local cluster (2 single-thread worker processes) shared by the runner tests."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def read_index(path: Path) -> list[dict[str, str]]:
    with (path / "index.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def dataset_bytes(path: Path) -> tuple[dict[str, bytes], str]:
    wall = {c.lstrip("/") for c in WALL_CLOCK_COLUMNS}
    out: dict[str, bytes] = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name not in wall:
                out[name] = obj[()].tobytes()
        f.visititems(visit)
        attrs = {k: v for k, v in f.attrs.items() if k not in ("created", "wall_time_s")}
    return out, repr(attrs)


# --- sweep file and points ----------------------------------------------------------------

def test_product_expansion_with_range_and_linspace(tmp_path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, (
        "parameters:\n"
        "  uavs.count: {range: [2, 9, 3]}\n"
        "  rsus.coverage_radius_m: {linspace: [400, 500, 3]}\n"
        "  pricing.tolerance: {range: [0.001, 0.002, 0.00025]}\n")))
    assert sweep.name == "sweep" and sweep.mode == "product"
    assert sweep.parameters["uavs.count"] == (2, 5, 8)
    assert sweep.parameters["rsus.coverage_radius_m"] == (400.0, 450.0, 500.0)
    assert sweep.parameters["pricing.tolerance"] == pytest.approx(
        (0.001, 0.00125, 0.0015, 0.00175))
    points = expand_points(sweep)
    expected = [dict(zip(sweep.parameters, combo, strict=True))
                for combo in itertools.product(*sweep.parameters.values())]
    assert points == expected and len(points) == 3 * 3 * 4
    assert points[0] == {"uavs.count": 2, "rsus.coverage_radius_m": 400.0,
                         "pricing.tolerance": 0.001}
    assert points[1]["pricing.tolerance"] == 0.00125  # the last key varies fastest


def test_zip_expansion_and_run_plan(tmp_path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, (
        "name: pairs\nmode: zip\nrepetitions: 2\nseed: 7\n"
        "parameters:\n  uavs.count: [3, 4, 5]\n  pricing.solver: [greedy, random, equilibrium]\n"
        f"overrides:\n{TINY}")))
    assert expand_points(sweep) == [
        {"uavs.count": 3, "pricing.solver": "greedy"},
        {"uavs.count": 4, "pricing.solver": "random"},
        {"uavs.count": 5, "pricing.solver": "equilibrium"}]
    runs = plan_runs(sweep, tmp_path / "out")
    assert [(r.run_id, r.params["uavs.count"], r.repetition) for r in runs] == [
        ("run-0000", 3, 0), ("run-0001", 3, 1), ("run-0002", 4, 0), ("run-0003", 4, 1),
        ("run-0004", 5, 0), ("run-0005", 5, 1)]
    assert runs[3].overrides[-2:] == ("uavs.count=4", 'pricing.solver="random"')
    assert runs[3].trace == str((tmp_path / "out" / "runs" / "run-0003.h5").resolve())


def test_run_seeds_are_common_random_numbers(tmp_path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, (
        "seed: 12345\nrepetitions: 5\nparameters:\n  pricing.solver: [greedy, random]\n")))
    runs = plan_runs(sweep, tmp_path)
    children = np.random.SeedSequence(12345).spawn(5)
    per_rep = [int(c.generate_state(1)[0]) for c in children]
    # Repetition r of every point has the same seed, derived from the sweep seed and r.
    assert [r.seed for r in runs] == per_rep * 2
    assert [(r.params["pricing.solver"], r.repetition) for r in runs[4:6]] == [
        ("greedy", 4), ("random", 0)]
    assert len(set(per_rep)) == 5
    assert run_seed(12345, 3) == runs[3].seed == runs[8].seed
    # The seed of repetition r does not depend on how many runs the sweep has.
    assert run_seed(12345, 3) == int(np.random.SeedSequence(12345).spawn(100)[3]
                                     .generate_state(1)[0])


def test_a_swept_seed_is_honoured_with_one_repetition_and_rejected_otherwise(tmp_path) -> None:
    sweep = load_sweep(write_sweep(tmp_path, (
        "parameters:\n  simulation.seed: [1, 2]\n  pricing.solver: [greedy, random]\n")))
    assert [(r.params["simulation.seed"], r.seed) for r in plan_runs(sweep, tmp_path)] == [
        (1, 1), (1, 1), (2, 2), (2, 2)]
    with pytest.raises(InputError, match=r"sweep.yaml:4: parameters.simulation.seed: a swept "
                                         r"seed needs `repetitions: 1`"):
        load_sweep(write_sweep(tmp_path, (
            "repetitions: 2\nparameters:\n  simulation.seed: [1, 2]\n")))
    with pytest.raises(InputError, match=r"sweep.yaml:5: overrides.simulation.seed=3: the sweep "
                                         r"seeds every run; set the sweep's `seed:` instead"):
        load_sweep(write_sweep(tmp_path, (
            "parameters:\n  pricing.solver: [greedy]\noverrides:\n  - simulation.seed=3\n")))
    with pytest.raises(InputError, match=r"expected integers in \[0, 2\^32\), got -1"):
        load_sweep(write_sweep(tmp_path, "parameters:\n  simulation.seed: [-1]\n"))


@given(st.integers(-50, 50), st.integers(-50, 50), st.integers(-7, 7).filter(bool))
def test_integer_range_equals_python_range(start, stop, step) -> None:
    from simulator.app.sweep import expand_values

    expected = tuple(range(start, stop, step))
    if not expected:
        with pytest.raises(ValueError, match="gives 0 values"):
            expand_values({"range": [start, stop, step]})
    else:
        assert expand_values({"range": [start, stop, step]}) == expected


@pytest.mark.parametrize("value", [1e-9, 2.5e20, 0.1 + 0.2, -3.0, 7, True, None, "greedy",
                                   [1, 4.5], {"x_m": 1.0, "y_m": 2}])
def test_yaml_value_reads_back_identically(value) -> None:
    import yaml

    assert yaml.safe_load(yaml_value(value)) == value


@pytest.mark.parametrize(("body", "error", "message"), [
    ("parameters:\n  uavs.count: [3]\nrepetition: 2\n", InputError,
     r"sweep.yaml:4: repetition: unknown key \(did you mean 'repetitions'\?\)"),
    ("mode: zip\nparameters:\n  uavs.count: [3, 4]\n  pricing.solver: [greedy]\n", InputError,
     r"sweep.yaml:2: mode: .*zip mode needs value lists of equal length"),
    ("parameters:\n  uavs.count: {range: [1, 5, 0]}\n", InputError,
     r"sweep.yaml:3: parameters.uavs.count: range: step must be finite and non-zero"),
    ("parameters:\n  uavs.count: {steps: [1, 5]}\n", InputError,
     r"sweep.yaml:3: parameters.uavs.count: expected a list of values"),
    ("repetitions: 0\n", InputError, r"sweep.yaml:2: repetitions: .*greater than or equal"),
    ("parameters:\n  pricing.solver: [equilibrium, gredy]\n", ScenarioError,
     r"sweep.yaml:3: parameters.pricing.solver=\"gredy\": expected one of .*did you mean 'greedy'"),
    ("parameters:\n  pricing.solverr: [greedy]\n", ScenarioError,
     r"sweep.yaml:3: parameters.pricing.solverr=\"greedy\": unknown key 'solverr'"),
    ("overrides:\n  - uavs.count=-1\n", ScenarioError,
     r"sweep.yaml:3: overrides.uavs.count=-1: .*must be >= 1"),
    ("parameters: [oops\n", InputError, r"sweep.yaml:3: YAML syntax error: expected ','"),
])
def test_bad_sweep_files_fail_with_one_line_naming_file_line_and_key(
        tmp_path, body, error, message) -> None:
    with pytest.raises(error, match=message) as info:
        load_sweep(write_sweep(tmp_path, body))
    assert "\n" not in str(info.value)


def test_missing_base_and_missing_file(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("parameters:\n  uavs.count: [3]\n")
    with pytest.raises(InputError, match=r"s.yaml:1: base: expected the path"):
        load_sweep(path)
    path.write_text("base: nowhere.yaml\n")
    with pytest.raises(ScenarioError, match=r"s.yaml:1: base: .*nowhere.yaml: cannot read"):
        load_sweep(path)
    with pytest.raises(InputError, match="cannot read sweep file"):
        load_sweep(tmp_path / "absent.yaml")


# --- running ------------------------------------------------------------------------------

TWO_BY_TWO = ("seed: 99\nrepetitions: 2\nparameters:\n  pricing.solver: [equilibrium, greedy]\n"
              f"overrides:\n{TINY}")


def test_one_and_two_workers_give_the_same_seeds_and_traces(tmp_path) -> None:
    path = write_sweep(tmp_path, TWO_BY_TWO)
    one = run_sweep(path, tmp_path / "w1", workers=1, progress=False)
    two = run_sweep(path, tmp_path / "w2", workers=2, progress=False)
    assert (one.complete, one.failed, two.complete, two.failed) == (4, 0, 4, 0)
    rows1, rows2 = read_index(tmp_path / "w1"), read_index(tmp_path / "w2")
    expected = [str(run_seed(99, r)) for r in (0, 1, 0, 1)]
    assert [r["seed"] for r in rows1] == [r["seed"] for r in rows2] == expected
    assert [r["pricing.solver"] for r in rows1] == ["equilibrium"] * 2 + ["greedy"] * 2
    for r1, r2 in zip(rows1, rows2, strict=True):
        a, b = dataset_bytes(tmp_path / "w1" / r1["trace"]), dataset_bytes(
            tmp_path / "w2" / r2["trace"])
        assert a[0].keys() == b[0].keys() and all(a[0][k] == b[0][k] for k in a[0])
        assert a[1] == b[1]
        with h5py.File(tmp_path / "w1" / r1["trace"]) as f:
            assert int(f.attrs["seed"]) == int(r1["seed"])
    # Different repetitions really are different runs.
    a0, a1 = (dataset_bytes(tmp_path / "w1" / rows1[i]["trace"])[0] for i in (0, 1))
    assert a0["mobility/segments/x0_m"] != a1["mobility/segments/x0_m"]


def test_a_failing_run_is_recorded_and_the_others_complete(tmp_path, scheduler, capsys) -> None:
    # A Poisson density of 1e-4 per km^2 passes validation but places no RSU at run time.
    path = write_sweep(tmp_path, (
        "parameters:\n  rsus.poisson.density_per_km2: [0.0001, 3.0]\n"
        f"overrides:\n  - rsus.placement=poisson\n{TINY}"))
    args = build_parser().parse_args(["sweep", str(path), "-o", str(tmp_path / "out"),
                                      "--scheduler",
                              scheduler, "--quiet"])
    assert args.func(args) == 1
    printed = capsys.readouterr().out
    assert "sweep: 1 complete, 1 failed, 0 skipped" in printed
    assert "failed: run-0000: ScenarioError: rsus.poisson.density_per_km2: the Poisson" in printed
    rows = read_index(tmp_path / "out")
    assert [(r["rsus.poisson.density_per_km2"], r["status"]) for r in rows] == [
        ("0.0001", "failed"), ("3.0", "complete")]
    assert "placed no RSU" in rows[0]["error"] and rows[1]["error"] == ""
    assert not (tmp_path / "out" / "runs" / "run-0000.h5").exists()
    assert (tmp_path / "out" / "runs" / "run-0000.partial.h5").exists()
    assert float(rows[1]["wall_time_s"]) > 0
    # The same spec run in-process gives the same row (run_point never raises).
    spec = plan_runs(load_sweep(path), tmp_path / "direct")[0]
    row = run_point(spec)
    assert row["status"] == "failed" and row["error"] == rows[0]["error"]


def test_resume_skips_complete_runs_and_reruns_the_rest(tmp_path, scheduler) -> None:
    path = write_sweep(tmp_path, TWO_BY_TWO)
    out = tmp_path / "out"
    first = run_sweep(path, out, scheduler=scheduler, progress=False)
    assert (first.complete, first.skipped) == (4, 0)
    with pytest.raises(InputError, match="index.csv exists: pass --resume"):
        run_sweep(path, out, scheduler=scheduler, progress=False)
    # Simulate an interruption: run 1 lost its trace, run 2 never finished.
    (out / "runs" / "run-0001.h5").unlink()
    rows = read_index(out)
    rows[2].update(status="pending", wall_time_s="nan")
    with (out / "index.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    kept = {i: (out / "runs" / f"run-000{i}.h5").stat().st_mtime_ns for i in (0, 3)}
    second = run_sweep(path, out, scheduler=scheduler, resume=True, progress=False)
    assert (second.complete, second.failed, second.skipped) == (2, 0, 2)
    assert {i: (out / "runs" / f"run-000{i}.h5").stat().st_mtime_ns for i in (0, 3)} == kept
    assert [r["status"] for r in read_index(out)] == ["complete"] * 4
    assert (out / "runs" / "run-0001.h5").is_file()
    # An index written by another sweep (other seeds) is refused.
    other = write_sweep(tmp_path, TWO_BY_TWO.replace("seed: 99", "seed: 5"), "other.yaml")
    with pytest.raises(InputError, match="not part of this sweep"):
        run_sweep(other, out, scheduler=scheduler, resume=True, progress=False)


def test_user_errors_are_uavtwin_errors(tmp_path) -> None:
    path = write_sweep(tmp_path, TWO_BY_TWO)
    with pytest.raises(UavtwinError, match="--workers: must be >= 1, got 0"):
        run_sweep(path, tmp_path / "out", workers=0, progress=False)
    assert not (tmp_path / "out").exists()


# --- precision rule -----------------------------------------------------------------------

def test_until_parsing_and_errors(tmp_path) -> None:
    from simulator.app.sweep_file import parse_until

    rule = parse_until("revenue:relative_half_width=0.01", 30)
    assert (rule.metric, rule.relative_half_width, rule.max_repetitions) == ("revenue", 0.01, 30)
    assert rule.describe() == "revenue:relative_half_width=0.01"
    for bad, msg in (("revenue", "expected METRIC:relative_half_width=TARGET"),
                     ("revenue:half=0.1", "expected METRIC"),
                     ("revenue:relative_half_width=x", "not a number"),
                     ("revenue:relative_half_width=2", "less than 1")):
        with pytest.raises(InputError, match=msg):
            parse_until(bad)
    path = write_sweep(tmp_path, TWO_BY_TWO)
    with pytest.raises(InputError, match="until: metric 'revenu' is not a run metric "
                                         r"\(did you mean 'revenue'\?\)"):
        run_sweep(path, tmp_path / "out", until=parse_until("revenu:relative_half_width=0.1"),
                  progress=False)
    sweep = load_sweep(write_sweep(tmp_path, TWO_BY_TWO + (
        "until: {metric: revenue, relative_half_width: 0.05, max_repetitions: 6}\n"), "u.yaml"))
    runs = plan_runs(sweep, tmp_path)
    assert len(runs) == 12 and runs[6].run_id == "run-0006" and runs[6].repetition == 0


def test_repetitions_options_are_checked_before_any_run(tmp_path, capsys) -> None:
    plain = write_sweep(tmp_path, TWO_BY_TWO, "plain.yaml")
    assert "--max-repetitions needs a precision rule" in cli_error(
        capsys, ["sweep", str(plain), "-o", str(tmp_path / "o2"), "--max-repetitions", "4"])
    assert "--repetitions/--max-repetitions: repetitions: Input should be greater than" in \
        cli_error(capsys, ["sweep", str(plain), "-o", str(tmp_path / "o3"),
                           "--repetitions", "0"])
    assert not (tmp_path / "o2").exists() and not (tmp_path / "o3").exists()


def test_until_adds_repetitions_until_the_interval_is_narrow(tmp_path, scheduler,
                                                             capsys) -> None:
    from analysis.stats import next_repetitions, relative_half_width
    from analysis.sweep import open_sweep

    # the file asks for 5 first runs; --repetitions 2 replaces that (a short trial)
    path = write_sweep(tmp_path, TWO_BY_TWO.replace("repetitions: 2", "repetitions: 5"))
    args = build_parser().parse_args(["sweep", str(path), "-o", str(tmp_path / "out"),
                                      "--scheduler", scheduler, "--quiet", "--until",
                                      "coverage_events:relative_half_width=0.2",
                                      "--max-repetitions", "6", "--repetitions", "2"])
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    df = open_sweep(tmp_path / "out")
    # Replay the rule on the recorded values: the repetitions run are exactly its decisions.
    for solver, group in df.groupby("pricing.solver"):
        values = group.sort_values("repetition")["coverage_events"].to_numpy(float)
        n = 2
        while (nxt := next_repetitions(n, relative_half_width(values[:n]), 0.2, 6)) != n:
            n = nxt
        assert len(values) == n
        assert sorted(group["repetition"]) == list(range(n))
        width = relative_half_width(values)
        reached = width <= 0.2
        assert reached or n == 6
        line = next(x for x in printed.splitlines() if f'pricing.solver="{solver}"' in x)
        assert f"{n} repetitions, coverage_events half-width {100 * width:.3g}%" in line
        assert ("target 20% reached" in line) == reached
    assert "until coverage_events:relative_half_width=0.2 (95% interval, at most 6 " in printed
    # Paired runs: the same repetition of both solvers ran with the same seed.
    seeds = df.pivot(index="repetition", columns="pricing.solver", values="seed").dropna()
    assert (seeds["equilibrium"] == seeds["greedy"]).all()
