"""The ``uavtwin`` command line: exit codes, one-line errors, outputs."""

from __future__ import annotations

import json
import subprocess
import sys

import h5py
import pytest
from conftest import SCENARIOS

from simulator.app.cli import main


def test_run_prints_summary_and_writes_trace(tmp_path, capsys) -> None:
    out = tmp_path / "t.h5"
    code = main(["run", str(SCENARIOS / "default.yaml"), "-o", str(out), "--seed", "4",
                 "--set", "simulation.duration_s=60", "--set", "uavs.count=5"])
    assert code == 0
    text = capsys.readouterr().out
    assert "UAVs / RSUs            5 / 9" in text
    shares = [float(x) for x in text.split("sensing steady state   shares ")[1]
              .split(";")[0].split(", ")]
    assert "(mean over t in [15, 45] s)" in text
    assert "sensing at horizon end shares " in text
    assert sum(shares) == pytest.approx(1.0, abs=1e-6)  # the sensing population is on
    assert str(out) in text
    # The default scenario prices with the learned agents against the exact equilibrium.
    assert "(seed 4, solver tiny_madrl)" in text
    ratios = text.split("vs exact equilibrium   RSU utility x ")[1].split(" (same rounds)")[0]
    rsu, uav = float(ratios.split(",")[0]), float(ratios.split("UAV utility x ")[1])
    assert 0.5 < rsu < 1.2 and 0.5 < uav < 2.0
    with h5py.File(out) as f:
        assert f.attrs["status"] == "complete"
        assert f.attrs["seed"] == 4
        assert "seed: 4" in f.attrs["scenario_yaml"]


def test_bad_scenario_is_one_line_exit_1(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("simulation:\n  duration_s: 10\nrsus:\n  grid:\n    spacing_m: -5\n")
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"uavtwin: error: {bad}:5: rsus.grid.spacing_m:")
    assert "-5" in err
    assert main(["run", str(bad), "-o", str(tmp_path / "t.h5")]) == 1
    assert not (tmp_path / "t.h5").exists() and not (tmp_path / "t.partial.h5").exists()


def test_bad_override_names_the_key(capsys) -> None:
    assert main(["validate", str(SCENARIOS / "default.yaml"), "--set", "pricing.solvr=x"]) == 1
    err = capsys.readouterr().err
    assert "solvr" in err and "did you mean 'solver'" in err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run"])
    assert exc.value.code == 2


def test_game_solve_json_and_bad_instance(tmp_path, capsys) -> None:
    inst = {"delta": [15.0], "ssim": [[0.9, 0.8]], "ssim_threshold": [0.5],
            "spectral_efficiency": [[30.0, 35.0]], "budget": [50.0], "cost": [2.0, 3.0],
            "price_cap": [30.0, 30.0]}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(inst))
    assert main(["game", "solve", str(path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["converged"] is True
    assert len(result["prices"]) == 1 and len(result["prices"][0]) == 2
    inst["budget"] = [-1.0]
    path.write_text(json.dumps(inst))
    assert main(["game", "solve", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "budget" in err


def test_schema_and_inspect(tmp_path, capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "simulation" in schema["properties"]
    out = tmp_path / "t.h5"
    main(["run", str(SCENARIOS / "default.yaml"), "-o", str(out), "-q",
          "--set", "simulation.duration_s=30", "--set", "uavs.count=3"])
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "/coverage/events" in text
    assert main(["inspect", str(tmp_path / "missing.h5")]) == 1


def test_console_script_shows_no_traceback(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("uavs:\n  cuont: 3\n")
    proc = subprocess.run([sys.executable, "-m", "simulator.app.cli", "validate", str(bad)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "did you mean 'count'" in proc.stderr


def test_sync_solve_json_and_bad_params(tmp_path, capsys) -> None:
    params = {"population": 500, "data_per_uav": 0.2, "revision_rate": 0.05, "discount": 1.0,
              "horizon_s": 60, "g0": 2.2, "g1": 10.0, "weights": [1, 0.01, 0.02, 0.001],
              "theta": [0.05, 0.1], "twins": [80, 80], "alpha": [0.5, 0.5], "k": [0.3, 0.3],
              "v": [60, 60], "c": [0.01, 0.01], "x0": [0.5, 0.5], "z0": [40, 40]}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(params))
    assert main(["sync", "solve", str(path), "--mode", "nash"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["converged"] is True
    x = out["x"]
    assert len(x) == 2 and abs(x[0][-1] + x[1][-1] - 1) < 1e-6
    params["x0"] = [0.7, 0.7]
    path.write_text(json.dumps(params))
    assert main(["sync", "solve", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "x0" in err
    # The paper's short names still work, with one warning line per deprecated key.
    legacy = {"N": 500, "rho": 1.0, **{k: v for k, v in params.items()
                                        if k not in ("population", "discount")}}
    legacy["x0"] = [0.5, 0.5]
    path.write_text(json.dumps(legacy))
    assert main(["sync", "solve", str(path), "--mode", "stackelberg", "--leaders", "1"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["leaders"] == [1]
    assert captured.err.count("uavtwin: warning: ") == 2
    assert "key 'N' is deprecated, use 'population'" in captured.err


def test_game_solve_with_learned_agents(tmp_path, capsys) -> None:
    inst = {"delta": [15.0, 12.0], "ssim": [[0.9, 0.8], [0.85, 0.95]],
            "ssim_threshold": [0.5, 0.52], "spectral_efficiency": [[36.0, 37.0], [38.0, 35.5]],
            "budget": [6.0, 4.0], "cost": [2.0, 3.0], "price_cap": [30.0, 30.0]}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(inst))
    assert main(["game", "solve", str(path), "--solver", "equilibrium"]) == 0
    eq = json.loads(capsys.readouterr().out)
    assert main(["game", "solve", str(path), "--solver", "tiny_madrl"]) == 0
    learned = json.loads(capsys.readouterr().out)
    assert len(learned["reward_path"]) == 50
    # The shipped agents end within a few per cent of the equilibrium RSU reward.
    assert sum(learned["rsu_utility"]) >= 0.95 * sum(eq["rsu_utility"])


def test_missing_checkpoint_is_a_user_error_before_any_trace(tmp_path, capsys) -> None:
    out = tmp_path / "t.h5"
    code = main(["run", str(SCENARIOS / "default.yaml"), "-o", str(out),
                 "--set", "pricing.solver=tiny_madrl",
                 "--set", f"pricing.checkpoint={tmp_path / 'none.pt'}"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "none.pt" in err and "not found" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [
    ["run", "scenarios/default.yaml", "--seed", "-3"],
    ["train", "scenarios/agents/train.yaml", "-o", "x.pt", "--iterations", "0"],
    ["game", "solve", "g.json", "--iterations", "zero"],
])
def test_bad_numeric_flags_are_usage_errors(argv, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "must be >= " in err or "expected an integer" in err


def test_unwritable_output_is_one_line(tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = main(["run", str(SCENARIOS / "default.yaml"), "-o", str(blocker / "t.h5"),
                 "--set", "simulation.duration_s=10", "-q"])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("uavtwin: error:")


def test_reproduce_targets_of_the_parser_are_the_library_targets() -> None:
    from simulator.app.cli import REPRODUCE_TARGETS
    from simulator.app.reproduce import TARGETS

    assert REPRODUCE_TARGETS == TARGETS


def test_run_summary_report_and_sweep_row_share_one_metrics_definition(tmp_path) -> None:
    """The numbers ``uavtwin run`` prints are those of ``uavtwin report`` for the same trace,
    and those of the in-memory run of the same scenario and seed."""
    import math

    from analysis.report import build_report
    from analysis.run_metrics import METRICS
    from simulator.app.run import run_scenario
    from simulator.config.loader import load_scenario

    scenario = load_scenario(SCENARIOS / "default.yaml",
                             overrides=["simulation.duration_s=60", "uavs.count=6"])
    on_disk = run_scenario(scenario, trace_path=tmp_path / "t.h5")
    in_memory = run_scenario(scenario, in_memory=True)
    report = build_report(tmp_path / "t.h5")
    assert on_disk.summary["migrations"] > 0
    for key in METRICS:
        a, b, c = on_disk.summary[key], report.stats[key], in_memory.summary[key]
        if isinstance(a, float) and math.isnan(a):
            assert math.isnan(b) and math.isnan(c), key
        else:
            assert a == b == c, key
