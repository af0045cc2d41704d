"""The trace comparison of benchmarks/compare_traces.py finds every kind of difference."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("compare_traces",
                                              ROOT / "benchmarks/compare_traces.py")
compare_traces = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_traces)


def _write(path: Path, values: list[float], *, wall: float = 1.0, extra: bool = False) -> Path:
    with h5py.File(path, "w") as f:
        f.attrs["seed"] = 3
        f.attrs["wall_time_s"] = wall
        g = f.create_group("/pricing/rounds")
        g["t_s"] = np.asarray(values)
        g["wall_time_s"] = np.asarray(values) * wall
        if extra:
            g["extra"] = np.zeros(1)
    return path


def test_identical_apart_from_wall_clock_values(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.h5", [1.0, 2.0], wall=1.0)
    b = _write(tmp_path / "b.h5", [1.0, 2.0], wall=7.0)
    assert compare_traces.diff_files(a, b) == []


def test_a_changed_value_or_dataset_is_reported(tmp_path: Path) -> None:
    a = _write(tmp_path / "a.h5", [1.0, 2.0])
    b = _write(tmp_path / "b.h5", [1.0, 2.0 + 1e-15])
    c = _write(tmp_path / "c.h5", [1.0, 2.0], extra=True)
    assert compare_traces.diff_files(a, b) == ["pricing/rounds/t_s: values differ"]
    assert compare_traces.diff_files(a, c) == ["objects differ: ['pricing/rounds/extra']"]


def test_each_side_tree_root_reads_as_one_placeholder(tmp_path: Path) -> None:
    # traces of imported mobility files record absolute paths: two worktrees compare equal
    # when only their roots differ, and any other difference in the path still shows
    def traced(tree: str, name: str, path: str) -> Path:
        (tmp_path / tree).mkdir(exist_ok=True)
        (tmp_path / tree / compare_traces.TREE_FILE).write_text(f"/work/{tree}")
        trace = _write(tmp_path / tree / name, [1.0])
        with h5py.File(trace, "a") as f:
            f["/pricing/rounds"].attrs["source_file"] = path
        return trace

    a = traced("main", "x.h5", "/work/main/scenarios/m.ns2")
    b = traced("wt", "x.h5", "/work/wt/scenarios/m.ns2")
    c = traced("wt", "y.h5", "/work/wt/scenarios/other.ns2")
    assert compare_traces.diff_files(a, b) == []
    assert compare_traces.diff_files(a, c) == ["pricing/rounds@source_file differs"]
