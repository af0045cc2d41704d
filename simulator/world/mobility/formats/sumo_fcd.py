"""SUMO floating car data (``sumo --fcd-output``), in.

The file is XML, one ``<timestep time="...">`` per simulation step holding one element per
moving object (``<vehicle>``, ``<person>``, ``<container>``) with its position ``x``, ``y``
(and ``z`` when the network has elevation) and any number of other attributes (speed, angle,
lane, ...), which are ignored. Objects appear and leave over time; each becomes a UAV,
numbered in order of first appearance, present from its first to its last sample and moving
straight between consecutive samples; its SUMO id is kept as its name (``person:ID`` and
``container:ID`` for the others).

Geographic output (``sumo --fcd-output.geo``) writes longitude in ``x`` and latitude in ``y``;
it is recognised from the configuration SUMO writes at the top of the file (or from ``lon``/
``lat`` attributes, or by ``geo=True``) and projected to metres (:mod:`.geo`).

The file is streamed with expat in 1 MiB chunks: memory holds one chunk and one small record
per object, whatever the file size (gzip input is read on the fly). Errors (malformed or
truncated XML, an unknown element, a timestep without ``time``, an object without a position
or seen twice in a step, time going backwards) are one line with the XML line number.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from math import isfinite
from pathlib import Path
from typing import IO
from xml.parsers import expat

import numpy as np

from simulator.world.mobility.formats.geo import LocalProjection
from simulator.world.mobility.formats.tracks import (
    MobilityFileError,
    Row,
    RowStream,
    TrackSet,
)

__all__ = ["fcd_centroid", "fcd_rows", "read_fcd"]

_CHUNK = 1 << 20
_OBJECTS = {"vehicle": "", "person": "person:", "container": "container:"}
_KNOWN = {"fcd-export", "timestep", *_OBJECTS}
_GEO_OPTION = re.compile(rb'<fcd-output\.geo\s+value="(true|1|on|yes)"', re.IGNORECASE)


def _open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """``(reader, raw)``: the (decompressed) byte stream and the raw file for progress."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw), raw
    return raw, raw


def _header_says_geo(path: Path) -> bool:
    reader, raw = _open_binary(path)
    with raw:
        head = reader.read(1 << 16)
    return bool(_GEO_OPTION.search(head))


class _Parser:
    """Expat callbacks turning elements into rows; state is one record per object."""

    def __init__(self, path: Path, geo: bool | None) -> None:
        self.path = path
        self.geo = geo
        self.p = expat.ParserCreate()
        self.p.buffer_text = True
        self.p.StartElementHandler = self.start
        self.p.EndElementHandler = self.end
        self.depth = 0
        self.time: float | None = None
        self.last_step = -np.inf
        self.ids: dict[tuple[str, str], list] = {}  # key -> [uav, last time, name]
        self.rows: list[tuple[int, float, float, float, float, str]] = []
        self.dims: int | None = None
        self.used_geo: bool | None = None

    def err(self, msg: str) -> MobilityFileError:
        return MobilityFileError(self.path, self.p.CurrentLineNumber, msg)

    def num(self, attrs: dict[str, str], key: str, what: str) -> float:
        text = attrs[key]
        try:
            v = float(text)
        except ValueError:
            raise self.err(f"{what} {key}: expected a number, got {text!r}") from None
        if not isfinite(v):
            raise self.err(f"{what} {key}: expected a finite number, got {text!r}")
        return v

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 3 and tag in _OBJECTS and self.time is not None:
            self.sample(tag, attrs)
            return
        if tag not in _KNOWN:
            raise self.err(f"unknown element <{tag}>: expected <fcd-export>, <timestep>, "
                           "<vehicle>, <person> or <container>")
        if self.depth == 1:
            if tag != "fcd-export":
                raise self.err(f"expected the root element <fcd-export>, got <{tag}>")
            return
        if tag == "timestep":
            if self.depth != 2:
                raise self.err("<timestep> must be a child of <fcd-export>")
            if "time" not in attrs:
                raise self.err("<timestep> without its time attribute")
            t = self.num(attrs, "time", "timestep")
            if t < self.last_step:
                raise self.err(f"timestep time goes backwards ({self.last_step} then {t})")
            self.time = self.last_step = t
            return
        raise self.err(f"<{tag}> must be inside a <timestep>")

    def sample(self, tag: str, attrs: dict[str, str]) -> None:
        """One object's position at the current timestep."""
        obj_id = attrs.get("id")
        if obj_id is None:
            raise self.err(f"<{tag}> without an id")
        try:
            if "lon" in attrs and "lat" in attrs:
                x, y, geo = float(attrs["lon"]), float(attrs["lat"]), True
            else:
                x, y, geo = float(attrs["x"]), float(attrs["y"]), bool(self.geo)
            z = float(attrs["z"]) if "z" in attrs else None
        except (KeyError, ValueError):
            raise self.err(self.bad_position(tag, obj_id, attrs)) from None
        if not (isfinite(x) and isfinite(y) and (z is None or isfinite(z))):
            raise self.err(f"{tag} {obj_id!r}: expected finite coordinates")
        if geo is not self.used_geo:
            if self.used_geo is not None:
                raise self.err(f"{tag} {obj_id!r}: mixes geographic and metric positions")
            self.used_geo = geo
        dims = 2 if z is None else 3
        if dims != self.dims:
            if self.dims is not None:
                raise self.err(f"{tag} {obj_id!r}: {'has' if dims == 3 else 'lacks'} z while "
                               f"earlier objects {'lack' if dims == 3 else 'have'} it")
            self.dims = dims
        key = (tag, obj_id)
        rec = self.ids.get(key)
        t = self.time
        if rec is None:
            rec = self.ids[key] = [len(self.ids), t, _OBJECTS[tag] + obj_id]
        elif t <= rec[1]:
            raise self.err(f"{tag} {obj_id!r} appears twice at time {t}")
        rec[1] = t
        self.rows.append((rec[0], t, x, y, 0.0 if z is None else z, rec[2]))

    def bad_position(self, tag: str, obj_id: str, attrs: dict[str, str]) -> str:
        what = f"{tag} {obj_id!r}"
        for key in ("lon", "lat", "x", "y", "z"):
            if key in attrs:
                try:
                    float(attrs[key])
                except ValueError:
                    return f"{what} {key}: expected a number, got {attrs[key]!r}"
        return f"{what} has no position (x and y, or lon and lat)"

    def end(self, tag: str) -> None:
        self.depth -= 1
        if tag == "timestep":
            self.time = None

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.p.Parse(data, final)
        except expat.ExpatError as err:
            raise MobilityFileError(self.path, err.lineno,
                                    f"XML: {expat.ErrorString(err.code)}") from None


def fcd_centroid(path: str | Path, *, geo: bool | None = None) -> tuple[float, float]:
    """Mean ``(lat, lon)`` of every sample of a geographic FCD file (one streaming pass).

    Raises:
        MobilityFileError: the file is malformed or has no samples.
    """
    path = Path(path)
    parser = _Parser(path, True if geo is None else geo)
    total = np.zeros(2)
    count = 0
    reader, raw = _open_binary(path)
    with raw:
        while chunk := reader.read(_CHUNK):
            parser.feed(chunk)
            if parser.rows:
                arr = np.array([(r[2], r[3]) for r in parser.rows])
                total += arr.sum(axis=0)
                count += len(arr)
                parser.rows.clear()
        parser.feed(b"", True)
    if count == 0:
        raise MobilityFileError(path, None, "no <vehicle>, <person> or <container> samples")
    lon, lat = total / count
    return float(lat), float(lon)


def fcd_rows(path: str | Path, *, geo: bool | None = None,
             origin: tuple[float, float] | None = None,
             progress: Callable[[int], None] | None = None) -> RowStream:
    """Stream a SUMO FCD file as breakpoint rows, in time order.

    Args:
        path: the FCD XML file (plain or gzip).
        geo: positions are longitude/latitude; ``None`` detects it from the SUMO
            configuration in the file's header or from ``lon``/``lat`` attributes.
        origin: ``(lat, lon)`` of the local projection's origin for geographic files
            (default: the centroid of the data, which costs one more pass over the file).
        progress: called with the number of (compressed) bytes read since the last call.

    Returns:
        The rows; ``dimensions`` is 3 if the objects carry ``z``.

    Raises:
        MobilityFileError: ``path:line: ...`` for malformed content (while the rows are
            consumed; the first chunk is checked now).
        OSError: the file cannot be read.
    """
    path = Path(path)
    if geo is None and _header_says_geo(path):
        geo = True
    parser = _Parser(path, geo)
    reader, raw = _open_binary(path)
    pending: list = []
    done = False
    pos = 0

    def step() -> bool:
        nonlocal pos
        chunk = reader.read(_CHUNK)
        if progress is not None:
            now = raw.tell()
            progress(now - pos)
            pos = now
        parser.feed(chunk, final=not chunk)
        return bool(chunk)

    try:
        while parser.dims is None and (more := step()):
            pass
        done = parser.dims is None or not more
    except BaseException:
        raw.close()
        raise
    if parser.dims is None:
        raw.close()
        raise MobilityFileError(path, None, "no <vehicle>, <person> or <container> samples")
    proj = None
    if parser.used_geo:
        lat0, lon0 = origin if origin is not None else fcd_centroid(path, geo=geo)
        proj = LocalProjection(float(lat0), float(lon0))
    pending = parser.rows
    parser.rows = []

    def convert(rows: list) -> list:
        if proj is None or not rows:
            return rows
        arr = np.array([(r[2], r[3]) for r in rows])
        try:
            x, y = proj.to_local(arr[:, 0], arr[:, 1])
        except ValueError as err:
            raise MobilityFileError(path, None, f"geographic positions: {err}") from None
        return [(r[0], r[1], float(xi), float(yi), r[4], r[5])
                for r, xi, yi in zip(rows, x.tolist(), y.tolist(), strict=True)]

    def rows() -> Iterator[Row]:
        with raw:
            yield from convert(pending)
            if done:
                return
            while step():
                yield from convert(parser.rows)
                parser.rows = []
            yield from convert(parser.rows)

    info = {"origin_lat_lon": f"{proj.lat0!r},{proj.lon0!r}"} if proj else {}
    return RowStream(rows(), parser.dims, projection=proj.proj if proj else None,
                     format="sumo-fcd", info=info)


def read_fcd(path: str | Path, *, geo: bool | None = None,
             origin: tuple[float, float] | None = None) -> TrackSet:
    """Every object of a SUMO FCD file as tracks (see :func:`fcd_rows`).

    Raises:
        MobilityFileError: the file is malformed.
        OSError: the file cannot be read.
    """
    return fcd_rows(path, geo=geo, origin=origin).collect(path)
