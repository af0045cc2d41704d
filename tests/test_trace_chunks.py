"""Tests of simulator.trace.chunks: chunks encoded off the main thread are HDF5's own."""

from __future__ import annotations

import threading
import time
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest

import simulator.trace.chunks as chunks_mod
from simulator.trace.buffer import CHUNK_ROWS
from simulator.trace.chunks import ChunkQueue, TableStream, gzip_chunk
from simulator.trace.reader import TraceReader
from simulator.trace.schema import TABLES, get_table
from simulator.trace.writer import _COMPRESSION, TraceWriter

YAML = "simulation:\n  duration_s: 10\n"
DTYPES = sorted({c.np_dtype.str for t in TABLES for c in t.columns})


def _values(dtype: np.dtype, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype.kind == "b":
        return rng.random(n) < 0.3
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(max(info.min, -1000), min(info.max, 1000), n, endpoint=True
                            ).astype(dtype)
    return (rng.standard_normal(n) * 1e3).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [CHUNK_ROWS, CHUNK_ROWS - 1, 1000, 1])
def test_gzip_chunk_is_what_hdf5_filters_store(tmp_path: Path, dtype: str, n: int) -> None:
    # every column dtype of the schema, a whole chunk or a tail: our chunk reads back through
    # the declared filters, and inflates to the very bytes HDF5's shuffle filter gives to the
    # chunk it pads with its fill value (so the byte order of the shuffle and the padding are
    # HDF5's, whatever zlib build either side uses)
    dt = np.dtype(dtype)
    values = _values(dt, n, seed=len(dtype) + n)
    options = dict(_COMPRESSION["gzip"])
    with h5py.File(tmp_path / "c.h5", "w") as f:
        ours = f.create_dataset("ours", shape=(n,), maxshape=(None,), dtype=dt,
                                chunks=(CHUNK_ROWS,), **options)
        theirs = f.create_dataset("theirs", data=values, maxshape=(None,),
                                  chunks=(CHUNK_ROWS,), **options)
        (encoded,) = gzip_chunk([values])
        ours.id.write_direct_chunk((0,), encoded)
        assert ours[()].tobytes() == values.tobytes()
        _, stored = theirs.id.read_direct_chunk((0,))
        assert zlib.decompress(encoded) == zlib.decompress(stored)
        assert len(zlib.decompress(encoded)) == CHUNK_ROWS * dt.itemsize


def _stream(f: h5py.File, direct: bool) -> TableStream:
    table = get_table("/coverage/events")
    g = f.create_group(table.path)
    options = _COMPRESSION["gzip" if direct else "lzf"]
    for col in table.columns:
        g.create_dataset(col.name, shape=(0,), maxshape=(None,), dtype=col.np_dtype,
                         chunks=(CHUNK_ROWS,), **options)
    return TableStream(table, [g[name].id for name in table.column_names])


def _rows(n: int, start: int = 0) -> list[np.ndarray]:
    """Rows ``start .. start + n`` of /coverage/events, in the schema's dtypes."""
    i = np.arange(start, start + n)
    values = [i * 0.5, i % 40, i % 9, i % 2]
    return [v.astype(c.np_dtype) for v, c in zip(values, get_table("/coverage/events").columns,
                                                  strict=True)]


@pytest.mark.parametrize("direct", [True, False])
def test_stream_cuts_whole_chunks_and_rewrites_its_tail(tmp_path: Path, direct: bool) -> None:
    with h5py.File(tmp_path / "s.h5", "w") as f:
        stream = _stream(f, direct)
        queue = ChunkQueue(direct)
        try:
            blocks = [_rows(5000), _rows(5000, 5000), _rows(3, 10_000), _rows(20_000, 10_003)]
            written, rows = [], 0
            for block in blocks:
                for k, n, cols in stream.cut(block):
                    written.append((k, n))
                    queue.add(stream, k, n, cols)
                tail = stream.take_tail()  # as a flush would
                if tail is not None:
                    written.append(tail[:2])
                    queue.add(stream, *tail)
                queue.write_all(stream.write)
                rows += len(block[0])
                assert stream.extent == rows == f["/coverage/events/t_s"].shape[0]
            assert stream.take_tail() is None  # nothing new since the last flush
        finally:
            queue.stop()
        # whole chunks once each; the tail of chunk 0 twice and chunk 1 once before they filled
        assert written == [(0, 5000), (0, CHUNK_ROWS), (1, 1808), (1, 1811), (1, CHUNK_ROWS),
                           (2, CHUNK_ROWS), (3, 5427)]
        expected = _rows(30_003)
        for col, want in zip(stream.table.column_names, expected, strict=True):
            np.testing.assert_array_equal(f[f"/coverage/events/{col}"][()], want)


def test_a_chunk_is_queued_as_soon_as_its_rows_are_there(tmp_path: Path, monkeypatch) -> None:
    # 5,000 rows flushed (a tail), then 3,192 more: they complete chunk 0, which is queued
    # for its encoding at once, not when another 8,192 rows have come
    queued: list[tuple[int, int]] = []
    add = ChunkQueue.add

    def recorded(self, stream, k, n, columns):
        queued.append((k, n))
        add(self, stream, k, n, columns)

    monkeypatch.setattr(ChunkQueue, "add", recorded)
    rows = _rows(CHUNK_ROWS + 10)
    with TraceWriter(tmp_path / "q.h5", scenario_yaml=YAML, seed=1) as tw:
        def append(lo: int, hi: int) -> None:
            tw.append("/coverage/events", t_s=rows[0][lo:hi], uav_id=rows[1][lo:hi],
                      rsu_id=rows[2][lo:hi], kind=rows[3][lo:hi])

        append(0, 5000)
        tw.flush()
        assert queued == [(0, 5000)]
        append(5000, CHUNK_ROWS - 1)
        assert queued == [(0, 5000)]
        append(CHUNK_ROWS - 1, CHUNK_ROWS + 10)
        assert queued == [(0, 5000), (0, CHUNK_ROWS)]
    assert queued[2:] == [(1, 10)]
    with TraceReader(tmp_path / "q.h5") as tr:
        np.testing.assert_array_equal(tr.read("/coverage/events")["t_s"], rows[0])


def test_front_chunk_is_awaited_when_too_many_wait(tmp_path: Path, monkeypatch) -> None:
    # a worker that falls behind: the queue stays bounded, the main thread waits for it
    release = threading.Event()
    slow = chunks_mod.gzip_chunk

    def blocked(columns):
        release.wait(5)
        return slow(columns)

    monkeypatch.setattr(chunks_mod, "gzip_chunk", blocked)
    monkeypatch.setattr(chunks_mod, "MAX_QUEUED", 3)
    with h5py.File(tmp_path / "q.h5", "w") as f:
        stream = _stream(f, direct=True)
        queue = ChunkQueue(True)
        try:
            for k, n, cols in stream.cut(_rows(3 * CHUNK_ROWS)):
                queue.add(stream, k, n, cols)
            queue.write_ready(stream.write)
            assert len(queue) == 3 and stream.extent == 0  # three may wait: nothing written
            for k, n, cols in stream.cut(_rows(CHUNK_ROWS, 3 * CHUNK_ROWS)):
                queue.add(stream, k, n, cols)
            threading.Timer(0.2, release.set).start()
            started = time.monotonic()
            queue.write_ready(stream.write)  # four wait: the oldest is awaited and written
            assert time.monotonic() - started >= 0.1
            assert len(queue) <= 3 and stream.extent >= CHUNK_ROWS
        finally:
            release.set()
            queue.stop()


def test_waiting_thread_encodes_the_chunks_no_worker_started(tmp_path: Path,
                                                            monkeypatch) -> None:
    # both workers stuck on the two oldest chunks: the writing thread, which must wait for
    # the oldest, encodes the two newest meanwhile, newest first; all are written in order
    release, real = threading.Event(), chunks_mod.gzip_chunk
    encoders: list[tuple[str, int]] = []

    def stuck_in_workers(columns):
        here = threading.current_thread() is threading.main_thread()
        encoders.append(("main" if here else "worker", int(columns[0][0] * 2)))
        if not here:
            release.wait(5)
        return real(columns)

    monkeypatch.setattr(chunks_mod, "gzip_chunk", stuck_in_workers)
    monkeypatch.setattr(chunks_mod, "WORKERS", 2)
    with h5py.File(tmp_path / "w.h5", "w") as f:
        stream = _stream(f, direct=True)
        queue = ChunkQueue(True)
        try:
            rows = _rows(3 * CHUNK_ROWS + 5)
            for k, n, cols in stream.cut(rows):
                queue.add(stream, k, n, cols)
            queue.add(stream, *stream.take_tail())
            deadline = time.monotonic() + 5
            while len(encoders) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)  # the workers have taken the two oldest
            threading.Timer(0.3, release.set).start()
            queue.write_all(stream.write)
            assert not len(queue)
        finally:
            release.set()
            queue.stop()
        assert sorted(encoders[:2]) == [("worker", 0), ("worker", CHUNK_ROWS)]
        assert encoders[2:] == [("main", 3 * CHUNK_ROWS), ("main", 2 * CHUNK_ROWS)]
        for col, want in zip(stream.table.column_names, rows, strict=True):
            np.testing.assert_array_equal(f[f"/coverage/events/{col}"][()], want)


def test_failed_encoding_fails_the_run_with_the_chunks_before_it(tmp_path: Path,
                                                                monkeypatch) -> None:
    # the third of four chunks cannot be encoded (whichever thread encodes it, in whatever
    # order): the first two are written, the third is lost and so is the fourth, which the
    # worker or the main thread may well have encoded, since rows after a hole would make
    # the table unreadable
    real = chunks_mod.gzip_chunk

    def breaks_third(columns):
        if columns[0][0] == _rows(1, 2 * CHUNK_ROWS)[0][0]:
            raise MemoryError("no memory for the chunk")
        return real(columns)

    monkeypatch.setattr(chunks_mod, "gzip_chunk", breaks_third)
    out = tmp_path / "run.h5"
    with pytest.raises(MemoryError), TraceWriter(out, scenario_yaml=YAML, seed=1) as tw:
        cols = _rows(4 * CHUNK_ROWS)  # queued at once
        tw.append("/coverage/events", t_s=cols[0], uav_id=cols[1], rsu_id=cols[2],
                  kind=cols[3])
        tw.flush()
    assert not out.exists()
    with TraceReader(out.with_name("run.partial.h5")) as tr:
        assert tr.status == "failed" and "no memory" in tr.attrs["error"]
        assert f"({2 * CHUNK_ROWS} buffered rows could not be written)" in tr.attrs["error"]
        t = tr.read("/coverage/events")["t_s"]
        np.testing.assert_array_equal(t, _rows(2 * CHUNK_ROWS)[0])  # the first two chunks


def test_interrupt_while_waiting_for_a_chunk_leaves_every_row(tmp_path: Path,
                                                             monkeypatch) -> None:
    # Ctrl-C while the final flush waits for a worker: the partial file still gets every row
    # (the chunks are encoded on the main thread once the workers are stopped)
    real = chunks_mod.ChunkJob.encoded_now
    interrupted = {"done": False}

    def ctrl_c_once(job):
        if not interrupted["done"]:
            interrupted["done"] = True
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(chunks_mod.ChunkJob, "encoded_now", ctrl_c_once)
    out = tmp_path / "run.h5"
    cols = _rows(2 * CHUNK_ROWS + 77)
    with pytest.raises(KeyboardInterrupt), TraceWriter(out, scenario_yaml=YAML, seed=1) as tw:
        tw.append("/coverage/events", t_s=cols[0], uav_id=cols[1], rsu_id=cols[2],
                  kind=cols[3])
    assert interrupted["done"] and not out.exists()
    with TraceReader(out.with_name("run.partial.h5")) as tr:
        assert tr.status == "partial"
        np.testing.assert_array_equal(tr.read("/coverage/events")["t_s"], cols[0])


def _layout_with_h5py_alone(f: h5py.File, options: dict, groups: tuple[str, ...]) -> None:
    """The reference: every group, table, column and attribute made by h5py's high level."""
    from simulator.trace.buffer import layout
    from simulator.trace.schema import GROUP_DESCRIPTIONS

    group_paths, tables = layout(groups)
    for group_path in group_paths:
        f.create_group(group_path, track_order=True).attrs["description"] = (
            GROUP_DESCRIPTIONS[group_path])
    for table in tables:
        g = f.create_group(table.path, track_order=True)
        g.attrs["description"] = table.description
        g.attrs["columns"] = list(table.column_names)
        for col in table.columns:
            ds = g.create_dataset(col.name, shape=(0,), maxshape=(None,), dtype=col.np_dtype,
                                  chunks=(CHUNK_ROWS,), track_times=False, **options)
            ds.attrs["unit"] = col.unit
            ds.attrs["description"] = col.description
            if col.codes is not None:
                ds.attrs["codes"] = np.array(list(col.codes), dtype=col.np_dtype)
                ds.attrs["labels"] = list(col.codes.values())


@pytest.mark.parametrize("compression", ["gzip", "lzf", "none"])
def test_layout_is_byte_for_byte_the_one_h5py_makes(tmp_path: Path, compression: str) -> None:
    from simulator.trace.buffer import create_layout
    from simulator.trace.schema import OPTIONAL_GROUPS

    options = dict(_COMPRESSION[compression])
    for groups in ((), tuple(sorted(OPTIONAL_GROUPS))):
        ours, reference = tmp_path / f"o{len(groups)}.h5", tmp_path / f"r{len(groups)}.h5"
        with h5py.File(ours, "w", track_order=True) as f:
            create_layout(f, options, groups)
        with h5py.File(reference, "w", track_order=True) as f:
            _layout_with_h5py_alone(f, options, groups)
        assert ours.read_bytes() == reference.read_bytes()
