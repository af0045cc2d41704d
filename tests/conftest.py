"""Shared fixtures: small real scenarios and runs of them."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import docs_runner
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


@pytest.fixture
def benchmark_script(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], object]]:
    """Import a script of benchmarks/ by name, as a module (forgotten again afterwards)."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    names: list[str] = []

    def load(name: str) -> object:
        names.append(name)
        return importlib.import_module(name)

    yield load
    for name in names:
        sys.modules.pop(name, None)


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


def _docs_page_items(items: list[pytest.Item]) -> list[pytest.Item]:
    return [i for i in items
            if i.nodeid.startswith("tests/test_docs.py::test_every_command_and_snippet")]


@pytest.hookimpl(trylast=True)  # after -k/-m deselection: only the selected pages run
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Docs pages: their tests go last, and their blocks start running in the background now
    (tests/docs_runner.py), on the core the rest of the suite leaves idle."""
    pages = _docs_page_items(items)
    if not pages or config.option.collectonly:
        return
    items[:] = [i for i in items if i not in pages] + pages
    docs_runner.start([i.callspec.params["page"] for i in pages])


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One line on the docs pages: how many ran, how long, how many blocks were skipped."""
    run = docs_runner.runner()
    if run is None:
        return
    done = list(run.results.values())
    quick = sum(len(b.quick) > 0 for p in run.pages for b in docs_runner.runnable(p))
    terminalreporter.write_line(
        f"docs pages: {len(done)} of {len(run.pages)} run in the background "
        f"({sum(r.blocks for r in done)} blocks, {sum(r.seconds for r in done):.0f} s, "
        f"{'as written' if run.as_written else f'{quick} in a quick form'}); "
        f"{len(docs_runner.skipped(run.pages))} blocks skipped"
        + ("" if run.as_written else
           f", {len(docs_runner.skipped(run.pages, full_only=True))} only in make docs-test")
        + " (listed in tests/test_docs.py)")
    slowest = sorted((t for r in done for t in r.timings), key=lambda t: -t[1])[:8]
    terminalreporter.write_line("slowest docs blocks: " + ", ".join(
        f"{Path(where).relative_to(ROOT)} {seconds:.0f} s" for where, seconds in slowest))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    docs_runner.stop()
