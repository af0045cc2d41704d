"""Buffered, crash-tolerant writer of uavtwin traces.

A simulation emits many small events (coverage crossings, offers, transfer hops). Writing each
one to HDF5 would dominate the run time, so :class:`TraceWriter` keeps rows in per-table
buffers (Python lists of rows or of NumPy blocks, amortised O(1) per row; buffers and layout
live in :mod:`simulator.trace.buffer`) and cuts them into the chunks of extendable, chunked,
compressed column datasets as they fill (:mod:`simulator.trace.chunks`: gzip chunks are
compressed on a worker thread while the simulation goes on). Every table of the schema is
created up front (empty), so even a crashed run's file holds every table.

Robustness follows one rule: *a file named like the requested path is always complete*. The
run writes ``<stem>.partial.h5`` and flushes it every ``flush_interval_s`` wall-clock seconds
(so a crash leaves a readable partial trace whose rows are valid up to the last flush). On
``close("complete")`` the data is copied, in schema order, into a fresh file that atomically
replaces the requested path; the partial file is then removed. Because that final copy is
canonical, the complete file does not depend on when flushes happened: the same appends give
a byte-identical file apart from the ``created`` and ``wall_time_s`` attributes.

A full disk must not corrupt the partial file: HDF5 cannot recover from a failed write (the
file is left unreadable, and its cleanup can crash the interpreter). So before every chunk is
written the writer checks that the disk has room for it plus :data:`DISK_RESERVE_BYTES`, and
before the final copy that it has room for the whole file; otherwise it raises ``OSError``
(ENOSPC) *before* HDF5 writes anything, and the reserve is enough to record ``status=failed``
with the error in the partial file, which stays readable with every chunk written so far.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import functools
import importlib.metadata
import logging
import os
import time
import traceback
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from simulator.trace.attributes import check_group_attr
from simulator.trace.buffer import (
    CHUNK_ROWS,
    TableBuffer,
    create_layout,
    write_root_attrs,
)
from simulator.trace.chunks import GZIP_LEVEL, ChunkJob, ChunkQueue, TableStream
from simulator.trace.schema import (
    GROUP_DESCRIPTIONS,
    OPTIONAL_GROUPS,
    SCHEMA_VERSION,
    STATUSES,
    TABLES,
    Table,
    get_table,
)

__all__ = ["DISK_RESERVE_BYTES", "ROOT_ATTRS", "TraceWriter", "disk_free_bytes",
           "partial_path_for"]

log = logging.getLogger(__name__)

ROOT_ATTRS = (
    "schema_version", "uavtwin_version", "scenario_yaml", "seed", "created", "wall_time_s",
    "status", "error", "traceback",
)
"""Root attributes owned by the writer (``extra_attrs`` may not use these names)."""

DISK_RESERVE_BYTES = 1 << 20
"""Free disk space kept in reserve for HDF5 metadata and the final status attributes."""

# gzip's chunks are encoded by simulator.trace.chunks (shuffle, then deflate at GZIP_LEVEL)
_COMPRESSION: Mapping[str, Mapping[str, Any]] = {
    "gzip": {"compression": "gzip", "compression_opts": GZIP_LEVEL, "shuffle": True},
    "lzf": {"compression": "lzf", "shuffle": True},
    "none": {},
}


def partial_path_for(path: str | os.PathLike[str]) -> Path:
    """Return the in-progress file name of a trace: ``out/run.h5`` -> ``out/run.partial.h5``.

    Args:
        path: Final trace path.

    Returns:
        The path the writer writes to until the run completes.
    """
    p = Path(path)
    return p.with_name(p.stem + ".partial.h5")


def disk_free_bytes(path: str | os.PathLike[str]) -> int:
    """Bytes an unprivileged process may still write on the file system holding ``path``.

    Args:
        path: A file or directory (the file need not exist; its directory must).

    Returns:
        ``f_bavail * f_frsize`` of ``os.statvfs``; a very large number where unavailable.
    """
    try:
        try:
            st = os.statvfs(path)  # one system call per chunk written: the file exists
        except FileNotFoundError:
            st = os.statvfs(Path(path).parent)
    except (OSError, AttributeError):
        return 1 << 62
    return st.f_bavail * st.f_frsize


def _utc_now_iso() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _wall_clock() -> float:
    return time.perf_counter()


@functools.cache
def _package_version() -> str:
    try:
        return importlib.metadata.version("uavtwin")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"

class _JoinedColumns(Mapping[str, np.ndarray]):
    """A table's columns kept in blocks (one array per column each), each column joined into
    one array when it is first read."""

    def __init__(self, names: tuple[str, ...], blocks: list[list[np.ndarray]]) -> None:
        self._index = {name: k for k, name in enumerate(names)}
        self._blocks = blocks
        self._joined: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        joined = self._joined.get(name)
        if joined is None:
            k = self._index[name]
            blocks = self._blocks
            if len(blocks) == 1:
                joined = blocks[0][k]
            else:
                joined = np.concatenate([b[k] for b in blocks])
                for b in blocks:  # the joined copy replaces the blocks' arrays
                    b[k] = joined[:0]
            self._joined[name] = joined
        return joined

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


class TraceWriter:
    """Write one run's trace; use as a context manager.

    Example:
        >>> with TraceWriter("out/run.h5", scenario_yaml=text, seed=7) as tw:  # doctest: +SKIP
        ...     tw.append("/coverage/events", t_s=1.5, uav_id=0, rsu_id=3, kind=1)

    Leaving the ``with`` block normally closes with status ``complete``; an exception closes
    with ``failed`` (``partial`` for KeyboardInterrupt), keeps ``<stem>.partial.h5`` and
    propagates.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        scenario_yaml: str,
        seed: int,
        flush_interval_s: float = 30.0,
        compression: str = "gzip",
        extra_attrs: Mapping[str, Any] | None = None,
        buffer_rows: int = 65_536,
        groups: Collection[str] = (),
        keep_bytes: int = 0,
        keep_columns: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        """Create ``<stem>.partial.h5`` with every table (empty) and the root attributes.

        Args:
            path: Final trace path (``.h5``); written only when the run completes.
            scenario_yaml: The resolved scenario as YAML text (stored as an attribute).
            seed: The run's seed (0 <= seed < 2**63).
            flush_interval_s: Wall-clock seconds between flushes to disk (>= 0).
            compression: ``"gzip"`` (level 1), ``"lzf"`` or ``"none"``; shuffle is on.
            extra_attrs: Further root attributes (e.g. the solver name of a sweep run).
            buffer_rows: A table's rows are written as soon as this many are waiting (at
                most a chunk of :data:`~simulator.trace.buffer.CHUNK_ROWS` rows; whole
                chunks are written as soon as they fill in any case).
            groups: Optional groups (:data:`~simulator.trace.schema.OPTIONAL_GROUPS`) the
                trace holds, e.g. ``("/faults",)``; the others are left out.
            keep_bytes: Also keep in memory every row written, as long as they take at most
                this many bytes in all (0: keep nothing); :meth:`take_tables` returns them
                once the trace is complete, so that a caller can compute from them what it
                would otherwise read back from the file.
            keep_columns: Keep only these columns of these tables (``{table: columns}``;
                None: every column of every table). ``keep_bytes`` then bounds these
                columns alone, so a caller that reads a few columns keeps them for a much
                longer run.

        Raises:
            ValueError: On a bad argument (the message names it and its value).
            OSError: If the partial file cannot be created.
        """
        self.path = Path(path)
        if self.path.name.endswith(".partial.h5"):
            raise ValueError(f"trace path {str(self.path)!r} must not end in .partial.h5")
        if compression not in _COMPRESSION:
            raise ValueError(f"compression {compression!r}: expected one of {list(_COMPRESSION)}")
        if not isinstance(scenario_yaml, str):
            raise ValueError(f"scenario_yaml: expected str, got {type(scenario_yaml).__name__}")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(f"seed: expected an integer, got {seed!r}")
        if not 0 <= int(seed) < 2**63:
            raise ValueError(f"seed {seed} out of range [0, 2**63)")
        if not flush_interval_s >= 0:
            raise ValueError(f"flush_interval_s must be >= 0, got {flush_interval_s}")
        if buffer_rows < 1:
            raise ValueError(f"buffer_rows must be >= 1, got {buffer_rows}")
        if keep_bytes < 0:
            raise ValueError(f"keep_bytes must be >= 0, got {keep_bytes}")
        # per kept table, the indices of its kept columns in schema order
        self._keep_index: dict[str, list[int]] | None = None
        if keep_columns is not None:
            self._keep_index = {}
            for table, names in keep_columns.items():
                spec = get_table(table)
                if not names:  # a table kept without columns would seem to have no rows
                    raise ValueError(f"keep_columns[{table!r}]: expected at least one column")
                for name in names:
                    spec.column(name)  # raises for an unknown column, with a suggestion
                self._keep_index[spec.path] = [k for k, c in enumerate(spec.column_names)
                                               if c in set(names)]
        unknown = sorted(set(groups) - OPTIONAL_GROUPS)
        if unknown:
            raise ValueError(f"groups {unknown}: expected optional groups from "
                             f"{sorted(OPTIONAL_GROUPS)}")
        self._groups = frozenset(groups)
        extra = dict(extra_attrs or {})
        clash = sorted(set(extra) & set(ROOT_ATTRS))
        if clash:
            raise ValueError(f"extra_attrs may not set reserved root attributes {clash}")

        self.partial_path = partial_path_for(self.path)
        self._flush_interval_s = float(flush_interval_s)
        self._buffer_rows = int(buffer_rows)
        self._dataset_options = dict(_COMPRESSION[compression])
        self._start = _wall_clock()
        self._last_flush = time.monotonic()
        self._root_attrs: dict[str, Any] = {
            "schema_version": np.int64(SCHEMA_VERSION),
            "uavtwin_version": _package_version(),
            "scenario_yaml": scenario_yaml,
            "seed": np.int64(seed),
            "created": _utc_now_iso(),
            "wall_time_s": 0.0,
            "status": "partial",
        }
        self._extra_attrs = extra
        self._user_attrs: dict[str, dict[str, Any]] = {}
        self._buffers: dict[str, TableBuffer] = {}
        # rows leave a buffer as soon as they complete a chunk (with the table's tail), or
        # sooner if asked
        self._drain_rows = min(self._buffer_rows, CHUNK_ROWS)
        self._streams: dict[str, TableStream] = {}
        self._chunks = ChunkQueue(direct=compression == "gzip")  # gzip: encoded off-thread
        self._dropped = 0  # rows lost to a full disk (recorded with the failure)
        self._rows: dict[str, int] = {t.path: 0 for t in TABLES}
        # the blocks written so far, per table (None once they outgrow keep_bytes)
        self._keep_bytes = int(keep_bytes)
        self._kept: dict[str, list[list[np.ndarray]]] | None = {} if keep_bytes else None
        self._kept_nbytes = 0
        self._complete = False

        self.partial_path.parent.mkdir(parents=True, exist_ok=True)
        self._columns: dict[str, list[h5py.h5d.DatasetID]] = {}  # made by create_layout
        self._file: h5py.File | None = None
        try:
            self._file = h5py.File(self.partial_path, "w", track_order=True)
            write_root_attrs(self._file, {**self._root_attrs, **extra})
            self._columns = create_layout(self._file, self._dataset_options, self._groups)
            self._file.flush()
        except BaseException as exc:  # e.g. Ctrl-C before the file holds its root attributes
            made = self._file is not None
            if made:
                self._file.close()
                self._file = None
            if made or isinstance(exc, KeyboardInterrupt):  # (inside h5py.File: made, maybe)
                with contextlib.suppress(OSError):  # no rows yet: leave no unreadable file
                    self.partial_path.unlink(missing_ok=True)
            raise
        log.debug("trace %s: writing %s", self.path, self.partial_path)

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc_type is None:
            self.close("complete")
            return False
        if self._file is None:  # already closed explicitly inside the block
            return False
        status = "partial" if issubclass(exc_type, KeyboardInterrupt) else "failed"
        text = "".join(traceback.format_exception_only(exc_type, exc)).strip()
        try:
            self._finish_partial(status, text, "".join(traceback.format_exception(exc)))
        except Exception as err:  # never mask the run's own exception
            log.error("trace %s: could not record status %r: %s", self.partial_path, status,
                      err)
        return False

    # -- public API ------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called (or the with-block was left)."""
        return self._file is None

    def n_rows(self, table: str) -> int:
        """Rows appended to ``table`` so far (written or still buffered).

        Args:
            table: Table path.

        Returns:
            The row count.

        Raises:
            ValueError: If the schema has no such table.
        """
        return self._rows[get_table(table).path]

    def append(self, table: str, **columns: Any) -> None:
        """Append rows to a table.

        Every column of the table must be given, each either a scalar or a 1-D array-like;
        arrays must have equal lengths and scalars are repeated to that length (all scalars =
        one row). Values are converted to the schema dtype: floats never go into integer or
        boolean columns and integers must fit the column's range.

        Args:
            table: Table path, e.g. ``"/coverage/events"`` (leading ``/`` optional).
            **columns: One keyword per column of the table.

        Raises:
            ValueError: Unknown table, unknown or missing column, unequal lengths, or values
                that do not fit the column dtype (the message names table and column).
            RuntimeError: If the writer is closed.
        """
        buf = self._buffers.get(table)
        if buf is None:
            buf = self._buffer_for(table)
        if self._file is None:
            raise RuntimeError(f"trace {self.path}: append({table!r}) after close")
        if columns.keys() != buf.name_set:
            columns = self._with_defaults(buf.table, columns)
        values = [columns[name] for name in buf.names]
        if all(type(v) in ok for v, ok in zip(values, buf.scalar_types, strict=True)):
            buf.add_row(tuple(values))
            n = 1
        else:
            n = buf.add_columns(values)
        self._rows[buf.table.path] += n
        if buf.n >= buf.drain_at:
            self._drain(buf)
        if self._chunks:
            self._chunks.write_ready(self._write_chunk)
        if time.monotonic() - self._last_flush >= self._flush_interval_s:
            self.flush()

    def set_attrs(self, path: str, **attrs: Any) -> None:
        """Attach metadata attributes to the root, a subsystem group or a table group.

        Args:
            path: ``"/"``, a subsystem group (``"/sensing"``) or a table (``"/sensing/state"``).
            **attrs: Attribute values (str, numbers, or numeric/string arrays).

        Raises:
            ValueError: Unknown path, a reserved attribute name (``description``, ``columns``
                on tables, writer-owned root attributes) or a value HDF5 cannot store.
            RuntimeError: If the writer is closed.
        """
        if self._file is None:
            raise RuntimeError(f"trace {self.path}: set_attrs({path!r}) after close")
        key = path if path.startswith("/") else "/" + path
        if key == "/":
            reserved = set(ROOT_ATTRS) | set(self._extra_attrs)
        elif key in GROUP_DESCRIPTIONS:
            reserved = {"description"}
            for name, value in attrs.items():
                if name not in reserved:
                    check_group_attr(key, name, value)
        else:
            key = get_table(key).path
            reserved = {"description", "columns"}
            raise ValueError(f"set_attrs({path!r}): tables carry no attributes of their own "
                             f"(declare a group attribute in simulator/trace/attributes.py)")
        clash = sorted(set(attrs) & reserved)
        if clash:
            raise ValueError(f"set_attrs({path!r}): attribute names {clash} are reserved")
        target = self._file[key]
        for name, value in attrs.items():
            try:
                target.attrs[name] = value
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"set_attrs({path!r}): attribute {name!r} = {value!r} cannot be stored "
                    f"in HDF5 ({exc})"
                ) from exc
        self._user_attrs.setdefault(key, {}).update(attrs)

    def flush(self) -> None:
        """Write every buffered row and flush the partial file to disk.

        Raises:
            RuntimeError: If the writer is closed.
        """
        if self._file is None:
            raise RuntimeError(f"trace {self.path}: flush after close")
        self._write_everything()
        self._file.attrs["wall_time_s"] = _wall_clock() - self._start
        self._file.flush()
        self._last_flush = time.monotonic()

    def close(self, status: str = "complete", error: str | None = None) -> None:
        """Finish the trace. Calling it again does nothing.

        ``"complete"`` writes the canonical file at ``path`` (atomically replacing an existing
        one) and removes the partial file; ``"partial"`` and ``"failed"`` keep
        ``<stem>.partial.h5`` with that status and the ``error`` text.

        Args:
            status: One of :data:`STATUSES`.
            error: Why the run stopped (recorded for ``partial``/``failed``).

        Raises:
            ValueError: If ``status`` is unknown.
        """
        if status not in STATUSES:
            raise ValueError(f"status {status!r}: expected one of {list(STATUSES)}")
        if self._file is None:
            return
        if status != "complete":
            self._finish_partial(status, error or f"run stopped with status {status}")
            return
        try:
            self.flush()
            self._root_attrs["wall_time_s"] = _wall_clock() - self._start
            self._root_attrs["status"] = "complete"
            self._file.close()
            self._file = None
            size = self.partial_path.stat().st_size
            self._check_space(size, f"the final copy of the trace ({size} bytes)")
            self._chunks.stop()
            self._write_canonical()
            self._complete = True
        except BaseException as exc:
            text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            interrupted = isinstance(exc, KeyboardInterrupt)
            with contextlib.suppress(Exception):
                self._finish_partial("partial" if interrupted else "failed",
                                     "interrupted while writing the final trace"
                                     if interrupted else f"could not complete trace: {text}")
            raise
        log.info("trace written to %s", self.path)

    def take_tables(self) -> dict[str, Mapping[str, np.ndarray]] | None:
        """The rows of the complete trace, kept in memory (see ``keep_bytes``), handed over once.

        Returns:
            ``{table: {column: array}}`` with the schema dtypes, exactly the data of the file
            (tables without rows left out; with ``keep_columns``, every table it names, with
            its kept columns only, rows or not), or None: nothing was kept (``keep_bytes`` 0 or
            exceeded), the trace is not complete, or the tables were already taken. A
            column kept in several blocks is joined when it is first read (a run's summary
            reads a few columns, never the position samples).
        """
        kept, self._kept = self._kept, None
        if kept is None or not self._complete:
            return None
        if self._keep_index is None:
            return {path: _JoinedColumns(get_table(path).column_names, blocks)
                    for path, blocks in kept.items()}
        out: dict[str, Mapping[str, np.ndarray]] = {}
        for path, index in self._keep_index.items():  # every kept table, rows or not
            spec = get_table(path)
            names = tuple(spec.column_names[k] for k in index)
            blocks = kept.get(path) or [[np.zeros(0, spec.columns[k].np_dtype) for k in index]]
            out[path] = _JoinedColumns(names, blocks)
        return out

    # -- internals -------------------------------------------------------------------------
    def _buffer_for(self, table: str) -> TableBuffer:
        spec = get_table(table)
        if spec.optional and spec.group not in self._groups:
            raise ValueError(f"append({table!r}): this trace has no {spec.group} group (pass "
                             f"groups=[{spec.group!r}] to the writer)")
        buf = self._buffers.get(spec.path)
        if buf is None:
            buf = self._buffers[spec.path] = TableBuffer(spec, self._drain_rows)
        self._buffers[table] = buf
        return buf

    @staticmethod
    def _with_defaults(table: Table, columns: Mapping[str, Any]) -> dict[str, Any]:
        """``columns`` plus the defaults of the optional columns it leaves out."""
        for name in columns:
            table.column(name)  # raises for an unknown column, with a suggestion
        missing = [c for c in table.columns if c.name not in columns]
        required = [c.name for c in missing if c.default is None]
        if required:
            raise ValueError(f"append({table.path!r}): missing columns {required}")
        return {**columns, **{c.name: c.default for c in missing}}

    def _check_space(self, n_bytes: int, what: str) -> None:
        """Raise ENOSPC before HDF5 writes ``n_bytes`` that the disk cannot hold."""
        free = disk_free_bytes(self.partial_path)
        if free < n_bytes + DISK_RESERVE_BYTES:
            raise OSError(errno.ENOSPC, f"disk full: {what} needs {n_bytes} bytes plus a "
                          f"{DISK_RESERVE_BYTES}-byte reserve, {free} bytes free",
                          str(self.partial_path.parent))

    def _drain(self, buf: TableBuffer) -> None:
        """Move a table's buffered rows into its stream: queue the chunks they complete,
        and (``buffer_rows`` below a chunk) the rest too. The table's rows are taken again
        as soon as they complete its next chunk, so that its chunks are encoded while the
        run goes on, not at its end."""
        assert self._file is not None
        arrays = buf.take()
        path = buf.table.path
        stream = self._streams.get(path)
        if stream is None:
            stream = self._streams[path] = TableStream(buf.table, self._columns[path])
        for k, n, columns in stream.cut(arrays):
            self._chunks.add(stream, k, n, columns)
        if self._buffer_rows < CHUNK_ROWS:
            self._queue_tail(stream)
        buf.drain_at = min(self._drain_rows, CHUNK_ROWS - stream.tail_rows)
        if self._kept is not None:
            if self._keep_index is not None:
                index = self._keep_index.get(path)
                arrays = [] if index is None else [arrays[k] for k in index]
            if arrays:
                self._kept_nbytes += sum(int(a.nbytes) for a in arrays)
                if self._kept_nbytes > self._keep_bytes:
                    self._kept = None  # too large to keep: the caller reads the file instead
                else:
                    self._kept.setdefault(path, []).append(arrays)

    def _queue_tail(self, stream: TableStream) -> None:
        tail = stream.take_tail()
        if tail is not None:
            self._chunks.add(stream, *tail)

    def _queue_everything(self, tolerant: bool = False) -> None:
        """Queue every buffered row and every table's tail. ``tolerant`` (a stopped run's
        last write): a table whose rows cannot be stored is dropped with a warning and the
        others go on, so that the status still gets recorded."""
        for buf in dict.fromkeys(self._buffers.values()):  # a table may have two keys
            if buf.n:
                rows = buf.n
                try:
                    self._drain(buf)
                except Exception as err:
                    if not tolerant:
                        raise
                    log.warning("trace %s: dropped %d buffered rows of %s: %s",
                                self.partial_path, rows, buf.table.path, err)
        for stream in self._streams.values():
            self._queue_tail(stream)

    def _write_everything(self) -> None:
        """Every buffered row into the file: buffers, tails and queued chunks."""
        self._queue_everything()
        self._chunks.write_all(self._write_chunk)

    def _write_chunk(self, job: ChunkJob, encoded: list[bytes] | None) -> None:
        """Write one chunk of a table, after checking that the disk has room for it."""
        need = (sum(len(b) for b in encoded) if encoded is not None
                else sum(int(c[:job.n].nbytes) for c in job.columns))
        self._check_space(need, f"{job.n} rows of {job.stream.table.path}")
        job.stream.write(job, encoded)

    def _finish_partial(self, status: str, error: str, tb_text: str | None = None) -> None:
        """Record a non-complete status in the partial file and close it."""
        open_file = self._file
        f = open_file if open_file is not None else h5py.File(self.partial_path, "r+")
        try:
            self._chunks.stop()  # chunks not yet encoded are encoded here
            if open_file is not None:  # else every row was written before the file closed
                self._write_what_can_be_written()
            if self._dropped:
                error += f" ({self._dropped} buffered rows could not be written)"
            f.attrs["status"] = status
            f.attrs["error"] = error
            if tb_text:
                f.attrs["traceback"] = tb_text
            f.attrs["wall_time_s"] = _wall_clock() - self._start
            f.flush()
        finally:
            self._file = None
            f.close()
        log.warning("trace left as %s (status %s: %s)", self.partial_path, status, error)

    def _write_what_can_be_written(self) -> None:
        """Write the buffered rows and queued chunks that can be stored, table by table and
        chunk by chunk: a row that cannot be stored (or a full disk) must not hide the
        status. Once a chunk of a table is lost, its later chunks are dropped too (rows after
        a hole would make the table unreadable; the chunks need not have failed in order,
        as the main thread encodes the newest ones when it would wait)."""
        self._queue_everything(tolerant=True)
        broken: dict[TableStream, Exception] = {}

        def write(job: ChunkJob, encoded: list[bytes] | None) -> None:
            if job.stream in broken:
                raise broken[job.stream]
            self._write_chunk(job, encoded)

        while self._chunks:
            try:
                self._chunks.write_all(write)
            except Exception as err:
                job = self._chunks.drop_front()
                broken.setdefault(job.stream, err)
                self._dropped += max(0, job.end - max(job.k * CHUNK_ROWS, job.stream.extent))
                log.warning("trace %s: dropped rows %d-%d of %s: %s", self.partial_path,
                            job.k * CHUNK_ROWS, job.end, job.stream.table.path, err)

    def _write_canonical(self) -> None:
        """Copy the partial file in schema order into ``path`` (atomic) and remove it."""
        tmp = self.path.with_name(self.path.stem + ".writing.h5")
        try:
            with h5py.File(self.partial_path, "r") as src, h5py.File(
                tmp, "w", track_order=True
            ) as dst:
                write_root_attrs(dst, {**self._root_attrs, **self._extra_attrs})
                dst.attrs.update(self._user_attrs.get("/", {}))
                # the partial file's groups and tables were made in schema order, with their
                # attributes (set_attrs writes there too): copy each top-level object whole,
                # in that order
                for name in src:
                    key = name.encode()
                    h5py.h5o.copy(src.id, key, dst.id, key)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self.partial_path.unlink()
