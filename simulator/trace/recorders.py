"""Recorders: where a running world writes its observations, row by row or block by block.

The world only knows :class:`Recorder` (one ``append`` per event, which may carry many rows).
Behind it sits the trace writer (:class:`~simulator.trace.writer.TraceWriter`), a
:class:`MemoryRecorder` for in-process runs and tests, and in front of either a
:class:`CoalescingRecorder` that turns the many one-row appends of the event loop into blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

__all__ = ["CoalescingRecorder", "MemoryRecorder", "Recorder", "row_sink", "rows_sink"]


class Recorder(Protocol):
    """Where the world writes its observations (one call may carry many rows)."""

    def append(self, table: str, **columns: Any) -> None: ...


def rows_sink(recorder: Recorder, table: str, names: Sequence[str]
              ) -> Callable[[Iterable[tuple[Any, ...]]], None]:
    """A function that records many rows of ``table``, each a tuple of values in the order of
    ``names``: :meth:`CoalescingRecorder.rows_sink` where the recorder is one, else one
    ``recorder.append`` of the columns."""
    if isinstance(recorder, CoalescingRecorder):
        return recorder.rows_sink(table, names)
    names = tuple(names)

    def sink(rows: Iterable[tuple[Any, ...]]) -> None:
        rows = list(rows)
        if rows:
            recorder.append(table, **{name: list(column) for name, column
                                      in zip(names, zip(*rows, strict=True), strict=True)})

    return sink


def row_sink(recorder: Recorder, table: str, names: Sequence[str]) -> Callable[..., None]:
    """A function that records one row of ``table`` given its values in the order of ``names``:
    :meth:`CoalescingRecorder.row_sink` where the recorder is one, else ``recorder.append``."""
    if isinstance(recorder, CoalescingRecorder):
        return recorder.row_sink(table, names)
    names = tuple(names)

    def sink(*values: Any) -> None:
        recorder.append(table, **dict(zip(names, values, strict=True)))

    return sink


@dataclass
class MemoryRecorder:
    """Keeps appended rows in memory, as ``{table: {column: array}}`` on :meth:`tables`."""

    _chunks: dict[str, dict[str, list[np.ndarray]]] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def append(self, table: str, **columns: Any) -> None:
        """Append one row (scalars) or a block (equal-length arrays) to ``table``."""
        store = self._chunks.setdefault(table, {})
        lengths = [len(v) for v in columns.values() if isinstance(v, _SEQUENCES) and np.ndim(v)]
        n = lengths[0] if lengths else 1
        for name, value in columns.items():
            arr = np.asarray(value)
            store.setdefault(name, []).append(arr if arr.ndim else np.full(n, arr))

    def set_attrs(self, path: str, **attrs: Any) -> None:
        """Keep group/table attributes as ``{path: {name: value}}``."""
        self.attrs.setdefault(path, {}).update(attrs)

    def tables(self) -> dict[str, dict[str, np.ndarray]]:
        """All tables with their columns concatenated."""
        return {
            t: {c: np.concatenate(v) for c, v in cols.items()} for t, cols in self._chunks.items()
        }


_SEQUENCES = (np.ndarray, list, tuple)
#: array dtypes that a block keeps when its values are listed and made an array again
_ROUND_TRIP_DTYPES = frozenset(np.dtype(t) for t in (np.float64, np.int64, np.bool_))


def _passes_as_is(columns: dict[str, Any], store: dict[str, list[Any]]) -> bool:
    """Whether a block may reach the target as the arrays it came in: every column of the
    table given as a 1-D array of a dtype that :meth:`CoalescingRecorder._pass_on`'s
    ``np.asarray`` of its values would give again (so the target sees the same arrays)."""
    return columns.keys() == store.keys() and all(
        type(v) is np.ndarray and v.ndim == 1 and v.dtype in _ROUND_TRIP_DTYPES
        for v in columns.values())
#: value types that are always one row's scalar (checked by exact type, before isinstance)
_SCALARS = frozenset({int, float, bool, str, np.float64, np.int64, np.bool_})


class CoalescingRecorder:
    """Collects many small appends per table and hands them to a recorder in blocks.

    The world appends a few rows per event (a coverage event, a request, a transfer); doing
    the dtype checks and array conversion once per block instead of once per call keeps the
    trace's cost per event small. One-row appends are kept as tuples and turned into columns
    when a block is passed on (or before a multi-row append, so rows keep their order). Rows
    are passed on every ``block_rows`` rows per table and on :meth:`flush`, so a crash loses
    at most one block per table beyond the writer's own buffer. A block of at least
    ``block_rows`` rows given as arrays (e.g. position samples) is passed on as it is, after
    the table's queued rows, instead of being listed and made an array again.

    Args:
        target: the recorder that receives the blocks (e.g. the trace writer).
        block_rows: rows per table collected before they are passed on.
    """

    def __init__(self, target: Recorder, block_rows: int = 4096) -> None:
        self.target = target
        self.block_rows = block_rows
        # per table: (column lists, pending one-row tuples in the column lists' order)
        self._tables: dict[str, tuple[dict[str, list[Any]], list[tuple[Any, ...]]]] = {}
        self._started: set[str] = set()  # tables that received a row

    def _entry(self, table: str, names: Any) -> tuple[dict[str, list[Any]], list[tuple[Any, ...]]]:
        entry = self._tables.get(table)
        if entry is None:
            entry = self._tables[table] = ({name: [] for name in names}, [])
        return entry

    def append(self, table: str, **columns: Any) -> None:
        """Queue one row (scalars) or a block (equal-length sequences) for ``table``."""
        store, pending = self._entry(table, columns)
        if table not in self._started:
            self._queued(table, 0)
        for value in columns.values():
            if type(value) in _SCALARS:  # exact types: the common case, one cheap test
                continue
            # a block: any list/tuple, or an array with at least one dimension
            if isinstance(value, list | tuple) or (isinstance(value, np.ndarray)
                                                   and value.ndim):
                n = len(value)
                break
        else:  # one row of scalars: the common case, kept cheap
            if len(columns) != len(store):
                raise ValueError(f"{table}: columns {list(columns)} differ from {list(store)}")
            pending.append(tuple([columns[name] for name in store]))
            if len(pending) >= self.block_rows:
                self._pass_on(table)
            return
        if n >= self.block_rows and _passes_as_is(columns, store):
            # a large block of arrays goes on as it is, after the rows queued before it
            self._pass_on(table)
            self.target.append(table, **columns)
            return
        self._settle(store, pending)
        for name, value in columns.items():
            if isinstance(value, np.ndarray) and value.ndim:
                store[name].extend(value.tolist())
            elif isinstance(value, list | tuple):
                store[name].extend(value)
            else:
                store[name].extend([value] * n)
        if len(next(iter(store.values()))) >= self.block_rows:
            self._pass_on(table)

    def row_sink(self, table: str, names: Sequence[str]) -> Callable[..., None]:
        """A function that queues one row of ``table``: its values, in the order of ``names``.

        The cheapest way to record from the event loop (one tuple per row, no keywords).

        Raises:
            ValueError: ``names`` are not the columns this table was first appended with.
        """
        pending = self._pending(table, names, "row_sink")
        add, block, queued = pending.append, self.block_rows, self._queued

        def sink(*values: Any) -> None:
            add(values)
            n = len(pending)
            if n == 1 or n >= block:
                queued(table, n)

        return sink

    def rows_sink(self, table: str, names: Sequence[str]
                  ) -> Callable[[Iterable[tuple[Any, ...]]], None]:
        """A function that queues many rows of ``table``, each a tuple of values in the order
        of ``names`` (e.g. ``zip`` of the columns).

        Raises:
            ValueError: ``names`` are not the columns this table was first appended with.
        """
        pending = self._pending(table, names, "rows_sink")
        extend, block, queued = pending.extend, self.block_rows, self._queued

        def sink(rows: Iterable[tuple[Any, ...]]) -> None:
            before = len(pending)
            extend(rows)
            n = len(pending)
            if (not before and n) or n >= block:
                queued(table, n)

        return sink

    def _pending(self, table: str, names: Sequence[str], caller: str) -> list[tuple[Any, ...]]:
        """The queue of one-row tuples of ``table``, whose columns must be ``names``."""
        store, pending = self._entry(table, names)
        if list(store) != list(names):
            raise ValueError(f"{caller}({table!r}): columns {list(names)} differ from the "
                             f"table's {list(store)}")
        return pending

    def _queued(self, table: str, n: int) -> None:
        """Rows were queued for ``table`` (``n`` pending now): note its first row, pass a full
        block on."""
        if table not in self._started:
            # tables reach the target in the order of their first rows, not of their sinks
            # (which the world creates up front): the entity tables are written first
            self._started.add(table)
            self._tables[table] = self._tables.pop(table)
        if n >= self.block_rows:
            self._pass_on(table)

    @staticmethod
    def _settle(store: dict[str, list[Any]], pending: list[tuple[Any, ...]]) -> None:
        """Move the pending one-row tuples into the column lists (in order)."""
        if pending:
            for column, values in zip(store.values(), zip(*pending, strict=True), strict=True):
                column.extend(values)
            pending.clear()

    def _pass_on(self, table: str) -> None:
        store, pending = self._tables[table]
        self._settle(store, pending)
        if next(iter(store.values()), None):
            self.target.append(table, **{k: np.asarray(v) for k, v in store.items()})
            for v in store.values():
                v.clear()

    def flush(self) -> None:
        """Pass every queued row on to the target recorder."""
        for table in self._tables:
            self._pass_on(table)

    def set_attrs(self, path: str, **attrs: Any) -> None:
        """Group attributes go straight to the target."""
        self.flush()
        self.target.set_attrs(path, **attrs)  # type: ignore[attr-defined]
