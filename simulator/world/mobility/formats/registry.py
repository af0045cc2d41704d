"""The mobility file formats by name: what reads each, what writes it, how to recognise it.

Everything that names a format (the scenario's ``uavs.mobility.format``, ``uavtwin convert
--from/--to``, the docs) reads the names from :data:`FORMATS`. ``auto`` picks a format from
the file name, or failing that from the file's first bytes (:func:`sniff`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.world.mobility.formats.bonnmotion import bonnmotion_rows, write_bonnmotion
from simulator.world.mobility.formats.gpx import gpx_rows
from simulator.world.mobility.formats.ns2 import ns2_rows, write_ns2
from simulator.world.mobility.formats.sumo_fcd import fcd_rows
from simulator.world.mobility.formats.trace_csv import csv_rows
from simulator.world.mobility.formats.tracks import MobilityFileError, RowStream, open_text

__all__ = ["FORMATS", "READ_OPTIONS", "MobilityFormat", "format_names", "open_rows",
           "resolve_format", "sniff", "writable_formats"]


@dataclass(frozen=True)
class MobilityFormat:
    """One file format.

    Attributes:
        name: registry name (scenario ``format:`` value, ``--from``/``--to`` value).
        title: human name.
        suffixes: file name endings that identify it (lower case).
        rows: ``rows(path, **options) -> RowStream`` reader.
        options: reader keyword arguments it accepts (``dimensions``, ``geo``, ``origin``,
            ``progress``).
        write: ``write(trajectories, path, names=..., dimensions=...)`` or None if the format
            is input only.
    """

    name: str
    title: str
    suffixes: tuple[str, ...]
    rows: Callable[..., RowStream]
    options: tuple[str, ...] = ()
    write: Callable[..., Any] | None = None


FORMATS: dict[str, MobilityFormat] = {
    f.name: f
    for f in (
        MobilityFormat("ns2", "ns-2 movement file (setdest)", (".ns2", ".tcl", ".ns_movements",
                                                               ".mobility"), ns2_rows,
                       write=write_ns2),
        MobilityFormat("bonnmotion", "BonnMotion scenario", (".movements", ".movements.gz"),
                       bonnmotion_rows, ("dimensions",), write=write_bonnmotion),
        MobilityFormat("sumo-fcd", "SUMO floating car data (--fcd-output)",
                       (".fcd.xml", ".fcd.xml.gz", "fcd.xml"), fcd_rows,
                       ("geo", "origin", "progress")),
        MobilityFormat("gpx", "GPX track log", (".gpx",), gpx_rows, ("origin",)),
        MobilityFormat("csv", "uavtwin trace CSV (uav_id,t_s,x_m,y_m,z_m[,name])",
                       (".csv", ".csv.gz"), csv_rows),
    )
}

READ_OPTIONS = ("dimensions", "geo", "origin", "progress")
"""Every reader option :func:`open_rows` passes on to the formats that take it."""


def format_names() -> list[str]:
    """Every readable format name (equal to :data:`.names.FORMAT_NAMES`, tested)."""
    return list(FORMATS)


def writable_formats() -> list[str]:
    """Formats a uavtwin run can be exported to (besides CSV)."""
    return [name for name, f in FORMATS.items() if f.write is not None]


_SNIFF = (
    ("sumo-fcd", re.compile(r"<fcd-export\b")),
    ("gpx", re.compile(r"<gpx\b")),
    ("ns2", re.compile(r"\$node_\(\d+\)")),
    ("csv", re.compile(r"^\s*\"?[a-z_]+\"?\s*(,\s*\"?[a-z_]+\"?\s*)+$", re.MULTILINE)),
)


def sniff(path: str | Path) -> str | None:
    """The format of ``path`` from its name, else from its first 64 KiB; None if unknown."""
    name = Path(path).name.lower()
    for fmt in FORMATS.values():
        if any(name.endswith(s) for s in fmt.suffixes):
            return fmt.name
    with open_text(path) as fh:
        head = fh.read(1 << 16)
    for fmt_name, pattern in _SNIFF:
        if pattern.search(head):
            return fmt_name
    first = next((ln for ln in head.splitlines() if ln.strip() and not ln.startswith("#")), "")
    fields = first.split()
    try:
        [float(f) for f in fields]
    except ValueError:
        return None
    return "bonnmotion" if fields else None


def resolve_format(name: str, path: str | Path) -> MobilityFormat:
    """The format called ``name``, or the sniffed one for ``auto``.

    Raises:
        MobilityFileError: ``auto`` cannot recognise the file.
        ValueError: an unknown format name.
    """
    if name == "auto":
        found = sniff(path)
        if found is None:
            raise MobilityFileError(path, None, "cannot tell its format; give one of "
                                    f"{', '.join(FORMATS)}")
        return FORMATS[found]
    if name not in FORMATS:
        raise ValueError(f"unknown mobility format {name!r}; expected auto or one of "
                         f"{', '.join(FORMATS)}")
    return FORMATS[name]


def open_rows(path: str | Path, fmt: str = "auto", **options: Any) -> RowStream:
    """Open ``path`` as a row stream with the reader of ``fmt`` (``auto`` sniffs).

    Options a format does not take are ignored (``dimensions`` means nothing to GPX), except
    that ``None`` values are never passed.

    Raises:
        MobilityFileError: the file is malformed or of unknown format.
        ValueError: an unknown format name or option.
        OSError: the file cannot be read.
    """
    unknown = set(options) - set(READ_OPTIONS)
    if unknown:
        raise ValueError(f"open_rows: unknown options {sorted(unknown)}")
    spec = resolve_format(fmt, path)
    kwargs = {k: v for k, v in options.items() if k in spec.options and v is not None}
    return spec.rows(path, **kwargs)
