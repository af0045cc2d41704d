"""What every mobility file format reads into and writes from: node tracks.

A *track* is one node's list of breakpoints: positions at strictly increasing times, joined
by straight segments. Every importer (ns-2, BonnMotion, SUMO FCD, GPX, CSV) produces a stream
of breakpoint *rows* ``(uav_id, t_s, x_m, y_m, z_m, name)``, in any interleaving of nodes but
in time order within a node, so a converter can write them out without holding the file in
memory; :func:`collect_tracks` groups a stream into tracks for a simulation. A node exists
from its first to its last breakpoint (its *presence interval*).

Errors in a file are :class:`MobilityFileError`, one line ``path:line: message``; writers go
through :func:`atomic_output` so a failed conversion leaves no file that looks complete.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from simulator.errors import InputError

__all__ = [
    "MobilityFileError",
    "Row",
    "RowStream",
    "Track",
    "TrackSet",
    "atomic_output",
    "collect_tracks",
    "fmt_float",
    "open_text",
    "parse_float",
]

Row = tuple[int, float, float, float, float, str]
"""One breakpoint: ``(uav_id, t_s, x_m, y_m, z_m, name)``."""


class MobilityFileError(InputError):
    """A mobility file is malformed; the message is ``path:line: what was expected``."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


@dataclass(frozen=True, eq=False)
class Track:
    """One node's breakpoints (linear in between).

    Attributes:
        uav_id: node id in the simulation (0-based).
        name: the node's id in the source file (ns-2 index, SUMO vehicle id, GPX track name).
        times: ``[m >= 1]`` strictly increasing times (s).
        points: ``[m, 3]`` positions (m).
    """

    uav_id: int
    name: str
    times: np.ndarray
    points: np.ndarray

    @property
    def start_time(self) -> float:
        """First breakpoint time: the node appears (s)."""
        return float(self.times[0])

    @property
    def end_time(self) -> float:
        """Last breakpoint time: the node leaves (s)."""
        return float(self.times[-1])

    def position(self, t: np.ndarray | float) -> np.ndarray:
        """Linear interpolation between breakpoints, clamped outside the presence interval.

        Returns:
            ``[..., 3]`` positions (m).
        """
        t = np.asarray(t, dtype=float)
        if self.times.size == 1:
            return np.broadcast_to(self.points[0], t.shape + (3,)).copy()
        return np.stack([np.interp(t, self.times, self.points[:, k]) for k in range(3)],
                        axis=-1)


@dataclass(frozen=True, eq=False)
class TrackSet:
    """Every track of one file, with what the file said about itself.

    Attributes:
        tracks: one per node, ordered by ``uav_id``.
        dimensions: 3 if the file gave altitudes, 2 if ``z`` is 0 for lack of them.
        projection: PROJ string of the map projection applied to geographic input, or None.
        epoch: ISO-8601 time of ``t = 0`` for input with absolute times (GPX), or None.
        format: registry name of the source format.
    """

    tracks: list[Track]
    dimensions: int
    projection: str | None = None
    epoch: str | None = None
    format: str = ""

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` corners ``[3]`` of the bounding box of every breakpoint (m)."""
        pts = np.concatenate([t.points for t in self.tracks])
        return pts.min(axis=0), pts.max(axis=0)


@dataclass
class RowStream:
    """A lazily read file: breakpoint rows plus what the reader learnt about the file.

    ``dimensions``, ``projection`` and ``epoch`` are known before the first row is produced.
    """

    rows: Iterator[Row]
    dimensions: int
    projection: str | None = None
    epoch: str | None = None
    format: str = ""
    info: dict[str, str] = field(default_factory=dict)

    def collect(self, path: str | Path) -> TrackSet:
        """Read every row into tracks (see :func:`collect_tracks`)."""
        return TrackSet(collect_tracks(self.rows, path), self.dimensions, self.projection,
                        self.epoch, self.format)


def collect_tracks(rows: Iterable[Row], path: str | Path) -> list[Track]:
    """Group breakpoint rows by node.

    Args:
        rows: rows in time order within each node (the readers guarantee it).
        path: the source file, for messages.

    Returns:
        Tracks ordered by ``uav_id``.

    Raises:
        MobilityFileError: no rows at all, or node ids that are not ``0..n-1``.
    """
    times: dict[int, list[float]] = {}
    points: dict[int, list[tuple[float, float, float]]] = {}
    names: dict[int, str] = {}
    for uav, t, x, y, z, name in rows:
        if uav not in times:
            times[uav], points[uav], names[uav] = [], [], name
        times[uav].append(t)
        points[uav].append((x, y, z))
    if not times:
        raise MobilityFileError(path, None, "no node positions in the file")
    ids = sorted(times)
    if ids != list(range(len(ids))):
        missing = sorted(set(range(ids[-1] + 1)) - set(ids))
        raise MobilityFileError(path, None, f"node ids must be 0..{len(ids) - 1} without "
                                f"gaps; missing {missing[:5]}")
    return [Track(u, names[u], np.asarray(times[u], dtype=float),
                  np.asarray(points[u], dtype=float).reshape(-1, 3)) for u in ids]


def parse_float(text: str, path: str | Path, line: int | None, what: str) -> float:
    """A finite float from ``text``.

    Raises:
        MobilityFileError: not a number, or NaN/inf.
    """
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise MobilityFileError(path, line, f"{what}: expected a number, got {text!r}"
                                ) from None
    if not math.isfinite(v):
        raise MobilityFileError(path, line, f"{what}: expected a finite number, got {text!r}")
    return v


def fmt_float(v: float) -> str:
    """Shortest text that reads back as exactly ``v``."""
    return repr(float(v))


def open_text(path: str | Path) -> IO[str]:
    """Open a text file for reading, gunzipping it if it starts with the gzip magic bytes."""
    path = Path(path)
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


@contextlib.contextmanager
def atomic_output(path: str | Path, *, gz: bool | None = None) -> Iterator[IO[str]]:
    """Write a text file that appears under ``path`` only when complete.

    The text goes to ``path.partial`` and is renamed on success; on any exception the partial
    file is removed and nothing is left at ``path``.

    Args:
        path: destination.
        gz: gzip the output (default: when ``path`` ends with ``.gz``).

    Yields:
        A text handle.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".partial")
    if gz is None:
        gz = path.name.endswith(".gz")
    raw = gzip.open(tmp, "wt", encoding="utf-8", newline="") if gz else tmp.open(
        "w", encoding="utf-8", newline="")
    try:
        with raw as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
