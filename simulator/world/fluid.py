"""Fluid sharing of link capacity among concurrent transfers (the backhaul's data plane).

Each flow crosses a path of undirected links; a link's capacity is split equally among the
flows crossing it and a flow moves at the smallest share along its path. Rates therefore
change only when a flow starts or ends, and only for the flows sharing a link with it, so
completion times are exact and each change is cheap. The model has no clock of its own: the
caller passes the current time (see :class:`simulator.world.backhaul.BackhaulNetwork`).
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType

import numpy as np

from agents import compiled

__all__ = ["FluidLinks", "link_key"]


def link_key(u: int, v: int) -> tuple[int, int]:
    """The key of the undirected link between ``u`` and ``v`` (smaller id first)."""
    return (u, v) if u <= v else (v, u)


def _kernel() -> ModuleType:
    """The compiled operations (numba takes ~1 s to import: loaded when a model is made, not
    by ``uavtwin --help`` or ``validate``)."""
    from simulator.world import fluidkernel

    return fluidkernel


class FluidLinks:
    """Flows on paths of links, each link's capacity shared equally among its flows.

    A flow's rate is ``min over its links of capacity / (flows on the link)``, so adding or
    removing a flow changes the rates of the flows that share a link with it and of no
    other. The model is updated incrementally: each flow keeps the bits it had left at its
    last rate change and its projected completion time; a change re-rates only the flows on
    the changed links, and the next completion is the smallest ``(time, flow id)`` of the
    live flows. The flows and links are held in arrays and each operation is one compiled
    call (:mod:`simulator.world.fluidkernel`); :meth:`start` and :meth:`complete` also return
    the next completion, so the backhaul makes two calls per transfer.

    Every time is computed by the same floating-point operations whatever the order in
    which flows are visited, and flows that end together are removed as one change (the
    result is bit for bit that of removing them one by one: settling a flow twice at the same
    instant changes nothing).

    Flow ids are integers in ``[0, 2**63)``.

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
        self._index = {lk: i for i, lk in enumerate(self.capacity)}
        caps = np.array(list(self.capacity.values()), dtype=np.float64)
        self._lk = np.ascontiguousarray(np.stack([caps, caps], axis=1).reshape(-1, 2))
        self._lu = np.zeros((len(caps), 1 + 8), dtype=np.int64)  # 8 users per link to start
        self._fl = np.zeros((0, 5))
        self._fi = np.zeros((0, 3 + 2 * 4), dtype=np.int64)  # paths of 4 links to start
        self._tr = np.zeros(0, dtype=np.int64)  # 2 x slots
        self._out = np.zeros((2, 0), dtype=np.int64)
        # the kernels' two buffers (fluidkernel.pack); the arrays above are views of them
        self._fb, self._ib = np.zeros(0), np.zeros(0, dtype=np.int64)
        self._slot: dict[int, int] = {}  # flow id -> its row in _fl and _fi
        self._free: list[int] = []
        self._routes: dict[tuple[int, ...], np.ndarray] = {}
        k = _kernel()
        self._k_add, self._k_complete, self._k_remove = k.add_flow, k.complete, k.remove_flow
        self._k_peek, self._k_rebuild, self._k_pack = k.peek, k.rebuild, k.pack
        self._grow_flows()

    def __len__(self) -> int:
        return len(self._slot)

    def add(self, flow_id: int, links: Sequence[tuple[int, int]], size_bits: float,
            now: float) -> None:
        """Start a flow of ``size_bits`` over ``links`` at time ``now``.

        Raises:
            ValueError: duplicate id, empty path, unknown link, negative size, or time going
                backwards.
        """
        if flow_id in self._slot:
            raise ValueError(f"FluidLinks: flow {flow_id} already exists")
        self._add(flow_id, self._resolve(flow_id, links), size_bits, now)

    def add_route(self, flow_id: int, route: tuple[int, ...], size_bits: float,
                  now: float) -> None:
        """:meth:`add` over the links of a node sequence ``(src, ..., dst)``; the links of
        each route are looked up once and remembered."""
        self.start(flow_id, route, size_bits, now)

    def start(self, flow_id: int, route: tuple[int, ...], size_bits: float,
              now: float) -> float:
        """:meth:`add_route`, then the time of :meth:`next_completion` (one call: the
        backhaul's per-transfer path)."""
        if flow_id in self._slot:
            raise ValueError(f"FluidLinks: flow {flow_id} already exists")
        path = self._routes.get(route)
        if path is None:
            path = self._routes[route] = self._resolve(flow_id, itertools.pairwise(route))
        return self._add(flow_id, path, size_bits, now)

    def _resolve(self, flow_id: int, links: Iterable[tuple[int, int]]) -> np.ndarray:
        """The indices of the distinct links of a path (first occurrence order), checked."""
        path = tuple(dict.fromkeys(link_key(u, v) for u, v in links))
        if not path:
            raise ValueError(f"FluidLinks: flow {flow_id} has an empty path")
        unknown = [lk for lk in path if lk not in self._index]
        if unknown:
            raise ValueError(f"FluidLinks: flow {flow_id} uses unknown link {unknown[0]}")
        return np.array([self._index[lk] for lk in path], dtype=np.int64)

    def _add(self, flow_id: int, path: np.ndarray, size_bits: float, now: float) -> float:
        if not 0 <= operator.index(flow_id) < 2**63:
            raise ValueError(f"FluidLinks: flow id must be in [0, 2**63), got {flow_id}")
        if not 0.0 <= size_bits < math.inf:
            raise ValueError(f"FluidLinks: flow {flow_id} size must be >= 0, got {size_bits}")
        if now != self.now:
            self.advance(now)
        if not self._free:
            self._grow_flows()
        slot = self._free.pop()
        try:
            t, f = self._k_add(self._fb, self._ib, slot, flow_id, path, float(size_bits),
                               self.now)
            while t != t:  # NaN: the path or a link's user list does not fit: grow, again
                self._grow_links(path)
                t, f = self._k_add(self._fb, self._ib, slot, flow_id, path, float(size_bits),
                                   self.now)
        except SystemError as err:
            compiled.unwrap(err)
        self._slot[flow_id] = slot
        return t

    def _grow_flows(self) -> None:
        """Twice the flow slots (64 to start; a power of 2 for the tournament tree)."""
        old = self._fl.shape[0]
        new = max(64, 2 * old)
        fl = np.zeros((new, 5))
        fl[:old] = self._fl
        fi = np.zeros((new, self._fi.shape[1]), dtype=np.int64)
        fi[:old] = self._fi
        tr = np.full(2 * new, -1, dtype=np.int64)
        tr[new:new + old] = self._tr[old:]  # the leaves
        self._pack(fl, fi, self._lk, self._lu, tr, np.zeros((2, new), dtype=np.int64))
        if old:  # every match again (a tree of free slots is all -1 already)
            compiled.call(self._k_rebuild, self._fb, self._ib)
        self._free.extend(range(new - 1, old - 1, -1))

    def _grow_links(self, path: np.ndarray) -> None:
        """Room for ``path`` in the flow rows and for one more user on each of its links."""
        npath = (self._fi.shape[1] - 3) // 2
        if len(path) > npath:
            grown = max(len(path), 2 * npath)
            fi = np.zeros((self._fi.shape[0], 3 + 2 * grown), dtype=np.int64)
            fi[:, :3 + npath] = self._fi[:, :3 + npath]
            fi[:, 3 + grown:3 + grown + npath] = self._fi[:, 3 + npath:]
        else:
            fi = self._fi
        lu = self._lu
        if int(lu[path, 0].max()) + 1 >= lu.shape[1]:
            lu = np.zeros((lu.shape[0], 2 * lu.shape[1] - 1), dtype=np.int64)
            lu[:, :self._lu.shape[1]] = self._lu
        self._pack(self._fl, fi, self._lk, lu, self._tr, self._out)

    def _pack(self, fl: np.ndarray, fi: np.ndarray, lk: np.ndarray, lu: np.ndarray,
              tr: np.ndarray, out: np.ndarray) -> None:
        """Put the arrays into new kernel buffers (the pass counter carried over) and keep
        views of them."""
        meta = int(self._ib[4]) if self._ib.size else 0
        fb, ib = self._fb, self._ib = self._k_pack(fl, fi, lk, lu, tr, meta, out)
        (s, w), (n_links, kw) = fi.shape, lu.shape
        self._fl = fb[:5 * s].reshape(s, 5)
        self._lk = fb[5 * s:].reshape(n_links, 2)
        o = _kernel().HEAD
        self._fi = ib[o:o + s * w].reshape(s, w)
        o += s * w
        self._lu = ib[o:o + n_links * kw].reshape(n_links, kw)
        o += n_links * kw
        self._tr = ib[o:o + 2 * s]
        self._out = ib[o + 2 * s:].reshape(2, s)

    def remove(self, flow_id: int, now: float) -> float:
        """Stop a flow at ``now``; returns the bits it had left."""
        if flow_id not in self._slot:
            raise ValueError(f"FluidLinks: unknown flow {flow_id}")
        self.advance(now)
        slot = self._slot.pop(flow_id)
        try:
            left = self._k_remove(self._fb, self._ib, slot, self.now)
        except SystemError as err:
            compiled.unwrap(err)
        self._free.append(slot)
        return left

    def advance(self, now: float) -> None:
        """Move the model's clock to ``now`` (flows drain lazily at their current rates)."""
        if now < self.now:
            raise ValueError(f"FluidLinks: time goes backwards ({now} < {self.now})")
        self.now = float(now)

    def rate(self, flow_id: int) -> float:
        """Current rate (bit/s) of a flow."""
        return float(self._fl[self._slot[flow_id], 2])

    def remaining(self, flow_id: int) -> float:
        """Bits a flow still has to send at the model's current time."""
        left, since, rate = self._fl[self._slot[flow_id], :3].tolist()
        left = left - rate * (self.now - since)
        return left if left > 0.0 else 0.0

    def link_load(self) -> dict[tuple[int, int], float]:
        """Sum of the rates (bit/s) of the flows on each link (never above its capacity)."""
        keys = list(self.capacity)
        load = dict.fromkeys(keys, 0.0)
        for slot in self._slot.values():
            rate = float(self._fl[slot, 2])
            for link in self._fi[slot, 3:3 + self._fi[slot, 1]].tolist():
                load[keys[link]] += rate
        return load

    def next_completion(self) -> tuple[float, int] | None:
        """``(time, flow_id)`` of the earliest completion at current rates (smallest id on
        ties), or None without flows."""
        t, f = compiled.call(self._k_peek, self._fb, self._ib)
        return None if f < 0 else (t, f)

    def pop_completed(self, now: float, rel_tol: float = 1e-9) -> list[int]:
        """Advance to ``now`` and remove every flow with at most ``rel_tol * size`` bits left.

        Returns:
            The finished flow ids, ascending.
        """
        return self.complete(now, rel_tol)[0]

    def complete(self, now: float, rel_tol: float = 1e-9) -> tuple[list[int], float | None]:
        """:meth:`pop_completed`, then the time of :meth:`next_completion` (None without
        flows): one call, the backhaul's per-completion path."""
        if now != self.now:
            self.advance(now)
        try:
            n, t, f, first = self._k_complete(self._fb, self._ib, self.now, float(rel_tol))
        except SystemError as err:
            compiled.unwrap(err)
        if not n:
            return [], (None if f < 0 else t)
        done = [first] if n == 1 else self._out[0, :n].tolist()
        for fid in done:
            self._free.append(self._slot.pop(fid))
        return done, (None if f < 0 else t)
