"""benchmarks/bench_instructions.py reads callgrind's per-thread dumps right."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture()
def bench(benchmark_script):  # type: ignore[no-untyped-def]
    return benchmark_script("bench_instructions")


def _dump(path: Path, totals: int | None) -> None:
    lines = ["version: 1", "creator: callgrind-3.19.0", "cmd: python x.py", "events: Ir"]
    if totals is not None:
        lines += ["summary: 0", f"totals: {totals}"]
    path.write_text("\n".join(lines) + "\n")


def test_counts_are_summed_per_thread_over_both_dumps(bench, tmp_path: Path) -> None:
    name = "cg.world.out"
    _dump(tmp_path / name, None)  # callgrind's file without a thread number: no counts
    _dump(tmp_path / f"{name}.1-01", 2_356_120_845)  # the main thread, dumped at count_stop
    _dump(tmp_path / f"{name}-01", 7)  # ... and at exit
    _dump(tmp_path / f"{name}-04", 159_718)
    _dump(tmp_path / f"{name}-05", 66_895_395)
    _dump(tmp_path / "cg.bare.out-01", 99)  # another run's dump is not read
    assert bench.thread_totals(tmp_path, name) == {1: 2_356_120_852, 4: 159_718,
                                                   5: 66_895_395}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cg.bare.out-01"]  # read ones gone


def test_a_thread_dump_without_totals_is_an_error(bench, tmp_path: Path) -> None:
    _dump(tmp_path / "cg.bare.out.1-01", None)
    with pytest.raises(RuntimeError, match="no totals"):
        bench.thread_totals(tmp_path, "cg.bare.out")
