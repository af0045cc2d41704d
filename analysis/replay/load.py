"""Build a :class:`~analysis.replay.scene.Scene` from a trace's tables.

:func:`load_scene` reads the tables through the one trace reader; :func:`build_scene` turns
them into the scene's flat, sorted arrays: transfers in start order with their routes
flattened and the price each UAV paid its destination RSU (from ``/pricing/offers``), pricing
rounds with their candidate RSUs (the RSUs that posted an offer), the twins' initial hosts,
the area (from the resolved scenario, else the bounding box of RSUs and tracks) and, unless
given, the backhaul links that some route crossed.
"""

from __future__ import annotations

import os

import numpy as np
import yaml

from analysis.replay.scene import PRICED_OUT, RETRY_ABORT, RETRY_REQUEST, Scene, group_offsets
from simulator.errors import TraceError
from simulator.trace.reader import TraceReader
from simulator.trace.schema import TRANSFER_EVENT, code_of

__all__ = ["build_scene", "load_scene"]


def _area(scenario_yaml: str) -> tuple[float, float] | None:
    try:
        doc = yaml.safe_load(scenario_yaml) if scenario_yaml else None
        area = doc["area"]
        return float(area["width_m"]), float(area["height_m"])
    except (yaml.YAMLError, KeyError, TypeError, ValueError):
        return None


def load_scene(path: str | os.PathLike[str], edges: np.ndarray | None = None,
               footprint: tuple[np.ndarray, np.ndarray] | None = None) -> Scene:
    """Read everything a replay needs from a trace.

    Args:
        path: The trace (``.h5``).
        edges: ``[E, 2]`` backhaul links; default: every RSU pair that some transfer's route
            crossed (the trace records routes, not the whole graph).
        footprint: ``([A] altitudes, [J, A] radii)`` of the cells when they follow the radio
            (see :class:`Scene`); default: discs of ``/rsus/coverage_radius_m``.

    Returns:
        The :class:`Scene`.

    Raises:
        TraceError: The file is not a readable trace, or has no UAV segments.
    """
    with TraceReader(path) as r:
        rsus = r.read("/rsus")
        uavs = r.read("/uavs")
        seg = r.read("/mobility/segments")
        tr = r.read("/migration/transfers")
        hops = r.read("/migration/transfer_hops")
        req = r.read("/migration/requests")
        sv = r.read("/migration/service")
        rounds = r.read("/pricing/rounds", ["round_id", "t_s"])
        offers = r.read("/pricing/offers", ["round_id", "request_id", "uav_id", "rsu_id", "price",
                                            "bandwidth_mhz"])
        rev = r.read("/pricing/revenue", ["round_id", "rsu_id", "revenue"])
        sens = r.read("/sensing/state", ["t_s", "vsp_id", "share"])
        faults = {t: r.read(t) for t in ("/faults/outages", "/faults/twin_losses",
                                         "/faults/transfer_events")}
        scenario_yaml = str(r.attrs.get("scenario_yaml", ""))
        name = str(r.attrs.get("scenario_name", ""))
    return build_scene(rsus, uavs, seg, tr, hops, req, sv, rounds, offers, rev, sens, faults,
                       scenario_yaml=scenario_yaml, edges=edges, name=name, footprint=footprint)


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray,
            missing: float = np.nan) -> np.ndarray:
    """``values`` at the position of each ``query`` in the (unsorted) ``keys``."""
    out = np.full(query.shape, missing, dtype=float)
    if keys.size == 0 or query.size == 0:
        return out
    order = np.argsort(keys, kind="stable")
    pos = np.clip(np.searchsorted(keys[order], query), 0, keys.size - 1)
    hit = keys[order][pos] == query
    out[hit] = values[order][pos[hit]]
    return out


def build_scene(rsus: dict, uavs: dict, seg: dict, tr: dict, hops: dict, req: dict, sv: dict,
                rounds: dict, offers: dict, rev: dict, sens: dict, faults: dict | None = None,
                *, scenario_yaml: str = "",
                edges: np.ndarray | None = None, name: str = "",
                footprint: tuple[np.ndarray, np.ndarray] | None = None) -> Scene:
    """Assemble a :class:`Scene` from trace tables (``{column: array}`` dicts).

    Args:
        rsus, uavs, seg, tr, hops, req, sv, rounds, offers, rev, sens: The tables ``/rsus``,
            ``/uavs``, ``/mobility/segments``, ``/migration/transfers``,
            ``/migration/transfer_hops``, ``/migration/requests``, ``/migration/service``,
            ``/pricing/rounds``, ``/pricing/offers``, ``/pricing/revenue``, ``/sensing/state``.
        faults: ``{path: table}`` of the ``/faults`` tables (absent: a run without faults).
        scenario_yaml: The resolved scenario (for the area and the run name).
        edges: Backhaul links; default: those some route crossed.
        name: Run name for titles (default: ``simulation.name`` of the scenario).
        footprint: ``([A] altitudes, [J, A] radii)`` of cells that follow the radio.

    Returns:
        The scene.

    Raises:
        TraceError: No UAV segments in the trace.
    """
    n_u, n_j = len(uavs["uav_id"]), len(rsus["rsu_id"])
    if len(seg["uav_id"]) == 0:
        raise TraceError("the trace has no UAV trajectories (/mobility/segments is empty)")
    rsu_xy = np.column_stack([rsus["x_m"], rsus["y_m"]]).astype(float)
    o = np.lexsort((seg["t_start_s"], seg["uav_id"]))
    seg_uav = seg["uav_id"][o].astype(np.int64)
    p0 = np.column_stack([seg["x0_m"], seg["y0_m"], seg["z0_m"]])[o]
    p1 = np.column_stack([seg["x1_m"], seg["y1_m"], seg["z1_m"]])[o]
    t0, t1 = seg["t_start_s"][o].astype(float), seg["t_end_s"][o].astype(float)
    n_u = max(n_u, int(seg_uav.max()) + 1)
    twin_count = np.zeros(n_u, dtype=np.int64)
    twin_count[:len(uavs["twin_count"])] = uavs["twin_count"]

    # Transfers, sorted by start; routes flattened.
    o = np.argsort(tr["t_start_s"], kind="stable")
    tid = tr["transfer_id"][o]
    ho = np.lexsort((hops["hop"], hops["transfer_id"]))
    h_tid, h_rsu = hops["transfer_id"][ho], hops["rsu_id"][ho].astype(np.int64)
    lo = np.searchsorted(h_tid, tid, side="left")
    hi = np.searchsorted(h_tid, tid, side="right")
    src, dst = tr["src_rsu_id"][o].astype(np.int64), tr["dst_rsu_id"][o].astype(np.int64)
    parts = [h_rsu[a:b] if b > a else np.array([s, d])
             for a, b, s, d in zip(lo, hi, src, dst, strict=True)]
    path_off = np.concatenate(([0], np.cumsum([p.size for p in parts]))).astype(np.int64)
    path = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
    req_id = tr["request_id"][o].astype(np.int64)
    n_key = max(n_j, 1)
    off_key = offers["request_id"].astype(np.int64) * n_key + offers["rsu_id"]
    price = _lookup(off_key, offers["price"].astype(float), req_id * n_key + dst)
    tr_t1 = tr["t_end_s"][o].astype(float)
    tr_t1 = np.where(np.isnan(tr_t1), np.inf, tr_t1)

    # Rounds: one per request in practice; candidates are the RSUs that posted an offer.
    r_time = _lookup(rounds["round_id"].astype(np.int64), rounds["t_s"].astype(float),
                     offers["round_id"].astype(np.int64))
    oo = np.lexsort((offers["rsu_id"], offers["uav_id"], offers["round_id"]))
    pair = np.column_stack([offers["round_id"][oo], offers["uav_id"][oo]]).astype(np.int64)
    starts = np.flatnonzero(np.r_[True, (np.diff(pair, axis=0) != 0).any(axis=1)]) \
        if pair.size else np.zeros(0, dtype=np.int64)
    cand_off = np.r_[starts, oo.size].astype(np.int64)

    # Failed requests (an outcome other than served, or a round that priced the UAV out:
    # it bought no bandwidth, so its twins stayed); a request is a retry when the same UAV's
    # previous request failed.
    rq_id = req["request_id"].astype(np.int64)
    bought, offered = np.zeros(rq_id.size), np.zeros(rq_id.size, dtype=bool)
    if rq_id.size and offers["request_id"].size:
        o_req = offers["request_id"].astype(np.int64)
        by_id = np.argsort(rq_id, kind="stable")
        at = by_id[np.clip(np.searchsorted(rq_id[by_id], o_req), 0, rq_id.size - 1)]
        hit = rq_id[at] == o_req
        np.add.at(bought, at[hit], offers["bandwidth_mhz"].astype(float)[hit])
        offered[at[hit]] = True
    outcome = req["outcome"].astype(np.int64)
    outcome = np.where((outcome == 0) & offered & (bought <= 0), PRICED_OUT, outcome)
    failed = outcome != 0
    by_uav = np.lexsort((rq_id, req["t_s"], req["uav_id"]))  # each UAV's requests in order
    prev_failed = np.zeros(rq_id.size, dtype=bool)
    same = req["uav_id"][by_uav][1:] == req["uav_id"][by_uav][:-1]
    prev_failed[by_uav[1:]] = same & failed[by_uav][:-1]
    retry_ids = rq_id[prev_failed]

    # Interruptions, revenue.
    s1 = sv["t_interrupt_end_s"].astype(float)
    rev_t = _lookup(rounds["round_id"].astype(np.int64), rounds["t_s"].astype(float),
                    rev["round_id"].astype(np.int64))

    # Sensing shares as a [T, M] table.
    st, sv_id = sens["t_s"].astype(float), sens["vsp_id"].astype(np.int64)
    times = np.unique(st)
    share = np.full((times.size, int(sv_id.max()) + 1 if sv_id.size else 0), np.nan)
    share[np.searchsorted(times, st), sv_id] = sens["share"]

    # Initial hosts: nearest covering RSU to the first position, overridden by the first
    # request's source, overridden per twin by the source of its first transfer.
    seg_off = group_offsets(seg_uav, n_u)
    has = seg_off[1:] > seg_off[:-1]
    first_xy = np.zeros((n_u, 2))
    first_xy[has] = p0[seg_off[:-1][has], :2]
    host = np.full((n_u, max(int(twin_count.max(initial=0)), 1)), -1, dtype=np.int64)
    if n_j:
        d = np.linalg.norm(first_xy[:, None, :] - rsu_xy[None, :, :], axis=2)
        inside = d <= rsus["coverage_radius_m"][None, :]
        nearest = np.argmin(np.where(inside, d, d + 1e12), axis=1)
        ro = np.argsort(req["t_s"], kind="stable")[::-1]
        nearest[req["uav_id"][ro]] = np.where(req["src_rsu_id"][ro] >= 0,
                                              req["src_rsu_id"][ro], nearest[req["uav_id"][ro]])
        slot = np.arange(host.shape[1])[None, :] < twin_count[:, None]
        host = np.where(slot, nearest[:, None], -1)
        rev_o = np.arange(src.size)[::-1]  # earliest transfer written last wins
        host[tr["uav_id"][o][rev_o], tr["twin_id"][o][rev_o]] = src[rev_o]

    # Faults (a run without them has none): outages, twin losses and restores, transfer events.
    faults = faults or {}
    out = faults.get("/faults/outages") or {}
    loss = faults.get("/faults/twin_losses") or {}
    tev = faults.get("/faults/transfer_events") or {}
    col = lambda tab, c, dt: np.asarray(tab.get(c, np.zeros(0)), dtype=dt)  # noqa: E731
    l_uav, l_twin = col(loss, "uav_id", np.int64), col(loss, "twin_id", np.int64)
    l_t, l_rsu = col(loss, "t_lost_s", float), col(loss, "rsu_id", np.int64)
    l_t1, l_dst = col(loss, "t_restored_s", float), col(loss, "dst_rsu_id", np.int64)
    restored = np.isfinite(l_t1) & (l_dst >= 0)
    if l_t.size:  # a twin lost before it ever moved sat on the failed RSU
        moved = np.zeros(host.shape, dtype=bool)
        moved[tr["uav_id"][o], tr["twin_id"][o]] = True
        lo_ = np.argsort(l_t, kind="stable")[::-1]
        keep = ~moved[l_uav[lo_], l_twin[lo_]]
        host[l_uav[lo_][keep], l_twin[lo_][keep]] = l_rsu[lo_][keep]
    hc_t = np.concatenate([tr_t1, l_t, l_t1[restored]])
    hc = np.argsort(hc_t, kind="stable")
    hc_uav = np.concatenate([tr["uav_id"][o], l_uav, l_uav[restored]]).astype(np.int64)[hc]
    hc_twin = np.concatenate([tr["twin_id"][o], l_twin, l_twin[restored]]).astype(np.int64)[hc]
    hc_host = np.concatenate([dst, np.full(l_t.size, -1), l_dst[restored]]).astype(np.int64)[hc]
    o_t1 = col(out, "t_end_s", float)

    # Transfers and rounds of a retry; transfers restarted after an abort (faults).
    tr_retry = np.where(np.isin(req_id, retry_ids), RETRY_REQUEST, 0).astype(np.uint8)
    restarted = col(tev, "event", np.int64) == code_of(TRANSFER_EVENT, "retried")
    if restarted.any():
        key = col(tev, "request_id", np.int64)[restarted] * (host.shape[1] + 1) \
            + col(tev, "twin_id", np.int64)[restarted]
        mine = np.isin(req_id * (host.shape[1] + 1) + tr["twin_id"][o], key)
        tr_retry[mine] |= RETRY_ABORT
    rd_retry = np.isin(offers["request_id"][oo][starts].astype(np.int64), retry_ids) \
        if starts.size else np.zeros(0, dtype=bool)

    if edges is None:
        a, b = path[:-1], path[1:]
        same = np.ones(a.size, dtype=bool)
        same[path_off[1:-1] - 1] = False  # no link across two routes
        pairs = np.sort(np.column_stack([a, b])[same & (a != b)], axis=1)
        edges = np.unique(pairs, axis=0) if pairs.size else np.zeros((0, 2), dtype=np.int64)

    area = _area(scenario_yaml)
    if area is not None:
        bounds = (0.0, 0.0, area[0], area[1])
    else:
        pts = np.vstack([rsu_xy, p0[:, :2], p1[:, :2]])
        bounds = (float(pts[:, 0].min()), float(pts[:, 1].min()),
                  float(pts[:, 0].max()), float(pts[:, 1].max()))
    if not name:
        try:
            name = str((yaml.safe_load(scenario_yaml) or {})["simulation"]["name"])
        except (yaml.YAMLError, KeyError, TypeError):
            name = "run"
    return Scene(
        bounds=bounds, t_start=float(t0.min()), t_end=float(t1.max()),
        rsu_xy=rsu_xy, rsu_radius=rsus["coverage_radius_m"].astype(float),
        edges=np.asarray(edges, dtype=np.int64).reshape(-1, 2),
        seg_uav=seg_uav, seg_t0=t0, seg_t1=t1, seg_p0=p0, seg_p1=p1, twin_count=twin_count,
        tr_uav=tr["uav_id"][o].astype(np.int64), tr_twin=tr["twin_id"][o].astype(np.int64),
        tr_src=src, tr_dst=dst, tr_t0=tr["t_start_s"][o].astype(float), tr_t1=tr_t1,
        tr_price=price, tr_request=req_id, tr_path_off=path_off, tr_path=path,
        rd_t=r_time[oo][starts] if starts.size else np.zeros(0),
        rd_uav=pair[starts, 1] if starts.size else np.zeros(0, dtype=np.int64),
        rd_cand_off=cand_off, rd_cand=offers["rsu_id"][oo].astype(np.int64),
        rd_price=offers["price"][oo].astype(float),
        fail_t=req["t_s"][failed].astype(float), fail_uav=req["uav_id"][failed].astype(np.int64),
        fail_outcome=outcome[failed],
        sv_uav=sv["uav_id"].astype(np.int64), sv_t0=sv["t_interrupt_start_s"].astype(float),
        sv_t1=np.where(np.isnan(s1), np.inf, s1),
        rev_t=rev_t, rev_rsu=rev["rsu_id"].astype(np.int64),
        rev_amount=rev["revenue"].astype(float), sensing_t=times, sensing_share=share,
        initial_host=host, hc_t=hc_t[hc], hc_uav=hc_uav, hc_twin=hc_twin, hc_host=hc_host,
        out_link=col(out, "element", np.int64) == 1, out_a=col(out, "rsu_id", np.int64),
        out_b=col(out, "peer_rsu_id", np.int64), out_t0=col(out, "t_start_s", float),
        out_t1=np.where(np.isnan(o_t1), np.inf, o_t1),
        tev_t=col(tev, "t_s", float), tev_uav=col(tev, "uav_id", np.int64),
        tev_event=col(tev, "event", np.int64), scenario_name=name,
        tr_retry=tr_retry, rd_retry=rd_retry,
        fp_alt=np.zeros(0) if footprint is None else np.asarray(footprint[0], dtype=float),
        fp_radius=np.zeros((n_j, 0)) if footprint is None
        else np.asarray(footprint[1], dtype=float).reshape(n_j, -1),
    )
