"""Fluid sharing of link capacity among concurrent transfers (the backhaul's data plane).

Each flow crosses a path of undirected links; a link's capacity is split equally among the
flows crossing it and a flow moves at the smallest share along its path. Rates therefore
change only when a flow starts or ends, and only for the flows sharing a link with it, so
completion times are exact and each change is cheap. The model has no clock of its own: the
caller passes the current time (see :class:`simulator.world.backhaul.BackhaulNetwork`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["FluidLinks", "link_key"]


def link_key(u: int, v: int) -> tuple[int, int]:
    """The key of the undirected link between ``u`` and ``v`` (smaller id first)."""
    return (u, v) if u <= v else (v, u)


class _Link:
    """One link: its capacity, the flows crossing it and the share each of them gets."""

    __slots__ = ("capacity", "share", "users")

    def __init__(self, capacity: float) -> None:
        self.capacity = capacity
        self.users: set[int] = set()
        self.share = capacity  # capacity / len(users), kept current as flows come and go


class _Flow:
    """One flow: its links, the bits it had left at ``since``, its rate, and the projected
    completion time ``t`` of its current heap entry (tagged ``version``)."""

    __slots__ = ("left", "links", "rate", "since", "size", "t", "version")

    def __init__(self, links: tuple[_Link, ...], size: float, now: float) -> None:
        self.links = links
        self.size = size
        self.left = size
        self.since = now
        self.rate = 0.0
        self.version = 0
        self.t = -1.0  # no heap entry yet


class FluidLinks:
    """Flows on paths of links, each link's capacity shared equally among its flows.

    A flow's rate is ``min over its links of capacity / (flows on the link)``, so adding or
    removing a flow changes the rates of the flows that share a link with it and of no
    other. The model is updated incrementally: each flow keeps the bits it had left at its
    last rate change, and a heap holds every flow's projected completion time (entries made
    stale by a later rate change are skipped when popped). A change costs
    O(flows sharing a link x path length + log flows), independent of the total number of
    flows in the network.

    Every time is computed by the same floating-point operations whatever the order in
    which flows are visited, and flows that end together are removed as one change (the
    result is bit for bit that of removing them one by one: settling a flow twice at the same
    instant changes nothing).

    Args:
        capacities: ``{(u, v): capacity_bps}`` per undirected link (``(u, v)`` and ``(v, u)``
            are the same link).
    """

    def __init__(self, capacities: Mapping[tuple[int, int], float]) -> None:
        self.capacity: dict[tuple[int, int], float] = {}
        for (u, v), cap in capacities.items():
            if not (cap > 0 and math.isfinite(cap)):
                raise ValueError(f"FluidLinks: link ({u}, {v}) capacity must be > 0, got {cap}")
            self.capacity[link_key(u, v)] = float(cap)
        self.now = 0.0
        self._link = {lk: _Link(cap) for lk, cap in self.capacity.items()}
        self._flows: dict[int, _Flow] = {}
        self._routes: dict[tuple[int, ...], tuple[_Link, ...]] = {}
        self._heap: list[tuple[float, int, int]] = []  # (completion time, flow, version)

    def __len__(self) -> int:
        return len(self._flows)

    def add(self, flow_id: int, links: Sequence[tuple[int, int]], size_bits: float,
            now: float) -> None:
        """Start a flow of ``size_bits`` over ``links`` at time ``now``.

        Raises:
            ValueError: duplicate id, empty path, unknown link, negative size, or time going
                backwards.
        """
        if flow_id in self._flows:
            raise ValueError(f"FluidLinks: flow {flow_id} already exists")
        self._insert(flow_id, self._resolve(flow_id, links), size_bits, now)

    def add_route(self, flow_id: int, route: tuple[int, ...], size_bits: float,
                  now: float) -> None:
        """:meth:`add` over the links of a node sequence ``(src, ..., dst)``; the links of
        each route are looked up once and remembered."""
        if flow_id in self._flows:
            raise ValueError(f"FluidLinks: flow {flow_id} already exists")
        links = self._routes.get(route)
        if links is None:
            links = self._routes[route] = self._resolve(
                flow_id, [(route[i], route[i + 1]) for i in range(len(route) - 1)])
        self._insert(flow_id, links, size_bits, now)

    def _resolve(self, flow_id: int, links: Iterable[tuple[int, int]]) -> tuple[_Link, ...]:
        """The distinct links of a path (first occurrence order), checked."""
        path = tuple(dict.fromkeys(link_key(u, v) for u, v in links))
        if not path:
            raise ValueError(f"FluidLinks: flow {flow_id} has an empty path")
        unknown = [lk for lk in path if lk not in self._link]
        if unknown:
            raise ValueError(f"FluidLinks: flow {flow_id} uses unknown link {unknown[0]}")
        return tuple(self._link[lk] for lk in path)

    def _insert(self, flow_id: int, links: tuple[_Link, ...], size_bits: float,
                now: float) -> None:
        if not 0.0 <= size_bits < math.inf:
            raise ValueError(f"FluidLinks: flow {flow_id} size must be >= 0, got {size_bits}")
        if now != self.now:
            self.advance(now)
        affected = {flow_id}
        for link in links:
            users = link.users
            if users:
                affected |= users
            users.add(flow_id)
            link.share = link.capacity / len(users)
        self._flows[flow_id] = _Flow(links, float(size_bits), self.now)
        self._rerate(affected)

    def remove(self, flow_id: int, now: float) -> float:
        """Stop a flow at ``now``; returns the bits it had left."""
        if flow_id not in self._flows:
            raise ValueError(f"FluidLinks: unknown flow {flow_id}")
        self.advance(now)
        left = self.remaining(flow_id)
        self._drop([flow_id])
        return left

    def _drop(self, flow_ids: list[int]) -> None:
        """Remove flows at the current time and re-rate the flows that shared a link with
        any of them."""
        flows = self._flows
        affected: set[int] = set()
        for f in flow_ids:
            for link in flows.pop(f).links:
                users = link.users
                users.discard(f)
                if users:
                    link.share = link.capacity / len(users)
                    affected |= users
        affected.difference_update(flow_ids)
        if affected:
            self._rerate(affected)

    def advance(self, now: float) -> None:
        """Move the model's clock to ``now`` (flows drain lazily at their current rates)."""
        if now < self.now:
            raise ValueError(f"FluidLinks: time goes backwards ({now} < {self.now})")
        self.now = float(now)

    def _rerate(self, flow_ids: set[int]) -> None:
        """Book the bits drained by each flow up to now at its old rate, then give it its
        new rate and projected completion time (the link shares are already current). A flow
        whose time is unchanged keeps its heap entry."""
        flows, now, heap = self._flows, self.now, self._heap
        for f in flow_ids:
            flow = flows[f]
            left = flow.left - flow.rate * (now - flow.since)
            flow.left = left = left if left > 0.0 else 0.0  # max(0.0, left), bit for bit
            flow.since = now
            links = flow.links
            rate = links[0].share
            for link in links[1:]:
                if link.share < rate:
                    rate = link.share
            flow.rate = rate
            t = now + left / rate
            if t != flow.t:
                flow.t = t
                flow.version += 1
                heapq.heappush(heap, (t, f, flow.version))

    def rate(self, flow_id: int) -> float:
        """Current rate (bit/s) of a flow."""
        return self._flows[flow_id].rate

    def remaining(self, flow_id: int) -> float:
        """Bits a flow still has to send at the model's current time."""
        flow = self._flows[flow_id]
        left = flow.left - flow.rate * (self.now - flow.since)
        return left if left > 0.0 else 0.0

    def link_load(self) -> dict[tuple[int, int], float]:
        """Sum of the rates (bit/s) of the flows on each link (never above its capacity)."""
        key = {id(link): lk for lk, link in self._link.items()}
        load = dict.fromkeys(self.capacity, 0.0)
        for flow in self._flows.values():
            for link in flow.links:
                load[key[id(link)]] += flow.rate
        return load

    def next_completion(self) -> tuple[float, int] | None:
        """``(time, flow_id)`` of the earliest completion at current rates (smallest id on
        ties), or None without flows (stale heap entries on top are dropped)."""
        heap, flows = self._heap, self._flows
        while heap:
            t, f, version = heap[0]
            flow = flows.get(f)
            if flow is not None and flow.version == version:
                return t, f
            heapq.heappop(heap)
        return None

    def pop_completed(self, now: float, rel_tol: float = 1e-9) -> list[int]:
        """Advance to ``now`` and remove every flow with at most ``rel_tol * size`` bits left.

        Returns:
            The finished flow ids, ascending.
        """
        if now != self.now:
            self.advance(now)
        slack = 1e-12 * max(1.0, abs(now))
        heap, flows = self._heap, self._flows
        done = []
        while heap:
            t, f, version = heap[0]
            flow = flows.get(f)
            if flow is None or flow.version != version:
                heapq.heappop(heap)  # stale
                continue
            if t > now + slack:
                left = flow.left - flow.rate * (self.now - flow.since)  # self.remaining(f)
                if (left if left > 0.0 else 0.0) > rel_tol * flow.size:
                    break
            heapq.heappop(heap)
            done.append(f)
            flow.version = -1  # no longer scheduled
        if done:
            done.sort()
            self._drop(done)
        return done
