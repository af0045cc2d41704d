"""Read uavtwin traces back as NumPy columns.

The reader is the trace's gatekeeper for everything downstream (``uavtwin inspect``,
``uavtwin report``, the analysis loaders): it refuses files that are missing, are not HDF5,
are HDF5 but not uavtwin traces, or were written by a newer schema version, each with one
line a user can act on. It then serves tables as ``{column: ndarray}`` dicts. It is pure
h5py + NumPy; turning columns into pandas frames is the analysis layer's job.

Partial traces (runs that crashed or are still running) are readable too: a table missing
from such a file reads as zero rows, and a table whose columns were cut at different lengths
by a crash is truncated to its shortest column (with a :class:`PartialTraceWarning`). In a
trace marked ``complete`` a missing table or column is an error instead.

This is the one reader: ``uavtwin inspect``, the run summary, ``analysis.open_trace`` and the
paper figures all read through it, so the version check, the handling of missing and ragged
columns and the conversion of attributes to plain Python values are the same everywhere.

Nothing in the file is trusted: on opening, its layout is checked against the schema
(:func:`simulator.trace.validate.structure_problem`: status, required tables, shapes,
dtypes, links, unwritten chunks), every table read has its ids checked against the lookup
tables, and HDF5 errors from a corrupt file become one :class:`TraceError` line.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import h5py
import numpy as np

from simulator.errors import TraceError
from simulator.trace.schema import SCHEMA_VERSION, TABLES, Table, get_table
from simulator.trace.validate import id_problem, structure_problem

__all__ = ["PartialTraceWarning", "TraceReader", "complete_trace_problem", "file_stamp", "one_line",
           "plain"]


class PartialTraceWarning(UserWarning):
    """The trace belongs to a run that did not finish; tables hold the rows flushed so far."""


def one_line(text: object) -> str:
    """``text`` with every run of whitespace (newlines included) collapsed to one space."""
    return " ".join(str(text).split())


def plain(value: Any) -> Any:
    """Attribute value as plain Python: bytes -> str, NumPy scalars -> int/float/bool."""
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.dtype.kind in "OS":
        return [plain(v) for v in value.tolist()]
    return value


def file_stamp(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """``(inode, size, mtime ns)`` of a file, None if it cannot be stat'ed: a file rewritten
    in place or replaced by a rename gets another stamp."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _leftover_text(path: Path) -> str:
    stem = path.name.removesuffix(".writing.h5")
    return (f"{path}: the unfinished final copy of a run stopped while writing {stem}.h5 "
            f"(killed during the copy); its data is in {stem}.partial.h5, and this file can "
            "be deleted")


class TraceReader:
    """Open a trace for reading; use as a context manager (or call :meth:`close`).

    Attributes:
        path: The trace file.
        attrs: Root attributes as plain Python values (``status``, ``seed``, ...).
    """

    def __init__(self, path: str | os.PathLike[str], *, check_structure: bool = True) -> None:
        """Open and validate ``path``.

        Args:
            path: A ``.h5`` trace (complete or ``.partial.h5``).
            check_structure: check every table against the schema
                (:func:`~simulator.trace.validate.structure_problem`); False only for a file
                the caller has already checked and that has not changed since (same
                :func:`file_stamp`).

        Raises:
            TraceError: Missing file, not an HDF5 file, not a uavtwin trace, or a schema
                version newer than :data:`~simulator.trace.schema.SCHEMA_VERSION`.
        """
        self.path = Path(path)
        if not self.path.is_file():
            raise TraceError(f"{self.path}: no such trace file")
        leftover = self.path.name.endswith(".writing.h5")
        try:
            # locking=False lets `uavtwin inspect` look at the partial file of a live run.
            self._file: h5py.File | None = h5py.File(self.path, "r", locking=False)
        except OSError as exc:
            if leftover:
                raise TraceError(_leftover_text(self.path)) from None
            raise TraceError(f"{self.path}: not an HDF5 file, or a corrupt one "
                             f"({one_line(exc)})") from None
        try:
            self.attrs: dict[str, Any] = {k: plain(v) for k, v in self._file.attrs.items()}
            version = self.attrs.get("schema_version")
            if version is None:
                raise TraceError(
                    f"{self.path}: not a uavtwin trace (no schema_version attribute)"
                )
            if not isinstance(version, int) or isinstance(version, bool) or version < 1:
                raise TraceError(f"{self.path}: invalid schema_version {version!r}")
            if version > SCHEMA_VERSION:
                raise TraceError(
                    f"{self.path}: trace schema version {version} is newer than this uavtwin "
                    f"supports ({SCHEMA_VERSION}); upgrade uavtwin to read it"
                )
            problem = structure_problem(self._file) if check_structure else None
            if problem:
                raise TraceError(f"{self.path}: not a valid uavtwin trace: {problem}")
            if leftover:
                raise TraceError(_leftover_text(self.path))
            self._lookup_rows = {t: self.n_rows(t) for t in ("/uavs", "/rsus", "/sensing/vsps")}
        except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
            self._file.close()
            raise TraceError(f"{self.path}: corrupt HDF5 file ({one_line(exc)[:200]})") from None
        except BaseException:
            self._file.close()
            raise

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> TraceReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- metadata --------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """``complete``, ``partial`` or ``failed`` (``unknown`` if the attribute is absent)."""
        return str(self.attrs.get("status", "unknown"))

    @property
    def schema_version(self) -> int:
        """The file's schema version."""
        return int(self.attrs["schema_version"])

    def tables(self) -> list[str]:
        """Paths of the schema tables present in the file, in schema order.

        Returns:
            Table paths such as ``"/migration/transfers"``.
        """
        f = self._open()
        return [t.path for t in TABLES if t.path in f and isinstance(f[t.path], h5py.Group)]

    def columns(self, table: str) -> list[tuple[str, str, str]]:
        """Describe a table's columns as stored in the file.

        Args:
            table: Table path.

        Returns:
            ``(name, unit, description)`` per column, in the table's column order.

        Raises:
            TraceError: Unknown table.
        """
        spec = self._spec(table)
        group = self._group(spec)
        out = []
        for col in spec.columns:
            if group is not None and col.name in group:
                a = group[col.name].attrs
                out.append((col.name, str(plain(a.get("unit", ""))),
                            str(plain(a.get("description", "")))))
            else:
                out.append((col.name, col.unit, col.description))
        return out

    def group_attrs(self, path: str) -> dict[str, Any]:
        """Attributes of any group (root, subsystem or table) as plain Python values.

        Args:
            path: Group path, e.g. ``"/sensing/state"``.

        Returns:
            Attribute dict (empty if the group is absent).
        """
        f = self._open()
        if path not in f:
            return {}
        return {k: plain(v) for k, v in f[path].attrs.items()}

    # -- data ------------------------------------------------------------------------------
    def n_rows(self, table: str) -> int:
        """Number of rows of a table, from dataset shapes only (no data is read).

        Args:
            table: Table path.

        Returns:
            The row count: 0 if the table is absent from a partial file; the shortest column
            if a crash left the columns of unequal length (with a :class:`PartialTraceWarning`).

        Raises:
            TraceError: Unknown table, or a table or column missing from a complete trace.
        """
        spec = self._spec(table)
        f = self._open()
        group = self._group(spec)
        if group is None:
            # an optional group (e.g. /faults) is absent from runs that did not use it
            if self.status == "complete" and not (spec.optional and spec.group not in f):
                raise TraceError(f"{self.path}: table {spec.path} is missing from a complete "
                                 f"trace")
            return 0
        found = [(c, group.get(c.name)) for c in spec.columns]  # one lookup per column
        absent = [c.name for c, obj in found  # a later-added column may be absent
                  if not isinstance(obj, h5py.Dataset) and c.default is None]
        if absent:
            if self.status == "complete":
                raise TraceError(f"{self.path}: {spec.path} is missing column(s) "
                                 f"{', '.join(absent)}")
            return 0
        lengths = [obj.shape[0] for _, obj in found if obj is not None]
        if len(set(lengths)) > 1:
            warnings.warn(
                f"{self.path}: {spec.path} has columns of unequal length "
                f"{sorted(set(lengths))}; truncated to {min(lengths)} rows (the run was cut "
                f"off mid-write)", PartialTraceWarning, stacklevel=3)
        return min(lengths)

    def read(self, table: str, columns: list[str] | None = None, *, start: int = 0,
             stop: int | None = None) -> dict[str, np.ndarray]:
        """Read a table (or the rows ``start:stop`` of it) as one NumPy array per column,
        with the schema's dtypes.

        Args:
            table: Table path (leading ``/`` optional).
            columns: Subset of columns to read (default: all, in schema order).
            start: First row to read (>= 0).
            stop: One past the last row (default and upper bound: :meth:`n_rows`), so a
                long table can be read in bounded chunks.

        Returns:
            ``{column name: 1-D array}``, all of length ``min(stop, n_rows) - start``
            (:meth:`n_rows` by default).

        Raises:
            TraceError: Unknown table or column, or a column that cannot be read.
        """
        spec = self._spec(table)
        names = list(spec.column_names) if columns is None else list(columns)
        cols = []
        for name in names:
            try:
                cols.append(spec.column(name))
            except ValueError as exc:
                raise TraceError(f"{self.path}: {exc}") from None
        if start < 0 or (stop is not None and stop < start):
            raise ValueError(f"rows {start}:{stop}: expected 0 <= start <= stop")
        n = self.n_rows(spec.path) if stop is None else min(stop, self.n_rows(spec.path))
        start = min(start, n)
        group = self._group(spec)
        out = {}
        for col in cols:
            if n == start or group is None:
                out[col.name] = np.zeros(0, dtype=col.np_dtype)
                continue
            if col.name not in group:  # a later-added column, absent from an older trace
                out[col.name] = np.full(n - start, col.default, dtype=col.np_dtype)
                continue
            try:
                out[col.name] = np.asarray(group[col.name][start:n], dtype=col.np_dtype)
            except (OSError, RuntimeError, KeyError, ValueError, TypeError) as exc:
                raise TraceError(f"{self.path}: cannot read {spec.path}/{col.name}, corrupt "
                                 f"data ({one_line(exc)[:200]})") from None
        problem = id_problem(spec, out, self._lookup_rows, start)
        if problem:
            raise TraceError(f"{self.path}: not a valid uavtwin trace: {problem}")
        return out

    # -- internals -------------------------------------------------------------------------
    def _open(self) -> h5py.File:
        if self._file is None:
            raise TraceError(f"{self.path}: trace reader is closed")
        return self._file

    def _spec(self, table: str) -> Table:
        try:
            return get_table(table)
        except ValueError as exc:
            raise TraceError(f"{self.path}: {exc}") from None

    def _group(self, spec: Table) -> h5py.Group | None:
        f = self._open()
        obj = f.get(spec.path)
        return obj if isinstance(obj, h5py.Group) else None


def complete_trace_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is not a complete, well-formed trace (None if it is one).

    Used by ``uavtwin sweep --resume`` before skipping a run: the file must open, pass the
    structure check, be marked ``complete`` and have every table readable with valid ids.

    Args:
        path: The trace file.

    Returns:
        One line naming the problem, or None.
    """
    try:
        with TraceReader(path) as tr:
            if tr.status != "complete":
                return f"{path}: status is {tr.status}, not complete"
            for table in tr.tables():
                tr.read(table)
    except TraceError as err:
        return str(err)
    return None
