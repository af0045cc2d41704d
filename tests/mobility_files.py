"""Helpers of the mobility file tests: random trajectories, sample times, and real SUMO runs
(a small road network, random trips and ``sumo --fcd-output`` with the ``eclipse-sumo``
package's binaries; nothing is downloaded)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.world.mobility.trajectory import Trajectory

NODES_LONLAT = {"a": (7.0950, 50.7300), "b": (7.1000, 50.7300), "c": (7.1000, 50.7340),
                "d": (7.0950, 50.7340)}
EDGES = ("ab", "ba", "bc", "cb", "cd", "dc", "da", "ad")


def sumo_home() -> Path:
    """The eclipse-sumo installation (skips the test if the package is missing)."""
    sumo = pytest.importorskip("sumo")
    return Path(sumo.SUMO_HOME)


def sumo_fcd(out_dir: Path, *, geo: bool, end_s: int = 60, trips_end_s: int = 30,
             seed: int = 3) -> Path:
    """Run SUMO on a 4-node ring road around lon 7.1, lat 50.73 (UTM-projected network) and
    return its FCD file (``--fcd-output.geo`` when ``geo``)."""
    home = sumo_home()
    out_dir.mkdir(parents=True, exist_ok=True)
    nod = out_dir / "ring.nod.xml"
    nod.write_text("<nodes>\n" + "".join(
        f'  <node id="{k}" x="{lon}" y="{lat}"/>\n' for k, (lon, lat) in NODES_LONLAT.items())
        + "</nodes>\n")
    edg = out_dir / "ring.edg.xml"
    edg.write_text("<edges>\n" + "".join(
        f'  <edge id="{e}" from="{e[0]}" to="{e[1]}" numLanes="1" speed="13.9"/>\n'
        for e in EDGES) + "</edges>\n")
    net = out_dir / "ring.net.xml"
    rou = out_dir / "ring.rou.xml"
    fcd = out_dir / ("ring.geo.fcd.xml" if geo else "ring.fcd.xml")
    run = {"check": True, "capture_output": True, "cwd": out_dir}
    subprocess.run([home / "bin" / "netconvert", "-n", nod, "-e", edg, "--proj.utm", "-o", net],
                   **run)
    subprocess.run([sys.executable, home / "tools" / "randomTrips.py", "-n", net, "-e",
                    str(trips_end_s), "-p", "5", "-r", rou, "--seed", str(seed)], **run)
    cmd = [home / "bin" / "sumo", "-n", net, "-r", rou, "--fcd-output", fcd, "--end",
           str(end_s), "--seed", str(seed), "--no-step-log"]
    if geo:
        cmd.append("--fcd-output.geo")
    subprocess.run(cmd, **run)
    return fcd


def random_trajectory(rng: np.random.Generator, *, t_start: float = 0.0,
                      flat: bool = False) -> Trajectory:
    """Straight legs and hovers with random durations; altitude varies unless ``flat``."""
    n = int(rng.integers(2, 9))
    times = t_start + np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 30.0, n))])
    pts = rng.uniform([-500, -500, 50], [2000, 2000, 150], size=(n + 1, 3))
    hover = rng.random(n) < 0.3
    for k in np.flatnonzero(hover):
        pts[k + 1] = pts[k]
    if flat:
        pts[:, 2] = pts[0, 2]
    return Trajectory.from_samples(times, pts)


def sample_times(trajs: list[Trajectory]) -> np.ndarray:
    """Breakpoints, just before/after them, and midpoints."""
    ts = np.concatenate([np.append(t.t0, t.t1[-1]) for t in trajs])
    mids = np.concatenate([(t.t0 + t.t1) / 2 for t in trajs])
    return np.unique(np.concatenate([ts, ts - 1e-6, ts + 1e-6, mids]))
