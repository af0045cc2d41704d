"""Checking that an HDF5 file really has the layout of a uavtwin trace.

The reader trusts nothing it opens: a trace may have been cut off by a crash, edited by hand,
bit-flipped on a disk, produced by another program, or be the ``.writing.h5`` leftover of a
run killed while it copied its data to the final name. :func:`structure_problem` compares the
file with :mod:`simulator.trace.schema` before any table is read and returns the *first*
problem as one sentence (or None):

* root attributes: ``status`` is one of complete/partial/failed, ``seed`` an integer (a
  partial file cut very early may lack it);
* every table a ``complete`` trace must have is there (a partial or failed one may miss
  tables: the run stopped before creating them; optional groups such as ``/faults`` exist
  only in some runs);
* every table is a group, every column a real 1-D dataset in the file (not a group, not a
  soft or external link) of the schema's dtype; in a complete trace all columns of a table
  have the same length;
* every chunk of a column is written: a dataset that declares 10^12 rows but stores a few
  chunks (a "sparse" table) would make a reader allocate terabytes of fill values.

:func:`id_problem` checks, on columns already read, that ids index their lookup tables
(``uav_id`` < rows of ``/uavs``, ...), allowing ``-1`` where the schema says "none".
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import h5py
import numpy as np

from simulator.trace.schema import GROUP_DESCRIPTIONS, OPTIONAL_GROUPS, STATUSES, TABLES, Table

__all__ = ["ID_LOOKUPS", "id_problem", "structure_problem"]

ID_LOOKUPS: Mapping[str, str] = {"uav_id": "/uavs", "rsu_id": "/rsus", "src_rsu_id": "/rsus",
                                 "dst_rsu_id": "/rsus", "vsp_id": "/sensing/vsps"}
"""Id columns and the lookup table whose rows they index."""
_LOOKUP_TABLES = frozenset(ID_LOOKUPS.values())


def _text(value: object) -> str | None:
    if isinstance(value, bytes | np.bytes_):
        return value.decode("utf-8", errors="replace")
    return value if isinstance(value, str) else None


def structure_problem(f: h5py.File) -> str | None:
    """The first way ``f`` departs from the trace schema, or None.

    Args:
        f: an open HDF5 file whose ``schema_version`` was already checked.

    Returns:
        One sentence (without the file name), e.g. ``"/coverage/events/t_s: expected a 1-D
        dataset of <f8, got a group"``.
    """
    status = _text(f.attrs.get("status"))
    if status is None:
        return "no status attribute (a trace records complete, partial or failed)"
    if status not in STATUSES:
        return f"status {status!r} is not one of {', '.join(STATUSES)}"
    complete = status == "complete"
    seed = f.attrs.get("seed")
    if (seed is not None or complete) and (
            not isinstance(seed, int | np.integer) or isinstance(seed, bool | np.bool_)):
        return f"seed attribute {seed!r} is not an integer"
    if complete:
        for group in GROUP_DESCRIPTIONS:
            if group not in f and group not in OPTIONAL_GROUPS:
                return f"{group}: missing, but a complete trace has every group"
    for table in TABLES:
        problem = _table_problem(f, table, complete)
        if problem:
            return problem
    return None


def _table_problem(f: h5py.File, table: Table, complete: bool) -> str | None:
    link = f.get(table.path, getlink=True)
    if link is None:
        return (f"{table.path}: missing, but a complete trace has every table"
                if complete and not table.optional else None)
    if not isinstance(link, h5py.HardLink):
        return f"{table.path}: is {_link_kind(link)}, not a table group of this file"
    group = f[table.path]
    if not isinstance(group, h5py.Group):
        return f"{table.path}: expected a table group, got a dataset"
    lengths = set()
    for col in table.columns:
        where = f"{table.path}/{col.name}"
        clink = group.get(col.name, getlink=True)
        if clink is None:
            # a column with a default was added later: older traces read it as its default
            if complete and col.default is None:
                return f"{where}: missing column"
            continue
        if not isinstance(clink, h5py.HardLink):
            return f"{where}: is {_link_kind(clink)}, not a column dataset of this file"
        ds = group[col.name]
        if not isinstance(ds, h5py.Dataset):
            return f"{where}: expected a 1-D dataset of {col.dtype}, got a group"
        if ds.ndim != 1:
            return f"{where}: expected a 1-D dataset, got shape {ds.shape}"
        if ds.dtype != col.np_dtype:
            return f"{where}: expected dtype {col.dtype}, got {ds.dtype.str}"
        sparse = _unwritten_chunks(ds)
        if sparse:
            return f"{where}: declares {ds.shape[0]} rows but {sparse} (sparse or cut dataset)"
        lengths.add(ds.shape[0])
    if complete and len(lengths) > 1:
        return f"{table.path}: columns of unequal lengths {sorted(lengths)}"
    return None


def _link_kind(link: object) -> str:
    if isinstance(link, h5py.ExternalLink):
        return f"an external link to {link.filename}:{link.path}"
    if isinstance(link, h5py.SoftLink):
        return f"a soft link to {link.path}"
    return f"a {type(link).__name__}"


def _unwritten_chunks(ds: h5py.Dataset) -> str | None:
    """Describe missing chunks of a chunked dataset (None if all rows are stored)."""
    n = ds.shape[0]
    if n == 0:
        return None
    if ds.chunks is None:
        stored = ds.id.get_storage_size()
        expect = n * ds.dtype.itemsize
        return None if stored >= expect else f"stores only {stored} of {expect} bytes"
    expected = math.ceil(n / ds.chunks[0])
    got = ds.id.get_num_chunks()
    return None if got >= expected else f"only {got} of its {expected} chunks are written"


def id_problem(table: Table, columns: Mapping[str, np.ndarray],
               sizes: Mapping[str, int], first_row: int = 0) -> str | None:
    """The first id in ``columns`` outside its lookup table, or None.

    Args:
        table: the table the columns were read from.
        columns: ``{name: values}`` as read.
        sizes: rows of each lookup table (``"/uavs"``, ``"/rsus"``, ``"/sensing/vsps"``).
        first_row: the table row of ``values[0]`` (a chunk read from row ``first_row`` on).

    Returns:
        One sentence, e.g. ``"/coverage/events/uav_id[12]: 1000000000 is not a UAV id
        (/uavs has 20 rows)"``.
    """
    for name, values in columns.items():
        lookup = ID_LOOKUPS.get(name)
        if lookup is None or values.size == 0:
            continue
        n = sizes.get(lookup, 0)
        if table.path == lookup:
            bad = np.flatnonzero(values != np.arange(first_row, first_row + values.size))
            if bad.size:
                k = int(bad[0])
                return (f"{table.path}/{name}[{first_row + k}]: {int(values[k])} should "
                        f"equal its row index {first_row + k}")
            continue
        if n == 0:  # e.g. a training trace: no lookup rows to check against
            continue
        allow_none = "-1" in table.column(name).description
        ok = (values < n) & ((values >= 0) | (allow_none & (values == -1)))
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            return (f"{table.path}/{name}[{first_row + k}]: {int(values[k])} is not an id "
                    f"of {lookup} "
                    f"(it has {n} rows" + (", -1 = none" if allow_none else "") + ")")
    return None
