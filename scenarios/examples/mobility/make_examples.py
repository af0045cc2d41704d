"""Regenerate the example mobility files of scenarios/examples/mobility/.

Every file is made here, nothing is downloaded:

* ``sumo-grid.fcd.xml``: a real SUMO run (the ``eclipse-sumo`` package's ``netgenerate``,
  ``randomTrips.py`` and ``sumo --fcd-output``) on a 3 x 3 street grid, 2 minutes, one FCD
  sample every 2 s;
* ``sumo-grid.ns2``: the same run exported by SUMO's own ``traceExporter.py
  --ns2mobility-output``, as researchers feed it to ns-3's ``Ns2MobilityHelper``;
* ``patrol.movements.gz`` + ``patrol.params``: 3-D random-waypoint patrol flights in
  BonnMotion's native format (written by uavtwin's exporter, as BonnMotion writes them);
* ``survey.gpx``: two drones flying lawn-mower survey patterns over a field near Bonn,
  logged at 1 Hz with elevation (GPX 1.1, written with gpxpy);
* ``survey.csv``: ``survey.gpx`` converted with ``uavtwin convert`` (uavtwin's own CSV).

Usage (needs ``pip install eclipse-sumo gpxpy``, both in the ``test`` extra)::

    python scenarios/examples/mobility/make_examples.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))


def sumo_examples() -> None:
    import sumo

    home = Path(sumo.SUMO_HOME)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        net, rou = tmp_path / "grid.net.xml", tmp_path / "grid.rou.xml"
        fcd = tmp_path / "fcd.xml"
        run = {"check": True, "capture_output": True, "cwd": tmp_path}
        subprocess.run([home / "bin" / "netgenerate", "--grid", "--grid.number=3",
                        "--grid.length=200", "-o", net], **run)
        subprocess.run([sys.executable, home / "tools" / "randomTrips.py", "-n", net,
                        "-e", "60", "-p", "6", "-r", rou, "--seed", "11"], **run)
        subprocess.run([home / "bin" / "sumo", "-n", net, "-r", rou, "--fcd-output", fcd,
                        "--device.fcd.period", "2", "--end", "120", "--seed", "11",
                        "--no-step-log"], **run)
        text = fcd.read_text()
        # drop the temporary paths SUMO records in its configuration comment
        (HERE / "sumo-grid.fcd.xml").write_text(text.replace(str(tmp_path) + "/", ""))
        subprocess.run([sys.executable, home / "tools" / "traceExporter.py", "--fcd-input",
                        fcd, "--ns2mobility-output", tmp_path / "ns2.tcl"], **run)
        shutil.copy(tmp_path / "ns2.tcl", HERE / "sumo-grid.ns2")


def bonnmotion_example() -> None:
    from simulator.world.mobility.formats.bonnmotion import write_bonnmotion
    from simulator.world.mobility.generators import random_waypoints

    rng = np.random.default_rng(5)
    trajs = random_waypoints(rng, 6, duration_s=600.0, area_m=(1500.0, 1500.0),
                             speed_mps=(8.0, 15.0), pause_s=(0.0, 20.0),
                             altitude_m=(60.0, 120.0))
    write_bonnmotion(trajs, HERE / "patrol.movements.gz", dimensions=3,
                     model="RandomWaypoint")


def gpx_example() -> None:
    import gpxpy.gpx

    doc = gpxpy.gpx.GPX()
    doc.creator = "uavtwin make_examples.py"
    t0 = dt.datetime(2025, 6, 3, 8, 0, 0, tzinfo=dt.UTC)
    lat0, lon0, ground = 50.7246, 7.0875, 62.0  # a field south of Bonn, ground at 62 m
    m_lat = 1 / 111_195.0
    m_lon = 1 / (111_195.0 * np.cos(np.radians(lat0)))
    for k, (dx, start_s) in enumerate(((0.0, 0), (220.0, 45))):
        trk = gpxpy.gpx.GPXTrack(name=f"drone-{k + 1}")
        seg = gpxpy.gpx.GPXTrackSegment()
        # take off, climb to 80 m, fly 5 legs of 300 m spaced 40 m, return, land
        legs = [(dx, 0.0, 0.0)]
        legs.append((dx, 0.0, 80.0))
        for j in range(5):
            y0, y1 = (0.0, 300.0) if j % 2 == 0 else (300.0, 0.0)
            legs += [(dx + 40.0 * j, y0, 80.0), (dx + 40.0 * j, y1, 80.0)]
        legs += [(dx, 0.0, 80.0), (dx, 0.0, 0.0)]
        t = float(start_s)
        pts = [(t, *legs[0])]
        for a, b in zip(legs, legs[1:], strict=False):
            dist = float(np.linalg.norm(np.subtract(b, a)))
            steps = max(1, int(np.ceil(dist / (12.0 if b[2] == a[2] else 3.0))))
            for s in range(1, steps + 1):
                f = s / steps
                t += dist / steps / (12.0 if b[2] == a[2] else 3.0)
                pts.append((t, *(np.array(a) + f * (np.array(b) - np.array(a)))))
        for t, x, y, z in pts:
            seg.points.append(gpxpy.gpx.GPXTrackPoint(
                latitude=round(lat0 + y * m_lat, 7), longitude=round(lon0 + x * m_lon, 7),
                elevation=round(ground + z, 2), time=t0 + dt.timedelta(seconds=round(t, 1))))
        trk.segments.append(seg)
        doc.tracks.append(trk)
    (HERE / "survey.gpx").write_text(doc.to_xml(version="1.1"))


def csv_example() -> None:
    from simulator.app.convert import convert_file

    convert_file(HERE / "survey.gpx", HERE / "survey.csv", origin=(50.7246, 7.0875, 62.0))


if __name__ == "__main__":
    sumo_examples()
    bonnmotion_example()
    gpx_example()
    csv_example()
    for p in sorted(HERE.iterdir()):
        if p.suffix != ".py":
            print(f"{p.relative_to(ROOT)}: {p.stat().st_size:,} bytes")
