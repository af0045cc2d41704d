"""GPX tracks (GPS logs of real flights), in.

A GPX 1.0/1.1 file holds tracks (``<trk>``), each made of segments (``<trkseg>``) of points
(``<trkpt lat= lon=>`` with optional ``<ele>`` in metres and ``<time>`` in ISO 8601). It is
parsed with gpxpy. Each non-empty track becomes one UAV, numbered in file order, named by its
``<name>`` (else ``track<k>``); its points, over all its segments, are its breakpoints, so
the UAV flies straight across a gap between segments. Waypoints (``<wpt>``) and routes
(``<rte>``) carry no flight and are ignored.

Times are seconds since the earliest point of the file (its ``epoch``, kept with the data),
so the UAVs keep their relative timing. Positions are projected to local metres
(:mod:`.geo`) around the scenario's origin or the data's centroid; ``z`` is ``ele`` minus the
origin's altitude (0 unless given). A file where no point has ``ele`` is 2-D; one where only
some have it is an error, as are points without ``time`` and times that go backwards within a
track. Errors name the line of the offending ``<trkpt>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from xml.parsers import expat

import numpy as np

from simulator.world.mobility.formats.geo import LocalProjection
from simulator.world.mobility.formats.tracks import (
    MobilityFileError,
    Row,
    RowStream,
    TrackSet,
    open_text,
)

__all__ = ["gpx_rows", "read_gpx"]


def _trkpt_lines(path: Path) -> list[int]:
    """Line of every ``<trkpt>`` in file order (used only to point at an error)."""
    lines: list[int] = []
    parser = expat.ParserCreate()

    def start(tag: str, _attrs: dict[str, str]) -> None:
        if tag.rsplit(":", 1)[-1] == "trkpt":
            lines.append(parser.CurrentLineNumber)

    parser.StartElementHandler = start
    try:
        with Path(path).open("rb") as fh:
            parser.ParseFile(fh)
    except expat.ExpatError:
        pass
    return lines


def _utc_seconds(t: dt.datetime) -> float:
    if t.tzinfo is None or t.utcoffset() is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def gpx_rows(path: str | Path, *, origin: Sequence[float] | None = None) -> RowStream:
    """Read a GPX file's tracks as breakpoint rows.

    Args:
        path: the GPX file.
        origin: ``(lat, lon)`` or ``(lat, lon, alt_m)`` of the local projection's origin
            (default: the centroid of the points, altitude 0).

    Returns:
        Rows track by track; ``epoch`` is the ISO time of ``t = 0`` and ``projection`` the
        PROJ string used.

    Raises:
        MobilityFileError: ``path:line: ...`` for malformed XML or GPX, a point without time,
            partial elevations, or times going backwards.
        OSError: the file cannot be read.
    """
    import gpxpy  # heavy-ish import: only when a GPX file is read
    import gpxpy.gpx

    path = Path(path)
    with open_text(path) as fh:
        text = fh.read()
    try:
        doc = gpxpy.parse(text)
    except gpxpy.gpx.GPXXMLSyntaxException as err:
        cause = err.__cause__
        pos = getattr(cause, "position", None)
        line = pos[0] if pos else getattr(cause, "lineno", None)
        raise MobilityFileError(path, line, f"XML: {cause or err}") from None
    except gpxpy.gpx.GPXException as err:
        raise MobilityFileError(path, None, f"GPX: {err}") from None
    tracks = []
    index = 0  # position of the point among all <trkpt> of the file
    for k, trk in enumerate(doc.tracks):
        pts = [p for seg in trk.segments for p in seg.points]
        first = index
        index += len(pts)
        if pts:
            tracks.append((trk.name or f"track{k}", pts, first))
    if not tracks:
        raise MobilityFileError(path, None, "no track points (<trk><trkseg><trkpt>) in the file")
    with_ele = [p.elevation is not None for _n, pts, _f in tracks for p in pts]
    three_d = all(with_ele)
    if any(with_ele) and not three_d:
        bad = with_ele.index(False) if with_ele[0] else with_ele.index(True)
        raise MobilityFileError(path, _line(path, bad), "some points have <ele> and others "
                                "not: give every point an elevation, or none")
    for _n, pts, first in tracks:
        for j, p in enumerate(pts):
            if p.time is None:
                raise MobilityFileError(path, _line(path, first + j), "<trkpt> without "
                                        "<time>: a flight log needs timestamps")
    lat = np.array([p.latitude for _n, pts, _f in tracks for p in pts], dtype=float)
    lon = np.array([p.longitude for _n, pts, _f in tracks for p in pts], dtype=float)
    alt0 = 0.0
    if origin is None:
        proj = LocalProjection(float(lat.mean()), float(lon.mean()))
    else:
        proj = LocalProjection(float(origin[0]), float(origin[1]))
        alt0 = float(origin[2]) if len(origin) > 2 else 0.0
    try:
        x, y = proj.to_local(lon, lat)
    except ValueError as err:
        raise MobilityFileError(path, None, f"track points: {err}") from None
    stamps = [_utc_seconds(p.time) for _n, pts, _f in tracks for p in pts]
    epoch = min(stamps)
    epoch_iso = dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat()

    rows: list[Row] = []
    flat = 0
    for uav, (name, pts, first) in enumerate(tracks):
        last_t = None
        last_p = None
        for j, p in enumerate(pts):
            t = stamps[flat] - epoch
            xyz = (float(x[flat]), float(y[flat]),
                   float(p.elevation) - alt0 if three_d else 0.0)
            flat += 1
            if last_t is not None and t <= last_t:
                if t == last_t and xyz == last_p:
                    continue
                raise MobilityFileError(path, _line(path, first + j), f"track {name!r}: time "
                                        f"{p.time.isoformat()} does not increase along the "
                                        "track")
            rows.append((uav, t, *xyz, name))
            last_t, last_p = t, xyz

    def gen() -> Iterator[Row]:
        yield from rows

    return RowStream(gen(), 3 if three_d else 2, projection=proj.proj, epoch=epoch_iso,
                     format="gpx", info={"origin_lat_lon": f"{proj.lat0!r},{proj.lon0!r}"})


def _line(path: Path, index: int) -> int | None:
    lines = _trkpt_lines(path)
    return lines[index] if index < len(lines) else None


def read_gpx(path: str | Path, *, origin: Sequence[float] | None = None) -> TrackSet:
    """Every track of a GPX file (see :func:`gpx_rows`).

    Raises:
        MobilityFileError: the file is malformed.
        OSError: the file cannot be read.
    """
    return gpx_rows(path, origin=origin).collect(path)
