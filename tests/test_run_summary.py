"""run_scenario's summary of a traced run: computed from the rows the writer kept in memory
(a small trace) or read back from the file (a large one). Both must give exactly the values of
the trace read back, which is what ``uavtwin report`` shows."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SCENARIOS, SMALL

import simulator.app.run as run_mod
from analysis.loaders import open_trace
from simulator.app.run import run_scenario
from simulator.app.summary import summarise
from simulator.config.loader import load_scenario

CASES = {
    "default": ("default.yaml", SMALL),
    "faults": ("examples/faults.yaml", ("simulation.duration_s=240", "uavs.count=10")),
    "live_migration": ("examples/live-migration.yaml", ("simulation.duration_s=120",)),
    "greedy_decision_time": ("default.yaml", (*SMALL, "pricing.solver=greedy",
                                              "pricing.reference=true",
                                              "pricing.decision_time.enabled=true")),
    # small cells: coverage warnings (UAVs never covered, no event in the first minute)
    "sparse_coverage": ("default.yaml", (*SMALL, "rsus.coverage_radius_m=40")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_summary_from_kept_rows_equals_the_trace_read_back(case: str, tmp_path: Path,
                                                           monkeypatch) -> None:
    name, overrides = CASES[case]
    scenario = load_scenario(SCENARIOS / name, overrides)
    reads: list[Path] = []

    def counted_open(path, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(Path(path))
        return open_trace(path, **kwargs)

    monkeypatch.setattr(run_mod, "open_trace", counted_open)
    kept = run_scenario(scenario, trace_path=tmp_path / "kept.h5")
    assert reads == []  # the small trace was not read back
    monkeypatch.setattr(run_mod, "SUMMARY_MEMORY_BYTES", 0)  # nothing kept: read the file
    read = run_scenario(scenario, trace_path=tmp_path / "read.h5")
    assert reads == [tmp_path / "read.h5"]

    want = summarise(open_trace(tmp_path / "kept.h5"))
    assert kept.summary["migrations"] > 0 and kept.summary["coverage_events"] > 0
    # repr: exact floats, NaN equal to NaN, same keys in the same order
    assert repr(kept.summary) == repr(want) == repr(read.summary)
    assert kept.warnings == read.warnings
    assert len(kept.warnings) == (2 if case == "sparse_coverage" else 0)
