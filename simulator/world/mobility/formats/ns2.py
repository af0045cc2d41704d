"""ns-2 movement files (the ``setdest`` format), in and out.

The format is Tcl, as written by ns-2's ``setdest``, BonnMotion's ``NSFile``, SUMO's
``traceExporter.py --ns2mobility-output`` and read by ns-3's ``Ns2MobilityHelper``::

    $node_(0) set X_ 150.0              # initial position; Z_ is optional (default 0)
    $node_(0) set Y_ 93.2
    $ns_ at 2.5 "$node_(0) setdest 420.0 80.0 12.0"    # from t=2.5 head to (420, 80) at 12 m/s

Semantics (ns-3's reading, made exact):

* initial positions may appear anywhere in the file, even after the events;
* events are applied in time order (file order among equal times) whatever their order in
  the file; a ``setdest`` starts a straight move at constant speed from the node's position
  at that time, *redirecting* it if it was still travelling; the node waits at its
  destination after arriving at ``t + distance / speed``; a speed of 0 stops it where it is;
* ``setdest X Y SPEED`` moves in the horizontal plane at constant altitude;
  ``setdest X Y Z SPEED`` (BonnMotion's 3-D export) moves in 3-D;
* every node exists from t = 0 to the end of the last movement in the file (ns-2 nodes never
  leave), and its breakpoints are the event times and arrival times;
* comments, blank lines and ``$god_`` lines are skipped; any other line is an error, as are a
  ``setdest`` for a node without an initial position, a negative or NaN speed, and a
  scheduled ``set X_`` that would make the node jump (uavtwin trajectories are continuous).

An arrival within 1 ns of the node's next event is taken to happen at that event, so the
rounding in files whose speeds were computed as distance / duration does not create
nanosecond segments.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import numpy as np

from simulator.world.mobility.formats.tracks import (
    MobilityFileError,
    Row,
    RowStream,
    TrackSet,
    atomic_output,
    fmt_float,
    open_text,
    parse_float,
)
from simulator.world.mobility.trajectory import Trajectory

__all__ = ["ns2_rows", "read_ns2", "write_ns2"]

_NUM = r"(\S+)"
_INITIAL = re.compile(r"^\$node_\((\d+)\)\s+set\s+([XYZ])_\s+" + _NUM + r"$")
_AT = r"^\$ns_?\s+at\s+" + _NUM + r'\s+"\s*\$node_\((\d+)\)\s+'
_SETDEST = re.compile(_AT + r"setdest\s+" + _NUM + r"\s+" + _NUM + r"(?:\s+" + _NUM + r")?\s+"
                      + _NUM + r'\s*"$')
_SCHED_SET = re.compile(_AT + r"set\s+([XYZ])_\s+" + _NUM + r'\s*"$')
_SNAP_S = 1e-9
_AXIS = {"X": 0, "Y": 1, "Z": 2}


def _strip(raw: str) -> str:
    text = raw.split("#", 1)[0].strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _parse(path: Path) -> tuple[dict[int, list[float | None]], list[tuple], bool, int]:
    """Initial coordinates per node, events (time, line, node, kind, payload), 3-D flag, and
    the number of lines."""
    initial: dict[int, list[float | None]] = {}
    events: list[tuple] = []
    three_d = False
    n = 0
    with open_text(path) as fh:
        for n, raw in enumerate(fh, start=1):
            text = _strip(raw)
            if not text or "$god_" in text:
                continue
            m = _INITIAL.match(text)
            if m:
                node, axis = int(m.group(1)), _AXIS[m.group(2)]
                v = parse_float(m.group(3), path, n, f"node {node} {m.group(2)}_")
                initial.setdefault(node, [None, None, None])[axis] = v
                three_d |= axis == 2 and v != 0.0
                continue
            m = _SETDEST.match(text)
            if m:
                t = _time(m.group(1), path, n)
                node = int(m.group(2))
                nums = [m.group(3), m.group(4)] + ([m.group(5)] if m.group(5) else [])
                dest = [parse_float(s, path, n, f"setdest {a}")
                        for s, a in zip(nums, "xyz", strict=False)]
                speed = parse_float(m.group(6), path, n, "setdest speed")
                if speed < 0:
                    raise MobilityFileError(path, n, f"setdest speed: expected >= 0 m/s, got "
                                            f"{m.group(6)}")
                three_d |= len(dest) == 3
                events.append((t, n, node, "setdest", (dest, speed)))
                continue
            m = _SCHED_SET.match(text)
            if m:
                t = _time(m.group(1), path, n)
                node, axis = int(m.group(2)), _AXIS[m.group(3)]
                v = parse_float(m.group(4), path, n, f"node {node} {m.group(3)}_")
                three_d |= axis == 2 and v != 0.0
                events.append((t, n, node, "set", (axis, v)))
                continue
            raise MobilityFileError(path, n, "expected '$node_(i) set X_|Y_|Z_ v' or '$ns_ at T "
                                    "\"$node_(i) setdest X Y [Z] SPEED\"', got "
                                    f"{raw.strip()[:80]!r}")
    return initial, events, three_d, n


def _time(text: str, path: Path, line: int) -> float:
    t = parse_float(text, path, line, "event time")
    if t < 0:
        raise MobilityFileError(path, line, f"event time: expected >= 0 s, got {text}")
    return t


class _Mover:
    """One node's motion while the events are replayed: a list of breakpoints and the leg
    in progress (start time/point, destination, arrival time)."""

    def __init__(self, start: np.ndarray) -> None:
        self.times = [0.0]
        self.points = [start]
        self.leg: tuple[float, np.ndarray, np.ndarray, float] | None = None

    def _settle(self, t: float) -> np.ndarray:
        """Advance to time ``t``: close a finished leg, or cut a running one at ``t``."""
        if self.leg is None:
            return self.points[-1]
        t0, p0, p1, t1 = self.leg
        eps = _SNAP_S * max(1.0, abs(t1))
        if t >= t1 - eps:
            self.leg = None
            self._add(t1 if t1 < t - eps else t, p1)
            return p1
        f = (t - t0) / (t1 - t0)
        here = p0 + (p1 - p0) * f
        self.leg = None
        self._add(t, here)
        return here

    def _add(self, t: float, p: np.ndarray) -> None:
        if t > self.times[-1]:
            self.times.append(t)
            self.points.append(p)

    def setdest(self, t: float, dest: list[float], speed: float) -> None:
        here = self._settle(t)
        self._add(t, here)
        target = here.copy()
        target[: len(dest)] = dest
        dist = float(np.linalg.norm(target - here))
        if speed == 0.0 or dist == 0.0:
            return
        self.leg = (t, here, target, t + dist / speed)

    def jump(self, t: float, axis: int, value: float, path: Path, line: int) -> None:
        here = self._settle(t)
        if value == here[axis]:
            return
        if self.times == [0.0] and t == 0.0:
            moved = here.copy()
            moved[axis] = value
            self.points[0] = moved
            return
        raise MobilityFileError(path, line, f"a scheduled 'set {'XYZ'[axis]}_' at t={t} moves "
                                "the node by a jump; uavtwin trajectories are continuous "
                                "(use setdest)")

    def finish(self) -> None:
        if self.leg is not None:
            self._settle(self.leg[3])


def ns2_rows(path: str | Path) -> RowStream:
    """Read an ns-2 movement file (see the module docstring for the exact semantics).

    The whole file is parsed before the first row is produced (events may come in any order),
    then rows are produced node by node.

    Args:
        path: the file (plain or gzip).

    Returns:
        The rows: ``uav_id`` and ``name`` are the ns-2 node index; ``dimensions`` is 3 if
        the file uses 3-D setdest or a nonzero ``Z_``.

    Raises:
        MobilityFileError: ``path:line: ...`` for any malformed or unsupported line, an event
            for a node without an initial position, or a file without nodes.
        OSError: the file cannot be read.
    """
    path = Path(path)
    initial, events, three_d, n_lines = _parse(path)
    first_line: dict[int, int] = {}
    for _t, line, node, _k, _p in events:
        first_line.setdefault(node, line)
    for node, line in sorted(first_line.items(), key=lambda kv: kv[1]):
        coords = initial.get(node)
        if coords is None or coords[0] is None or coords[1] is None:
            raise MobilityFileError(path, line, f"event for $node_({node}), which has no "
                                    "initial position ($node_({node}) set X_ and Y_)")
    for node, coords in initial.items():
        if coords[0] is None or coords[1] is None:
            raise MobilityFileError(path, n_lines, f"$node_({node}) has no initial "
                                    f"{'X_' if coords[0] is None else 'Y_'}")
    if not initial:
        raise MobilityFileError(path, n_lines, "no node positions ($node_(i) set X_ ...) in "
                                "the file")
    movers = {node: _Mover(np.array([c[0], c[1], c[2] or 0.0])) for node, c in initial.items()}
    for t, line, node, kind, payload in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == "setdest":
            movers[node].setdest(t, payload[0], payload[1])
        else:
            movers[node].jump(t, payload[0], payload[1], path, line)
    for m in movers.values():
        m.finish()
    horizon = max(m.times[-1] for m in movers.values())
    if horizon <= 0.0:
        raise MobilityFileError(path, n_lines, "no node ever moves (no setdest with a "
                                "positive speed): the trace has zero duration")

    def rows() -> Iterator[Row]:
        for node in sorted(movers):
            m = movers[node]
            if m.times[-1] < horizon:
                m.times.append(horizon)
                m.points.append(m.points[-1])
            name = str(node)
            for t, p in zip(m.times, m.points, strict=True):
                yield (node, t, float(p[0]), float(p[1]), float(p[2]), name)

    return RowStream(rows(), 3 if three_d else 2, format="ns2")


def read_ns2(path: str | Path) -> TrackSet:
    """Every node of an ns-2 movement file as tracks (see :func:`ns2_rows`).

    Raises:
        MobilityFileError: the file is malformed.
        OSError: the file cannot be read.
    """
    return ns2_rows(path).collect(path)


def write_ns2(trajectories: Sequence[Trajectory], path_or_file: str | Path | IO[str], *,
              names: Sequence[str] | None = None, dimensions: int = 2) -> float:
    """Write trajectories as an ns-2 movement file that ns-2 and ns-3's
    ``Ns2MobilityHelper`` replay exactly (in the horizontal plane).

    Node ``i`` is ``trajectories[i]``: its initial ``X_ Y_ Z_`` is its first point and each
    moving segment becomes one ``setdest`` at the segment's start time with the segment's
    speed, so the node arrives at the segment's end point at its end time; hovers need no
    line (an ns-2 node waits at its destination). ns-2 nodes exist for the whole run, so a
    UAV waits at its first point before its presence interval and at its last point after
    it; the interval is recorded in a comment line per node.

    Args:
        trajectories: one per node.
        path_or_file: destination path (written atomically; ``.gz`` compresses) or an open
            text handle.
        names: the nodes' original names, written in the comment lines.
        dimensions: 2 writes ``setdest X Y SPEED`` (what ns-2 and ns-3 read): altitude stays
            at the node's initial ``Z_``; 3 writes BonnMotion's ``setdest X Y Z SPEED``
            (uavtwin reads it; ns-3 does not).

    Returns:
        The largest altitude error the file leaves (m): 0 for ``dimensions=3`` or UAVs at
        constant altitude.

    Raises:
        ValueError: ``dimensions`` is not 2 or 3, or ``names`` has the wrong length.
    """
    if dimensions not in (2, 3):
        raise ValueError(f"write_ns2: dimensions must be 2 or 3, got {dimensions}")
    if names is not None and len(names) != len(trajectories):
        raise ValueError(f"write_ns2: {len(names)} names for {len(trajectories)} trajectories")
    if isinstance(path_or_file, str | Path):
        with atomic_output(path_or_file) as fh:
            return _write(trajectories, fh, names, dimensions)
    return _write(trajectories, path_or_file, names, dimensions)


def _write(trajectories: Sequence[Trajectory], fh: IO[str], names: Sequence[str] | None,
           dimensions: int) -> float:
    f = fmt_float
    z_err = 0.0
    fh.write(f"# ns-2 movement file written by uavtwin: {len(trajectories)} nodes, "
             f"{dimensions}-D setdest\n")
    for i, tr in enumerate(trajectories):
        name = f' "{names[i]}"' if names is not None else ""
        fh.write(f"# node {i}{name} present [{f(tr.start_time)}, {f(tr.end_time)}] s\n")
        x0, y0, z0 = (float(v) for v in tr.p0[0])
        fh.write(f"$node_({i}) set X_ {f(x0)}\n$node_({i}) set Y_ {f(y0)}\n"
                 f"$node_({i}) set Z_ {f(z0)}\n")
        if dimensions == 2:
            z_err = max(z_err, float(np.abs(np.concatenate([tr.p0[:, 2], tr.p1[-1:, 2]])
                                            - z0).max()))
        span = tr.p1 - tr.p0
        if dimensions == 2:
            span = span[:, :2]
        dist = np.linalg.norm(span, axis=1)
        speed = dist / (tr.t1 - tr.t0)
        for k in np.flatnonzero(dist > 0).tolist():
            x, y, z = (float(v) for v in tr.p1[k])
            dest = f"{f(x)} {f(y)}" + (f" {f(z)}" if dimensions == 3 else "")
            fh.write(f'$ns_ at {f(tr.t0[k])} "$node_({i}) setdest {dest} '
                     f'{f(speed[k])}"\n')
    return z_err if math.isfinite(z_err) else 0.0
