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
from collections.abc import Mapping, Sequence

__all__ = ["FluidLinks", "link_key"]


def link_key(u: int, v: int) -> tuple[int, int]:
    """The key of the undirected link between ``u`` and ``v`` (smaller id first)."""
    return (u, v) if u <= v else (v, u)


class FluidLinks:
    """Flows on paths of links, each link's capacity shared equally among its flows.

    A flow's rate is ``min over its links of capacity / (flows on the link)``, so adding or
    removing a flow changes the rates of the flows that share a link with it and of no
    other. The model is updated incrementally: each flow keeps the bits it had left at its
    last rate change, and a heap holds every flow's projected completion time (entries made
    stale by a later rate change are skipped when popped). A change costs
    O(flows sharing a link x path length + log flows), independent of the total number of
    flows in the network.

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
        self._links: dict[int, tuple[tuple[int, int], ...]] = {}
        self._size: dict[int, float] = {}
        self._left: dict[int, float] = {}  # bits left at time self._since[f]
        self._since: dict[int, float] = {}
        self._rate: dict[int, float] = {}
        self._version: dict[int, int] = {}
        self._users: dict[tuple[int, int], set[int]] = {}
        self._heap: list[tuple[float, int, int]] = []  # (completion time, flow, version)

    def __len__(self) -> int:
        return len(self._links)

    def add(self, flow_id: int, links: Sequence[tuple[int, int]], size_bits: float,
            now: float) -> None:
        """Start a flow of ``size_bits`` over ``links`` at time ``now``.

        Raises:
            ValueError: duplicate id, empty path, unknown link, negative size, or time going
                backwards.
        """
        if flow_id in self._links:
            raise ValueError(f"FluidLinks: flow {flow_id} already exists")
        path = tuple(link_key(u, v) for u, v in links)
        if not path:
            raise ValueError(f"FluidLinks: flow {flow_id} has an empty path")
        unknown = [lk for lk in path if lk not in self.capacity]
        if unknown:
            raise ValueError(f"FluidLinks: flow {flow_id} uses unknown link {unknown[0]}")
        if not (size_bits >= 0 and math.isfinite(size_bits)):
            raise ValueError(f"FluidLinks: flow {flow_id} size must be >= 0, got {size_bits}")
        self.advance(now)
        affected = self._neighbours(path)
        self._settle(affected)
        self._links[flow_id] = path
        self._size[flow_id] = float(size_bits)
        self._left[flow_id] = float(size_bits)
        self._since[flow_id] = self.now
        self._version[flow_id] = 0
        for lk in set(path):
            self._users.setdefault(lk, set()).add(flow_id)
        affected.add(flow_id)
        self._rerate(affected)

    def remove(self, flow_id: int, now: float) -> float:
        """Stop a flow at ``now``; returns the bits it had left."""
        if flow_id not in self._links:
            raise ValueError(f"FluidLinks: unknown flow {flow_id}")
        self.advance(now)
        left = self.remaining(flow_id)
        path = self._links.pop(flow_id)
        for lk in set(path):
            self._users[lk].discard(flow_id)
        for table in (self._size, self._left, self._since, self._rate, self._version):
            del table[flow_id]
        affected = self._neighbours(path)
        self._settle(affected)
        self._rerate(affected)
        return left

    def advance(self, now: float) -> None:
        """Move the model's clock to ``now`` (flows drain lazily at their current rates)."""
        if now < self.now:
            raise ValueError(f"FluidLinks: time goes backwards ({now} < {self.now})")
        self.now = float(now)

    def _neighbours(self, path: tuple[tuple[int, int], ...]) -> set[int]:
        """Flows crossing any link of ``path``."""
        out: set[int] = set()
        for lk in path:
            out |= self._users.get(lk, set())
        return out

    def _settle(self, flows: set[int]) -> None:
        """Book the bits drained by ``flows`` up to now (before their rates change)."""
        for f in flows:
            self._left[f] = self.remaining(f)
            self._since[f] = self.now

    def _rerate(self, flows: set[int]) -> None:
        """New rates and projected completion times for ``flows`` (all settled to now)."""
        for f in sorted(flows):
            rate = min(self.capacity[lk] / len(self._users[lk]) for lk in self._links[f])
            self._rate[f] = rate
            self._version[f] += 1
            heapq.heappush(self._heap, (self.now + self._left[f] / rate, f, self._version[f]))

    def rate(self, flow_id: int) -> float:
        """Current rate (bit/s) of a flow."""
        return self._rate[flow_id]

    def remaining(self, flow_id: int) -> float:
        """Bits a flow still has to send at the model's current time."""
        drained = self._rate.get(flow_id, 0.0) * (self.now - self._since[flow_id])
        return max(0.0, self._left[flow_id] - drained)

    def link_load(self) -> dict[tuple[int, int], float]:
        """Sum of the rates (bit/s) of the flows on each link (never above its capacity)."""
        load = dict.fromkeys(self.capacity, 0.0)
        for f, path in self._links.items():
            for lk in set(path):
                load[lk] += self._rate[f]
        return load

    def _top(self) -> tuple[float, int] | None:
        """The earliest current heap entry, dropping stale ones."""
        heap = self._heap
        while heap:
            t, f, version = heap[0]
            if self._version.get(f) == version:
                return t, f
            heapq.heappop(heap)
        return None

    def next_completion(self) -> tuple[float, int] | None:
        """``(time, flow_id)`` of the earliest completion at current rates (smallest id on
        ties), or None without flows."""
        return self._top()

    def pop_completed(self, now: float, rel_tol: float = 1e-9) -> list[int]:
        """Advance to ``now`` and remove every flow with at most ``rel_tol * size`` bits left.

        Returns:
            The finished flow ids, ascending.
        """
        self.advance(now)
        slack = 1e-12 * max(1.0, abs(now))
        done = []
        while (top := self._top()) is not None:
            t, f = top
            if t > now + slack and self.remaining(f) > rel_tol * self._size[f]:
                break
            heapq.heappop(self._heap)
            done.append(f)
            self._version[f] = -1  # no longer scheduled
        for f in sorted(done):
            self.remove(f, now)
        return sorted(done)
