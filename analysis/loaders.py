"""Open a uavtwin trace as pandas tables, lazily, with units and enum labels attached.

A trace (see docs/trace-format.md) is a small column store in HDF5: each table is a group of
equal-length 1-D datasets. :func:`open_trace` checks that a file is a trace this version can
read and returns a :class:`Trace`, which turns a table into a :class:`pandas.DataFrame` only
when it is asked for (and caches the columns it read), so looking at the RSU list of a
multi-gigabyte run costs nothing. Frames keep the schema dtypes; enum columns (coverage
``kind``, request ``outcome``, round ``solver``, VSP ``role``) become categoricals with the
schema labels; ``df.attrs`` carries ``units`` and ``descriptions`` (column -> text), the table
``path`` and its ``description``. With ``names=True`` every id column (``uav_id``,
``src_rsu_id`` ...) gets a label column beside it (``uav`` = ``"UAV 7"``, ``src_rsu`` =
``"RSU 3"``), convenient for plots and group-bys.

Files are read through the one trace reader (:class:`simulator.trace.reader.TraceReader`),
never with h5py directly, so the version check and the handling of missing or ragged columns
are the simulator's own; nothing of the simulator's engine is imported, so analysis runs
wherever the trace file is.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import TraceError
from simulator.trace.reader import PartialTraceWarning, TraceReader, file_stamp, one_line
from simulator.trace.schema import TABLES, Table, get_table

__all__ = ["ACCESSORS", "MemoryTables", "Trace", "accessor_name", "open_trace", "schema_frame"]

_ID_LABELS: Mapping[str, tuple[str, str]] = {
    # id column -> (label column, lookup table whose size fixes the categories)
    "uav_id": ("uav", "/uavs"),
    "rsu_id": ("rsu", "/rsus"),
    "src_rsu_id": ("src_rsu", "/rsus"),
    "dst_rsu_id": ("dst_rsu", "/rsus"),
    "vsp_id": ("vsp", "/sensing/vsps"),
}
_LABEL_PREFIX = {"/uavs": "UAV", "/rsus": "RSU", "/sensing/vsps": "VSP"}


def accessor_name(table: str) -> str:
    """Attribute name of a table (``"/migration/transfers"`` -> ``"migration_transfers"``).

    Args:
        table: Table path.

    Returns:
        The path without its leading ``/``, with ``/`` replaced by ``_``.
    """
    return table.strip("/").replace("/", "_")


ACCESSORS: Mapping[str, str] = {accessor_name(t.path): t.path for t in TABLES}
"""Attribute name -> table path (``trace.pricing_offers`` is ``trace.table("/pricing/offers")``)."""


def _yaml_field(text: str, section: str, key: str) -> str | None:
    """``section.key`` of a block-style YAML mapping, by a line scan (no YAML dependency)."""
    in_section = False
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            in_section = line.split("#", 1)[0].strip() == f"{section}:"
            continue
        if in_section:
            m = re.match(rf"\s+{re.escape(key)}:\s*(.*)$", line)
            if m:
                value = m.group(1).split(" #", 1)[0].strip().strip("'\"")
                return value or None
    return None


class Trace:
    """A trace opened for analysis; tables are read on first use and cached.

    Access a table as ``trace.table("/migration/transfers")``, ``trace["migration/transfers"]``
    or ``trace.migration_transfers`` (see :data:`ACCESSORS`). The file is opened only for the
    duration of each read, so a :class:`Trace` holds no file handle and may outlive the file
    being rewritten; :meth:`held_open` keeps it open across a block of reads.

    Attributes:
        path: The trace file.
        attrs: Root attributes as plain Python values (``status``, ``seed``, ...).
        names: Default of ``names`` in :meth:`table`.
    """

    def __init__(self, path: str | os.PathLike[str], *, names: bool = False,
                 allow_failed: bool = False) -> None:
        """Open ``path`` and check it is a readable uavtwin trace. See :func:`open_trace`."""
        self.path = Path(path)
        self.names = bool(names)
        self._cache: dict[str, dict[str, np.ndarray]] = {}
        self._n_rows: dict[str, int] = {}
        self._checked = file_stamp(self.path)
        self._held: TraceReader | None = None
        with TraceReader(self.path) as reader:
            self.attrs: dict[str, Any] = dict(reader.attrs)
        status = self.status
        if status == "failed" and not allow_failed:
            error = one_line(self.attrs.get("error", "")) or "no error text recorded"
            raise TraceError(f"{self.path}: the run failed: {error}")
        if status == "partial":
            why = one_line(self.attrs.get("error", "")) or "killed or still running"
            warnings.warn(
                f"{self.path}: partial trace ({why}); tables hold the rows flushed so far",
                PartialTraceWarning, stacklevel=3,
            )

    # -- metadata --------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Trace({str(self.path)!r}, status={self.status!r})"

    @property
    def status(self) -> str:
        """``complete``, ``partial`` or ``failed`` (``unknown`` if absent)."""
        return str(self.attrs.get("status", "unknown"))

    @property
    def schema_version(self) -> int:
        """The file's schema version."""
        return int(self.attrs["schema_version"])

    @property
    def scenario_yaml(self) -> str:
        """The resolved scenario stored in the trace (empty string if absent)."""
        return str(self.attrs.get("scenario_yaml", ""))

    @property
    def scenario_name(self) -> str | None:
        """``simulation.name`` of the stored scenario, if present."""
        return _yaml_field(self.scenario_yaml, "simulation", "name")

    @property
    def duration_s(self) -> float | None:
        """``simulation.duration_s`` of the stored scenario (simulated seconds), if present."""
        value = _yaml_field(self.scenario_yaml, "simulation", "duration_s")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None

    @property
    def cached_tables(self) -> list[str]:
        """Paths of the tables read so far (in schema order)."""
        return [t.path for t in TABLES if t.path in self._cache]

    def tables(self) -> list[str]:
        """Paths of the schema tables present in the file, in schema order.

        Returns:
            Table paths such as ``"/migration/transfers"``.
        """
        with self._open() as reader:
            return reader.tables()

    def n_rows(self, table: str) -> int:
        """Row count of a table, from dataset shapes only (no data is read).

        Args:
            table: Table path (leading ``/`` optional) or accessor name.

        Returns:
            The number of rows (0 if the table is absent from a partial file).

        Raises:
            TraceError: Unknown table, or a column missing from a complete trace.
        """
        spec = self._spec(table)
        if spec.path not in self._n_rows:
            with self._open() as reader:
                self._n_rows[spec.path] = reader.n_rows(spec.path)
        return self._n_rows[spec.path]

    def units(self, table: str) -> dict[str, str]:
        """Column -> unit of a table (from the schema)."""
        return {c.name: c.unit for c in self._spec(table).columns}

    # -- data ------------------------------------------------------------------------------
    def table(self, table: str, columns: Iterable[str] | None = None, *,
              names: bool | None = None) -> pd.DataFrame:
        """One table as a DataFrame.

        Args:
            table: Table path (``"/pricing/offers"``, leading ``/`` optional) or accessor name
                (``"pricing_offers"``).
            columns: Columns to read (default: all, in schema order). Only these datasets are
                read from the file.
            names: Add a label column next to each id column (``uav_id`` -> ``uav`` with
                values ``"UAV 7"``); default: the ``names`` given to :func:`open_trace`.

        Returns:
            The table with schema dtypes, enum columns as categoricals; ``df.attrs`` holds
            ``path``, ``description``, ``units`` and ``descriptions``.

        Raises:
            TraceError: Unknown table or column, or a column that cannot be read.
        """
        spec, wanted = self._columns(table, columns)
        df = schema_frame(spec, self.arrays(spec.path, wanted), wanted)
        if names if names is not None else self.names:
            df = self._add_labels(df)
        return df

    def arrays(self, table: str, columns: Iterable[str] | None = None
               ) -> dict[str, np.ndarray]:
        """Columns of one table as stored: one NumPy array per column, in the schema's dtypes
        (enum columns as their integer codes), read on first use and cached like
        :meth:`table`'s.

        Args:
            table: Table path or accessor name.
            columns: Columns to read (default: all, in schema order).

        Returns:
            ``{column: array}`` in the order asked; the arrays are the cache's and read-only
            (copy one to change it).

        Raises:
            TraceError: Unknown table or column, or a column that cannot be read.
        """
        spec, wanted = self._columns(table, columns)
        cached = self._cache.setdefault(spec.path, {})
        missing = [c for c in wanted if c not in cached]
        if missing:
            for name, values in self._read(spec, missing).items():
                values.flags.writeable = False  # the cache's own: later reads serve it too
                cached[name] = values
        return {c: cached[c] for c in wanted}

    def chunks(self, table: str, columns: Iterable[str], rows: int) -> Iterator[pd.DataFrame]:
        """A table in consecutive slices of at most ``rows`` rows, read one at a time.

        Unlike :meth:`table` nothing is cached, so summing over a table of millions of rows
        holds one slice at a time (columns already cached are sliced from the cache).

        Args:
            table: Table path or accessor name.
            columns: Columns to read.
            rows: Rows per slice (>= 1).

        Yields:
            Frames as :meth:`table` returns them (no label columns), covering the table's
            rows in order; none for an empty table.

        Raises:
            TraceError: Unknown table or column, or a column that cannot be read.
        """
        spec, wanted = self._columns(table, columns)
        cached = self._cache.get(spec.path, {})
        n = self.n_rows(spec.path)
        if all(c in cached for c in wanted):
            for start in range(0, n, rows):
                yield schema_frame(spec, {c: cached[c][start:start + rows] for c in wanted},
                                   wanted)
            return
        for start in range(0, n, rows):
            with self._open() as reader:
                data = reader.read(spec.path, wanted, start=start, stop=start + rows)
            yield schema_frame(spec, data, wanted)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.table(table)

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_") or name not in ACCESSORS:
            raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")
        return self.table(ACCESSORS[name])

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(ACCESSORS))

    @contextlib.contextmanager
    def held_open(self) -> Iterator[Trace]:
        """Keep the file open for the reads inside the ``with`` block, which otherwise open
        it once each (a run summary reads some 30 slices; opening the file costs more than
        reading a slice). The file must not be rewritten inside the block.

        Yields:
            This trace.
        """
        if self._held is not None:  # nested: the outer block holds it
            yield self
            return
        self._held = self._reader()
        try:
            yield self
        finally:
            held, self._held = self._held, None
            held.close()

    # -- internals -------------------------------------------------------------------------
    def _open(self) -> contextlib.AbstractContextManager[TraceReader]:
        """Open for one read (or lend the reader :meth:`held_open` holds); the structure is
        checked again only if the file changed since it was last checked (a report reads a
        trace a dozen times)."""
        if self._held is not None:
            return contextlib.nullcontext(self._held)
        return self._reader()

    def _reader(self) -> TraceReader:
        stamp = file_stamp(self.path)
        reader = TraceReader(self.path, check_structure=stamp is None or stamp != self._checked)
        self._checked = stamp
        return reader

    def _columns(self, table: str, columns: Iterable[str] | None) -> tuple[Table, list[str]]:
        """The table's schema and the checked column names (all of them for None)."""
        spec = self._spec(table)
        wanted = list(spec.column_names) if columns is None else list(columns)
        for name in wanted:
            try:
                spec.column(name)
            except ValueError as exc:
                raise TraceError(f"{self.path}: {exc}") from None
        return spec, wanted

    def _spec(self, table: str) -> Table:
        try:
            return get_table(ACCESSORS.get(table, table))
        except ValueError as exc:
            raise TraceError(f"{self.path}: {exc}") from None

    def _read(self, spec: Table, names: list[str]) -> dict[str, np.ndarray]:
        with self._open() as reader:
            data = reader.read(spec.path, names)
        self._n_rows[spec.path] = len(next(iter(data.values()))) if data else 0
        return data

    def _add_labels(self, df: pd.DataFrame) -> pd.DataFrame:
        for id_col, (label_col, lookup) in _ID_LABELS.items():
            if id_col not in df.columns or label_col in df.columns:
                continue
            ids = df[id_col].to_numpy(dtype=np.int64)
            size = max(self.n_rows(lookup), int(ids.max()) + 1 if ids.size else 0)
            categories = [f"{_LABEL_PREFIX[lookup]} {k}" for k in range(size)]
            codes = np.where(ids >= 0, ids, -1)
            labels = pd.Categorical.from_codes(codes, categories=categories)
            df.insert(int(df.columns.get_loc(id_col)) + 1, label_col, labels)
        return df


def schema_frame(spec: Table, data: Mapping[str, np.ndarray], wanted: list[str]) -> pd.DataFrame:
    """Columns of one table as a frame: schema dtypes, enum columns as categoricals, and
    ``attrs`` with the table's ``path``, ``description``, ``units`` and ``descriptions``."""
    frame = {}
    for name in wanted:
        col = spec.column(name)
        values = np.asarray(data[name], dtype=col.np_dtype)
        frame[name] = _categorical(values, col.codes) if col.codes is not None else values
    df = pd.DataFrame(frame, columns=wanted)
    df.attrs["path"] = spec.path
    df.attrs["description"] = spec.description
    df.attrs["units"] = {c: spec.column(c).unit for c in wanted}
    df.attrs["descriptions"] = {c: spec.column(c).description for c in wanted}
    return df


class MemoryTables:
    """The tables of a run kept in memory (``{table: {column: array}}``), served like a
    :class:`Trace`: :meth:`table` returns the same frames, absent tables have zero rows.

    Args:
        tables: The columns, per table path.
        rest: Where the columns that ``tables`` does not hold are read from (a trace of the
            same run, opened on first use), for tables that hold only some of their columns
            (``TraceWriter(keep_columns=...)``; a table absent from ``tables`` is read
            there whole). None: every table is held whole, and an absent one has no rows.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, np.ndarray]],
                 rest: Callable[[], Trace] | None = None) -> None:
        self._tables = tables
        self._rest = rest
        self._rest_trace: Trace | None = None

    def n_rows(self, table: str) -> int:
        """Rows of a table (0 if the run wrote none)."""
        path = get_table(ACCESSORS.get(table, table)).path
        cols = self._tables.get(path)
        if cols is None and self._rest is not None:
            return self._other().n_rows(path)
        return len(next(iter(cols.values()))) if cols else 0

    def table(self, table: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """One table as a frame (see :meth:`Trace.table`)."""
        spec = get_table(ACCESSORS.get(table, table))
        wanted = list(spec.column_names) if columns is None else list(columns)
        stored = self._tables.get(spec.path, {})
        other = self._not_held(stored, wanted)
        if other:
            stored = {**stored, **self._other().arrays(spec.path, other)}
        data = {c: stored.get(c, np.zeros(0, dtype=spec.column(c).np_dtype)) for c in wanted}
        return schema_frame(spec, data, wanted)

    def chunks(self, table: str, columns: Iterable[str], rows: int) -> Iterator[pd.DataFrame]:
        """A table in consecutive slices of at most ``rows`` rows (see :meth:`Trace.chunks`)."""
        spec = get_table(ACCESSORS.get(table, table))
        wanted = list(columns)
        if self._not_held(self._tables.get(spec.path, {}), wanted):
            yield from self._other().chunks(spec.path, wanted, rows)
            return
        whole = self.table(spec.path, wanted)
        for start in range(0, len(whole), rows):
            yield whole.iloc[start:start + rows]

    def _not_held(self, stored: Mapping[str, np.ndarray], wanted: list[str]) -> list[str]:
        """The wanted columns to read from ``rest`` (none without it: they have no rows)."""
        return [] if self._rest is None else [c for c in wanted if c not in stored]

    def _other(self) -> Trace:
        if self._rest_trace is None:
            assert self._rest is not None
            self._rest_trace = self._rest()
        return self._rest_trace


def _categorical(values: np.ndarray, codes: Mapping[int, str]) -> pd.Categorical:
    """Enum codes -> categorical with the schema labels (unknown codes become NaN)."""
    keys = np.array(list(codes), dtype=np.int64)
    lut = np.full(int(keys.max()) + 1, -1, dtype=np.int64)
    lut[keys] = np.arange(len(keys))
    v = values.astype(np.int64)
    inside = (v >= 0) & (v < len(lut))
    idx = np.where(inside, lut[np.clip(v, 0, len(lut) - 1)], -1)
    return pd.Categorical.from_codes(idx, categories=list(codes.values()))


def open_trace(path: str | os.PathLike[str], *, names: bool = False,
               allow_failed: bool = False) -> Trace:
    """Open a uavtwin trace for analysis.

    Args:
        path: A trace file (``NAME.h5``, or ``NAME.partial.h5`` of an unfinished run).
        names: Add ``"UAV 7"``/``"RSU 3"``/``"VSP 1"`` label columns next to id columns in
            every table returned (can be overridden per :meth:`Trace.table` call).
        allow_failed: Open the trace of a failed run anyway (its rows up to the failure).

    Returns:
        A :class:`Trace`; no table data has been read yet.

    Raises:
        TraceError: Missing file, not HDF5, not a uavtwin trace, a newer schema version, or
            a failed run (the message carries the run's error text) unless ``allow_failed``.

    Warns:
        PartialTraceWarning: The run did not finish; tables hold the rows flushed so far.
    """
    return Trace(path, names=names, allow_failed=allow_failed)
