"""Row buffering and on-disk layout of uavtwin traces.

A simulation appends rows one event at a time, but HDF5 is fast only when written in blocks.
A :class:`TableBuffer` holds one table's pending rows cheaply: plain scalar rows go into a
list of tuples (amortised O(1) per row), array appends are cast to the schema dtype at once
and kept as column blocks; :meth:`TableBuffer.take` turns everything into one array per
column for a single resize-and-write. :func:`_cast` is the one dtype gate: floats never go
into integer or boolean columns, and integers must fit the column's range.

The layout helpers create every subsystem group and every table up front as empty,
extendable, chunked column datasets (so even a crashed run's file holds every table) and
attach the schema's descriptions, units and enum codes as attributes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import h5py
import numpy as np

from simulator.trace.schema import GROUP_DESCRIPTIONS, OPTIONAL_GROUPS, TABLES, Column, Table

__all__ = ["CHUNK_ROWS"]

CHUNK_ROWS = 8192
"""Rows per HDF5 chunk of every column dataset (64 KiB for float64 before compression)."""

# Source dtype kinds that may be stored in a column of each target kind (ints range-checked).
_KINDS_OK = {"f": "biuf", "i": "biu", "u": "biu", "b": "b"}
_INT_TYPES = (int, bool, np.bool_, np.int8, np.int16, np.int32, np.int64,
              np.uint8, np.uint16, np.uint32, np.uint64)
_SCALAR_TYPES = {
    "f": frozenset((float, np.float16, np.float32, np.float64, *_INT_TYPES)),
    "i": frozenset(_INT_TYPES),
    "u": frozenset(_INT_TYPES),
    "b": frozenset((bool, np.bool_)),
}


def _cast(values: np.ndarray, table: Table, col: Column, copy: bool = True) -> np.ndarray:
    """Convert ``values`` to the column dtype, refusing lossy kinds and out-of-range ints
    (a copy unless ``copy`` is False: ``values`` is a new array of the buffer's own)."""
    target = col.np_dtype
    if values.dtype.kind not in _KINDS_OK[target.kind]:
        raise ValueError(
            f"{table.path}/{col.name}: cannot store values of dtype {values.dtype} "
            f"in a {target} column (e.g. {values.reshape(-1)[:1].tolist()})"
        )
    if target.kind in "iu" and values.dtype != target and values.size:
        info = np.iinfo(target)
        lo, hi = values.min(), values.max()
        if lo < info.min or hi > info.max:
            bad = lo if lo < info.min else hi
            raise ValueError(
                f"{table.path}/{col.name}: value {bad} out of range for {target}"
            )
    return values.astype(target, copy=copy)


class TableBuffer:
    """Rows of one table waiting to be written: a list of row-lists and column blocks."""

    __slots__ = ("table", "names", "name_set", "scalar_types", "blocks", "open_rows", "n",
                 "drain_at")

    def __init__(self, table: Table, drain_at: int = CHUNK_ROWS) -> None:
        self.table = table
        self.drain_at = drain_at  # the writer takes the rows once this many wait
        self.names = table.column_names
        self.name_set = frozenset(self.names)
        self.scalar_types = tuple(_SCALAR_TYPES[c.np_dtype.kind] for c in table.columns)
        self.blocks: list[list[tuple[Any, ...]] | tuple[np.ndarray, ...]] = []
        self.open_rows: list[tuple[Any, ...]] | None = None
        self.n = 0

    def add_row(self, row: tuple[Any, ...]) -> None:
        if self.open_rows is None:
            self.open_rows = []
            self.blocks.append(self.open_rows)
        self.open_rows.append(row)
        self.n += 1

    def add_columns(self, values: list[Any]) -> int:
        arrays = [np.asarray(v) for v in values]
        lengths = {a.shape[0] for a in arrays if a.ndim == 1}
        for a, name in zip(arrays, self.names, strict=True):
            if a.ndim > 1:
                raise ValueError(
                    f"{self.table.path}/{name}: expected a scalar or 1-D array, "
                    f"got shape {a.shape}"
                )
        if len(lengths) > 1:
            shapes = ", ".join(f"{n}={len(a)}" for n, a in zip(self.names, arrays, strict=True)
                               if a.ndim == 1)
            raise ValueError(f"{self.table.path}: columns have different lengths ({shapes})")
        n = lengths.pop() if lengths else 1
        block = []
        for a, col in zip(arrays, self.table.columns, strict=True):
            cast = _cast(a.reshape(-1), self.table, col)
            block.append(cast if a.ndim == 1 else np.repeat(cast, n))
        if n:
            self.open_rows = None
            self.blocks.append(tuple(block))
            self.n += n
        return n

    def take(self) -> list[np.ndarray]:
        """Return the buffered rows as one array per column and empty the buffer."""
        per_column: list[list[np.ndarray]] = [[] for _ in self.names]
        for block in self.blocks:
            if isinstance(block, list):
                for k, (values, col) in enumerate(
                    zip(zip(*block, strict=True), self.table.columns, strict=True)
                ):
                    per_column[k].append(_cast(np.asarray(values), self.table, col,
                                               copy=False))
            else:
                for k, a in enumerate(block):
                    per_column[k].append(a)
        self.blocks, self.open_rows, self.n = [], None, 0
        return [parts[0] if len(parts) == 1 else np.concatenate(parts) for parts in per_column]

def write_root_attrs(f: h5py.File, attrs: Mapping[str, Any]) -> None:
    for name, value in attrs.items():
        f.attrs[name] = value


def _column_attrs(col: Column) -> list[tuple[str, np.ndarray]]:
    """The one place that describes a column dataset: unit, description, enum codes."""
    out = [("unit", np.array(col.unit, dtype=_STR)),
           ("description", np.array(col.description, dtype=_STR))]
    if col.codes is not None:
        out.append(("codes", np.array(list(col.codes), dtype=col.np_dtype)))
        out.append(("labels", np.array(list(col.codes.values()), dtype=_STR)))
    return out


def _table_attrs(table: Table) -> list[tuple[str, np.ndarray]]:
    """A table group's attributes: its description and its column names, in order."""
    return [("description", np.array(table.description, dtype=_STR)),
            ("columns", np.array(list(table.column_names), dtype=_STR))]


_STR = h5py.string_dtype()  # h5py's own type for Python strings: variable-length UTF-8


def layout(groups: Collection[str] = ()) -> tuple[list[str], list[Table]]:
    """The subsystem groups and tables of a trace, in schema order: all of them except the
    optional groups (:data:`~simulator.trace.schema.OPTIONAL_GROUPS`) not in ``groups``."""
    return ([g for g in GROUP_DESCRIPTIONS if g not in OPTIONAL_GROUPS or g in groups],
            [t for t in TABLES if not t.optional or t.group in groups])


class _Attributes:
    """Writes attributes through h5py's low-level API with the types and dataspaces h5py
    itself would choose for the same arrays (made once per dtype and shape)."""

    def __init__(self) -> None:
        self._types: dict[tuple[np.dtype, tuple[int, ...]], tuple[Any, Any]] = {}

    def write(self, obj: Any, attrs: list[tuple[str, np.ndarray]]) -> None:
        for name, value in attrs:
            key = (value.dtype, value.shape)
            types = self._types.get(key)
            if types is None:
                space = (h5py.h5s.create(h5py.h5s.SCALAR) if not value.shape
                         else h5py.h5s.create_simple(value.shape))
                types = self._types[key] = (h5py.h5t.py_create(value.dtype, logical=True),
                                            space)
            h5py.h5a.create(obj, name.encode(), *types).write(value)


def create_layout(f: h5py.File, options: Mapping[str, Any], groups: Collection[str] = ()
                  ) -> dict[str, list[h5py.h5d.DatasetID]]:
    """Create every subsystem group and every table with empty extendable columns (of the
    optional groups, only those in ``groups``).

    The first column of each dtype is made by h5py; the others, every group and every
    attribute, through h5py's low-level API with the types, dataspaces and creation
    properties h5py chose (a third of the time for the ~120 columns of a trace; the file is
    byte for byte the one h5py alone makes, which a test checks).

    Returns:
        Each table's column datasets, open, in schema order of its columns (so that the
        writer need not look them up again: opening a dataset costs about as much as
        making it).
    """
    group_paths, tables = layout(groups)
    attributes = _Attributes()
    # the creation properties h5py's create_group(path, track_order=True) uses
    gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
    order = h5py.h5p.CRT_ORDER_TRACKED | h5py.h5p.CRT_ORDER_INDEXED
    gcpl.set_link_creation_order(order)
    gcpl.set_attr_creation_order(order)
    gcpl.set_obj_track_times(False)
    lcpl = h5py.h5p.create(h5py.h5p.LINK_CREATE)
    lcpl.set_create_intermediate_group(True)  # names stay ASCII-coded, as h5py codes them

    def group(path: str) -> h5py.h5g.GroupID:
        return h5py.h5g.create(f.id, path.encode(), lcpl=lcpl, gcpl=gcpl)

    for group_path in group_paths:
        attributes.write(group(group_path), [
            ("description", np.array(GROUP_DESCRIPTIONS[group_path], dtype=_STR))])
    made: dict[np.dtype, tuple[h5py.h5t.TypeID, h5py.h5p.PropDCID]] = {}
    empty = h5py.h5s.create_simple((0,), (h5py.h5s.UNLIMITED,))
    out: dict[str, list[h5py.h5d.DatasetID]] = {}
    for table in tables:
        g = group(table.path)
        attributes.write(g, _table_attrs(table))
        columns = out[table.path] = []
        for col in table.columns:
            like = made.get(col.np_dtype)
            if like is None:
                ds = h5py.Group(g).create_dataset(
                    col.name, shape=(0,), maxshape=(None,), dtype=col.np_dtype,
                    chunks=(CHUNK_ROWS,), track_times=False, **options,
                ).id
                made[col.np_dtype] = (ds.get_type(), ds.get_create_plist())
            else:
                ds = h5py.h5d.create(g, col.name.encode(), like[0], empty, dcpl=like[1])
            attributes.write(ds, _column_attrs(col))
            columns.append(ds)
    return out
