"""Backhaul: topologies, latency routing vs networkx, fluid sharing vs closed forms and
invariants, the SimPy wrapper's exact completion times, and transfers under failures."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from functools import partial

import networkx as nx
import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.world.backhaul import (
    ABANDONED,
    ABORTED,
    REROUTED,
    RESUMED,
    RETRIED,
    STALLED,
    BackhaulNetwork,
    TransferRecord,
)
from simulator.world.fluid import FluidLinks
from simulator.world.topology import Router, build_backhaul

CAP, LAT = 1e6, 0.002


def grid_positions(rows: int, cols: int) -> np.ndarray:
    return np.array([(c * 100.0, r * 100.0) for r in range(rows) for c in range(cols)])


def test_grid_topology() -> None:
    g = build_backhaul(grid_positions(2, 3), topology="grid", grid_shape=(2, 3),
                       capacity_bps=CAP, latency_s=LAT)
    assert sorted(g.edges) == [(0, 1), (0, 3), (1, 2), (1, 4), (2, 5), (3, 4), (4, 5)]
    assert all(d == {"capacity_bps": CAP, "latency_s": LAT} for *_, d in g.edges(data=True))
    sq = build_backhaul(grid_positions(3, 3), topology="grid", capacity_bps=CAP, latency_s=LAT)
    assert sq.number_of_edges() == 12
    with pytest.raises(ValueError, match="grid_shape"):
        build_backhaul(grid_positions(2, 3), topology="grid", capacity_bps=CAP, latency_s=LAT)


def test_knn_symmetric_and_connected() -> None:
    rng = np.random.default_rng(1)
    pos = np.concatenate([rng.uniform(0, 100, (6, 2)), rng.uniform(5000, 5100, (5, 2))])
    g = build_backhaul(pos, topology="knn", k=2, capacity_bps=CAP, latency_s=LAT)
    assert nx.is_connected(g)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=2)
    for a in range(len(pos)):
        for b in np.argsort(d[a])[1:3]:
            assert g.has_edge(a, int(b))
    # exactly one bridge between the clusters, between their closest pair
    bridges = [(a, b) for a, b in g.edges if (a < 6) != (b < 6)]
    assert len(bridges) == 1
    cross = d[:6, 6:]
    i, j = np.unravel_index(np.argmin(cross), cross.shape)
    assert set(bridges[0]) == {int(i), int(j) + 6}


def test_complete_and_explicit_edges() -> None:
    pos = grid_positions(1, 4)
    g = build_backhaul(pos, topology="complete", capacity_bps=CAP, latency_s=LAT)
    assert g.number_of_edges() == 6
    g = build_backhaul(pos, topology="edges", capacity_bps=CAP, latency_s=LAT,
                       edges=[(0, 1, 5e6, None), (1, 2, None, 0.5), (2, 3, None, None)])
    assert g.edges[0, 1] == {"capacity_bps": 5e6, "latency_s": LAT}
    assert g.edges[1, 2] == {"capacity_bps": CAP, "latency_s": 0.5}
    with pytest.raises(ValueError, match=r"RSUs \[2, 3\] are unreachable"):
        build_backhaul(pos, topology="edges", capacity_bps=CAP, latency_s=LAT,
                       edges=[(0, 1, None, None), (2, 3, None, None)])
    with pytest.raises(ValueError, match="edges\\[0\\]"):
        build_backhaul(pos, topology="edges", capacity_bps=CAP, latency_s=LAT,
                       edges=[(0, 7, None, None)])
    with pytest.raises(ValueError, match="unknown topology 'ring'"):
        build_backhaul(pos, topology="ring", capacity_bps=CAP, latency_s=LAT)
    with pytest.raises(ValueError, match="latency_s"):
        build_backhaul(pos, topology="complete", capacity_bps=CAP, latency_s=0.0)


def test_router_matches_dijkstra_and_breaks_ties() -> None:
    rng = np.random.default_rng(4)
    pos = rng.uniform(0, 1000, (25, 2))
    g = build_backhaul(pos, topology="knn", k=3, capacity_bps=CAP, latency_s=LAT)
    for a, b in g.edges:
        g.edges[a, b]["latency_s"] = float(rng.uniform(0.001, 0.01))
    router = Router(g)
    for s, t in itertools.product(range(0, 25, 3), range(25)):
        p = router.route(s, t)
        assert p[0] == s and p[-1] == t
        assert all(g.has_edge(u, v) for u, v in itertools.pairwise(p))
        lat = sum(g.edges[u, v]["latency_s"] for u, v in itertools.pairwise(p))
        assert lat == pytest.approx(nx.dijkstra_path_length(g, s, t, weight="latency_s"),
                                    rel=1e-12)
    # equal latencies on a square: the lexicographically smallest route, whatever the order
    sq = build_backhaul(grid_positions(2, 2), topology="grid", capacity_bps=CAP, latency_s=LAT)
    rev = nx.Graph()
    rev.add_edges_from(reversed(list(sq.edges(data=True))))
    assert Router(sq).route(0, 3) == Router(rev).route(0, 3) == (0, 1, 3)
    assert Router(sq).route(3, 0) == (3, 1, 0)
    assert Router(sq).route(2, 2) == (2,)


def test_fluid_closed_forms() -> None:
    c, size = 10.0, 100.0
    fl = FluidLinks({(0, 1): c})
    fl.add(1, [(0, 1)], size, 0.0)
    assert fl.next_completion() == (pytest.approx(10.0), 1)
    # two equal flows: both at 2 * size / c
    fl.add(2, [(1, 0)], size, 0.0)
    assert fl.rate(1) == fl.rate(2) == 5.0
    assert fl.next_completion()[0] == pytest.approx(20.0)
    assert fl.pop_completed(20.0) == [1, 2]
    # staggered: A at 0, B at 4 -> A alone 40 bits, shares: A ends at 4 + 2*60/10 = 16,
    # B has 40 bits left then, alone: ends at 20
    fl = FluidLinks({(0, 1): c})
    fl.add(10, [(0, 1)], size, 0.0)
    fl.add(11, [(0, 1)], size, 4.0)
    assert fl.remaining(10) == pytest.approx(60.0)
    t, f = fl.next_completion()
    assert (t, f) == (pytest.approx(16.0), 10)
    assert fl.pop_completed(t) == [10]
    assert fl.remaining(11) == pytest.approx(40.0)
    assert fl.next_completion()[0] == pytest.approx(20.0)


def test_fluid_two_link_path_with_different_contention() -> None:
    fl = FluidLinks({(0, 1): 10.0, (1, 2): 10.0})
    fl.add(0, [(0, 1), (1, 2)], 100.0, 0.0)   # A over both links
    fl.add(1, [(0, 1)], 100.0, 0.0)           # B shares link (0, 1) with A
    fl.add(2, [(1, 2)], 100.0, 0.0)           # C and D share link (1, 2) with A
    fl.add(3, [(2, 1)], 100.0, 0.0)
    assert fl.rate(0) == pytest.approx(10 / 3) and fl.rate(1) == 5.0
    assert fl.rate(2) == fl.rate(3) == pytest.approx(10 / 3)
    # B ends at 20; A, C, D have 100 - 200/3 left and keep 10/3 -> end at 30
    assert fl.pop_completed(20.0) == [1]
    assert fl.rate(0) == pytest.approx(10 / 3)
    assert fl.next_completion()[0] == pytest.approx(30.0)
    assert fl.remove(0, 25.0) == pytest.approx(100 - 25 * 10 / 3)
    assert fl.rate(2) == 5.0
    with pytest.raises(ValueError, match="unknown link"):
        fl.add(9, [(0, 2)], 1.0, 25.0)
    with pytest.raises(ValueError, match="backwards"):
        fl.advance(1.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.floats(1.0, 1e4),
                          st.floats(0.0, 50.0)), min_size=1, max_size=12))
def test_fluid_invariants(flows: list[tuple[int, int, float, float]]) -> None:
    g = build_backhaul(grid_positions(1, 5), topology="knn", k=2, capacity_bps=100.0,
                       latency_s=0.001)
    for i, (a, b) in enumerate(g.edges):
        g.edges[a, b]["capacity_bps"] = 50.0 + 40.0 * i
    router = Router(g)
    fl = FluidLinks({(a, b): d["capacity_bps"] for a, b, d in g.edges(data=True)})
    arrivals = sorted((t, i) for i, (s, d, _, t) in enumerate(flows) if s != d)
    sent = {i: 0.0 for _, i in arrivals}
    done: dict[int, float] = {}
    active: set[int] = set()
    now, k = 0.0, 0
    while k < len(arrivals) or len(fl):
        nc = fl.next_completion()
        t_arr = arrivals[k][0] if k < len(arrivals) else np.inf
        t_next = min(t_arr, nc[0] if nc else np.inf)
        for f in active:
            sent[f] += fl.rate(f) * (t_next - now)
        now = t_next
        for f in fl.pop_completed(now):
            done[f] = now
            active.discard(f)
        if k < len(arrivals) and arrivals[k][0] <= now:
            i = arrivals[k][1]
            s, d, size, _ = flows[i]
            fl.add(i, list(itertools.pairwise(router.route(s, d))), size, now)
            active.add(i)
            k += 1
        for lk, load in fl.link_load().items():
            assert load <= fl.capacity[lk] * (1 + 1e-12)
    assert set(done) == set(sent)
    for i in done:
        assert sent[i] == pytest.approx(flows[i][2], rel=1e-6)


class ReferenceFluid:
    """The fluid model written the plain way, as an independent check of FluidLinks' exact
    arithmetic: one dict per quantity, every flow on a changed link settled and re-rated
    (in id order), a heap entry per re-rating, flows that end together removed one by one."""

    def __init__(self, capacities: dict[tuple[int, int], float]) -> None:
        self.cap = {(min(k), max(k)): c for k, c in capacities.items()}
        self.now = 0.0
        self.path: dict[int, set[tuple[int, int]]] = {}
        self.size: dict[int, float] = {}
        self.left: dict[int, float] = {}
        self.since: dict[int, float] = {}
        self.rate_: dict[int, float] = {}
        self.version: dict[int, int] = {}
        self.users: dict[tuple[int, int], set[int]] = {k: set() for k in self.cap}
        self.heap: list[tuple[float, int, int]] = []

    def remaining(self, f: int) -> float:
        return max(0.0, self.left[f] - self.rate_.get(f, 0.0) * (self.now - self.since[f]))

    def _change(self, links: set[tuple[int, int]], before: Callable[[], None]) -> None:
        touched = set().union(*(self.users[lk] for lk in links))
        for f in touched:
            self.left[f], self.since[f] = self.remaining(f), self.now
        before()
        for f in sorted(set().union(*(self.users[lk] for lk in links))):
            self.rate_[f] = min(self.cap[lk] / len(self.users[lk]) for lk in self.path[f])
            self.version[f] += 1
            heapq.heappush(self.heap, (self.now + self.left[f] / self.rate_[f], f,
                                       self.version[f]))

    def add(self, f: int, links: list[tuple[int, int]], size: float, now: float) -> None:
        self.now = now
        self.path[f] = {(min(lk), max(lk)) for lk in links}
        self.size[f] = self.left[f] = size
        self.since[f], self.version[f] = now, 0

        def join() -> None:
            for lk in self.path[f]:
                self.users[lk].add(f)
        self._change(self.path[f], join)

    def remove(self, f: int, now: float) -> float:
        self.now = now
        left = self.remaining(f)
        for lk in self.path[f]:
            self.users[lk].discard(f)
        self._change(self.path.pop(f), lambda: None)
        for table in (self.size, self.left, self.since, self.rate_, self.version):
            del table[f]
        return left

    def next_completion(self) -> tuple[float, int] | None:
        while self.heap:
            t, f, v = self.heap[0]
            if self.version.get(f) == v:
                return t, f
            heapq.heappop(self.heap)
        return None

    def pop_completed(self, now: float) -> list[int]:
        self.now = now
        done = []
        while (top := self.next_completion()) is not None:
            t, f = top
            if t > now + 1e-12 * max(1.0, now) and self.remaining(f) > 1e-9 * self.size[f]:
                break
            heapq.heappop(self.heap)
            done.append(f)
            self.version[f] = -1
        for f in sorted(done):
            self.remove(f, now)
        return sorted(done)


@pytest.mark.parametrize("seed", range(40))
def test_fluid_bit_for_bit_against_reference(seed: int) -> None:
    """Same times, rates and bits left, to the last bit, as the plain model, including
    flows that end together (equal sizes on shared links) and removals mid-flight."""
    rng = np.random.default_rng(seed)
    caps = {(u, v): float(rng.choice([10.0, 100.0, rng.uniform(1.0, 1e3)]))
            for u in range(5) for v in range(u + 1, 5) if rng.random() < 0.6}
    if not caps:
        return
    keys = list(caps)
    fl, ref = FluidLinks(caps), ReferenceFluid(caps)
    now, live, fid = 0.0, set(), 0
    for _ in range(150):
        r = rng.random()
        if r < 0.45:
            links = [keys[i][::int(rng.choice([1, -1]))]
                     for i in rng.integers(0, len(keys), rng.integers(1, 4))]
            size = float(rng.choice([100.0, 1e3, rng.uniform(0.0, 1e4)]))
            fl.add(fid, links, size, now)
            ref.add(fid, links, size, now)
            live.add(fid)
            fid += 1
        elif r < 0.55 and live:
            f = int(rng.choice(sorted(live)))
            assert fl.remove(f, now) == ref.remove(f, now)
            live.discard(f)
        elif (nc := ref.next_completion()) is not None:
            now = nc[0] if rng.random() < 0.7 else float(now + rng.uniform(0, nc[0] - now))
            done = fl.pop_completed(now)
            assert done == ref.pop_completed(now)
            live -= set(done)
        assert fl.next_completion() == ref.next_completion()
        for f in live:
            assert (fl.rate(f), fl.remaining(f)) == (ref.rate_[f], ref.remaining(f))


def run_transfers(graph: nx.Graph, jobs: list[tuple[float, int, int, float]]
                  ) -> list[TransferRecord]:
    env = simpy.Environment()
    net = BackhaulNetwork(env, graph)
    out: list[TransferRecord] = []

    def job(t: float, s: int, d: int, size: float):
        yield env.timeout(t)
        rec = yield net.transfer(s, d, size)
        assert env.now == pytest.approx(rec.t_end, abs=1e-12)
        out.append(rec)

    for j in jobs:
        env.process(job(*j))
    env.run()
    return out


def test_backhaul_network_exact_times() -> None:
    g = build_backhaul(grid_positions(1, 3), topology="grid", grid_shape=(1, 3),
                       capacity_bps=8e6, latency_s=0.01)
    # one flow over two links: size / capacity + 2 latencies
    (rec,) = run_transfers(g, [(1.0, 0, 2, 1e6)])
    assert rec.path == (0, 1, 2) and rec.t_start == 1.0
    assert rec.t_end == pytest.approx(1.0 + 1.0 + 0.02, rel=1e-12)
    # two equal concurrent flows on one link: both after 2 * size / capacity
    recs = run_transfers(g, [(0.0, 0, 1, 1e6), (0.0, 1, 0, 1e6)])
    assert [r.t_end for r in recs] == [pytest.approx(2.01), pytest.approx(2.01)]
    # staggered start (hand computed as in test_fluid_closed_forms, scaled)
    recs = run_transfers(g, [(0.0, 0, 1, 1e6), (0.4, 0, 1, 1e6)])
    ends = sorted(r.t_end for r in recs)
    assert ends == [pytest.approx(1.6 + 0.01), pytest.approx(2.0 + 0.01)]
    # src == dst completes at once; zero bytes only pay the latency
    recs = run_transfers(g, [(3.0, 1, 1, 5e6), (3.0, 0, 2, 0.0)])
    assert sorted((r.src, r.t_end) for r in recs) == [(0, pytest.approx(3.02)), (1, 3.0)]
    env = simpy.Environment()
    with pytest.raises(ValueError, match="unknown RSU 9"):
        BackhaulNetwork(env, g).transfer(0, 9, 1.0)


# -- failures: reroute, stall, abort and retry, abandon (closed forms) -------------------------
def triangle() -> nx.Graph:
    """0-2 direct (fast), or 0-1-2 (slow); every link 8 Mbit/s."""
    g = nx.Graph()
    g.add_edge(0, 2, capacity_bps=8e6, latency_s=0.001)
    g.add_edge(0, 1, capacity_bps=8e6, latency_s=0.01)
    g.add_edge(1, 2, capacity_bps=8e6, latency_s=0.01)
    return g


def run_with_failures(graph: nx.Graph, jobs: list[tuple[float, int, int, float]],
                      changes: list[tuple[float, set[int], set[tuple[int, int]]]],
                      callbacks: bool = False,
                      **kwargs) -> tuple[list[TransferRecord], list[tuple], BackhaulNetwork]:
    """Transfers ``(t, src, dst, bytes)`` (tagged by their index) while the failed elements
    change to ``(rsus, links)`` at the given times; returns records (in job order), observer
    events ``(t, event, tag, bytes_left, n_hops, attempt)`` and the network. ``callbacks``:
    the transfers report through ``on_done`` (checked to come at each record's end time)
    instead of their events."""
    env = simpy.Environment()
    net = BackhaulNetwork(env, graph, **kwargs)
    events: list[tuple] = []
    net.observer = lambda ev, tag, s, d, left, hops, att: events.append(
        (env.now, ev, tag, left, hops, att))
    out: list[TransferRecord | None] = [None] * len(jobs)

    def landed(k: int, record: TransferRecord) -> None:
        assert env.now == record.t_end
        out[k] = record

    def job(k: int, t: float, s: int, d: int, size: float):
        yield env.timeout(t)
        if callbacks:
            net.transfer(s, d, size, tag=k, on_done=partial(landed, k))
        else:
            out[k] = yield net.transfer(s, d, size, tag=k)

    def fail():
        for t, rsus, links in changes:
            yield env.timeout(t - env.now)
            net.set_failed(rsus, links)

    for k, j in enumerate(jobs):
        env.process(job(k, *j))
    env.process(fail())
    env.run()
    assert all(r is not None for r in out)
    return out, events, net  # type: ignore[return-value]


def test_reroute_keeps_the_bits_left() -> None:
    (rec,), events, net = run_with_failures(triangle(), [(0.0, 0, 2, 1e6)],
                                            [(0.25, set(), {(2, 0)})])
    # 1/4 of 8 Mbit sent on the direct link, the rest over 0-1-2 at 8 Mbit/s
    assert rec.path == (0, 1, 2) and not rec.aborted
    assert rec.t_end == pytest.approx(1.0 + 0.02, rel=1e-12)
    assert events == [(0.25, REROUTED, 0, pytest.approx(0.75e6), 2, 0)]
    assert net.in_flight() == []


def test_reroute_recomputes_the_fluid_rates() -> None:
    """After the reroute, A shares link 0-1 with B: both drain their 6 Mbit at 4 Mbit/s."""
    (a, b), _, _ = run_with_failures(triangle(), [(0.0, 0, 2, 1e6), (0.0, 0, 1, 1e6)],
                                     [(0.25, set(), {(0, 2)})])
    assert a.t_end == pytest.approx(0.25 + 1.5 + 0.02, rel=1e-12)
    assert b.t_end == pytest.approx(0.25 + 1.5 + 0.01, rel=1e-12)


def test_no_route_stalls_until_repair() -> None:
    line = build_backhaul(grid_positions(1, 3), topology="grid", grid_shape=(1, 3),
                          capacity_bps=8e6, latency_s=0.01)
    (rec,), events, _ = run_with_failures(
        line, [(0.0, 0, 2, 1e6), ], [(0.25, set(), {(1, 2)}), (2.0, set(), set())])
    assert rec.t_end == pytest.approx(2.0 + 0.75 + 0.02, rel=1e-12)
    assert [e[1] for e in events] == [STALLED, RESUMED]
    assert events[1][3] == pytest.approx(0.75e6) and events[1][4] == 2
    # a transfer started across a partition waits for the repair
    (rec,), events, _ = run_with_failures(
        line, [(1.0, 0, 2, 1e6)], [(0.5, set(), {(0, 1)}), (3.0, set(), set())])
    assert rec.t_end == pytest.approx(3.0 + 1.0 + 0.02, rel=1e-12)
    assert [e[1] for e in events] == [STALLED, RESUMED]


def test_abort_retries_from_the_first_byte_after_backoff() -> None:
    kwargs = {"on_failure": "abort", "backoff": (0.5, 2.0, 10.0)}
    (rec,), events, _ = run_with_failures(triangle(), [(0.0, 0, 2, 1e6)],
                                          [(0.25, set(), {(0, 2)})], **kwargs)
    assert rec.path == (0, 1, 2)
    assert rec.t_end == pytest.approx(0.75 + 1.0 + 0.02, rel=1e-12)
    assert [(e[0], e[1], e[5]) for e in events] == [(0.25, ABORTED, 0), (0.75, RETRIED, 1)]
    # repaired before the retry: back on the direct link
    (rec,), _, _ = run_with_failures(triangle(), [(0.0, 0, 2, 1e6)],
                                     [(0.25, set(), {(0, 2)}), (0.5, set(), set())], **kwargs)
    assert rec.path == (0, 2) and rec.t_end == pytest.approx(1.75 + 0.001, rel=1e-12)
    # no route at the retry: back off again (0.5, then 1.0 s) until a route is back
    line = build_backhaul(grid_positions(1, 3), topology="grid", grid_shape=(1, 3),
                          capacity_bps=8e6, latency_s=0.01)
    (rec,), events, _ = run_with_failures(line, [(0.0, 0, 2, 1e6)],
                                          [(0.25, set(), {(1, 2)}), (1.0, set(), set())],
                                          **kwargs)
    assert [(e[0], e[1]) for e in events] == [(0.25, ABORTED), (0.75, ABORTED),
                                              (1.75, RETRIED)]
    assert rec.t_end == pytest.approx(2.75 + 0.02, rel=1e-12)


def test_failed_endpoint_abandons_the_transfer() -> None:
    (rec,), events, net = run_with_failures(triangle(), [(0.0, 0, 2, 1e6)],
                                            [(0.25, {2}, set())])
    assert rec.aborted and rec.t_end == 0.25
    assert [e[1] for e in events] == [ABANDONED]
    assert net.in_flight() == []
    # a failed intermediate RSU is routed around like a failed link
    (rec,), _, _ = run_with_failures(triangle(), [(0.0, 1, 2, 1e6)], [(0.25, {0}, set())])
    assert rec.path == (1, 2) and not rec.aborted
    # the last bit still on its way when the destination fails
    (rec,), _, _ = run_with_failures(triangle(), [(0.0, 0, 1, 1e6)], [(1.005, {1}, set())])
    assert rec.aborted and rec.t_end == pytest.approx(1.005)
    # a transfer to an RSU that is down is abandoned at once
    (rec,), _, _ = run_with_failures(triangle(), [(1.0, 0, 2, 1e6)], [(0.5, {2}, set())])
    assert rec.aborted and rec.t_end == 1.0


def test_in_flight_reports_tags() -> None:
    env = simpy.Environment()
    net = BackhaulNetwork(env, triangle())
    net.transfer(0, 2, 1e6, tag=("a", 1))
    net.transfer(1, 2, 1e6, tag=("b", 2))
    assert net.in_flight() == [(("a", 1), 0, 2), (("b", 2), 1, 2)]
    with pytest.raises(ValueError, match="on_failure"):
        BackhaulNetwork(env, triangle(), on_failure="drop")



def test_on_done_reports_the_records_of_the_event_form() -> None:
    # the callback form of transfer() (delivered transfers call back in the event that
    # delivers them, abandoned ones and src == dst from an event of their own) reports the
    # records of the event form, at their end times
    jobs = [(0.0, 0, 2, 1e6), (0.0, 0, 1, 5e5), (0.0, 1, 1, 3e5), (0.3, 1, 2, 2e6)]
    changes = [(0.6, {2}, set())]  # the transfers to RSU 2 are abandoned at 0.6
    expected, _, _ = run_with_failures(triangle(), jobs, changes)
    got, _, _ = run_with_failures(triangle(), jobs, changes, callbacks=True)
    assert got == expected
    assert [r.aborted for r in expected] == [True, False, False, True]
