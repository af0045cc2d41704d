"""``uavtwin convert``: mobility files in and out.

* ``uavtwin convert FILE --from ns2|bonnmotion|sumo-fcd|gpx|csv|auto [--to csv] -o OUT.csv``
  streams the file's breakpoints into uavtwin's trace CSV (``uav_id,t_s,x_m,y_m,z_m,name``),
  row by row, so a 1 GB SUMO file converts in bounded memory (with a progress bar);
* ``--to ns2|bonnmotion`` writes the file's tracks in those formats;
* ``uavtwin convert TRACE.h5 --to ns2|bonnmotion -o OUT`` exports the exact segments of a
  uavtwin run, to replay it at packet level in ns-3 (``Ns2MobilityHelper``) or OMNeT++/INET
  (``BonnMotionMobility``, ``Ns2MotionMobility``).

Output is written atomically: a failed conversion leaves nothing at ``OUT``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import InputError
from simulator.world.mobility.formats.registry import FORMATS, open_rows, writable_formats
from simulator.world.mobility.formats.trace_csv import write_csv_rows
from simulator.world.mobility.formats.tracks import MobilityFileError, TrackSet
from simulator.world.mobility.trajectory import Trajectory

__all__ = ["ConvertResult", "cmd_convert", "convert_file", "is_trace", "trace_trajectories"]

log = logging.getLogger(__name__)
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion wrote.

    Attributes:
        output: the file written (for BonnMotion, the movements file; the params file is
            beside it).
        to: output format name.
        uavs: number of nodes written.
        rows: breakpoints written (CSV) or segments exported (ns-2, BonnMotion).
        dimensions: dimensions of the source data.
        altitude_error_m: largest altitude the output cannot represent (2-D ns-2 export of a
            flight that changes altitude), else 0.
        projection: PROJ string applied to geographic input, or None.
    """

    output: Path
    to: str
    uavs: int
    rows: int
    dimensions: int
    altitude_error_m: float = 0.0
    projection: str | None = None


def is_trace(path: str | Path) -> bool:
    """True if ``path`` is an HDF5 file (a uavtwin trace)."""
    with Path(path).open("rb") as fh:
        return fh.read(8) == _HDF5_MAGIC


def trace_trajectories(path: str | Path) -> tuple[list[Trajectory], list[str]]:
    """The exact trajectories of a run (``/mobility/segments``) and the UAVs' names.

    Raises:
        TraceError: not a readable uavtwin trace.
        InputError: the trace has no segments.
    """
    from simulator.trace.reader import TraceReader

    with TraceReader(path) as tr:
        if "/mobility/segments" not in tr.tables() or tr.n_rows("/mobility/segments") == 0:
            raise InputError(f"{path}: the trace has no /mobility/segments rows to export")
        seg = tr.read("/mobility/segments")
        stored = tr.group_attrs("/mobility").get("uav_names")
    ids = seg["uav_id"]
    order = np.lexsort((seg["t_start_s"], ids))
    trajectories = []
    n = int(ids.max()) + 1
    for u in range(n):
        k = order[ids[order] == u]
        if k.size == 0:
            raise InputError(f"{path}: UAV {u} has no segments")
        trajectories.append(Trajectory(
            seg["t_start_s"][k], seg["t_end_s"][k],
            np.column_stack([seg["x0_m"][k], seg["y0_m"][k], seg["z0_m"][k]]),
            np.column_stack([seg["x1_m"][k], seg["y1_m"][k], seg["z1_m"][k]])))
    if stored is not None and len(stored) >= n:
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in list(stored)[:n]]
    else:
        names = [str(u) for u in range(n)]
    return trajectories, names


def _trajectories(ts: TrackSet, path: Path) -> tuple[list[Trajectory], list[str]]:
    out = []
    for tr in ts.tracks:
        if tr.times.size < 2:
            raise MobilityFileError(path, None, f"node {tr.name!r} has a single sample (at "
                                    f"t={tr.start_time}): it cannot be exported as segments")
        out.append(Trajectory.from_samples(tr.times, tr.points))
    return out, [tr.name for tr in ts.tracks]


def convert_file(src: str | Path, out: str | Path, *, from_format: str = "auto",
                 to: str = "csv", dimensions: int | None = None, geo: bool | None = None,
                 origin: Sequence[float] | None = None, out_dimensions: int | None = None,
                 progress: Any = None) -> ConvertResult:
    """Convert a mobility file (or a uavtwin trace) to ``to``.

    Args:
        src: input file; an HDF5 uavtwin trace exports its exact segments.
        out: output path.
        from_format: input format name or ``auto``.
        to: ``csv``, ``ns2`` or ``bonnmotion``.
        dimensions: 2 or 3 for inputs that cannot tell (BonnMotion without params).
        geo: SUMO FCD positions are longitude/latitude (default: detect).
        origin: ``(lat, lon[, alt_m])`` of the projection of geographic input.
        out_dimensions: dimensions written to ns-2 (default 2, what ns-3 reads) or
            BonnMotion (default: the source's).
        progress: called with bytes read, for streaming inputs.

    Returns:
        What was written.

    Raises:
        MobilityFileError, TraceError, InputError: bad input (nothing is left at ``out``).
        ValueError: unknown format names.
    """
    src, out = Path(src), Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if to not in ("csv", *writable_formats()):
        raise ValueError(f"--to: expected csv or one of {', '.join(writable_formats())}, "
                         f"got {to!r}")
    if is_trace(src):
        if to == "csv":
            raise InputError(f"{src}: a trace exports to {' or '.join(writable_formats())}")
        trajectories, names = trace_trajectories(src)
        dims = 3
        projection = None
    else:
        stream = open_rows(src, from_format, dimensions=dimensions, geo=geo,
                           origin=tuple(origin) if origin is not None else None,
                           progress=progress)
        if dimensions is not None and stream.dimensions > dimensions:
            raise MobilityFileError(src, None, f"the file is {stream.dimensions}-D (it gives "
                                    f"altitudes) but --dimensions is {dimensions}")
        dims = stream.dimensions
        projection = stream.projection
        if to == "csv":
            seen: set[int] = set()

            def counted():
                for row in stream.rows:
                    seen.add(row[0])
                    yield row

            n_rows = write_csv_rows(counted(), out)
            return ConvertResult(out, to, len(seen), n_rows, dims, 0.0, projection)
        trajectories, names = _trajectories(stream.collect(src), src)
    segments = sum(t.n_segments for t in trajectories)
    if to == "ns2":
        err = FORMATS["ns2"].write(trajectories, out, names=names,
                                   dimensions=out_dimensions or 2)
        return ConvertResult(out, to, len(trajectories), segments, dims, err, projection)
    FORMATS["bonnmotion"].write(trajectories, out, dimensions=out_dimensions or dims)
    return ConvertResult(out, to, len(trajectories), segments, dims, 0.0, projection)


def cmd_convert(args: argparse.Namespace) -> int:
    """``uavtwin convert FILE --from FMT [--to FMT] -o OUT``."""
    from tqdm import tqdm

    src = Path(args.file)
    total = src.stat().st_size
    with tqdm(total=total, unit="B", unit_scale=True, desc="converting", file=sys.stderr,
              disable=args.quiet or total < (8 << 20), leave=False) as bar:
        result = convert_file(src, args.output, from_format=args.from_format, to=args.to,
                              dimensions=args.dimensions, geo=True if args.geo else None,
                              origin=args.origin, out_dimensions=args.out_dimensions,
                              progress=bar.update)
    if result.altitude_error_m > 0:
        print(f"uavtwin: warning: ns-2 setdest is 2-D: altitudes kept at each node's initial "
              f"Z_ (up to {result.altitude_error_m:.3g} m off); --out-dimensions 3 writes "
              "BonnMotion's 3-D setdest", file=sys.stderr)
    what = "breakpoints" if result.to == "csv" else "segments"
    proj = f", projected with {result.projection}" if result.projection else ""
    print(f"{result.output}: {result.uavs} UAVs, {result.rows} {what}, "
          f"{result.dimensions}-D source, {result.to}{proj}")
    return 0
