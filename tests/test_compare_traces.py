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
