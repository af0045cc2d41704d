"""BonnMotion's native scenario files, in and out.

BonnMotion writes a scenario as ``NAME.movements.gz`` (gzip; a plain ``.movements`` is read
too) and ``NAME.params`` beside it. Each non-comment line of the movements file is one node
(node id = its 0-based line number, comment lines starting with ``#`` not counted) and holds
its waypoints one after the other: ``t x y`` triples in 2-D, ``t x y z`` quadruples in 3-D.
The node is at each waypoint at its time and moves straight between them; it appears at its
first waypoint (which may be after t = 0) and leaves at its last.

A line's length cannot tell 2-D from 3-D (12 numbers are four 2-D or three 3-D waypoints), so
the dimension comes from, in order: the ``.params`` file (``J=2D|3D``; BonnMotion writes 3-D
when it has ``z=`` and no ``J``), BonnMotion's ``#3D`` first line, the caller's
``dimensions``; otherwise reading is an error that says so. A time that goes backwards, a
repeated time at a different place, or a line whose count does not fit the dimension is an
error with its line; a node with a single waypoint stays there until the ``.params``
``duration``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

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

__all__ = ["bonnmotion_rows", "params_path", "read_bonnmotion", "read_params",
           "write_bonnmotion"]


def params_path(movements: str | Path) -> Path:
    """The ``.params`` file that belongs beside a ``.movements[.gz]`` file."""
    movements = Path(movements)
    name = movements.name
    for suffix in (".movements.gz", ".movements"):
        if name.endswith(suffix):
            return movements.with_name(name[: -len(suffix)] + ".params")
    return movements.with_name(movements.stem + ".params")


def read_params(path: str | Path) -> dict[str, tuple[str, int]]:
    """``key -> (value, line)`` of a BonnMotion ``.params`` file (``key=value`` lines).

    Raises:
        MobilityFileError: a non-empty line without ``=``.
        OSError: the file cannot be read.
    """
    out: dict[str, tuple[str, int]] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            if "=" not in text:
                raise MobilityFileError(path, n, f"expected key=value, got {text[:60]!r}")
            key, value = text.split("=", 1)
            out[key.strip()] = (value.strip(), n)
    return out


def _dimension_of(params: dict[str, tuple[str, int]], ppath: Path) -> int:
    if "J" in params:
        value, line = params["J"]
        if value.upper() not in ("2D", "3D"):
            raise MobilityFileError(ppath, line, f"J: expected 2D or 3D, got {value!r}")
        return 3 if value.upper() == "3D" else 2
    return 3 if "z" in params else 2


def bonnmotion_rows(path: str | Path, *, dimensions: int | None = None) -> RowStream:
    """Stream a BonnMotion movements file, one node (line) at a time.

    Args:
        path: ``NAME.movements.gz`` or ``NAME.movements``.
        dimensions: 2 or 3, used when neither ``NAME.params`` nor a ``#3D`` line says; an
            explicit value that contradicts ``NAME.params`` is an error.

    Returns:
        Rows with ``uav_id`` = line number among node lines and ``name`` = the same number.

    Raises:
        MobilityFileError: see the module docstring (raised while the rows are consumed for
            errors inside the lines).
        OSError: the file cannot be read.
    """
    path = Path(path)
    ppath = params_path(path)
    params = read_params(ppath) if ppath.is_file() else {}
    duration = None
    if "duration" in params:
        duration = parse_float(params["duration"][0], ppath, params["duration"][1], "duration")
    header_3d = False
    with open_text(path) as fh:
        for raw in fh:
            if raw.strip():
                header_3d = raw.strip().upper() == "#3D"
                break
    if params:
        dims = _dimension_of(params, ppath)
        if dimensions is not None and dimensions != dims:
            raise MobilityFileError(ppath, params.get("J", ("", None))[1],
                                    f"the scenario says {dimensions}-D but {ppath.name} says "
                                    f"{dims}-D")
    elif header_3d:
        dims = 3
    elif dimensions in (2, 3):
        dims = int(dimensions)
    else:
        raise MobilityFileError(path, None, f"cannot tell 2-D (t x y) from 3-D (t x y z) "
                                f"waypoints: no {ppath.name} beside it (J=2D|3D) and no #3D "
                                "line; give --dimensions 2|3 (uavs.mobility.dimensions)")
    return RowStream(_rows(path, dims, duration), dims, format="bonnmotion")


def _rows(path: Path, dims: int, duration: float | None) -> Iterator[Row]:
    width = dims + 1
    node = 0
    blank_line = None
    with open_text(path) as fh:
        for n, raw in enumerate(fh, start=1):
            text = raw.strip()
            if text.startswith("#"):
                continue
            if not text:
                blank_line = blank_line or n
                continue
            if blank_line is not None:
                raise MobilityFileError(path, blank_line, f"empty line for node {node}: "
                                        "expected waypoints")
            fields = text.split()
            if len(fields) % width:
                hint = " (a 3-D file read as 2-D?)" if dims == 2 and len(fields) % 4 == 0 else (
                    " (a 2-D file read as 3-D?)" if dims == 3 and len(fields) % 3 == 0 else "")
                raise MobilityFileError(path, n, f"expected {dims}-D waypoints "
                                        f"({'t x y' if dims == 2 else 't x y z'}), a multiple "
                                        f"of {width} numbers, got {len(fields)}{hint}")
            vals = [parse_float(s, path, n, f"node {node} value {k + 1}")
                    for k, s in enumerate(fields)]
            arr = np.asarray(vals).reshape(-1, width)
            yield from _node_rows(path, n, node, arr, dims, duration)
            node += 1
    if node == 0:
        raise MobilityFileError(path, None, "no node lines in the file")


def _node_rows(path: Path, line: int, node: int, arr: np.ndarray, dims: int,
               duration: float | None) -> Iterator[Row]:
    t = arr[:, 0]
    pts = np.zeros((len(arr), 3))
    pts[:, :dims] = arr[:, 1:]
    keep = np.ones(len(t), dtype=bool)
    for k in range(1, len(t)):
        if t[k] < t[k - 1]:
            hint = " (a 3-D file read as 2-D?)" if dims == 2 else ""
            raise MobilityFileError(path, line, f"node {node}: time goes backwards at "
                                    f"waypoint {k + 1} ({t[k - 1]} then {t[k]}){hint}")
        if t[k] == t[k - 1]:
            if (pts[k] != pts[k - 1]).any():
                raise MobilityFileError(path, line, f"node {node}: two positions at time "
                                        f"{t[k]} (waypoint {k + 1}): a jump")
            keep[k] = False
    t, pts = t[keep], pts[keep]
    if len(t) == 1 and duration is not None and duration > t[0]:
        t = np.append(t, duration)
        pts = np.vstack([pts, pts])
    name = str(node)
    for k in range(len(t)):
        yield (node, float(t[k]), float(pts[k, 0]), float(pts[k, 1]), float(pts[k, 2]), name)


def read_bonnmotion(path: str | Path, *, dimensions: int | None = None) -> TrackSet:
    """Every node of a BonnMotion scenario as tracks (see :func:`bonnmotion_rows`).

    Raises:
        MobilityFileError: the file is malformed or its dimension is unknown.
        OSError: the file cannot be read.
    """
    return bonnmotion_rows(path, dimensions=dimensions).collect(path)


def write_bonnmotion(trajectories: Sequence[Trajectory], path: str | Path, *,
                     dimensions: int = 3, model: str = "uavtwin") -> Path:
    """Write trajectories as a BonnMotion scenario: ``path`` (``NAME.movements.gz``, or
    ``NAME.movements`` uncompressed) and ``NAME.params`` beside it.

    Each node's line lists its breakpoints (the ends of its segments) over its presence
    interval, so BonnMotion and uavtwin replay the exact segments.

    Args:
        trajectories: one per node.
        path: the movements file to write (atomically, with its params file).
        dimensions: 3 (``t x y z``, ``J=3D``) or 2 (``t x y``, altitude dropped).
        model: the ``model=`` value written to the params file.

    Returns:
        The params file written.

    Raises:
        ValueError: ``dimensions`` is not 2 or 3, or no trajectories.
    """
    if dimensions not in (2, 3):
        raise ValueError(f"write_bonnmotion: dimensions must be 2 or 3, got {dimensions}")
    if not trajectories:
        raise ValueError("write_bonnmotion: no trajectories")
    f = fmt_float
    path = Path(path)
    ppath = params_path(path)
    hi = np.max([np.maximum(tr.p0.max(axis=0), tr.p1.max(axis=0)) for tr in trajectories],
                axis=0)
    end = max(tr.end_time for tr in trajectories)
    with atomic_output(path) as fh:
        if dimensions == 3:
            fh.write("#3D\n")
        for tr in trajectories:
            times = np.append(tr.t0, tr.t1[-1])
            pts = np.vstack([tr.p0, tr.p1[-1:]])[:, :dimensions]
            fh.write(" ".join(f(t) + " " + " ".join(f(v) for v in p)
                              for t, p in zip(times.tolist(), pts.tolist(), strict=True)))
            fh.write("\n")
        with atomic_output(ppath, gz=False) as pf:
            pf.write(f"model={model}\nignore=0.0\nrandomSeed=0\nx={f(max(hi[0], 0.0))}\n"
                     f"y={f(max(hi[1], 0.0))}\n")
            if dimensions == 3:
                pf.write(f"z={f(max(hi[2], 0.0))}\n")
            pf.write(f"duration={f(end)}\nnn={len(trajectories)}\ncircular=false\n"
                     f"J={dimensions}D\n")
    return ppath
