"""Hostile scenario and sweep files: bounded loading, one-line errors, limits with reasons.

Each test feeds one of the defects of issue 14 (alias bombs, deep nesting, foreign encodings,
duplicate keys, huge sizes, seeds beyond 2^63) through the command line and checks that the
answer is a single ``uavtwin: error:`` line naming the file, line and key, exit 1.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import SCENARIOS, cli_error

from simulator.app.cli import main
from simulator.app.sweep_file import load_sweep, points_to_check
from simulator.config.limits import estimate_needs, format_bytes, parse_size
from simulator.config.loader import load_scenario
from simulator.config.yaml_source import MAX_DEPTH, MAX_EXPANDED_NODES
from simulator.errors import InputError, ScenarioError

DEFAULT = SCENARIOS / "default.yaml"


def bomb(levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" YAML: width**levels leaves in a few hundred bytes."""
    out = "lol0: &a0 [" + ", ".join(["lol"] * width) + "]\n"
    for k in range(1, levels):
        out += f"lol{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * width) + "]\n"
    return out


# --- YAML loading -------------------------------------------------------------------------------

def test_alias_bomb_in_scenario_is_refused_fast(tmp_path, capsys) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text("simulation:\n  duration_s: 10\n" + bomb())
    started = time.perf_counter()
    err = cli_error(capsys, ["validate", str(path)])
    assert time.perf_counter() - started < 30  # not a timing assert: a hang would not end
    assert f"{path}:" in err and "alias" in err and str(MAX_EXPANDED_NODES) in err


def test_alias_bomb_in_override_and_sweep(tmp_path, capsys) -> None:
    value = "{" + bomb(8, 8).replace("\n", ", ").rstrip(", ") + "}"
    err = cli_error(capsys, ["validate", str(DEFAULT), "--set", f"sensing.vsps={value}"])
    assert err.startswith("uavtwin: error: --set sensing.vsps=") and "alias" in err
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"base: {DEFAULT}\n" + bomb())
    with pytest.raises(InputError, match=r"s\.yaml:\d+: aliases expand"):
        load_sweep(sweep)


def test_small_aliases_still_work(tmp_path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("area: &box\n  width_m: 3000\n  height_m: 3000\n"
                    "sensing:\n  vsps:\n    - &v {theta: 0.05, x0: 0.5}\n"
                    "    - {<<: *v, theta: 0.1}\n")
    s = load_scenario(path)
    assert s.area.width_m == 3000 and s.sensing.vsps[1].theta == 0.1


def test_deep_nesting_is_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("simulation: " + "[" * 5000 + "]" * 5000 + "\n")
    err = cli_error(capsys, ["validate", str(path)])
    assert f"{path}:1: nested more than {MAX_DEPTH} levels deep" in err


@pytest.mark.parametrize(("raw", "expected"), [
    ("simulation:\n  seed: 1\n".encode("utf-16"), "UTF-16 text (byte-order mark at byte 0)"),
    (b"simulation:\n  name: caf\xe9\n", "not UTF-8 text: byte 0xe9 at byte offset 23 (line 2)"),
    (b"simulation:\n\x00\x01\x02\xff",
     "binary file, not YAML text: NUL byte at byte offset 12 (line 2)"),
])
def test_encodings_name_the_byte_offset(tmp_path, capsys, raw, expected) -> None:
    path = tmp_path / "enc.yaml"
    path.write_bytes(raw)
    err = cli_error(capsys, ["validate", str(path)])
    assert f"{path}: scenario is " in err and expected in err
    sweep = tmp_path / "enc-sweep.yaml"
    sweep.write_bytes(raw)
    with pytest.raises(InputError, match="sweep file is "):
        load_sweep(sweep)


def test_utf8_bom_is_accepted(tmp_path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfsimulation:\n  duration_s: 12\n")
    assert load_scenario(path).simulation.duration_s == 12


@pytest.mark.parametrize(("text", "expected"), [
    ("simulation:\n  seed: 1\nuavs:\n  count: 3\nsimulation:\n  seed: 2\n",
     ":5: duplicate key 'simulation' (first at line 1)"),
    ("uavs:\n  count: 3\n  twins: {count: 2, count: 4}\n",
     ":3: uavs.twins: duplicate key 'count' (first at line 3)"),
    ("sensing:\n  vsps:\n    - theta: 0.1\n      x0: 1\n      theta: 0.2\n",
     ":5: sensing.vsps[0]: duplicate key 'theta' (first at line 3)"),
])
def test_duplicate_keys_at_any_level(tmp_path, capsys, text, expected) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(text)
    assert expected in cli_error(capsys, ["validate", str(path)])


def test_duplicate_key_in_sweep_file(tmp_path) -> None:
    path = tmp_path / "dup-sweep.yaml"
    path.write_text(f"base: {DEFAULT}\nparameters:\n  uavs.count: [1, 2]\n"
                    "  uavs.count: [3]\n")
    with pytest.raises(InputError, match=r":4: parameters: duplicate key 'uavs.count' "
                                         r"\(first at line 3\)"):
        load_sweep(path)


# --- seeds and sizes ----------------------------------------------------------------------------

def test_seed_beyond_int64_is_refused_by_validate(tmp_path, capsys) -> None:
    path = tmp_path / "seed.yaml"
    path.write_text(f"simulation:\n  seed: {2**63}\n")
    err = cli_error(capsys, ["validate", str(path)])
    assert f"{path}:2: simulation.seed: must be < {2**63}" in err
    load_scenario(path, [f"simulation.seed={2**63 - 1}"])  # the largest seed is fine
    with pytest.raises(SystemExit) as exc:
        main(["run", str(DEFAULT), "--seed", str(2**64)])
    assert exc.value.code == 2


@pytest.mark.parametrize(("override", "key", "what"), [
    ("simulation.duration_s=1.0e+12", "simulation.duration_s", ""),
    ("uavs.count=1000000000000", "uavs.count", ""),
    ("simulation.sample_interval_s=1.0e-9", "simulation.sample_interval_s",
     "position samples"),
    ("uavs.twins.count=100000000", "uavs.twins.count", "twins"),
    ("pricing.iterations=1000000000", "pricing.iterations", "price/demand paths"),
    ("sensing.population=1000000000000", "sensing.population", "sensing agents"),
])
def test_sizes_beyond_memory_are_refused_with_reasons(capsys, override, key, what) -> None:
    extra = {"pricing.iterations": ["--set", "pricing.solver=greedy"],
             "sensing.population": ["--set", "sensing.revision=agent"]}.get(key, [])
    err = cli_error(capsys, ["--max-memory", "16G", "validate", str(DEFAULT), "--set",
                             override, *extra])
    assert err.startswith(f"uavtwin: error: --set {override}")
    assert "more than the limit 16 GiB" in err and what in err
    assert "--max-memory SIZE (or UAVTWIN_MAX_MEMORY)" in err


def test_limit_points_at_the_file_line_and_can_be_raised(tmp_path, capsys) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("simulation:\n  duration_s: 300\nuavs:\n  count: 20\n  twins:\n"
                    "    count: 2000000\n")
    err = cli_error(capsys, ["--max-memory", "1G", "validate", str(path)])
    assert f"{path}:6: uavs.twins.count: the run would need about" in err
    assert main(["--max-memory", "64G", "validate", str(path)]) == 0


def test_limit_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("UAVTWIN_MAX_MEMORY", "100K")
    with pytest.raises(ScenarioError, match="more than the limit 100 KiB"):
        load_scenario(DEFAULT)
    monkeypatch.setenv("UAVTWIN_MAX_MEMORY", "lots")
    with pytest.raises(ScenarioError, match="UAVTWIN_MAX_MEMORY: expected a size"):
        load_scenario(DEFAULT)


def test_estimates_scale_with_their_keys() -> None:
    base = {n.what: n for n in estimate_needs(load_scenario(DEFAULT))}
    long = {n.what: n for n in estimate_needs(load_scenario(
        DEFAULT, ["simulation.duration_s=3000"]))}
    # 10x the simulated time: 10x the position samples (61 -> 601 per UAV), ~10x segments
    assert long["position samples"].count == pytest.approx(
        base["position samples"].count * 601 / 61)
    ratio = long["trajectory segments"].count / base["trajectory segments"].count
    assert 6 < ratio < 10.5  # the per-UAV constant (first and last legs) dilutes it
    assert parse_size("1.5G") == 3 * 2**29 and format_bytes(3 * 2**29) == "1.5 GiB"


# --- sweep sizes --------------------------------------------------------------------------------

def test_sweep_linspace_sizes_are_bounded(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"base: {DEFAULT}\nparameters:\n  simulation.duration_s: "
                    "{linspace: [10, 20, 1000000000]}\n")
    started = time.perf_counter()
    with pytest.raises(InputError, match=r":3: parameters.simulation.duration_s: linspace: "
                                         r"1000000000 values"):
        load_sweep(path)
    path.write_text(f"base: {DEFAULT}\nparameters:\n  uavs.count: {{range: [1, 400, 1]}}\n"
                    "  simulation.duration_s: {linspace: [10, 20, 300]}\n")
    with pytest.raises(InputError, match="399 x 300|119700 runs"):
        load_sweep(path)
    assert time.perf_counter() - started < 60


def test_large_sweep_validates_a_sample(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"base: {DEFAULT}\nparameters:\n  uavs.count: {{range: [1, 101, 1]}}\n"
                    "  simulation.duration_s: {linspace: [10, 20, 50]}\n")
    sweep = load_sweep(path)
    checked = points_to_check(sweep)
    assert len(checked) == 1 + 99 + 49  # every value once, not 5,000 points
    assert {p["uavs.count"] for p in checked} == set(range(1, 101))


# --- validate --all and sanity warnings ---------------------------------------------------------

def test_validate_all_lists_every_error(tmp_path, capsys) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("simulation:\n  duration_s: -1\n  sample_interval_s: 0\n"
                    "uavs:\n  count: 0\n")
    assert "(+2 more)" in cli_error(capsys, ["validate", str(path)])
    assert main(["validate", str(path), "--all"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert [ln.split(": ")[3] for ln in lines] == [
        "simulation.duration_s", "simulation.sample_interval_s", "uavs.count"]
    assert all(ln.startswith(f"uavtwin: error: {path}:") for ln in lines)


def test_sanity_warnings_for_valid_but_wrong_values(tmp_path, capsys) -> None:
    path = tmp_path / "km.yaml"
    path.write_text("rsus:\n  coverage_radius_m: 0.8\nuavs:\n  mobility:\n"
                    "    speed_mps: [100, 500]\n")
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "rsus.coverage_radius_m: cells of 0.8 m are smaller than 10 m" in err
    assert "uavs.mobility.speed_mps: 500 m/s is faster than 150 m/s" in err
    assert main(["validate", str(DEFAULT)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_validate_loads_referenced_files(tmp_path, capsys) -> None:
    path = tmp_path / "ref.yaml"
    path.write_text("uavs:\n  count: 2\n  mobility:\n    model: trace\n"
                    "    trace_file: missing.csv\n")
    err = cli_error(capsys, ["validate", str(path)])
    assert "uavs.mobility" in err and "missing.csv" in err
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    path.write_text("pricing:\n  solver: tiny_madrl\n  checkpoint: bad.pt\n")
    err = cli_error(capsys, ["validate", str(path)])
    assert "bad.pt" in err and "checkpoint" in err


def test_validate_checks_the_learned_solvers_checkpoint(tmp_path, capsys) -> None:
    """A checkpoint trained as another solver is a warning; an empty one is one error line."""
    shipped = Path(SCENARIOS) / "agents" / "ppo.pt"
    (tmp_path / "agents.pt").write_bytes(shipped.read_bytes())
    path = tmp_path / "s.yaml"
    path.write_text("pricing:\n  solver: tiny_madrl\n  checkpoint: agents.pt\n")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr()
    assert "ok" in out.out and "trained as 'ppo', used as 'tiny_madrl'" in out.err
    (tmp_path / "agents.pt").write_bytes(b"")
    err = cli_error(capsys, ["validate", str(path)])
    assert err.count("\n") <= 1 and "pricing.checkpoint" in err and "agents.pt" in err


def test_scenario_files_in_repo_still_load() -> None:
    for path in sorted(Path(SCENARIOS).rglob("*.yaml")):
        if "sweeps" in path.parts or path.name == "train.yaml" or "sync" in path.parts:
            continue
        load_scenario(path)


def test_run_warns_when_nothing_is_covered(run_small) -> None:
    result = run_small("rsus.coverage_radius_m=0.8")
    assert any("no coverage event in the first 60 simulated seconds" in w
               for w in result.warnings), result.warnings
    assert any("UAVs were never covered by any RSU" in w for w in result.warnings)
