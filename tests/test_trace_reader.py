"""Tests of simulator.trace.reader and simulator.trace.inspect (the read side of the trace)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from simulator.errors import TraceError, UavtwinError
from simulator.trace.inspect import inspect_trace
from simulator.trace.reader import TraceReader
from simulator.trace.schema import SCHEMA_VERSION, TABLES, get_table
from simulator.trace.writer import TraceWriter, partial_path_for

TRANSFERS = {
    "transfer_id": np.arange(4),
    "request_id": np.array([0, 0, 1, 2]),
    "uav_id": np.array([3, 3, 1, 0]),
    "twin_id": np.array([0, 1, 0, 0]),
    "src_rsu_id": np.array([0, 0, 2, 1]),
    "dst_rsu_id": np.array([1, 1, 2, 3]),
    "n_hops": np.array([1, 1, 0, 2]),
    "size_bytes": np.array([1e9, 1e9, 5.5e6, 7e6]),
    "t_start_s": np.array([1.0, 1.0, 2.0, 3.0]),
    "t_end_s": np.array([1.5, 2.0, 2.0, np.nan]),
}


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    out = tmp_path / "run.h5"
    with TraceWriter(out, scenario_yaml="a: 1\n", seed=123) as tw:
        tw.append("/migration/transfers", **TRANSFERS)
        tw.append("/migration/transfer_hops", transfer_id=[0, 0, 3, 3, 3], hop=[0, 1, 0, 1, 2],
                  rsu_id=[0, 1, 1, 2, 3])
        tw.set_attrs("/sensing", controller="nash")
    return out


def test_read_back_tables_and_metadata(trace: Path) -> None:
    with TraceReader(trace) as tr:
        assert tr.status == "complete" and tr.schema_version == SCHEMA_VERSION
        assert tr.attrs["seed"] == 123 and tr.attrs["scenario_yaml"] == "a: 1\n"
        assert tr.tables() == [t.path for t in TABLES if not t.optional]
        got = tr.read("migration/transfers")
        assert list(got) == list(TRANSFERS)
        for name, values in TRANSFERS.items():
            np.testing.assert_array_equal(got[name], values)
        assert got["transfer_id"].dtype == np.int64 and got["uav_id"].dtype == np.int32
        assert tr.n_rows("/migration/transfers") == 4
        assert tr.n_rows("/migration/transfer_hops") == 5
        assert tr.n_rows("/pricing/offers") == 0
        empty = tr.read("/pricing/offers")
        assert all(len(v) == 0 for v in empty.values())
        assert empty["price"].dtype == np.float64
        sub = tr.read("/migration/transfers", columns=["t_end_s", "uav_id"])
        assert list(sub) == ["t_end_s", "uav_id"]
        spec = get_table("/migration/transfers")
        assert tr.columns("/migration/transfers") == [
            (c.name, c.unit, c.description) for c in spec.columns
        ]
        assert tr.columns("/migration/transfers")[7][:2] == ("size_bytes", "bytes")
        assert tr.group_attrs("/sensing")["controller"] == "nash"
        assert tr.group_attrs("/no/such/group") == {}


def test_unknown_table_or_column(trace: Path) -> None:
    with TraceReader(trace) as tr:
        with pytest.raises(TraceError, match="unknown trace table '/migration/transfer'"):
            tr.read("/migration/transfer")
        with pytest.raises(TraceError, match="has no column 'duration'"):
            tr.read("/migration/transfers", columns=["duration"])


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match=r"nope\.h5: no such trace file"):
        TraceReader(tmp_path / "nope.h5")


def test_not_hdf5(tmp_path: Path) -> None:
    bad = tmp_path / "notes.h5"
    bad.write_text("not hdf5\n")
    with pytest.raises(TraceError, match="notes.h5: not an HDF5 file"):
        TraceReader(bad)


def test_hdf5_but_not_a_trace(tmp_path: Path) -> None:
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(TraceError, match="not a uavtwin trace"):
        TraceReader(other)


def test_newer_schema_is_refused(trace: Path) -> None:
    with h5py.File(trace, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(TraceError) as info:
        TraceReader(trace)
    msg = str(info.value)
    assert f"schema version {SCHEMA_VERSION + 1} is newer" in msg and "upgrade uavtwin" in msg
    assert "\n" not in msg and isinstance(info.value, UavtwinError)


def test_crashed_partial_with_missing_table_and_ragged_columns(tmp_path: Path) -> None:
    """A file cut mid-write: one table absent, one with columns of different lengths."""
    part = tmp_path / "cut.partial.h5"
    with h5py.File(part, "w") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["status"] = "partial"
        g = f.create_group("/coverage/events")
        g["t_s"] = np.arange(5.0)
        g["uav_id"] = np.arange(5, dtype="<i4")
        g["rsu_id"] = np.arange(4, dtype="<i4")
        g["kind"] = np.ones(5, dtype="u1")
    with TraceReader(part) as tr:
        assert tr.tables() == ["/coverage/events"]
        assert tr.n_rows("/coverage/events") == 4
        ev = tr.read("/coverage/events")
        assert {len(v) for v in ev.values()} == {4}
        assert tr.n_rows("/rsus") == 0 and len(tr.read("/rsus")["rsu_id"]) == 0
        assert tr.columns("/rsus")[0] == ("rsu_id", "1", get_table("/rsus").columns[0].description)


def test_reader_after_close(trace: Path) -> None:
    tr = TraceReader(trace)
    tr.close()
    tr.close()
    with pytest.raises(TraceError, match="reader is closed"):
        tr.tables()


def test_inspect_lists_header_and_every_table(trace: Path) -> None:
    text = inspect_trace(trace)
    lines = text.splitlines()
    assert lines[1].split() == ["status:", "complete"]
    assert "seed:            123" in text and f"schema version:  {SCHEMA_VERSION}" in text
    assert "/migration/transfers  (4 rows)" in text
    assert "/migration/transfer_hops  (5 rows)" in text
    assert "/pricing/offers  (0 rows)" in text
    assert "  size_bytes   <f8   [bytes]" in text
    assert "/faults" not in text  # optional groups the run did not use are left out
    for t in TABLES:
        if t.optional:
            continue
        assert f"\n{t.path}  (" in text
        for c in t.columns:
            assert f"  {c.name} " in text


def test_inspect_failed_run_shows_error(tmp_path: Path) -> None:
    out = tmp_path / "f.h5"
    with pytest.raises(RuntimeError):
        with TraceWriter(out, scenario_yaml="", seed=1):
            raise RuntimeError("solver diverged at round 3")
    text = inspect_trace(partial_path_for(out))
    assert "status:          failed" in text
    assert "error:           RuntimeError: solver diverged at round 3" in text
    with pytest.raises(TraceError):
        inspect_trace(out)


def test_docs_examples_run_on_a_real_trace(trace: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The h5py and pandas snippets of docs/trace-format.md work as written."""
    from simulator.trace.docs import render_markdown

    blocks = render_markdown().split("```python\n")[1:]
    assert len(blocks) == 2
    (trace.parent / "out" / "default").mkdir(parents=True)
    trace.rename(trace.parent / "out" / "default" / "trace.h5")
    monkeypatch.chdir(trace.parent)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(block.split("```")[0], namespace)  # noqa: S102 - our own documentation
    assert capsys.readouterr().out.startswith("complete 123\ntransfer_id 1 [0 1 2 3]")
    frame = namespace["transfers"]
    np.testing.assert_allclose(frame["duration_s"].to_numpy(), [0.5, 1.0, 0.0, np.nan])
