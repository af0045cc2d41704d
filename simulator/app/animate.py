"""``uavtwin animate TRACE -o run.mp4|run.gif|run.html`` and ``uavtwin report --snapshot T``.

A replay is built from the trace alone (any trace, including runs of imported mobility):
:func:`analysis.replay.scene.load_scene` reads the tables, and this module adds the one thing
a trace does not list, the backhaul graph, which it rebuilds from the resolved scenario stored
in the trace (``scenario_yaml``) and the RSU table with the simulator's own
:func:`~simulator.world.topology.build_backhaul`. When that fails (a trace from elsewhere, a
scenario this version cannot read), the replay draws the links that some transfer's route
crossed instead. The renderers live in :mod:`analysis.replay`; see docs/animation.md.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from simulator.config.loader import parse_scenario
from simulator.errors import InputError, UavtwinError
from simulator.trace.reader import TraceReader
from simulator.world.topology import build_backhaul

__all__ = ["FOOTPRINT_ALTITUDES", "FORMATS", "animate", "backhaul_edges", "coverage_footprint",
           "snapshot"]

log = logging.getLogger(__name__)

FORMATS: tuple[str, ...] = (".mp4", ".gif", ".html")
"""Output formats of ``uavtwin animate``, by file extension."""
FOOTPRINT_ALTITUDES: int = 65
"""Altitudes (evenly spaced over those flown) at which a radio footprint is computed."""


def backhaul_edges(trace: str | os.PathLike[str]) -> np.ndarray | None:
    """The run's backhaul links, rebuilt from the scenario stored in the trace.

    Args:
        trace: The trace file.

    Returns:
        ``[E, 2]`` RSU id pairs, or None when the scenario cannot be rebuilt (logged).

    Raises:
        TraceError: The file is not a readable trace.
    """
    with TraceReader(trace) as r:
        text = str(r.attrs.get("scenario_yaml", ""))
        rsus = r.read("/rsus", ["x_m", "y_m"])
    try:
        scenario = parse_scenario(text, source=f"{trace}:scenario_yaml")
        bh, placement = scenario.backhaul, scenario.rsus
        grid = (placement.grid.rows, placement.grid.cols) \
            if placement.placement == "grid" else None
        edges = None if bh.edges is None else [
            (e.a, e.b, None if e.capacity_mbps is None else e.capacity_mbps * 1e6,
             None if e.latency_ms is None else e.latency_ms * 1e-3) for e in bh.edges]
        graph = build_backhaul(np.column_stack([rsus["x_m"], rsus["y_m"]]),
                               topology=bh.topology, k=bh.k,
                               capacity_bps=bh.capacity_mbps * 1e6,
                               latency_s=bh.latency_ms * 1e-3, edges=edges, grid_shape=grid)
    except (UavtwinError, ValueError, TypeError, AttributeError) as exc:
        log.warning("%s: backhaul not rebuilt from the stored scenario (%s); drawing the "
                    "links that transfers crossed", trace, exc)
        return None
    return np.array(sorted(tuple(sorted(e)) for e in graph.edges), dtype=np.int64).reshape(-1, 2)


def coverage_footprint(trace: str | os.PathLike[str]
                       ) -> tuple[np.ndarray, np.ndarray] | None:
    """The RSU cells at each altitude when they follow the radio (``radio.coverage: snr``).

    Everything needed is in the trace: the radio model and its parameters and the SNR
    threshold (the resolved scenario, ``scenario_yaml``), each RSU's antenna position, transmit
    power and noise (``/rsus``), and the altitudes flown (``/mobility/segments``). The cells
    are the simulator's own :class:`~simulator.world.radio.coverage.RadioCoverage`.

    Args:
        trace: The trace file.

    Returns:
        ``([A] altitudes, [J, A] radii)`` in m, or None for disc cells (or a scenario this
        version cannot read, logged).

    Raises:
        TraceError: The file is not a readable trace.
    """
    with TraceReader(trace) as r:
        text = str(r.attrs.get("scenario_yaml", ""))
        rsus = r.read("/rsus", ["x_m", "y_m", "z_m", "tx_power_dbm", "noise_dbm"])
        seg = r.read("/mobility/segments", ["z0_m", "z1_m"])
    try:
        radio = parse_scenario(text, source=f"{trace}:scenario_yaml").radio
    except (UavtwinError, ValueError, TypeError, AttributeError) as exc:
        log.warning("%s: radio not rebuilt from the stored scenario (%s); drawing the "
                    "coverage discs of /rsus", trace, exc)
        return None
    if radio.coverage != "snr" or len(seg["z0_m"]) == 0:
        return None
    from simulator.world.radio.channel import path_loss_of
    from simulator.world.radio.coverage import RadioCoverage

    z = np.concatenate([seg["z0_m"], seg["z1_m"]])
    lo, hi = float(z.min()), float(z.max())
    cells = RadioCoverage(np.column_stack([rsus["x_m"], rsus["y_m"], rsus["z_m"]]),
                          rsus["tx_power_dbm"] - rsus["noise_dbm"] - radio.snr_min_db,
                          path_loss_of(radio), (lo, hi), radio.sample_spacing_m)
    alts = np.linspace(lo, hi, FOOTPRINT_ALTITUDES if hi > lo else 1)
    return alts, cells.footprint_radius(alts)


def animate(trace: str | os.PathLike[str], output: str | os.PathLike[str], *,
            start: float | None = None, end: float | None = None, speed: float | None = None,
            fps: float | None = None, follow: int | None = None, style: str = "screen",
            color_by: str = "state", panel: bool = False, progress: bool = False
            ) -> dict[str, Any]:
    """Write a replay of ``trace`` to ``output`` (.mp4, .gif or .html).

    Args:
        trace: The trace file.
        output: Output path; its extension picks the format.
        start, end: Replay window, simulated s (default: the whole run).
        speed: Simulated seconds per second of replay (default: a 30 s replay).
        fps: Frames per second (default 10).
        follow: UAV id to centre on and list the events of.
        style: ``screen`` or ``paper``.
        color_by: ``state`` or ``altitude``.
        panel: Add the side panel (RSU prices, sensing shares); MP4/GIF only.
        progress: Progress bar on stderr.

    Returns:
        ``path``, ``format``, ``frames`` (MP4/GIF), ``size`` (w, h), ``speed``, ``fps`` and,
        for HTML, ``decimation`` (the track resampling step in s, or None when exact).

    Raises:
        InputError: An unknown extension or a bad option value.
        TraceError: The trace cannot be read.
    """
    from analysis.replay.load import load_scene
    from analysis.replay.timing import make_timing

    output = Path(output)
    ext = output.suffix.lower()
    if ext not in FORMATS:
        raise InputError(f"{output}: unknown replay format {ext or '(none)'!r}; "
                         f"expected one of {', '.join(FORMATS)}")
    scene = load_scene(trace, edges=backhaul_edges(trace), footprint=coverage_footprint(trace))
    try:
        timing = make_timing(scene.t_start, scene.t_end, start=start, end=end, speed=speed,
                             fps=fps)
        if follow is not None and not 0 <= follow < scene.n_uavs:
            raise ValueError(f"--follow {follow}: no such UAV (ids are 0..{scene.n_uavs - 1})")
        output.parent.mkdir(parents=True, exist_ok=True)
        if ext == ".html":
            from analysis.replay.html import track_samples, write_html

            write_html(scene, output, timing, follow=follow, style=style)
            return {"path": output, "format": "html", "frames": None, "size": None,
                    "speed": timing.speed, "fps": timing.fps,
                    "decimation": track_samples(scene)[3]}
        from analysis.replay.video import render_video

        info = render_video(scene, output, timing, style=style, follow=follow,
                            color_by=color_by, panel=panel, progress=progress)
    except ValueError as exc:
        raise InputError(f"{output}: {exc}") from None
    return {"path": output, "format": ext[1:], "frames": int(info.times.size),
            "size": (info.width, info.height), "speed": timing.speed, "fps": timing.fps,
            "decimation": None}


def snapshot(trace: str | os.PathLike[str], t: float, output: str | os.PathLike[str], *,
             style: str = "paper", follow: int | None = None, panel: bool = False) -> Path:
    """Save the replay's picture at time ``t`` (PNG, PDF or SVG by extension).

    Args:
        trace: The trace file.
        t: Simulation time, s (within the run).
        output: Output image.
        style: ``paper`` or ``screen``.
        follow: UAV to centre on.
        panel: Add the side panel.

    Returns:
        The path written.

    Raises:
        InputError: ``t`` outside the run or a bad option.
        TraceError: The trace cannot be read.
    """
    from analysis.replay.load import load_scene
    from analysis.replay.video import render_snapshot

    scene = load_scene(trace, edges=backhaul_edges(trace), footprint=coverage_footprint(trace))
    if not scene.t_start <= t <= scene.t_end:
        raise InputError(f"{trace}: --snapshot {t:g}: outside the run "
                         f"({scene.t_start:g}..{scene.t_end:g} s)")
    try:
        return render_snapshot(scene, t, output, style=style, follow=follow, panel=panel)
    except ValueError as exc:
        raise InputError(f"{output}: {exc}") from None
