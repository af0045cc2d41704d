"""Tests of simulator.trace.writer: round trips, schema conformance, crashes, determinism."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulator.trace.writer as writer_mod
from simulator.trace.buffer import CHUNK_ROWS
from simulator.trace.reader import TraceReader
from simulator.trace.schema import (
    GROUP_DESCRIPTIONS,
    OPTIONAL_GROUPS,
    SCHEMA_VERSION,
    TABLES,
    get_table,
)
from simulator.trace.writer import TraceWriter, partial_path_for

REPO = Path(__file__).resolve().parents[1]
YAML = "simulation:\n  duration_s: 10\n"


def _events(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "t_s": np.sort(rng.random(n) * 100),
        "uav_id": rng.integers(0, 40, n),
        "rsu_id": rng.integers(0, 9, n),
        "kind": rng.integers(0, 2, n),
    }


def _write_in_blocks(tw: TraceWriter, cols: dict[str, np.ndarray], cuts: list[int]) -> None:
    """Append ``cols`` split at ``cuts``; odd blocks go row by row as Python scalars."""
    bounds = [0, *sorted(set(cuts)), len(cols["t_s"])]
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if k % 2:
            for i in range(a, b):
                tw.append("/coverage/events", **{c: v[i].item() for c, v in cols.items()})
        else:
            tw.append("coverage/events", **{c: v[a:b] for c, v in cols.items()})


def test_round_trip_across_blocks_and_flushes(tmp_path: Path) -> None:
    cols = _events(5000)
    out = tmp_path / "run.h5"
    with TraceWriter(out, scenario_yaml=YAML, seed=11, buffer_rows=700) as tw:
        _write_in_blocks(tw, cols, [1, 900, 901, 2500, 2600, 4999])
        tw.flush()
        # scalars broadcast against arrays: one pricing round with 3 offers
        tw.append("/pricing/offers", round_id=4, request_id=9, uav_id=[0, 1, 2], rsu_id=1,
                  price=np.array([2.0, 3.0, 4.0]), bandwidth_mhz=[1.5, 0.0, 2], ssim=0.9,
                  spectral_efficiency=np.float32(3.5))
        tw.append("/pricing/rounds", round_id=4, t_s=1.0, solver=0, n_uavs=3, n_rsus=1,
                  iterations=7, converged=True, residual=1e-10, wall_time_s=0.01,
                  mean_rsu_utility=5.5)
        assert tw.n_rows("/coverage/events") == 5000
    assert out.exists() and not partial_path_for(out).exists()
    with TraceReader(out) as tr:
        got = tr.read("/coverage/events")
        for name, values in cols.items():
            np.testing.assert_array_equal(got[name], values)
            assert got[name].dtype == np.dtype(
                {"t_s": "<f8", "uav_id": "<i4", "rsu_id": "<i4", "kind": "u1"}[name])
        offers = tr.read("/pricing/offers")
        np.testing.assert_array_equal(offers["uav_id"], [0, 1, 2])
        np.testing.assert_array_equal(offers["rsu_id"], [1, 1, 1])
        np.testing.assert_array_equal(offers["bandwidth_mhz"], [1.5, 0.0, 2.0])
        np.testing.assert_array_equal(offers["spectral_efficiency"], [3.5, 3.5, 3.5])
        rounds = tr.read("/pricing/rounds")
        assert rounds["converged"].dtype == np.bool_ and rounds["converged"].tolist() == [True]
        assert tr.status == "complete" and tr.attrs["seed"] == 11
        assert tr.attrs["scenario_yaml"] == YAML


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(0, 300), cuts=st.lists(st.integers(0, 300), max_size=6),
       buffer_rows=st.integers(1, 120))
def test_round_trip_any_partition(tmp_path: Path, n: int, cuts: list[int],
                                  buffer_rows: int) -> None:
    cols = _events(n, seed=n)
    out = tmp_path / f"p{n}_{buffer_rows}.h5"
    with TraceWriter(out, scenario_yaml="", seed=0, buffer_rows=buffer_rows) as tw:
        _write_in_blocks(tw, cols, [c for c in cuts if c <= n])
    with TraceReader(out) as tr:
        got = tr.read("/coverage/events")
    for name, values in cols.items():
        np.testing.assert_array_equal(got[name], values)


def _walk(f: h5py.File) -> tuple[set[str], set[str]]:
    groups: set[str] = set()
    datasets: set[str] = set()
    f.visititems(lambda name, obj: (datasets if isinstance(obj, h5py.Dataset) else groups)
                 .add("/" + name))
    return groups, datasets


def test_file_layout_equals_schema(tmp_path: Path) -> None:
    out = tmp_path / "empty.h5"
    with TraceWriter(out, scenario_yaml=YAML, seed=1):
        pass
    with h5py.File(out, "r") as f:
        groups, datasets = _walk(f)
        required = [t for t in TABLES if not t.optional]
        assert groups == ({t.path for t in required}
                          | set(GROUP_DESCRIPTIONS) - set(OPTIONAL_GROUPS))
        assert datasets == {f"{t.path}/{c.name}" for t in required for c in t.columns}
        for path in set(GROUP_DESCRIPTIONS) - set(OPTIONAL_GROUPS):
            assert f[path].attrs["description"] == GROUP_DESCRIPTIONS[path]
        for t in required:
            g = f[t.path]
            assert g.attrs["description"] == t.description
            assert list(g.attrs["columns"]) == list(t.column_names)
            for c in t.columns:
                ds = g[c.name]
                assert ds.shape == (0,) and ds.maxshape == (None,), c.name
                assert ds.dtype == np.dtype(c.dtype), c.name
                assert ds.chunks is not None and ds.compression == "gzip" and ds.shuffle
                assert ds.attrs["unit"] == c.unit and ds.attrs["description"] == c.description
                if c.codes is None:
                    assert set(ds.attrs) == {"unit", "description"}
                else:
                    assert ds.attrs["codes"].tolist() == list(c.codes)
                    assert list(ds.attrs["labels"]) == list(c.codes.values())


def test_root_attributes(tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    with TraceWriter(out, scenario_yaml=YAML, seed=2**40, extra_attrs={"sweep_run": 3}):
        pass
    with h5py.File(out, "r") as f:
        a = f.attrs
        assert a["schema_version"] == SCHEMA_VERSION and a["seed"] == 2**40
        assert a["status"] == "complete" and "error" not in a and a["sweep_run"] == 3
        assert isinstance(a["uavtwin_version"], str) and a["uavtwin_version"]
        created = dt.datetime.fromisoformat(a["created"])
        assert abs((dt.datetime.now(dt.UTC) - created).total_seconds()) < 600
        assert 0.0 <= a["wall_time_s"] < 600


@pytest.mark.parametrize("compression", ["lzf", "none"])
def test_other_compressions(tmp_path: Path, compression: str) -> None:
    out = tmp_path / f"{compression}.h5"
    cols = _events(100)
    with TraceWriter(out, scenario_yaml="", seed=0, compression=compression) as tw:
        tw.append("/coverage/events", **cols)
    with h5py.File(out, "r") as f:
        ds = f["/coverage/events/t_s"]
        assert ds.compression == (None if compression == "none" else compression)
        np.testing.assert_array_equal(ds[()], cols["t_s"])


def test_exception_leaves_failed_partial_and_keeps_old_file(tmp_path: Path) -> None:
    out = tmp_path / "run.h5"
    out.write_bytes(b"previous complete run")
    with pytest.raises(ZeroDivisionError):
        with TraceWriter(out, scenario_yaml=YAML, seed=5) as tw:
            tw.append("/coverage/events", t_s=1.0, uav_id=0, rsu_id=0, kind=1)
            _ = 1 / 0
    assert out.read_bytes() == b"previous complete run"
    part = tmp_path / "run.partial.h5"
    with TraceReader(part) as tr:
        assert tr.status == "failed"
        assert tr.attrs["error"] == "ZeroDivisionError: division by zero"
        assert "1 / 0" in tr.attrs["traceback"]
        assert tr.n_rows("/coverage/events") == 1  # buffered rows are saved
        assert tr.tables() == [t.path for t in TABLES if not t.optional]


def test_keyboard_interrupt_gives_partial_status(tmp_path: Path) -> None:
    out = tmp_path / "run.h5"
    with pytest.raises(KeyboardInterrupt):
        with TraceWriter(out, scenario_yaml=YAML, seed=5):
            raise KeyboardInterrupt
    assert not out.exists()
    with TraceReader(partial_path_for(out)) as tr:
        assert tr.status == "partial" and "KeyboardInterrupt" in tr.attrs["error"]


def test_close_partial_and_failed_keep_partial_name(tmp_path: Path) -> None:
    for status in ("partial", "failed"):
        out = tmp_path / f"{status}.h5"
        tw = TraceWriter(out, scenario_yaml="", seed=0)
        tw.close(status, error="stopped by the test")
        tw.close()  # idempotent
        assert tw.closed and not out.exists()
        with TraceReader(partial_path_for(out)) as tr:
            assert tr.status == status and tr.attrs["error"] == "stopped by the test"
    with pytest.raises(ValueError, match="status 'done'"):
        TraceWriter(tmp_path / "x.h5", scenario_yaml="", seed=0).close("done")


def test_crash_after_flush_leaves_readable_partial(tmp_path: Path) -> None:
    out = tmp_path / "crash.h5"
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        from simulator.trace.writer import TraceWriter
        tw = TraceWriter({str(out)!r}, scenario_yaml="x: 1", seed=9, flush_interval_s=1e9)
        tw.append("/coverage/events", t_s=np.arange(10.0), uav_id=np.arange(10),
                  rsu_id=np.zeros(10, int), kind=np.ones(10, int))
        tw.set_attrs("/sensing", controller="nash")
        tw.flush()
        tw.append("/coverage/events", t_s=99.0, uav_id=0, rsu_id=0, kind=0)  # never flushed
        os._exit(3)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 3, proc.stderr
    assert not out.exists()
    with TraceReader(partial_path_for(out)) as tr:
        assert tr.status == "partial" and "error" not in tr.attrs
        assert tr.attrs["seed"] == 9
        ev = tr.read("/coverage/events")
        np.testing.assert_array_equal(ev["t_s"], np.arange(10.0))
        assert tr.group_attrs("/sensing")["controller"] == "nash"
        assert tr.tables() == [t.path for t in TABLES if not t.optional]


def test_optional_groups_only_when_requested(tmp_path: Path) -> None:
    out = tmp_path / "faults.h5"
    row = {"outage_id": 0, "element": 0, "rsu_id": 3, "peer_rsu_id": -1, "t_start_s": 1.0,
           "t_end_s": 2.0}
    with TraceWriter(tmp_path / "plain.h5", scenario_yaml=YAML, seed=1) as tw:
        with pytest.raises(ValueError, match="no /faults group"):
            tw.append("/faults/outages", **row)
    with TraceWriter(out, scenario_yaml=YAML, seed=1, groups=("/faults",)) as tw:
        tw.append("/faults/outages", **row)
    with h5py.File(out, "r") as f:
        assert f["/faults"].attrs["description"] == GROUP_DESCRIPTIONS["/faults"]
        assert set(f["/faults"]) == {"outages", "twin_losses", "transfer_events"}
    with TraceReader(out) as tr:
        assert tr.tables() == [t.path for t in TABLES if not t.optional or t.group == "/faults"]
        assert tr.read("/faults/outages")["rsu_id"].tolist() == [3]
    with pytest.raises(ValueError, match="optional groups"):
        TraceWriter(tmp_path / "x.h5", scenario_yaml=YAML, seed=1, groups=("/sensing",))


def test_unknown_table_and_column_errors(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "e.h5", scenario_yaml="", seed=0) as tw:
        with pytest.raises(ValueError, match="unknown trace table '/coverage/event'"):
            tw.append("/coverage/event", t_s=1.0)
        with pytest.raises(ValueError, match="no column 'uav'.*did you mean 'uav_id'"):
            tw.append("/coverage/events", t_s=1.0, uav=0, rsu_id=0, kind=0)
        with pytest.raises(ValueError, match=r"missing columns \['kind'\]"):
            tw.append("/coverage/events", t_s=1.0, uav_id=0, rsu_id=0)
        with pytest.raises(ValueError, match=r"different lengths \(t_s=2, uav_id=3"):
            tw.append("/coverage/events", t_s=[1.0, 2.0], uav_id=[0, 1, 2], rsu_id=0, kind=0)
        with pytest.raises(ValueError, match="coverage/events/uav_id: cannot store values "
                                             "of dtype float64"):
            tw.append("/coverage/events", t_s=1.0, uav_id=1.5, rsu_id=0, kind=0)
        with pytest.raises(ValueError, match="kind: value 300 out of range for uint8"):
            tw.append("/coverage/events", t_s=1.0, uav_id=0, rsu_id=0, kind=[0, 300])
        with pytest.raises(ValueError, match="converged: cannot store values of dtype int64"):
            tw.append("/pricing/rounds", round_id=0, t_s=0.0, solver=0, n_uavs=1, n_rsus=1,
                      iterations=1, converged=1, residual=0.0, wall_time_s=0.0,
                      mean_rsu_utility=0.0)
        with pytest.raises(ValueError, match=r"expected a scalar or 1-D array, got shape"):
            tw.append("/coverage/events", t_s=np.zeros((2, 2)), uav_id=0, rsu_id=0, kind=0)
        with pytest.raises(ValueError, match="cannot store values of dtype <U1"):
            tw.append("/coverage/events", t_s="a", uav_id=0, rsu_id=0, kind=0)
        assert tw.n_rows("/coverage/events") == 0
    with pytest.raises(RuntimeError, match="after close"):
        tw.append("/coverage/events", t_s=1.0, uav_id=0, rsu_id=0, kind=0)


def test_scalar_out_of_range_is_caught_at_flush(tmp_path: Path) -> None:
    out = tmp_path / "range.h5"
    with pytest.raises(ValueError, match="kind: value -1 out of range"):
        with TraceWriter(out, scenario_yaml="", seed=0) as tw:
            tw.append("/coverage/events", t_s=1.0, uav_id=0, rsu_id=0, kind=-1)
    assert not out.exists()
    with TraceReader(partial_path_for(out)) as tr:
        assert tr.status == "failed" and "out of range" in tr.attrs["error"]


def test_bad_constructor_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="compression 'zstd'"):
        TraceWriter(tmp_path / "a.h5", scenario_yaml="", seed=0, compression="zstd")
    with pytest.raises(ValueError, match="seed -1 out of range"):
        TraceWriter(tmp_path / "a.h5", scenario_yaml="", seed=-1)
    with pytest.raises(ValueError, match=r"reserved root attributes \['status'\]"):
        TraceWriter(tmp_path / "a.h5", scenario_yaml="", seed=0, extra_attrs={"status": "x"})
    with pytest.raises(ValueError, match="must not end in .partial.h5"):
        TraceWriter(tmp_path / "a.partial.h5", scenario_yaml="", seed=0)
    assert list(tmp_path.iterdir()) == []


def test_set_attrs(tmp_path: Path) -> None:
    out = tmp_path / "a.h5"
    with TraceWriter(out, scenario_yaml="", seed=0) as tw:
        tw.set_attrs("/", note="hello")
        tw.set_attrs("sensing", controller="stackelberg")
        tw.set_attrs("/pricing", sweep_values=np.array([0.5, 2.0]), iterations=3)
        tw.set_attrs("/sensing", converged=np.array([True, False]))
        with pytest.raises(ValueError, match="tables carry no attributes"):
            tw.set_attrs("/sensing/state", columns="x")
        with pytest.raises(ValueError, match="'gains' of /sensing is not declared"):
            tw.set_attrs("/sensing", gains=np.array([0.5, 2.0]))
        with pytest.raises(ValueError, match="expected int, got float 2.5"):
            tw.set_attrs("/pricing", iterations=2.5)
        with pytest.raises(ValueError, match=r"\['seed'\] are reserved"):
            tw.set_attrs("/", seed=3)
        with pytest.raises(ValueError, match="unknown trace table '/sensing/stat'"):
            tw.set_attrs("/sensing/stat", x=1)
        with pytest.raises(ValueError, match="expected str, got object"):
            tw.set_attrs("/sensing", controller=object())
    with TraceReader(out) as tr:
        assert tr.attrs["note"] == "hello"
        assert tr.group_attrs("/sensing")["controller"] == "stackelberg"
        assert tr.group_attrs("/sensing")["converged"].tolist() == [True, False]
        pricing = tr.group_attrs("/pricing")
        assert pricing["sweep_values"].tolist() == [0.5, 2.0] and pricing["iterations"] == 3


def test_success_replaces_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "a.h5"
    out.write_bytes(b"old")
    with TraceWriter(out, scenario_yaml="", seed=0) as tw:
        tw.append("/rsus", rsu_id=0, x_m=1.0, y_m=2.0, z_m=10.0, coverage_radius_m=300.0,
                  tx_power_dbm=23.0, noise_dbm=-114.0, cost=2.0, price_cap=20.0)
    with TraceReader(out) as tr:
        assert tr.read("/rsus")["coverage_radius_m"].tolist() == [300.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.h5"]


def _deterministic_run(path: Path, flush_interval_s: float, buffer_rows: int) -> None:
    # more rows than three whole chunks, so that chunks fill, tails are written padded and
    # then completed, whatever the flushes
    cols = _events(3 * CHUNK_ROWS + 1234, seed=7)
    with TraceWriter(path, scenario_yaml=YAML, seed=42, flush_interval_s=flush_interval_s,
                     buffer_rows=buffer_rows) as tw:
        tw.set_attrs("/sensing", controller="nash")
        _write_in_blocks(tw, cols, [100, 150, 1700, 1701, 2 * CHUNK_ROWS, 2 * CHUNK_ROWS + 3])
        tw.append("/pricing/paths", round_id=0, iteration=np.arange(50),
                  mean_rsu_utility=np.linspace(0, 1, 50))


def _dump(path: Path) -> dict[str, object]:
    """Every attribute and dataset (dtype, chunks, filters, bytes) except wall-clock attrs."""
    out: dict[str, object] = {}
    with h5py.File(path, "r") as f:
        def visit(name: str, obj: h5py.HLObject) -> None:
            out[name + "@attrs"] = {k: np.asarray(v).tolist() for k, v in obj.attrs.items()}
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.dtype.str, obj.chunks, obj.compression, obj[()].tobytes())
        visit("", f)
        f.visititems(visit)
    for key in ("created", "wall_time_s"):
        assert key in out["@attrs"]  # type: ignore[operator]
        del out["@attrs"][key]  # type: ignore[attr-defined]
    return out


def test_same_appends_give_same_trace_regardless_of_flush_timing(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "t.h5", tmp_path / "b" / "t.h5"
    _deterministic_run(a, flush_interval_s=1e9, buffer_rows=65_536)
    _deterministic_run(b, flush_interval_s=0.05, buffer_rows=333)
    assert _dump(a) == _dump(b)


def test_byte_identical_with_frozen_clock(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_mod, "_utc_now_iso", lambda: "2030-01-01T00:00:00+00:00")
    monkeypatch.setattr(writer_mod, "_wall_clock", lambda: 0.0)
    a, b = tmp_path / "a" / "t.h5", tmp_path / "b" / "t.h5"
    _deterministic_run(a, flush_interval_s=1e9, buffer_rows=65_536)
    _deterministic_run(b, flush_interval_s=0.0, buffer_rows=97)
    assert a.read_bytes() == b.read_bytes()


def test_columns_with_a_default_may_be_left_out(tmp_path) -> None:
    from simulator.trace.reader import TraceReader

    with TraceWriter(tmp_path / "t.h5", scenario_yaml=YAML, seed=1) as tw:
        tw.append("/pricing/rounds", round_id=0, t_s=0.0, solver=0, n_uavs=1, n_rsus=1,
                  iterations=1, converged=True, residual=0.0, wall_time_s=0.0,
                  mean_rsu_utility=2.0)
        with pytest.raises(ValueError, match=r"missing columns \['mean_rsu_utility'\]"):
            tw.append("/pricing/rounds", round_id=1, t_s=0.0, solver=0, n_uavs=1, n_rsus=1,
                      iterations=1, converged=True, residual=0.0, wall_time_s=0.0)
    with TraceReader(tmp_path / "t.h5") as r:
        rounds = r.read("/pricing/rounds")
    assert rounds["mean_rsu_utility"].tolist() == [2.0]
    assert np.isnan(rounds["reference_rsu_utility"]).all()
    # A trace written before the columns existed reads them as their default.
    with h5py.File(tmp_path / "t.h5", "r+") as f:
        del f["pricing/rounds/reference_rsu_utility"]
    with TraceReader(tmp_path / "t.h5") as r:
        assert r.n_rows("/pricing/rounds") == 1
        assert np.isnan(r.read("/pricing/rounds")["reference_rsu_utility"]).all()


def test_coalescing_recorder_keeps_row_order_across_sinks_rows_and_blocks() -> None:
    """One-row tuples from a sink, keyword rows and blocks interleave in the order appended,
    across block boundaries, exactly as the same appends made straight to a recorder."""
    from simulator.trace.recorders import CoalescingRecorder, MemoryRecorder, row_sink

    direct, behind = MemoryRecorder(), MemoryRecorder()
    coalesced = CoalescingRecorder(behind, block_rows=5)
    sink = row_sink(coalesced, "/t", ("a", "b"))
    plain = row_sink(direct, "/t", ("a", "b"))
    k = 0
    for step in range(40):
        if step % 7 == 3:  # a block of 3 rows, scalars repeated
            coalesced.append("/t", a=[k, k + 1, k + 2], b=0.5)
            direct.append("/t", a=[k, k + 1, k + 2], b=[0.5] * 3)
            k += 3
        elif step % 3:
            sink(k, k / 2)
            plain(k, k / 2)
            k += 1
        else:
            coalesced.append("/t", b=k / 2, a=k)  # keywords in another order
            direct.append("/t", a=k, b=k / 2)
            k += 1
    coalesced.flush()
    got, want = behind.tables()["/t"], direct.tables()["/t"]
    assert got["a"].tolist() == want["a"].tolist() == list(range(k))
    assert got["b"].tolist() == want["b"].tolist()
    with pytest.raises(ValueError, match="differ"):
        coalesced.row_sink("/t", ("b", "a"))
    with pytest.raises(ValueError, match="differ"):
        coalesced.append("/t", a=1)


def test_coalescing_recorder_passes_a_large_block_of_arrays_on_as_it_is() -> None:
    """A block of at least block_rows rows whose columns are all float64/int64/bool arrays
    reaches the target as those arrays (no list round trip), after the rows queued before
    it; smaller blocks, and arrays of other dtypes (int32 would come back as int64), are
    coalesced as before. The target's tables are the same either way."""
    from simulator.trace.recorders import CoalescingRecorder, MemoryRecorder

    class Seen(MemoryRecorder):
        def __init__(self) -> None:
            super().__init__()
            self.blocks: list[dict[str, np.ndarray]] = []

        def append(self, table: str, **columns: object) -> None:
            self.blocks.append(columns)  # type: ignore[arg-type]
            super().append(table, **columns)

    behind = Seen()
    coalesced = CoalescingRecorder(behind, block_rows=4)
    a, b = np.arange(2, 7), np.linspace(0.0, 1.0, 5)
    coalesced.append("/t", a=0, b=0.5)
    coalesced.append("/t", a=np.array([1]), b=np.array([0.25]))  # small: queued
    coalesced.append("/t", a=a, b=b)  # large: passed on as it is, after the two rows
    assert len(behind.blocks) == 2
    assert behind.blocks[0]["a"].tolist() == [0, 1]
    assert behind.blocks[1]["a"] is a and behind.blocks[1]["b"] is b
    coalesced.append("/t", a=np.arange(7, 12, dtype=np.int32), b=b)  # int32: via lists
    coalesced.append("/t", a=np.arange(12, 17), b=b.tolist())  # a list column: via lists
    coalesced.flush()
    assert all(blk["a"] is not a and blk["a"].dtype == np.int64 for blk in behind.blocks[2:])
    got = behind.tables()["/t"]
    assert got["a"].tolist() == list(range(17)) and got["a"].dtype == np.int64
    assert got["b"].tolist() == [0.5, 0.25, *b.tolist() * 3]


def test_coalescing_recorder_passes_tables_on_in_the_order_of_their_first_rows() -> None:
    """Sinks are made up front (the market's), but the target sees the tables in the order
    their first rows came: the entity tables written at the start are flushed first."""
    from simulator.trace.recorders import CoalescingRecorder, MemoryRecorder

    behind = MemoryRecorder()
    coalesced = CoalescingRecorder(behind)
    late = coalesced.row_sink("/late", ("x",))
    many = coalesced.rows_sink("/many", ("x",))
    coalesced.append("/first", x=1)
    many([])  # no rows: not started
    late(2)
    many([(3,), (4,)])
    coalesced.flush()
    assert list(behind.tables()) == ["/first", "/late", "/many"]


def _kept_trace(out: Path, keep_bytes: int,
                keep_columns: dict[str, tuple[str, ...]] | None = None) -> TraceWriter:
    """A trace of three tables appended in blocks and rows across several writes and flushes."""
    cols = _events(3000, seed=5)
    with TraceWriter(out, scenario_yaml=YAML, seed=3, buffer_rows=256,
                     keep_bytes=keep_bytes, keep_columns=keep_columns) as tw:
        _write_in_blocks(tw, cols, [10, 700, 701, 1800, 2999])
        tw.flush()
        tw.append("/pricing/offers", round_id=1, request_id=2, uav_id=[3, 4], rsu_id=5,
                  price=[1.0, np.nan], bandwidth_mhz=2.5, ssim=0.5, spectral_efficiency=1.0)
        tw.append("/uavs", uav_id=np.arange(40), twin_count=1, twin_size_bytes=1e6,
                  delta=0.1, ssim_threshold=0.8, budget=np.linspace(1.0, 2.0, 40),
                  present_from_s=0.0, present_to_s=np.inf)
    return tw


def test_kept_tables_are_the_data_of_the_file(tmp_path: Path) -> None:
    """take_tables hands over exactly what the complete file holds (dtypes included), once."""
    out = tmp_path / "kept.h5"
    tw = _kept_trace(out, keep_bytes=1 << 20)
    kept = tw.take_tables()
    assert kept is not None and tw.take_tables() is None
    with TraceReader(out) as tr:
        written = [t for t in tr.tables() if tr.n_rows(t)]
        assert sorted(kept) == sorted(written) == ["/coverage/events", "/pricing/offers",
                                                   "/uavs"]
        for table, columns in kept.items():
            got = tr.read(table)
            assert list(columns) == list(got)
            for name, values in got.items():
                assert columns[name].dtype == values.dtype, (table, name)
                assert columns[name].tobytes() == values.tobytes(), (table, name)


def test_kept_columns_are_joined_only_when_read(tmp_path: Path) -> None:
    """A column kept in several blocks is joined when first read, once: taking the tables
    copies nothing (a run's summary never reads the position samples), and a column read
    costs one copy of itself, not of its table."""
    import tracemalloc

    tw = _kept_trace(tmp_path / "kept.h5", keep_bytes=1 << 20)
    tracemalloc.start()
    try:
        kept = tw.take_tables()
        assert kept is not None
        taken = tracemalloc.get_traced_memory()[0]
        t_s = kept["/coverage/events"]["t_s"]
        read = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert taken < 3000 * 8 // 2  # the tables' mappings only, not even one column's copy
    assert 3000 * 8 <= read - taken < 3000 * 8 + 4096  # one float64 column of 3000 rows
    assert kept["/coverage/events"]["t_s"] is t_s
    assert t_s.tolist() == _events(3000, seed=5)["t_s"].tolist()


def test_nothing_kept_past_the_limit_or_off_or_after_a_failure(tmp_path: Path) -> None:
    kept = _kept_trace(tmp_path / "all.h5", keep_bytes=1 << 20).take_tables()
    assert kept is not None
    size = sum(a.nbytes for columns in kept.values() for a in columns.values())
    assert size > 3000 * 17  # the events alone: 3000 * (8 + 4 + 4 + 1) bytes
    assert _kept_trace(tmp_path / "fits.h5", keep_bytes=size).take_tables() is not None
    assert _kept_trace(tmp_path / "big.h5", keep_bytes=size - 1).take_tables() is None
    assert _kept_trace(tmp_path / "off.h5", keep_bytes=0).take_tables() is None
    with pytest.raises(RuntimeError), TraceWriter(tmp_path / "f.h5", scenario_yaml=YAML, seed=1,
                                                  keep_bytes=1 << 20) as tw:
        tw.append("/coverage/events", **_events(10))
        tw.flush()
        raise RuntimeError("boom")
    assert tw.take_tables() is None
    with pytest.raises(ValueError, match="keep_bytes"):
        TraceWriter(tmp_path / "n.h5", scenario_yaml=YAML, seed=1, keep_bytes=-1)


def test_kept_columns_are_those_asked_for(tmp_path: Path) -> None:
    """keep_columns keeps the named columns of the named tables only, every named table even
    without rows, and keep_bytes bounds those columns alone."""
    want = {"/coverage/events": ("kind", "t_s"), "/uavs": ("budget",),
            "/migration/transfers": ("t_end_s",)}
    out = tmp_path / "some.h5"
    kept = _kept_trace(out, keep_bytes=1 << 20, keep_columns=want).take_tables()
    assert kept is not None and sorted(kept) == sorted(want)
    with TraceReader(out) as tr:
        for table, columns in kept.items():
            assert list(columns) == [c for c in get_table(table).column_names
                                     if c in want[table]]  # schema order
            got = tr.read(table, list(columns))
            for name, values in got.items():
                assert columns[name].dtype == values.dtype, (table, name)
                assert columns[name].tobytes() == values.tobytes(), (table, name)
    assert len(kept["/migration/transfers"]["t_end_s"]) == 0
    size = 3000 * (8 + 1) + 40 * 8  # t_s, kind and the budgets
    assert sum(a.nbytes for c in kept.values() for a in c.values()) == size
    assert _kept_trace(tmp_path / "fits.h5", size, want).take_tables() is not None
    assert _kept_trace(tmp_path / "big.h5", size - 1, want).take_tables() is None
    with pytest.raises(ValueError, match="at least one column"):
        TraceWriter(tmp_path / "e.h5", scenario_yaml=YAML, seed=1, keep_bytes=1,
                    keep_columns={"/uavs": ()})
    with pytest.raises(ValueError, match="t_sec"):
        TraceWriter(tmp_path / "n.h5", scenario_yaml=YAML, seed=1, keep_bytes=1,
                    keep_columns={"/coverage/events": ("t_sec",)})


@pytest.mark.parametrize("stage", ["h5py.File", "write_root_attrs", "create_layout"])
def test_interrupted_creation_leaves_no_partial_file(tmp_path, monkeypatch, stage) -> None:
    # Ctrl-C between creating the partial file and writing its root attributes and tables
    # (seen in test_sigint_at_any_moment_leaves_complete_or_partial, also inside h5py.File
    # once the file is made): the half-made file holds no rows and is no uavtwin trace, so it
    # is removed, not left for the reader to refuse
    real_file = h5py.File

    def interrupted(*args, **kwargs):
        if stage == "h5py.File":
            real_file(*args, **kwargs).close()  # the file is made, then the interrupt comes
        raise KeyboardInterrupt

    if stage == "h5py.File":
        monkeypatch.setattr(writer_mod.h5py, "File", interrupted)
    else:
        monkeypatch.setattr(writer_mod, stage, interrupted)
    path = tmp_path / "run.h5"
    with pytest.raises(KeyboardInterrupt):
        TraceWriter(path, scenario_yaml="x: 1\n", seed=1)
    assert list(tmp_path.iterdir()) == []
