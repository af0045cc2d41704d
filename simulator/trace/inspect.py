"""Human-readable views of the trace: one file (``uavtwin inspect``) and the schema itself.

``inspect_trace`` answers "what is in this file?" without any analysis code: run status and
provenance first (a failed or partial run says so on its first line), then every table with
its row count and its columns with units, read from the file's own attributes so that the
view is honest about what was written.
"""

from __future__ import annotations

import os

from simulator.trace.reader import TraceReader
from simulator.trace.schema import (
    TABLES,
    get_table,
)

__all__ = ["inspect_trace"]


def inspect_trace(path: str | os.PathLike[str]) -> str:
    """Describe a trace file: header (status, schema, seed, times) and every table.

    Args:
        path: A trace file (complete or ``.partial.h5``).

    Returns:
        The text ``uavtwin inspect`` prints (ends with a newline).

    Raises:
        TraceError: If the file is missing, not HDF5, not a trace, or of a newer schema.
    """
    with TraceReader(path) as tr:
        a = tr.attrs
        wall = a.get("wall_time_s")
        wall_text = f"{wall:.3f} s" if isinstance(wall, int | float) else "?"
        lines = [
            f"trace:           {tr.path}",
            f"status:          {tr.status}",
            f"schema version:  {tr.schema_version}",
            f"uavtwin version: {a.get('uavtwin_version', '?')}",
            f"seed:            {a.get('seed', '?')}",
            f"created:         {a.get('created', '?')}",
            f"wall time:       {wall_text}",
        ]
        if "error" in a:
            lines.append(f"error:           {a['error']}")
        present = set(tr.tables())
        present_groups = {get_table(p).group for p in present}
        for table in TABLES:
            if table.path not in present:
                if table.optional and table.group not in present_groups:
                    continue  # e.g. /faults in a run without faults
                lines.append(f"\n{table.path}  (missing)")
                continue
            n = tr.n_rows(table.path)
            lines.append(f"\n{table.path}  ({n} row{'s' if n != 1 else ''})")
            lines.append(f"  {table.description}")
            cols = tr.columns(table.path)
            width = max(len(name) for name, _, _ in cols)
            for name, unit, _ in cols:
                dtype = get_table(table.path).column(name).dtype
                lines.append(f"  {name:<{width}}  {dtype:<4}  [{unit}]")
    return "\n".join(lines) + "\n"
