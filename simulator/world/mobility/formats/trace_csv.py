"""uavtwin's own trace CSV, in and out.

One row per breakpoint::

    uav_id,t_s,x_m,y_m,z_m,name
    0,0.0,120.5,80.0,100.0,veh7
    0,12.5,300.0,80.0,100.0,veh7

* a header is required; columns may come in any order; ``name`` (the node's id in the file
  it was converted from) is optional and defaults to the ``uav_id``;
* ``uav_id`` is an integer, ids ``0..n-1``; times in seconds, positions in metres (``z_m`` is
  the altitude);
* rows of different UAVs may interleave in any way, but each UAV's times must strictly
  increase down the file;
* a UAV is at each row's position at its time and moves straight between consecutive rows
  (linear interpolation, exactly); it exists from its first to its last row.

``uavtwin convert ... --to csv`` writes this format with every number printed so that it reads
back to the same double, so interpolating the CSV reproduces the source exactly.
"""

from __future__ import annotations

import csv as _csv
import io
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from simulator.world.mobility.formats.tracks import (
    MobilityFileError,
    Row,
    RowStream,
    TrackSet,
    atomic_output,
    open_text,
)

__all__ = ["COLUMNS", "csv_rows", "read_csv", "write_csv_rows"]

COLUMNS = ("uav_id", "t_s", "x_m", "y_m", "z_m")
"""Required columns (``name`` is optional)."""


def csv_rows(path: str | Path) -> RowStream:
    """Stream a uavtwin trace CSV.

    Raises:
        MobilityFileError: ``path:line: ...`` for a missing or bad header (checked now), a
            malformed value or a non-increasing time of a UAV (while the rows are consumed).
        OSError: the file cannot be read.
    """
    path = Path(path)
    with open_text(path) as fh:
        header = next(_csv.reader(fh), None)
    names = [h.strip() for h in header] if header else []
    expected = set(COLUMNS)
    if not expected <= set(names) or not set(names) <= expected | {"name"} or len(
            set(names)) != len(names):
        raise MobilityFileError(path, 1, f"expected a header with columns {','.join(COLUMNS)}"
                                f"[,name], got {','.join(names) or '(empty)'}")
    return RowStream(_rows(path, names), 3, format="csv")


def _rows(path: Path, names: list[str]) -> Iterator[Row]:
    col = [names.index(c) for c in COLUMNS]
    name_col = names.index("name") if "name" in names else None
    last: dict[int, float] = {}
    seen_data = False
    with open_text(path) as fh:
        reader = _csv.reader(fh)
        next(reader, None)
        for row in reader:
            line = reader.line_num
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(names):
                raise MobilityFileError(path, line, f"expected {len(names)} fields, got "
                                        f"{len(row)}")
            try:
                uav = int(row[col[0]])
            except ValueError:
                raise MobilityFileError(path, line, f"uav_id: expected an integer, got "
                                        f"{row[col[0]]!r}") from None
            if uav < 0:
                raise MobilityFileError(path, line, f"uav_id: expected >= 0, got {uav}")
            vals = []
            for c, cname in zip(col[1:], COLUMNS[1:], strict=True):
                try:
                    v = float(row[c])
                except ValueError:
                    raise MobilityFileError(path, line, f"{cname}: expected a number, got "
                                            f"{row[c]!r}") from None
                if not math.isfinite(v):
                    raise MobilityFileError(path, line, f"{cname}: expected a finite number, "
                                            f"got {row[c]!r}")
                vals.append(v)
            prev = last.get(uav)
            if prev is not None and vals[0] <= prev:
                raise MobilityFileError(path, line, f"t_s: UAV {uav} time {vals[0]} does not "
                                        f"increase (previous row at {prev})")
            last[uav] = vals[0]
            seen_data = True
            name = row[name_col].strip() if name_col is not None else str(uav)
            yield (uav, vals[0], vals[1], vals[2], vals[3], name)
    if not seen_data:
        raise MobilityFileError(path, 2, "no data rows")


def read_csv(path: str | Path) -> TrackSet:
    """Every UAV of a trace CSV as tracks (see :func:`csv_rows`).

    Raises:
        MobilityFileError: the file is malformed.
        OSError: the file cannot be read.
    """
    return csv_rows(path).collect(path)


def write_csv_rows(rows: Iterable[Row], path_or_file: str | Path | IO[str]) -> int:
    """Write breakpoint rows as a trace CSV with a ``name`` column.

    Args:
        rows: the rows, in any interleaving of UAVs (time order within each).
        path_or_file: destination path (written atomically; ``.gz`` compresses) or an open
            text handle.

    Returns:
        Number of rows written.
    """
    if isinstance(path_or_file, str | Path):
        with atomic_output(path_or_file) as fh:
            return _write(rows, fh)
    return _write(rows, path_or_file)


def _write(rows: Iterable[Row], fh: IO[str]) -> int:
    fh.write(",".join((*COLUMNS, "name")) + "\n")
    quoted: dict[str, str] = {}
    n = 0
    batch: list[str] = []
    for uav, t, x, y, z, name in rows:
        q = quoted.get(name)
        if q is None:
            if len(quoted) > 1 << 16:
                quoted.clear()
            q = quoted[name] = _quote(name)
        batch.append(f"{uav},{t!r},{x!r},{y!r},{z!r},{q}\n")
        if len(batch) >= 4096:
            fh.write("".join(batch))
            n += len(batch)
            batch.clear()
    fh.write("".join(batch))
    return n + len(batch)


def _quote(name: str) -> str:
    """``name`` as one CSV field (quoted only if it needs to be)."""
    buf = io.StringIO()
    _csv.writer(buf, lineterminator="").writerow([name])
    return buf.getvalue()
