"""The replay's picture at time t (analysis.replay.scene) against the trace's own records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import metrics, open_trace
from analysis.replay.html import track_samples
from analysis.replay.load import load_scene
from analysis.replay.scene import OUTCOMES, RETRY_REQUEST, STATES, point_on_route
from analysis.replay.timing import make_timing
from simulator.trace.schema import COVERAGE_KIND, REQUEST_OUTCOME, code_of


@pytest.fixture(scope="module")
def scene(default_trace):
    return load_scene(default_trace)


@pytest.fixture(scope="module")
def trace(default_trace):
    return open_trace(default_trace)


def test_positions_match_the_sampled_positions(scene, trace):
    pos = trace.mobility_positions
    for t, rows in list(pos.groupby("t_s"))[::7]:
        xyz, present = scene.positions(float(t))
        u = rows["uav_id"].to_numpy()
        assert present[u].all()
        np.testing.assert_allclose(xyz[u], rows[["x_m", "y_m", "z_m"]].to_numpy(), atol=1e-6)


def test_positions_match_the_metrics_interpolation(scene, trace):
    ts = np.linspace(scene.t_start, scene.t_end, 13)
    for t in ts:
        ref = metrics.positions_at(trace.mobility_segments, np.arange(scene.n_uavs),
                                   np.full(scene.n_uavs, t))
        np.testing.assert_allclose(scene.positions(float(t))[0], ref.to_numpy(), atol=1e-9)


def test_each_twin_leaves_the_rsu_the_replay_has_it_on(scene, trace):
    tr = trace.migration_transfers
    for r in tr.itertuples():
        assert scene.hosts(r.t_start_s - 1e-9)[r.uav_id, r.twin_id] == r.src_rsu_id, r
    req = trace.migration_requests  # the request names one of the hosting RSUs
    for r in req[req["src_rsu_id"] >= 0].itertuples():
        assert r.src_rsu_id in scene.hosts(r.t_s - 1e-9)[r.uav_id], r
    assert len(tr) > 100


def test_hosts_at_the_end_are_the_last_destinations(scene, trace):
    tr = trace.migration_transfers.sort_values("t_end_s")
    last = tr.groupby(["uav_id", "twin_id"]).tail(1)
    host = scene.hosts(scene.t_end)
    for r in last.itertuples():
        assert host[r.uav_id, r.twin_id] == r.dst_rsu_id


def test_coverage_agrees_with_the_crossing_events(scene, trace):
    ev = trace.coverage_events
    rng = np.random.default_rng(3)
    for t in rng.uniform(scene.t_start + 1, scene.t_end - 1, 25):
        e = ev[ev["t_s"] <= t]
        sign = np.where(e["kind"].astype(str).to_numpy() == "enter", 1, -1)
        inside = pd.Series(sign).groupby(e["uav_id"].to_numpy()).sum()
        xyz, _ = scene.positions(float(t))
        cov = scene.covered(xyz[:, :2])
        for u in range(scene.n_uavs):
            assert cov[u] == (inside.get(u, 0) > 0), (t, u)
    assert "enter" in COVERAGE_KIND.values()


def test_transfers_fly_from_source_to_destination(scene):
    k = int(np.argmax(scene.tr_path_off[1:] - scene.tr_path_off[:-1]))
    route = scene.rsu_xy[scene.tr_path[scene.tr_path_off[k]:scene.tr_path_off[k + 1]]]
    assert route.shape[0] >= 3  # a multi-hop route exists in the default run
    t0, t1 = scene.tr_t0[k], scene.tr_t1[k]
    idx, xy = scene.in_flight(t0 + 1e-9)
    np.testing.assert_allclose(xy[list(idx).index(k)], route[0], atol=1e-3)
    idx, xy = scene.in_flight(t1 - 1e-9)
    np.testing.assert_allclose(xy[list(idx).index(k)], route[-1], atol=1e-3)
    length = np.linalg.norm(np.diff(route, axis=0), axis=1).sum()
    mid = point_on_route(route, 0.5)
    walked = np.linalg.norm(mid - route[0]) if length else 0.0
    assert walked <= length / 2 + 1e-9
    assert (scene.states(0.5 * (t0 + t1))[scene.tr_uav[k]]) == STATES.index("migrating")


def test_counters_at_the_end_equal_the_trace_totals(scene, trace):
    c = scene.counters(scene.t_end)
    inter = metrics.interruptions(trace.migration_service)
    assert c["migrations"] == inter.size
    assert c["mean_interruption_s"] == pytest.approx(inter.mean(), rel=1e-12)
    assert c["revenue"] == pytest.approx(trace.pricing_revenue["revenue"].sum(), rel=1e-12)
    assert c["in_flight"] == 0
    assert scene.counters(scene.t_start - 1)["revenue"] == 0.0
    np.testing.assert_allclose(scene.revenue_by_rsu(scene.t_end).sum(), c["revenue"])


def test_pricing_rounds_name_the_offering_rsus(scene, trace):
    offers = trace.pricing_offers
    for r in range(0, scene.rd_t.size, 9):
        cand = scene.rd_cand[scene.rd_cand_off[r]:scene.rd_cand_off[r + 1]]
        sel = offers[(offers["uav_id"] == scene.rd_uav[r])]
        assert set(cand) <= set(sel["rsu_id"])
    assert scene.candidates(scene.rounds_between(scene.t_start - 1, scene.t_end)).size > 1


def test_exact_and_resampled_tracks(scene):
    off, t, xyz, dt = track_samples(scene)
    assert dt is None and off[-1] == t.size == scene.seg_t0.size + scene.n_uavs
    off, t, xyz, dt = track_samples(scene, max_vertices=100)
    total = np.nansum(scene.presence[1] - scene.presence[0])
    assert dt == pytest.approx(np.ceil(10 * total / 100) / 10)
    assert t.size <= 100 + 2 * scene.n_uavs
    for u in (0, scene.n_uavs - 1):
        ts = t[off[u]:off[u + 1]]
        assert np.all(np.diff(ts) <= dt + 1e-9)
        exact = np.array([scene.positions(float(tt))[0][u] for tt in ts])
        np.testing.assert_allclose(xyz[off[u]:off[u + 1]], exact, atol=1e-6)


def test_timing():
    tm = make_timing(0.0, 300.0, end=20.0, speed=10.0, fps=5.0)
    np.testing.assert_allclose(tm.times, np.arange(0, 20.001, 2.0))
    tm = make_timing(0.0, 300.0, start=5, end=10, speed=3.0, fps=1.0)
    np.testing.assert_allclose(tm.times, [5, 8, 10])
    assert make_timing(0.0, 300.0).times.size == 301  # 30 s at 10 fps by default
    for bad in ({"start": 50, "end": 40}, {"speed": 0}, {"fps": -1}, {"speed": 1e-6}):
        with pytest.raises(ValueError):
            make_timing(0.0, 300.0, **bad)


def test_faults_move_hosts_and_show_outages(faults_trace):
    scene = load_scene(faults_trace)
    trace = open_trace(faults_trace)
    tr = trace.migration_transfers
    for r in tr.itertuples():
        assert scene.hosts(r.t_start_s - 1e-9)[r.uav_id, r.twin_id] == r.src_rsu_id, r
    losses = trace.faults_twin_losses
    assert len(losses) > 0
    for r in losses.itertuples():
        assert scene.hosts(r.t_lost_s - 1e-9)[r.uav_id, r.twin_id] == r.rsu_id
        assert scene.hosts(r.t_lost_s)[r.uav_id, r.twin_id] == -1
        if np.isfinite(r.t_restored_s):
            assert scene.hosts(r.t_restored_s)[r.uav_id, r.twin_id] == r.dst_rsu_id
    t = float(losses["t_lost_s"].iloc[0])
    assert scene.counters(t)["lost"] == int((losses["t_lost_s"] <= t).sum()
                                            - (losses["t_restored_s"] <= t).sum())
    out = trace.faults_outages
    for r in out.itertuples():
        rsus, links = scene.outages(0.5 * (r.t_start_s + min(r.t_end_s, scene.t_end)))
        if r.element == "rsu":
            assert r.rsu_id in rsus
        else:
            assert [r.rsu_id, r.peer_rsu_id] in links.tolist()
    assert scene.outages(scene.t_start - 1)[0].size == 0
    assert scene.disruptions_between(-1, scene.t_end).size == len(trace.faults_transfer_events)


def test_failed_and_retried_requests(faults_trace):
    """Failures (an outcome other than served, or priced out) and the retries after them,
    recomputed from the trace's tables with pandas."""
    scene = load_scene(faults_trace)
    trace = open_trace(faults_trace)
    req = trace.migration_requests.sort_values(["uav_id", "t_s", "request_id"])
    bought = trace.pricing_offers.groupby("request_id")["bandwidth_mhz"].sum()
    outcome = req["outcome"].astype(str)
    priced_out = (outcome == "served") & (req["request_id"].map(bought) <= 0)
    failed = (outcome != "served") | priced_out
    assert scene.fail_t.size == int(failed.sum()) > 0
    assert sorted(OUTCOMES[o] for o in scene.fail_outcome) == sorted(
        np.where(priced_out[failed], "priced_out", outcome[failed]))
    retry = failed.groupby(req["uav_id"]).shift(1, fill_value=False).astype(bool)
    retry_ids = set(req["request_id"][retry])
    assert retry_ids
    flagged = scene.tr_retry & RETRY_REQUEST > 0
    assert set(scene.tr_request[flagged]) == retry_ids & set(scene.tr_request)
    assert not set(scene.tr_request[~flagged]) & retry_ids
    offers = trace.pricing_offers.assign(
        t=lambda o: o["round_id"].map(trace.pricing_rounds.set_index("round_id")["t_s"]),
        retry=lambda o: o["request_id"].isin(retry_ids))
    expected = offers.groupby(["t", "uav_id"])["retry"].any()
    got = pd.Series(scene.rd_retry, index=pd.MultiIndex.from_arrays([scene.rd_t, scene.rd_uav]))
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert scene.rd_retry.any()
    # a request that found no coverage: its UAV is waiting then (an RSU that is down covers
    # nothing: in this run most such failures come from outages)
    no_cov = np.flatnonzero(scene.fail_outcome == code_of(REQUEST_OUTCOME, "no_coverage"))
    assert no_cov.size
    for i in no_cov:
        t = scene.fail_t[i] + 1e-6
        assert scene.states(t)[scene.fail_uav[i]] == STATES.index("waiting"), i
    # a retried transfer shows in the state: its UAV is migrating while it flies
    k = int(np.flatnonzero(flagged)[0])
    t = 0.5 * (scene.tr_t0[k] + min(scene.tr_t1[k], scene.t_end))
    assert scene.states(t)[scene.tr_uav[k]] == STATES.index("migrating")
