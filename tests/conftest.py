"""Shared fixtures: small real scenarios and runs of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from simulator.app.run import RunResult, run_scenario
from simulator.config.loader import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

#: Overrides that shrink the default scenario to a couple of seconds of wall time (priced at
#: the exact equilibrium, not by the default scenario's learned agents, to stay fast).
SMALL = ("simulation.duration_s=120", "uavs.count=8", "pricing.solver=equilibrium")


@pytest.fixture
def small_scenario():
    """The default scenario, shortened to 120 s with 8 UAVs."""
    return load_scenario(SCENARIOS / "default.yaml", SMALL)


@pytest.fixture
def run_small(tmp_path: Path) -> Callable[..., RunResult]:
    """Run the small default scenario (plus overrides) to a trace under ``tmp_path``."""
    def run(*overrides: str, name: str = "trace.h5", seed: int | None = None) -> RunResult:
        scenario = load_scenario(SCENARIOS / "default.yaml", (*SMALL, *overrides))
        return run_scenario(scenario, trace_path=tmp_path / name, seed=seed)

    return run


def scenario_from_text(text: str, overrides: Sequence[str] = ()):
    """Parse an inline YAML scenario (for tests that need a hand-built world)."""
    return parse_scenario(text, source="<test>", overrides=overrides)


@pytest.fixture(scope="session")
def default_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trace of the default scenario as shipped (300 s, 20 UAVs), run once per session."""
    path = tmp_path_factory.mktemp("default") / "default.h5"
    run_scenario(load_scenario(SCENARIOS / "default.yaml"), trace_path=path)
    return path


@pytest.fixture(scope="session")
def faults_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A trace of scenarios/examples/faults.yaml (RSU and link outages, lost twins)."""
    path = tmp_path_factory.mktemp("faults") / "faults.h5"
    run_scenario(load_scenario(SCENARIOS / "examples" / "faults.yaml"), trace_path=path)
    return path


def cli_error(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> str:
    """Run ``uavtwin ARGV``; expect exit 1 and exactly one ``uavtwin: error:`` line; return it."""
    from simulator.app.cli import main

    assert main(list(argv)) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("uavtwin: error: "), err
    return err
