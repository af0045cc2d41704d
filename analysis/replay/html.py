"""A self-contained interactive HTML replay: one file, no server, no network.

The page is a small canvas player of our own (``player.js`` and ``player.css`` beside this
module, inlined into the page) plus the run's data as one JSON object whose big numeric
arrays are little-endian typed arrays in base64. The player recomputes the picture of
:mod:`analysis.replay.scene` in the browser (positions, hosts, states, twins in flight,
counters) for any time, so play, pause, scrubbing and speed changes need nothing but the file.

Decimation (keeps 1,000 UAVs x 1 h well under 25 MB):

- **time**: a track is stored exactly, as the vertices of its segments, while the run has at
  most :data:`MAX_VERTICES` vertices in all; beyond that every UAV is resampled on a uniform
  grid of step ``dt = ceil10(total presence time / MAX_VERTICES)`` (rounded up to 0.1 s)
  between its first and last time, the piecewise-linear track interpolated at the grid;
- **space**: x and y are quantised to 16-bit integers over the area's bounding box (a step of
  ``extent / 65535``, 3 cm for a 2 km area) and altitude over its own range;
- events (transfers, rounds, failures, interruptions, revenue) are kept whole; times are
  32-bit floats relative to the run start.
"""

from __future__ import annotations

import base64
import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from analysis.replay.scene import STATES, Scene
from analysis.replay.timing import Timing
from simulator.trace.schema import REQUEST_OUTCOME, TRANSFER_EVENT

__all__ = ["MAX_VERTICES", "html_payload", "track_samples", "write_html"]

MAX_VERTICES: int = 1_000_000
"""Most track vertices stored exactly; above it tracks are resampled (module docstring)."""


def _pack(a: np.ndarray, dtype: str | None = None) -> dict[str, str]:
    """``{"t": dtype, "b": base64}`` of a little-endian typed array.

    Without ``dtype`` the array holds integers and gets the smallest of u1, u2, i2, i4 that
    holds its values.
    """
    a = np.asarray(a)
    if dtype is None:
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        dtype = ("u1" if lo >= 0 and hi < 256 else "u2" if lo >= 0 and hi < 65536
                 else "i2" if -32768 <= lo and hi < 32768 else "i4")
    data = np.ascontiguousarray(a, dtype=np.dtype(dtype).newbyteorder("<")).tobytes()
    return {"t": dtype, "b": base64.b64encode(data).decode("ascii")}


def _quantise(v: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, dict[str, float]]:
    """16-bit codes of ``v`` over ``[lo, hi]`` and the affine map back (``lo + code * s``)."""
    step = max(hi - lo, 1e-6) / 65535.0
    code = np.clip(np.rint((v - lo) / step), 0, 65535).astype(np.uint16)
    return code, {"lo": lo, "step": step}


def track_samples(scene: Scene, max_vertices: int = MAX_VERTICES
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float | None]:
    """Per-UAV track samples following the decimation rule (module docstring).

    Args:
        scene: The run.
        max_vertices: Vertex budget before resampling.

    Returns:
        ``(offsets [U+1], t [N], xyz [N, 3], dt)``: UAV u's samples are
        ``offsets[u]:offsets[u+1]``; ``dt`` is the grid step, or None when exact.
    """
    first, last = scene.presence
    lo, hi = np.searchsorted(scene.seg_uav, np.arange(scene.n_uavs)), \
        np.searchsorted(scene.seg_uav, np.arange(scene.n_uavs), side="right")
    n_exact = int(((hi - lo) + (hi > lo)).sum())
    if n_exact <= max_vertices:
        ts, ps, counts = [], [], []
        for u in range(scene.n_uavs):
            if hi[u] == lo[u]:
                counts.append(0)
                continue
            sl = slice(lo[u], hi[u])
            ts.append(np.r_[scene.seg_t0[sl], scene.seg_t1[hi[u] - 1]])
            ps.append(np.vstack([scene.seg_p0[sl], scene.seg_p1[hi[u] - 1]]))
            counts.append(ts[-1].size)
        dt = None
    else:
        total = float(np.nansum(last - first))
        dt = math.ceil(10.0 * total / max_vertices) / 10.0
        ts, ps, counts = [], [], []
        for u in range(scene.n_uavs):
            if hi[u] == lo[u]:
                counts.append(0)
                continue
            grid = np.arange(first[u], last[u], dt)
            grid = np.append(grid, last[u])
            sl = slice(lo[u], hi[u])
            kt = np.r_[scene.seg_t0[sl], scene.seg_t1[hi[u] - 1]]
            kp = np.vstack([scene.seg_p0[sl], scene.seg_p1[hi[u] - 1]])
            ts.append(grid)
            ps.append(np.column_stack([np.interp(grid, kt, kp[:, i]) for i in range(3)]))
            counts.append(grid.size)
    off = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    t = np.concatenate(ts) if ts else np.zeros(0)
    xyz = np.vstack(ps) if ps else np.zeros((0, 3))
    return off, t, xyz, dt


def html_payload(scene: Scene, timing: Timing, *, follow: int | None = None,
                 max_vertices: int = MAX_VERTICES) -> dict[str, Any]:
    """The JSON object the player reads (see the module docstring for the encoding).

    Args:
        scene: The run.
        timing: Replay window and default speed.
        follow: UAV to follow on opening, or None.
        max_vertices: Vertex budget of the tracks.

    Returns:
        A JSON-serialisable dict.
    """
    s, t0 = scene, scene.t_start
    off, t, xyz, dt = track_samples(s, max_vertices)
    x0, y0, x1, y1 = s.bounds
    pts = np.vstack([xyz[:, :2], s.rsu_xy]) if xyz.size else s.rsu_xy
    bx0, by0 = min(x0, float(pts[:, 0].min())), min(y0, float(pts[:, 1].min()))
    bx1, by1 = max(x1, float(pts[:, 0].max())), max(y1, float(pts[:, 1].max()))
    qx, mx = _quantise(xyz[:, 0], bx0, bx1)
    qy, my = _quantise(xyz[:, 1], by0, by1)
    z_lo, z_hi = (float(xyz[:, 2].min()), float(xyz[:, 2].max())) if xyz.size else (0.0, 1.0)
    qz, mz = _quantise(xyz[:, 2], z_lo, max(z_hi, z_lo + 1.0))
    first, last = s.presence
    tr_t1 = np.where(np.isfinite(s.tr_t1), s.tr_t1, s.t_end)
    rdo = np.argsort(s.rd_t, kind="stable")  # rounds, failures, revenue in time order
    fo = np.argsort(s.fail_t, kind="stable")
    ro = np.argsort(s.rev_t, kind="stable")
    to = np.argsort(s.tev_t, kind="stable")

    def rel(a: np.ndarray) -> dict[str, str]:
        return _pack(np.asarray(a, dtype=float) - t0, "f4")

    return {
        "name": s.scenario_name,
        "bounds": [x0, y0, x1, y1],
        "t0": t0, "t1": s.t_end,
        "window": [float(timing.times[0]) - t0, float(timing.times[-1]) - t0],
        "speed": timing.speed, "trail_s": timing.trail_s, "highlight_s": timing.highlight_s,
        "follow": -1 if follow is None else int(follow),
        "states": list(STATES),
        "outcomes": [REQUEST_OUTCOME[k] for k in sorted(REQUEST_OUTCOME)],
        "rsu": {"x": s.rsu_xy[:, 0].tolist(), "y": s.rsu_xy[:, 1].tolist(),
                "r": s.rsu_radius.tolist()},
        "edges": s.edges.ravel().tolist(),
        "uav": {"n": s.n_uavs, "first": rel(np.nan_to_num(first, nan=s.t_end)),
                "last": rel(np.nan_to_num(last, nan=s.t_start)),
                "host0": _pack(s.initial_host), "w": int(s.initial_host.shape[1])},
        "track": {"len": _pack(np.diff(off)), "t": rel(t), "x": _pack(qx, "u2"),
                  "y": _pack(qy, "u2"), "z": _pack(qz, "u2"), "qx": mx, "qy": my, "qz": mz,
                  "dt": dt},
        "transfer": {"uav": _pack(s.tr_uav), "twin": _pack(s.tr_twin), "t0": rel(s.tr_t0),
                     "t1": rel(tr_t1), "price": _pack(np.nan_to_num(s.tr_price, nan=-1.0), "f4"),
                     "len": _pack(np.diff(s.tr_path_off)), "path": _pack(s.tr_path),
                     "max_dur": float(np.max(tr_t1 - s.tr_t0, initial=0.0))},
        "round": {"t": rel(s.rd_t[rdo]), "uav": _pack(s.rd_uav[rdo]),
                  "len": _pack((s.rd_cand_off[1:] - s.rd_cand_off[:-1])[rdo]),
                  "cand": _pack(np.concatenate(
                      [s.rd_cand[s.rd_cand_off[r]:s.rd_cand_off[r + 1]] for r in rdo])
                      if rdo.size else np.zeros(0, dtype=np.int64)),
                  "price": _pack(np.concatenate(
                      [s.rd_price[s.rd_cand_off[r]:s.rd_cand_off[r + 1]] for r in rdo])
                      if rdo.size else np.zeros(0), "f4")},
        "sensing": {"t": rel(s.sensing_t),
                    "share": [_pack(s.sensing_share[:, m], "f4")
                              for m in range(s.sensing_share.shape[1])]},
        "fail": {"t": rel(s.fail_t[fo]), "uav": _pack(s.fail_uav[fo]),
                 "outcome": _pack(s.fail_outcome[fo])},
        "service": {"uav": _pack(s.sv_uav), "t0": rel(s.sv_t0),
                    "t1": rel(np.where(np.isfinite(s.sv_t1), s.sv_t1, np.inf))},
        "hosts": {"t": rel(s.hc_t), "uav": _pack(s.hc_uav), "twin": _pack(s.hc_twin),
                  "host": _pack(s.hc_host)},
        "outage": {"link": _pack(s.out_link.astype(np.uint8), "u1"), "a": _pack(s.out_a),
                   "b": _pack(s.out_b), "t0": rel(s.out_t0), "t1": rel(s.out_t1)},
        "disruption": {"t": rel(s.tev_t[to]), "uav": _pack(s.tev_uav[to]),
                       "event": _pack(s.tev_event[to]),
                       "labels": [TRANSFER_EVENT[k] for k in sorted(TRANSFER_EVENT)]},
        "revenue": {"t": rel(s.rev_t[ro]), "rsu": _pack(s.rev_rsu[ro]),
                    "amount": _pack(s.rev_amount[ro], "f4")},
    }


def _asset(name: str) -> str:
    return resources.files("analysis.replay").joinpath(name).read_text(encoding="utf-8")


def write_html(scene: Scene, path: str | os.PathLike[str], timing: Timing, *,
               follow: int | None = None, style: str = "screen",
               max_vertices: int = MAX_VERTICES) -> Path:
    """Write the self-contained HTML replay.

    Args:
        scene: The run.
        path: Output ``.html`` file.
        timing: Replay window and default speed.
        follow: UAV to follow on opening, or None.
        style: ``screen`` (dark) or ``paper`` (light).
        max_vertices: Vertex budget of the tracks (decimation rule).

    Returns:
        The path written.

    Raises:
        ValueError: Unknown style or followed UAV.
    """
    if style not in ("screen", "paper"):
        raise ValueError(f"unknown style {style!r}; expected paper or screen")
    if follow is not None and not 0 <= follow < scene.n_uavs:
        raise ValueError(f"--follow {follow}: no such UAV (ids are 0..{scene.n_uavs - 1})")
    data = json.dumps(html_payload(scene, timing, follow=follow, max_vertices=max_vertices),
                      separators=(",", ":"), allow_nan=False)
    page = (_asset("player.html")
            .replace("/*CSS*/", _asset("player.css"))
            .replace("/*JS*/", _asset("player.js"))
            .replace("__TITLE__", f"uavtwin replay: {scene.scenario_name}")
            .replace("__STYLE__", style)
            .replace("/*DATA*/null", data.replace("</", "<\\/")))
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
