"""The RSU backhaul graph: which RSUs are wired together, and the minimum-latency routes.

RSUs are nodes of an undirected ``networkx`` graph whose edges carry ``capacity_bps`` and
``latency_s``. :func:`build_backhaul` makes the graph of a scenario (a lattice, the k nearest
neighbours, all pairs, or an explicit list of links; always connected), and :class:`Router`
finds the minimum-latency route between two RSUs, with ties broken the same way every time.
Transfers over the graph are :mod:`simulator.world.backhaul`'s.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

__all__ = ["TOPOLOGIES", "Router", "build_backhaul"]

TOPOLOGIES = ("grid", "knn", "complete", "edges")



def build_backhaul(positions_m: np.ndarray, *, topology: str, k: int = 3, capacity_bps: float,
                   latency_s: float,
                   edges: Sequence[tuple[int, int, float | None, float | None]] | None = None,
                   grid_shape: tuple[int, int] | None = None) -> nx.Graph:
    """The backhaul graph over RSUs ``0..J-1``.

    Args:
        positions_m: ``[J, 2|3]`` RSU positions (m) (used by ``knn``).
        topology: ``grid`` (4-neighbour on ``grid_shape``, row-major ids; a square grid is
            assumed when ``grid_shape`` is None), ``knn`` (each RSU to its ``k`` nearest,
            symmetric, then components joined by their closest pairs), ``complete``, or
            ``edges`` (the explicit ``edges`` list).
        k: neighbours for ``knn``.
        capacity_bps: default link capacity (bit/s), ``> 0``.
        latency_s: default link latency (s), ``> 0``.
        edges: ``(a, b, capacity_bps or None, latency_s or None)``; None = the default.
        grid_shape: ``(rows, cols)`` with ``rows * cols == J``.

    Returns:
        A connected ``nx.Graph`` with edge attributes ``capacity_bps`` and ``latency_s``.

    Raises:
        ValueError: unknown topology, bad parameters, or (``edges``) a disconnected graph,
            naming the RSUs unreachable from RSU 0.
    """
    pos = np.asarray(positions_m, dtype=float)
    if pos.ndim != 2 or pos.shape[1] not in (2, 3) or not np.isfinite(pos).all():
        raise ValueError(f"build_backhaul: positions_m must be finite [J, 2|3], got {pos.shape}")
    n = pos.shape[0]
    _check_link("capacity_bps", capacity_bps)
    _check_link("latency_s", latency_s)
    g = nx.Graph()
    g.add_nodes_from(range(n))

    def add(a: int, b: int, cap: float | None = None, lat: float | None = None) -> None:
        g.add_edge(int(a), int(b), capacity_bps=float(capacity_bps if cap is None else cap),
                   latency_s=float(latency_s if lat is None else lat))

    if topology == "grid":
        if grid_shape is None:
            side = math.isqrt(n)
            if side * side != n:
                raise ValueError(f"build_backhaul: grid topology needs grid_shape for {n} RSUs "
                                 "(not a square number)")
            grid_shape = (side, side)
        rows, cols = int(grid_shape[0]), int(grid_shape[1])
        if rows * cols != n or rows < 1:
            raise ValueError(f"build_backhaul: grid_shape {grid_shape} does not hold {n} RSUs")
        for r, c in itertools.product(range(rows), range(cols)):
            if c + 1 < cols:
                add(r * cols + c, r * cols + c + 1)
            if r + 1 < rows:
                add(r * cols + c, (r + 1) * cols + c)
    elif topology == "knn":
        if k < 1:
            raise ValueError(f"build_backhaul: k must be >= 1, got {k}")
        if n > 1:
            _, nbr = cKDTree(pos).query(pos, k=min(k, n - 1) + 1)
            for a in range(n):
                for b in nbr[a]:
                    if int(b) != a:
                        add(a, int(b))
            _join_components(g, pos, add)
    elif topology == "complete":
        for a, b in itertools.combinations(range(n), 2):
            add(a, b)
    elif topology == "edges":
        if not edges:
            if n > 1:
                raise ValueError("build_backhaul: topology 'edges' needs a non-empty edge list")
        for i, (a, b, cap, lat) in enumerate(edges or ()):
            if not (0 <= a < n and 0 <= b < n) or a == b:
                raise ValueError(f"build_backhaul: edges[{i}] = ({a}, {b}): ids must be "
                                 f"distinct RSUs in 0..{n - 1}")
            if cap is not None:
                _check_link(f"edges[{i}].capacity_bps", cap)
            if lat is not None:
                _check_link(f"edges[{i}].latency_s", lat)
            add(a, b, cap, lat)
    else:
        raise ValueError(f"build_backhaul: unknown topology {topology!r}; expected one of "
                         f"{', '.join(TOPOLOGIES)}")
    if n and not nx.is_connected(g):
        reach = nx.node_connected_component(g, 0)
        missing = sorted(set(range(n)) - reach)
        raise ValueError(f"build_backhaul: backhaul graph is disconnected; RSUs {missing} are "
                         "unreachable from RSU 0")
    return g


def _check_link(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"build_backhaul: {name} must be a positive finite number, got {value}")


def _join_components(g: nx.Graph, pos: np.ndarray, add: Any) -> None:
    """Join components by their closest node pair, repeatedly, until connected."""
    while True:
        comps = [sorted(c) for c in nx.connected_components(g)]
        if len(comps) == 1:
            return
        comps.sort(key=lambda c: c[0])
        base = np.array(comps[0])
        rest = np.array([v for c in comps[1:] for v in c])
        d = np.linalg.norm(pos[base][:, None] - pos[rest][None], axis=2)
        i, j = np.unravel_index(np.argmin(d), d.shape)
        add(int(base[i]), int(rest[j]))


class Router:
    """Minimum-latency routes over the backhaul graph.

    Among equal-latency routes the lexicographically smallest node sequence is chosen (so the
    answer never depends on graph insertion order). Distances come from networkx Dijkstra,
    once per destination, cached; routes are cached too.

    Args:
        graph: the backhaul graph (edge attribute ``latency_s`` > 0).
    """

    def __init__(self, graph: nx.Graph) -> None:
        self.graph = graph
        self._dist: dict[int, dict[int, float]] = {}
        self._routes: dict[tuple[int, int], tuple[int, ...]] = {}

    def latency(self, src: int, dst: int) -> float:
        """Total latency (s) of the best route."""
        return self._dist_to(dst)[src]

    def _dist_to(self, dst: int) -> dict[int, float]:
        if dst not in self.graph:
            raise ValueError(f"Router: unknown RSU {dst}")
        if dst not in self._dist:
            self._dist[dst] = nx.single_source_dijkstra_path_length(self.graph, dst,
                                                                    weight="latency_s")
        return self._dist[dst]

    def route(self, src: int, dst: int) -> tuple[int, ...]:
        """Node sequence ``(src, ..., dst)`` of the minimum-latency route.

        Raises:
            ValueError: an unknown RSU or no route.
        """
        route = self._routes.get((src, dst))  # (an int and a numpy int hash alike)
        if route is not None:
            return route
        key = (int(src), int(dst))
        dist = self._dist_to(key[1])
        if key[0] not in self.graph or key[0] not in dist:
            raise ValueError(f"Router: no route from RSU {src} to RSU {dst}")
        path = [key[0]]
        u = key[0]
        while u != key[1]:
            du = dist[u]
            best = None
            for v in sorted(self.graph.adj[u]):
                w = self.graph.adj[u][v]["latency_s"]
                if v in dist and math.isclose(w + dist[v], du, rel_tol=1e-12, abs_tol=1e-15):
                    best = v
                    break
            assert best is not None, "Dijkstra distances inconsistent"
            path.append(best)
            u = best
        self._routes[key] = tuple(path)
        return self._routes[key]
