"""UAV fleets flown from imported mobility files (``uavs.mobility.model: trace``).

A file in any registered format (:mod:`simulator.world.mobility.formats`) gives one track of
breakpoints per node; this module turns the tracks into the run's UAVs:

* UAV ``i`` is node ``i`` of the file (ns-2 index, BonnMotion line, SUMO/GPX order of first
  appearance); ``uavs.count`` is the file's node count (an explicit count that disagrees is
  an error) and each UAV keeps the node's original name;
* times are shifted by ``time_offset_s`` and positions by ``offset_m``; a 2-D file (no
  altitudes) flies each UAV at an altitude drawn from ``altitude_m`` (once per UAV, from the
  mobility generator);
* each UAV exists from its first to its last breakpoint (its presence interval), cut at
  t = 0 if the offset moves it earlier;
* the fleet must lie in the scenario area, else the error names both bounding boxes; with
  ``area: fit`` the area becomes the fleet's bounding box instead, the fleet shifted so that
  the box starts at the origin.

Parsed files are cached by path, modification time and reader options, so validating,
sizing and building a run read each file once.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.config.models import Scenario
from simulator.config.world import MobilityConfig
from simulator.errors import ScenarioError
from simulator.world.mobility.formats.registry import open_rows
from simulator.world.mobility.formats.tracks import MobilityFileError, TrackSet
from simulator.world.mobility.trajectory import Trajectory

__all__ = ["ImportedFleet", "fleet_from_tracks", "load_tracks", "mobility_file",
           "mobility_fleet", "mobility_tracks", "resolve_trace_scenario", "trace_names",
           "trace_source_attrs"]

_CACHE: OrderedDict[tuple, TrackSet] = OrderedDict()
_CACHE_SIZE = 4


@dataclass(frozen=True)
class ImportedFleet:
    """The UAVs of an imported trace, ready for a run.

    Attributes:
        trajectories: one per UAV, spanning its presence interval.
        names: the nodes' ids in the source file.
        shift_m: ``[3]`` translation applied to the file's positions (offset, fit).
    """

    trajectories: list[Trajectory]
    names: list[str]
    shift_m: np.ndarray


def mobility_file(mob: MobilityConfig, base_dir: Path | None = None) -> Path:
    """The mobility file of a ``model: trace`` section, resolved against ``base_dir``."""
    path = Path(mob.file or mob.trace_file)
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    return path


def load_tracks(path: str | Path, fmt: str = "auto", *, dimensions: int | None = None,
                geo: bool | None = None, origin: Sequence[float] | None = None) -> TrackSet:
    """Read (or fetch from the cache) every track of a mobility file.

    Raises:
        MobilityFileError: the file is malformed, of unknown format, or has more dimensions
            than ``dimensions`` says.
        OSError: the file cannot be read.
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size, fmt, dimensions, geo,
           None if origin is None else tuple(origin))
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    stream = open_rows(path, fmt, dimensions=dimensions, geo=geo,
                       origin=None if origin is None else tuple(origin))
    if dimensions is not None and stream.dimensions > dimensions:
        raise MobilityFileError(path, None, f"the file gives altitudes ({stream.dimensions}-D) "
                                f"but uavs.mobility.dimensions is {dimensions}")
    tracks = stream.collect(path)
    _CACHE[key] = tracks
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return tracks


def _box(lo: np.ndarray, hi: np.ndarray) -> str:
    return f"x {lo[0]:.6g}..{hi[0]:.6g} m, y {lo[1]:.6g}..{hi[1]:.6g} m"


def fleet_from_tracks(tracks: TrackSet, *, rng: np.random.Generator,
                      altitude_m: tuple[float, float], time_offset_s: float = 0.0,
                      offset_m: Sequence[float] = (0.0, 0.0, 0.0),
                      area_m: tuple[float, float] | None = None, fit: bool = False,
                      source: str = "trace") -> ImportedFleet:
    """Turn tracks into the run's trajectories (see the module docstring).

    Args:
        tracks: the file's tracks.
        rng: the mobility generator (altitude draws for 2-D files, one per UAV in id order).
        altitude_m: ``(lo, hi)`` altitude range for 2-D files (m).
        time_offset_s: added to every time (s).
        offset_m: ``(dx, dy[, dz])`` added to every position (m).
        area_m: ``(width, height)`` of the scenario area to check the fleet against.
        fit: shift the fleet so that its bounding box starts at the origin (no area check).
        source: name of the file, for messages.

    Returns:
        The fleet.

    Raises:
        ScenarioError: a UAV with a single breakpoint, a UAV that leaves before t = 0 after
            the offset, or a fleet outside the area.
    """
    shift = np.zeros(3)
    off = np.asarray(offset_m, dtype=float)
    shift[: off.size] = off
    n = len(tracks.tracks)
    if tracks.dimensions == 2:
        lo, hi = float(altitude_m[0]), float(altitude_m[1])
        z = rng.uniform(lo, hi, n) if hi > lo else np.full(n, lo)
    else:
        z = np.zeros(n)
    pts_all = []
    for k, tr in enumerate(tracks.tracks):
        if tr.times.size < 2:
            raise ScenarioError(f"{source}: UAV {k} ({tr.name!r}) has a single sample (t="
                                f"{tr.start_time:g} s): a UAV needs two to exist for a "
                                "positive time")
        pts = tr.points + shift
        if tracks.dimensions == 2:
            pts[:, 2] = z[k] + shift[2]
        pts_all.append(pts)
    if fit:
        lo = np.min([p.min(axis=0) for p in pts_all], axis=0)
        fit_shift = np.array([-lo[0], -lo[1], 0.0])
        pts_all = [p + fit_shift for p in pts_all]
        shift = shift + fit_shift
    elif area_m is not None:
        lo = np.min([p.min(axis=0) for p in pts_all], axis=0)
        hi = np.max([p.max(axis=0) for p in pts_all], axis=0)
        if lo[0] < 0 or lo[1] < 0 or hi[0] > area_m[0] or hi[1] > area_m[1]:
            raise ScenarioError(
                f"{source}: the trace ({_box(lo, hi)} after offset_m) does not fit in the "
                f"area (x 0..{area_m[0]:g} m, y 0..{area_m[1]:g} m); set "
                "uavs.mobility.offset_m, a larger area, or uavs.mobility.area: fit")
    trajectories = []
    for k, (tr, pts) in enumerate(zip(tracks.tracks, pts_all, strict=True)):
        times = tr.times + float(time_offset_s)
        traj = Trajectory.from_samples(times, pts)
        if traj.end_time <= 0:
            raise ScenarioError(f"{source}: UAV {k} ({tr.name!r}) leaves at t="
                                f"{traj.end_time:g} s <= 0 after time_offset_s")
        if traj.start_time < 0:
            traj = traj.clip(0.0, None)
        trajectories.append(traj)
    return ImportedFleet(trajectories, [tr.name for tr in tracks.tracks], shift)


def mobility_tracks(mob: MobilityConfig, base_dir: Path | None = None
                    ) -> tuple[TrackSet, Path]:
    """The tracks of a ``model: trace`` section's file (cached), and the file.

    Raises:
        ScenarioError: the file is unreadable, malformed (``file:line: ...``) or of unknown
            format.
    """
    path = mobility_file(mob, base_dir)
    origin = None if mob.origin is None else tuple(mob.origin)
    try:
        return load_tracks(path, mob.format, dimensions=mob.dimensions, geo=mob.geo,
                           origin=origin), path
    except MobilityFileError as err:
        raise ScenarioError(str(err)) from None
    except OSError as err:
        raise ScenarioError(f"uavs.mobility.file: cannot read {path}: "
                            f"{err.strerror or err}") from None


def mobility_fleet(mob: MobilityConfig, rng: np.random.Generator,
                   area_m: tuple[float, float] | None, base_dir: Path | None = None
                   ) -> ImportedFleet:
    """The fleet of a ``model: trace`` section (see :func:`fleet_from_tracks`), checked
    against ``area_m`` unless the section says ``area: fit``.

    Raises:
        ScenarioError: as for :func:`mobility_tracks` and :func:`fleet_from_tracks`.
    """
    tracks, path = mobility_tracks(mob, base_dir)
    return fleet_from_tracks(
        tracks, rng=rng, altitude_m=(mob.altitude_m.lo, mob.altitude_m.hi),
        time_offset_s=mob.time_offset_s, offset_m=mob.offset_m,
        area_m=None if mob.area == "fit" else area_m, fit=mob.area == "fit",
        source=str(path))


def resolve_trace_scenario(scenario: Scenario, base_dir: Path | None = None) -> Scenario:
    """The scenario with ``uavs.count`` taken from its mobility file and, with ``area: fit``,
    the area fitted to the trace; other scenarios are returned unchanged.

    Raises:
        ScenarioError: the file is unreadable or malformed (``file:line: ...``), its node
            count disagrees with an explicit ``uavs.count``, or the trace does not fit.
        MobilityFileError: re-raised as ScenarioError (same message).
    """
    uavs = scenario.uavs
    mob = uavs.mobility
    if mob.model != "trace":
        return scenario
    tracks, path = mobility_tracks(mob, base_dir)
    n = len(tracks.tracks)
    if "count" in uavs.model_fields_set and uavs.count != n:
        raise ScenarioError(f"uavs.count: {uavs.count} disagrees with the {n} nodes of "
                            f"{path}; remove uavs.count (it is taken from the file)")
    update: dict[str, Any] = {}
    if uavs.count != n:
        update["uavs"] = uavs.model_copy(update={"count": n})
    fleet = mobility_fleet(mob, np.random.default_rng(0),
                           (scenario.area.width_m, scenario.area.height_m), base_dir)
    if mob.area == "fit":
        hi = np.max([np.maximum(t.p0.max(axis=0), t.p1.max(axis=0))
                     for t in fleet.trajectories], axis=0)
        width, height = (float(math.ceil(max(float(v), 1.0))) for v in hi[:2])
        update["area"] = scenario.area.model_copy(update={"width_m": width,
                                                          "height_m": height})
    return scenario.model_copy(update=update) if update else scenario


def trace_names(mob: MobilityConfig, base_dir: Path | None = None) -> list[str]:
    """The UAVs' names in the mobility file of a ``model: trace`` section (empty for the
    generated models).

    Raises:
        ScenarioError: as for :func:`mobility_tracks`.
    """
    if mob.model != "trace":
        return []
    return [tr.name for tr in mobility_tracks(mob, base_dir)[0].tracks]


def trace_source_attrs(mob: MobilityConfig, base_dir: Path | None = None) -> dict[str, Any]:
    """What a trace records about an imported mobility file (``/mobility`` attributes): the
    file, its format and dimensions, the projection of geographic input, the epoch of
    absolute times, the time offset and the shift applied. Empty for the generated models.

    Raises:
        ScenarioError: as for :func:`mobility_tracks`.
    """
    if mob.model != "trace":
        return {}
    tracks, path = mobility_tracks(mob, base_dir)
    fleet = mobility_fleet(mob, np.random.default_rng(0), None, base_dir)
    return {"source_file": str(path), "source_format": tracks.format,
            "source_dimensions": int(tracks.dimensions),
            "projection": tracks.projection or "", "epoch": tracks.epoch or "",
            "time_offset_s": float(mob.time_offset_s), "shift_m": fleet.shift_m}
