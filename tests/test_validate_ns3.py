"""Cross-validation against ns-3: the TcpCorrection option of the backhaul (closed forms, no
ns-3), and, marked ``ns3``, packet-level TCP in ns-3 against the fluid model on small cases.

The ns-3 tests need the ``validate`` extra (``make test`` installs it); loading ns-3 takes
tens of seconds, once per session (the ``driver`` fixture)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import simpy

from simulator.validate.cases import (
    Transfer,
    error_stats,
    fluid_completions,
    standard_cases,
)
from simulator.validate.ns3run import host_routes, path_latency
from simulator.world.backhaul import BackhaulNetwork, TcpCorrection
from simulator.world.topology import Router, build_backhaul

MB = 1e6


def chain(caps, lats):  # type: ignore[no-untyped-def]
    edges = [(k, k + 1, c, lat) for k, (c, lat) in enumerate(zip(caps, lats, strict=True))]
    return build_backhaul(np.zeros((len(caps) + 1, 2)), topology="edges", capacity_bps=1.0,
                          latency_s=1.0, edges=edges)


# ---------------------------------------------------------------- TcpCorrection (no ns-3)

def test_correction_extra_delay_closed_forms() -> None:
    corr = TcpCorrection(efficiency=0.9, handshake_rtts=1.0, initial_window_bytes=1000.0,
                         slow_start_weight=1.0)
    rate, lat = 8e6, 0.05  # 1 MB/s, RTT 0.1 s -> W = 100 kB in flight
    # a large transfer ramps to W: log2(1 + 100) round trips, minus W / rate already charged
    big = corr.extra_delay(10 * MB, rate, lat)
    assert big == pytest.approx(0.1 + 0.1 * math.log2(101) - 0.1)
    # a small transfer (S < W) ends inside slow start: log2(1 + S / IW) round trips
    small = corr.extra_delay(3000.0, rate, lat)
    assert small == pytest.approx(0.1 + 0.1 * 2 - 3000 * 8 / rate)
    # weights scale their terms
    assert TcpCorrection(handshake_rtts=0, slow_start_weight=0).extra_delay(1e9, 1e9, 0.01) == 0
    assert TcpCorrection(handshake_rtts=2.5, slow_start_weight=0).extra_delay(
        1e9, 1e9, 0.01) == pytest.approx(0.05)
    for bad in ({"efficiency": 0.0}, {"efficiency": 1.2}, {"handshake_rtts": -1},
                {"slow_start_weight": math.nan}, {"initial_window_bytes": 0}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            TcpCorrection(**bad)


def test_backhaul_with_correction_single_and_shared() -> None:
    g = chain([1e6, 2e6], [0.01, 0.02])  # 0 -1- 1 -2- 2
    corr = TcpCorrection(efficiency=0.8, slow_start_weight=0.5)
    env = simpy.Environment()
    net = BackhaulNetwork(env, g, correction=corr)
    done = net.transfer(0, 2, 1000.0)
    env.run()
    rate = 1e6  # bottleneck of the path (fluid bits of the inflated flow per second)
    expect = 8000 / 0.8 / rate + 0.03 + corr.extra_delay(1000.0, rate * 0.8, 0.03)
    assert done.value.t_end == pytest.approx(expect, rel=1e-12)
    # two transfers sharing link (0, 1): each sees half the capacity when it starts
    fl = fluid_completions(g, [Transfer(0, 1, 0.0, 5000.0), Transfer(0, 1, 0.0, 5000.0)], corr)
    each = 2 * 40000 / 0.8 / 1e6 + 0.01 + corr.extra_delay(5000.0, 0.5e6 * 0.8, 0.01)
    assert fl == [pytest.approx(each, rel=1e-12)] * 2
    # without a correction: the plain fluid model, unchanged
    plain = fluid_completions(g, [Transfer(0, 2, 0.0, 1000.0)])
    assert plain == [pytest.approx(8000 / 1e6 + 0.03, rel=1e-12)]


def test_host_routes_follow_the_router_both_ways() -> None:
    g = build_backhaul(np.zeros((9, 2)), topology="grid", capacity_bps=1e6, latency_s=0.002)
    transfers = [Transfer(0, 8, 0, 1), Transfer(6, 2, 0, 1), Transfer(4, 3, 0, 1)]
    routes, last_hop = host_routes(g, transfers)
    table = {(u, d, n): v for u, d, n, v in routes}
    assert len(table) == len(routes)
    router = Router(g)
    for t, hop in zip(transfers, last_hop, strict=True):
        fwd = router.route(t.src, t.dst)
        assert hop == fwd[-2]
        # data to dst's address on its last link; ACKs to src's address on its first link
        for a, b, name in ((t.src, t.dst, fwd[-2]), (t.dst, t.src, fwd[1])):
            node, walked = a, [a]
            while node != b:  # follow the host routes hop by hop
                node = table[(node, b, name)]
                walked.append(node)
            assert tuple(walked) == router.route(a, b)
    assert path_latency(g, 0, 8) == pytest.approx(4 * 0.002)


def test_error_stats_closed_form() -> None:
    st = error_stats([1.5, 3.0, 11.0], [2.0, 3.0, 9.0], [0.0, 1.0, 1.0])
    # durations fluid 1.5, 2, 10 vs packet 2, 2, 8: errors -25 %, 0, +25 %
    assert st["median"] == pytest.approx(0.25) and st["worst"] == pytest.approx(0.25)
    assert st["mean_signed"] == pytest.approx(0.0) and st["n"] == 3


# ---------------------------------------------------------------- ns-3 (packet level)

@pytest.fixture(scope="module")
def driver():  # type: ignore[no-untyped-def]
    from simulator.validate import ns3run

    if not ns3run.available():
        pytest.fail("ns-3 bindings missing: pip install -e '.[validate]' (make test does)")
    return ns3run


@pytest.mark.ns3
def test_ns3_single_link_bounds_and_correction(driver) -> None:  # type: ignore[no-untyped-def]
    g = chain([50e6], [0.002])
    sizes = [20e3, 0.5 * MB, 2 * MB]
    transfers = [Transfer(0, 1, 1.0 * k, s) for k, s in enumerate(sizes)]  # one at a time
    got = driver.run_transfers(g, transfers)["completion_s"]
    fluid = fluid_completions(g, transfers)
    corrected = fluid_completions(g, transfers, TcpCorrection())
    for t, p, f, c in zip(transfers, got, fluid, corrected, strict=True):
        # physics: no packet-level transfer beats the fluid bound (link rate + propagation),
        # and every one needs at least the handshake's extra round trip on top
        assert p > f + 2 * 0.002 * 0.9
        # the correction explains most of the gap
        assert abs(c - p) < 0.35 * abs(f - p), (t, p, f, c)
    # long transfers: fluid within 10 %; the 20 kB one is dominated by round trips (> 50 %)
    err = [(f - p) / (p - t.start_s) for t, p, f in zip(transfers, got, fluid, strict=True)]
    assert abs(err[-1]) < 0.10 and abs(err[0]) > 0.5


@pytest.mark.ns3
def test_ns3_shared_link_is_fair_and_work_conserving(driver) -> None:  # type: ignore[no-untyped-def]
    g = chain([50e6], [0.002])
    transfers = [Transfer(0, 1, 0.0, 1 * MB) for _ in range(4)]
    got = np.array(driver.run_transfers(g, transfers)["completion_s"])
    fluid = np.array(fluid_completions(g, transfers))
    bound = 4 * 8 * MB / 50e6 + 0.002
    assert fluid == pytest.approx([bound] * 4, rel=1e-12)  # equal shares, joint finish
    assert got.max() > bound  # the link cannot carry the 4 MB (plus headers) any faster
    assert got.max() < bound * 1.25  # TCP keeps the link busy
    assert got.min() > 0.75 * got.max()  # and shares it roughly equally


@pytest.mark.ns3
def test_ns3_standard_cases_small_scale(driver) -> None:  # type: ignore[no-untyped-def]
    """The benchmark's synthetic cases at 1/20 of their sizes: every transfer completes and
    none beats its path's bottleneck alone; on one link the fluid model, being
    work-conserving, finishes the whole batch no later than TCP does."""
    for case in standard_cases(scale=0.05):
        got = np.array(driver.run_transfers(case.graph, case.transfers)["completion_s"])
        assert np.isfinite(got).all(), case.name
        router = Router(case.graph)
        for t, p in zip(case.transfers, got, strict=True):
            path = router.route(t.src, t.dst)
            caps = [case.graph.edges[u, v]["capacity_bps"] for u, v in itertools.pairwise(path)]
            alone = 8 * t.size_bytes / min(caps) + router.latency(t.src, t.dst)
            assert p - t.start_s > alone, (case.name, t, p)
        if case.graph.number_of_edges() == 1:
            assert max(fluid_completions(case.graph, case.transfers)) <= got.max(), case.name


def test_scenario_option_applies_the_correction(run_small) -> None:  # type: ignore[no-untyped-def]
    """``backhaul.tcp_correction: true``: every recorded transfer takes at least its size at
    the link rate over the efficiency, plus the route latency and one round trip; the default
    run has transfers faster than that bound (so the option is what makes the difference)."""
    from simulator.trace.reader import TraceReader

    def durations(result):  # type: ignore[no-untyped-def]
        with TraceReader(result.trace_path) as tr:
            t = tr.read("/migration/transfers")
        ok = np.isfinite(t["t_end_s"]) & (t["n_hops"] > 0)
        lat = 0.002 * t["n_hops"][ok]
        floor = 8 * t["size_bytes"][ok] / TcpCorrection().efficiency / 1e9 + lat + 2 * lat
        return t["t_end_s"][ok] - t["t_start_s"][ok], floor

    d_on, floor_on = durations(run_small("backhaul.tcp_correction=true", name="on.h5"))
    d_off, floor_off = durations(run_small(name="off.h5"))
    assert d_on.size > 0 and d_off.size > 0
    assert (d_on >= floor_on * (1 - 1e-9)).all()
    assert (d_off < floor_off).any()
