"""GPX tracks: exact times, projected positions checked against geodesic distances, and
one-line errors naming the <trkpt> line."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.world.mobility.formats.gpx import read_gpx
from simulator.world.mobility.formats.tracks import MobilityFileError

HYP = settings(max_examples=30, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])
T0 = dt.datetime(2024, 5, 17, 9, 30, tzinfo=dt.UTC)


def gpx_text(tracks: list[tuple[str, list[tuple[float, float, float | None, float | None]]]]
             ) -> str:
    """GPX 1.1 with one <trk> per (name, [(lat, lon, ele, t_s)]), one point per line."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">',
           '<wpt lat="50.0" lon="7.0"><name>home</name></wpt>']
    for name, pts in tracks:
        out.append(f"<trk><name>{name}</name><trkseg>")
        for k, (lat, lon, ele, t) in enumerate(pts):
            if k == len(pts) // 2 and k:
                out.append("</trkseg><trkseg>")
            ele_s = f"<ele>{ele}</ele>" if ele is not None else ""
            t_s = (f"<time>{(T0 + dt.timedelta(seconds=t)).isoformat().replace('+00:00', 'Z')}"
                   "</time>") if t is not None else ""
            out.append(f'<trkpt lat="{lat}" lon="{lon}">{ele_s}{t_s}</trkpt>')
        out.append("</trkseg></trk>")
    out.append("</gpx>")
    return "\n".join(out) + "\n"


def geodesic_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    from pyproj import Geod

    lat2, lon2 = np.asarray(lat2, dtype=float), np.asarray(lon2, dtype=float)
    return np.asarray(Geod(ellps="WGS84").inv(np.full_like(lon2, lon1), np.full_like(lat2, lat1),
                                              lon2, lat2)[2])


@st.composite
def flights(draw: st.DrawFn):
    with_ele = draw(st.booleans())
    tracks = []
    for k in range(draw(st.integers(1, 3))):
        n = draw(st.integers(2, 8))
        start = draw(st.integers(0, 600))
        gaps = draw(st.lists(st.integers(1, 30), min_size=n - 1, max_size=n - 1))
        times = start + np.concatenate([[0], np.cumsum(gaps)])
        lat = 48.1 + np.cumsum(draw(st.lists(st.floats(-1e-3, 1e-3), min_size=n, max_size=n)))
        lon = 11.5 + np.cumsum(draw(st.lists(st.floats(-1e-3, 1e-3), min_size=n, max_size=n)))
        ele = [round(draw(st.floats(500, 700)), 1) if with_ele else None for _ in range(n)]
        tracks.append((f"flight {k}", [(round(float(a), 7), round(float(o), 7), e, float(t))
                                       for a, o, e, t in zip(lat, lon, ele, times,
                                                             strict=True)]))
    return tracks


@HYP
@given(tracks=flights())
def test_tracks_keep_times_names_and_ground_distances(tmp_path, tracks):
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "f.gpx"
    path.write_text(gpx_text(tracks))
    ts = read_gpx(path, origin=(48.1, 11.5, 500.0))
    t_first = min(p[3] for _n, pts in tracks for p in pts)
    assert ts.epoch == (T0 + dt.timedelta(seconds=t_first)).isoformat()
    assert ts.dimensions == (3 if tracks[0][1][0][2] is not None else 2)
    assert "+lat_0=48.1" in ts.projection
    for tr, (name, pts) in zip(ts.tracks, tracks, strict=True):
        arr = np.array([(p[0], p[1], p[3]) for p in pts])
        assert tr.name == name
        np.testing.assert_allclose(tr.times, arr[:, 2] - t_first, atol=1e-6)
        # distance from the origin on the plane = geodesic distance (within 10 ppm + 1 mm)
        d_plane = np.hypot(tr.points[:, 0], tr.points[:, 1])
        d_geo = geodesic_m(48.1, 11.5, arr[:, 0], arr[:, 1])
        np.testing.assert_allclose(d_plane, d_geo, rtol=1e-5, atol=1e-3)
        if ts.dimensions == 3:
            np.testing.assert_allclose(tr.points[:, 2], [p[2] - 500.0 for p in pts])


def test_centroid_is_the_default_origin(tmp_path):
    path = tmp_path / "c.gpx"
    path.write_text(gpx_text([("a", [(50.0, 7.0, None, 0.0), (50.002, 7.004, None, 10.0)])]))
    ts = read_gpx(path)
    assert "+lat_0=50.001" in ts.projection and "+lon_0=7.002 " in ts.projection
    np.testing.assert_allclose(ts.tracks[0].points.mean(axis=0)[:2], 0.0, atol=0.05)


@pytest.mark.parametrize(("edit", "words"), [
    (lambda s: s.replace("<time>2024-05-17T09:30:10Z</time>", "", 1), "without <time>"),
    (lambda s: s.replace("<ele>1.0</ele>", "", 1), "some points have <ele>"),
    (lambda s: s.replace("09:30:10Z", "09:29:10Z", 1), "does not increase"),
])
def test_bad_points_name_their_line(tmp_path, edit, words):
    path = tmp_path / "b.gpx"
    good = gpx_text([("x", [(50.0, 7.0, 1.0, 0.0), (50.0, 7.001, 1.0, 10.0),
                           (50.0, 7.002, 1.0, 20.0)])])
    path.write_text(edit(good))
    line = next(n for n, s in enumerate(path.read_text().splitlines(), 1)
                if "7.001" in s)
    with pytest.raises(MobilityFileError) as err:
        read_gpx(path)
    assert str(err.value).startswith(f"{path}:{line}: ") and words in str(err.value)


def test_malformed_xml_names_its_line(tmp_path):
    path = tmp_path / "m.gpx"
    path.write_text(gpx_text([("x", [(50.0, 7.0, None, 0.0), (50.0, 7.1, None, 5.0)])])[:-30])
    with pytest.raises(MobilityFileError, match=r"m.gpx:\d+: XML"):
        read_gpx(path)


@HYP
@given(data=st.data())
def test_random_corruptions_name_the_point_or_xml_line(tmp_path, data):
    pts = [(50.0, 7.0 + k * 1e-3, 100.0, 10.0 * k) for k in range(6)]
    text = gpx_text([("a", pts[:3]), ("b", pts[3:])])
    lines = text.splitlines()
    rows = [n for n, s in enumerate(lines) if s.startswith("<trkpt")]
    k = data.draw(st.sampled_from(rows))
    kind = data.draw(st.sampled_from(["time", "ele", "xml", "backwards"]))
    if kind == "time":
        lines[k] = lines[k].split("<time>")[0] + "</trkpt>"
    elif kind == "ele":
        lines[k] = lines[k].replace("<ele>100.0</ele>", "")
    elif kind == "xml":
        lines[k] = lines[k].replace("</trkpt>", "")
    else:
        lines[k] = lines[k].replace("09:30", "08:30")
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "c.gpx"
    path.write_text("\n".join(lines) + "\n")
    if kind == "backwards" and k in (rows[0], rows[3]):  # a track's first point: still valid
        read_gpx(path)
        return
    with pytest.raises(MobilityFileError) as err:
        read_gpx(path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(f"{path}:")
    if kind != "xml":
        line = k + 1 if kind != "ele" or k != rows[0] else rows[1] + 1
        assert msg.startswith(f"{path}:{line}: ")
