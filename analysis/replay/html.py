"""A self-contained interactive HTML replay: one file, no server, no network.

The page is a small canvas player of our own (``player.js`` and ``player.css`` beside this
module, inlined into the page) plus the run's data as one JSON object whose big numeric
arrays are little-endian typed arrays in base64. The player recomputes the picture of
:mod:`analysis.replay.scene` in the browser (positions, hosts, states, twins in flight,
counters) for any time, so play, pause, scrubbing and speed changes need nothing but the file.
Only the replay window (``--start``/``--end``) is embedded, with the state at its start (see
:func:`html_payload`).

Decimation (keeps 1,000 UAVs x 1 h well under 25 MB):

- **time**: a track is stored exactly, as the vertices of its segments, while the window has
  at most :data:`MAX_VERTICES` vertices in all; beyond that every UAV is resampled on a
  uniform grid of step ``dt = ceil10(total presence time in the window / MAX_VERTICES)``
  (rounded up to 0.1 s) between its first and last time in the window, the piecewise-linear
  track interpolated at the grid;
- **space**: x and y are quantised to 16-bit integers over the area's bounding box (a step of
  ``extent / 65535``, 3 cm for a 2 km area) and altitude over its own range;
- events (transfers, rounds, failures, interruptions, revenue) in the window are kept
  whole; times are 32-bit floats relative to the run start.
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

from analysis.replay.scene import OUTCOMES, STATES, Scene
from analysis.replay.timing import Timing
from simulator.trace.schema import TRANSFER_EVENT

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


def track_samples(scene: Scene, max_vertices: int = MAX_VERTICES,
                  window: tuple[float, float] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float | None]:
    """Per-UAV track samples following the decimation rule (module docstring).

    Args:
        scene: The run.
        max_vertices: Vertex budget before resampling.
        window: ``(start, end)`` simulated s: keep only the segments that overlap it (and,
            when resampling, the grid inside it); default the whole run.

    Returns:
        ``(offsets [U+1], t [N], xyz [N, 3], dt)``: UAV u's samples are
        ``offsets[u]:offsets[u+1]``; ``dt`` is the grid step, or None when exact.
    """
    first, last = scene.presence
    a, b = window if window is not None else (scene.t_start, scene.t_end)
    n = scene.n_uavs
    lo = np.searchsorted(scene.seg_uav, np.arange(n))
    hi = np.searchsorted(scene.seg_uav, np.arange(n), side="right")
    # the segments of UAV u that overlap [a, b]: seg_t1 >= a and seg_t0 <= b
    keep = (scene.seg_t1 >= a) & (scene.seg_t0 <= b)
    cum = np.concatenate(([0], np.cumsum(keep)))
    sel = [np.flatnonzero(keep[lo[u]:hi[u]]) + lo[u] if cum[hi[u]] > cum[lo[u]] else None
           for u in range(n)]
    n_exact = int(sum(k.size + 1 for k in sel if k is not None))
    ts, ps, counts = [], [], []
    dt = None
    if n_exact > max_vertices:
        span = np.clip(np.minimum(last, b) - np.maximum(first, a), 0.0, None)
        dt = math.ceil(10.0 * float(np.nansum(span)) / max_vertices) / 10.0
    for k in sel:
        if k is None:
            counts.append(0)
            continue
        kt = np.r_[scene.seg_t0[k], scene.seg_t1[k[-1]]]
        kp = np.vstack([scene.seg_p0[k], scene.seg_p1[k[-1]]])
        if dt is not None:
            t0, t1 = max(kt[0], a), min(kt[-1], b)
            grid = np.append(np.arange(t0, t1, dt), t1)
            kp = np.column_stack([np.interp(grid, kt, kp[:, i]) for i in range(3)])
            kt = grid
        ts.append(kt)
        ps.append(kp)
        counts.append(kt.size)
    off = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    t = np.concatenate(ts) if ts else np.zeros(0)
    xyz = np.vstack(ps) if ps else np.zeros((0, 3))
    return off, t, xyz, dt


def html_payload(scene: Scene, timing: Timing, *, follow: int | None = None,
                 max_vertices: int = MAX_VERTICES) -> dict[str, Any]:
    """The JSON object the player reads (see the module docstring for the encoding).

    Only the replay window ``[timing.times[0], timing.times[-1]]`` is embedded: the tracks
    and events inside it, the trails' and highlights' look-back before it, and the state at
    its start (hosts, counters, each UAV's last price, revenue per RSU so far).

    Args:
        scene: The run.
        timing: Replay window and default speed.
        follow: UAV to follow on opening, or None.
        max_vertices: Vertex budget of the tracks.

    Returns:
        A JSON-serialisable dict.
    """
    s, t0 = scene, scene.t_start
    ws, we = float(timing.times[0]), float(timing.times[-1])
    cut = ws - max(timing.trail_s, 3.0 * timing.highlight_s)  # look-back of trails, marks
    off, t, xyz, dt = track_samples(s, max_vertices, window=(cut, we))
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

    def within(times: np.ndarray) -> np.ndarray:  # events shown in the window, in time order
        idx = np.flatnonzero((times > cut) & (times <= we))
        return idx[np.argsort(times[idx], kind="stable")]

    def rel(a: np.ndarray) -> dict[str, str]:
        return _pack(np.asarray(a, dtype=float) - t0, "f4")

    tk = np.flatnonzero((tr_t1 > ws) & (s.tr_t0 <= we))  # in flight at some time shown
    rd, fo, ro, to = within(s.rd_t), within(s.fail_t), within(s.rev_t), within(s.tev_t)
    hc = np.flatnonzero((s.hc_t > ws) & (s.hc_t <= we))
    sv = np.flatnonzero((s.sv_t1 > cut) & (s.sv_t0 <= we))
    done = s.sv_t1 <= cut
    og = np.flatnonzero((s.out_t1 > ws) & (s.out_t0 <= we))
    se = np.flatnonzero((s.sensing_t >= ws) & (s.sensing_t <= we))
    if s.sensing_t.size:  # one sample either side, so the curves reach the window's edges
        se = np.unique(np.clip(np.r_[se.min(initial=s.sensing_t.size) - 1, se,
                                     se.max(initial=-1) + 1], 0, s.sensing_t.size - 1))
    before = s.rev_t <= cut
    finite = s.tr_price[np.isfinite(s.tr_price)]
    cand = [np.arange(s.rd_cand_off[r], s.rd_cand_off[r + 1]) for r in rd]
    cand = np.concatenate(cand) if cand else np.zeros(0, dtype=np.int64)
    footprint = None
    if s.fp_alt.size:
        footprint = {"alt": s.fp_alt.tolist(), "r": s.fp_radius.ravel().tolist()}
    return {
        "name": s.scenario_name,
        "bounds": [x0, y0, x1, y1],
        "t0": t0, "t1": s.t_end,
        "window": [ws - t0, we - t0],
        "speed": timing.speed, "trail_s": timing.trail_s, "highlight_s": timing.highlight_s,
        "follow": -1 if follow is None else int(follow),
        "states": list(STATES),
        "outcomes": [OUTCOMES[k] for k in sorted(OUTCOMES)],
        "rsu": {"x": s.rsu_xy[:, 0].tolist(), "y": s.rsu_xy[:, 1].tolist(),
                "r": s.rsu_radius.tolist(), "footprint": footprint},
        "edges": s.edges.ravel().tolist(),
        "uav": {"n": s.n_uavs, "first": rel(np.nan_to_num(first, nan=s.t_end)),
                "last": rel(np.nan_to_num(last, nan=s.t_start)),
                "host0": _pack(s.initial_host), "hostw": _pack(s.hosts(ws)),
                "w": int(s.initial_host.shape[1]),
                "price0": _pack(np.nan_to_num(s.last_price(ws), nan=-1.0), "f4")},
        "track": {"len": _pack(np.diff(off)), "t": rel(t), "x": _pack(qx, "u2"),
                  "y": _pack(qy, "u2"), "z": _pack(qz, "u2"), "qx": mx, "qy": my, "qz": mz,
                  "dt": dt},
        "transfer": {"uav": _pack(s.tr_uav[tk]), "twin": _pack(s.tr_twin[tk]),
                     "t0": rel(s.tr_t0[tk]), "t1": rel(tr_t1[tk]),
                     "price": _pack(np.nan_to_num(s.tr_price[tk], nan=-1.0), "f4"),
                     "retry": _pack(s.tr_retry[tk], "u1"),
                     "len": _pack(np.diff(s.tr_path_off)[tk]),
                     "path": _pack(np.concatenate(
                         [s.tr_path[s.tr_path_off[k]:s.tr_path_off[k + 1]] for k in tk])
                         if tk.size else np.zeros(0, dtype=np.int64)),
                     "max_dur": float(np.max(tr_t1[tk] - s.tr_t0[tk], initial=0.0)),
                     "price_range": [float(finite.min()), float(finite.max())]
                     if finite.size else [0.0, 1.0]},
        "round": {"t": rel(s.rd_t[rd]), "uav": _pack(s.rd_uav[rd]),
                  "retry": _pack(s.rd_retry[rd].astype(np.uint8), "u1"),
                  "len": _pack((s.rd_cand_off[1:] - s.rd_cand_off[:-1])[rd]),
                  "cand": _pack(s.rd_cand[cand]), "price": _pack(s.rd_price[cand], "f4")},
        "sensing": {"t": rel(s.sensing_t[se]),
                    "share": [_pack(s.sensing_share[se, m], "f4")
                              for m in range(s.sensing_share.shape[1])]},
        "fail": {"t": rel(s.fail_t[fo]), "uav": _pack(s.fail_uav[fo]),
                 "outcome": _pack(s.fail_outcome[fo]), "before": int((s.fail_t <= cut).sum())},
        "service": {"uav": _pack(s.sv_uav[sv]), "t0": rel(s.sv_t0[sv]),
                    "t1": rel(np.where(np.isfinite(s.sv_t1[sv]), s.sv_t1[sv], np.inf)),
                    "before": int(done.sum()),
                    "before_s": float(np.sum(s.sv_t1[done] - s.sv_t0[done]))},
        "hosts": {"t": rel(s.hc_t[hc]), "uav": _pack(s.hc_uav[hc]), "twin": _pack(s.hc_twin[hc]),
                  "host": _pack(s.hc_host[hc])},
        "outage": {"link": _pack(s.out_link[og].astype(np.uint8), "u1"), "a": _pack(s.out_a[og]),
                   "b": _pack(s.out_b[og]), "t0": rel(s.out_t0[og]), "t1": rel(s.out_t1[og])},
        "disruption": {"t": rel(s.tev_t[to]), "uav": _pack(s.tev_uav[to]),
                       "event": _pack(s.tev_event[to]),
                       "labels": [TRANSFER_EVENT[k] for k in sorted(TRANSFER_EVENT)]},
        "revenue": {"t": rel(s.rev_t[ro]), "rsu": _pack(s.rev_rsu[ro]),
                    "amount": _pack(s.rev_amount[ro], "f4"),
                    "before": np.bincount(s.rev_rsu[before], weights=s.rev_amount[before],
                                          minlength=s.n_rsus).tolist(),
                    "sales_before": np.bincount(s.rev_rsu[before],
                                                minlength=s.n_rsus).tolist(),
                    "total": np.bincount(s.rev_rsu, weights=s.rev_amount,
                                         minlength=s.n_rsus).tolist()},
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
