"""Drive ns-3 (the ``ns3`` package's Python bindings, the ``uavtwin[validate]`` extra) for the
cross-validation: packet-level TCP transfers over a backhaul graph, and ns-2 movement files
replayed by ``Ns2MobilityHelper``.

The ns-3 side is one small C++ file (``ns3_driver.cc`` beside this module) compiled by cppyy
after ``from ns import ns`` has loaded the ns-3 libraries, so a whole simulation runs in C++
with no Python callback per packet. Loading ns-3 takes tens of seconds; it happens once per
process, on the first call.

TCP setup (:class:`TcpSetup`): the same for every case, chosen to give TCP its best chance
at the fluid model's rates: segments of 1448 bytes (1500-byte MTU with timestamps), socket
buffers large enough never to limit the window, a drop-tail queue per device of one
bandwidth-delay product of the link at the case's longest round trip (at least 100 packets),
no queue disc, SACK on, NewReno congestion control, initial window 10 segments, delayed ACKs every 2
segments (ns-3 defaults), minimum retransmission timeout 200 ms (Linux's; ns-3's default is
1 s). NewReno rather than ns-3's default CUBIC or Linux Reno: with those two, ns-3 3.44
left single flows stalled for tens to a thousand seconds (repeated retransmission timeouts on
an idle link) after synchronised starts in our shared-link cases; NewReno never did.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx

from simulator.validate.cases import Transfer
from simulator.world.topology import Router

__all__ = ["TcpSetup", "available", "host_routes", "load", "path_latency", "run_transfers",
           "sample_ns2"]

DRIVER = Path(__file__).with_name("ns3_driver.cc")
_lock = threading.Lock()
_state: dict[str, Any] = {}


@dataclass(frozen=True)
class TcpSetup:
    """The packet-level TCP configuration (see the module docstring).

    Attributes:
        variant: ns-3 TCP congestion control type id.
        segment_bytes: TCP maximum segment size (payload bytes per packet).
        sack: selective acknowledgements.
        min_queue_packets: floor of each device's drop-tail queue.
        min_rto_s: minimum retransmission timeout (Linux's 200 ms; ns-3's default is 1 s).
    """

    variant: str = "ns3::TcpNewReno"
    segment_bytes: int = 1448
    sack: bool = True
    min_queue_packets: int = 100
    min_rto_s: float = 0.2


def available() -> bool:
    """Whether the ns-3 bindings are installed (without loading them)."""
    import importlib.util

    return importlib.util.find_spec("ns3") is not None


def load() -> Any:
    """Load ns-3 and compile the driver once per process; returns the driver's namespace.

    Raises:
        ModuleNotFoundError: the ``ns3`` package is not installed (``pip install
            'uavtwin[validate]'``).
    """
    with _lock:
        if "driver" not in _state:
            if not available():
                raise ModuleNotFoundError("ns-3 bindings not installed: pip install "
                                          "'uavtwin[validate]'")
            import cppyy
            from ns import ns  # noqa: F401  (loads the ns-3 libraries and headers into cppyy)

            cppyy.cppdef(DRIVER.read_text())
            _state["cppyy"] = cppyy
            _state["driver"] = cppyy.gbl.uavtwin_ns3
        return _state["driver"]


def _vec(kind: str, values: Sequence[Any]) -> Any:
    return _state["cppyy"].gbl.std.vector[kind](list(values))


def host_routes(graph: nx.Graph,
                transfers: Sequence[Transfer]) -> tuple[list[tuple[int, int, int, int]],
                                                        list[int]]:
    """Static host routes that carry every transfer on uavtwin's route (data) and its reverse
    route (ACKs), using uavtwin's own :class:`Router`.

    Each node has one address per link; a transfer is sent to its destination's address on
    the last link of its route, and the sender's address is the one on its first link, so
    each address is reached by the route to the node that owns it. The router picks the next
    hop from ``(node, destination)`` alone, so the routes of all transfers agree.

    Returns:
        ``(routes, last_hop)``: routes as ``(node, destination node, destination's neighbour
        naming the address, next hop)``; and per transfer the neighbour of its destination on
        its route (the sink's address).
    """
    router = Router(graph)
    out: dict[tuple[int, int, int], int] = {}
    last_hop = []
    for t in transfers:
        fwd = router.route(t.src, t.dst)
        last_hop.append(fwd[-2] if len(fwd) > 1 else t.dst)
        # data to dst's address on link (dst, fwd[-2]); ACKs to src's address on (src, fwd[1])
        for path, name in ((fwd, fwd[-2]), (router.route(t.dst, t.src), fwd[1])):
            target = path[-1]
            for u, v in itertools.pairwise(path):
                prev = out.setdefault((u, target, name), v)
                assert prev == v, "router next hops depend on (node, destination) only"
    return [(u, d, n, v) for (u, d, n), v in sorted(out.items())], last_hop


def path_latency(graph: nx.Graph, src: int, dst: int) -> float:
    """One-way propagation latency (s) of uavtwin's route from ``src`` to ``dst``."""
    return Router(graph).latency(src, dst)


def run_transfers(graph: nx.Graph, transfers: Sequence[Transfer], *,
                  setup: TcpSetup = TcpSetup(), stop_s: float | None = None) -> dict[str, Any]:
    """Run ``transfers`` as TCP bulk transfers over ``graph`` in ns-3.

    Every edge becomes a point-to-point link with the edge's ``capacity_bps`` and
    ``latency_s``; routes are uavtwin's minimum-latency routes as static host routes.

    Returns:
        ``{"completion_s", "received_bytes", "events", "queue_packets"}``: each transfer's
        completion time (the instant its sink has received every byte; NaN if not done by
        ``stop_s``) and bytes received, the number of ns-3 events, and each link's queue
        (packets, links sorted by ``(min(u, v), max(u, v))``).
    """
    drv = load()
    if not transfers:
        return {"completion_s": [], "events": 0}
    nodes = sorted(graph.nodes)
    if nodes != list(range(len(nodes))):
        raise ValueError("run_transfers: graph nodes must be 0..n-1")
    edges = sorted((min(u, v), max(u, v), d["capacity_bps"], d["latency_s"])
                   for u, v, d in graph.edges(data=True))
    rtt = max(2 * path_latency(graph, t.src, t.dst) for t in transfers)
    cap = max(e[2] for e in edges)
    packet_bits = 8 * (setup.segment_bytes + 52)
    # each link's queue holds one bandwidth-delay product of the longest round trip
    queues = [max(setup.min_queue_packets, math.ceil(e[2] * rtt / packet_bits)) for e in edges]
    # buffers: window never limited by the sockets (BDP + queue, twice, at least 4 MiB)
    buffer = int(min(2**31 - 1, max(4 << 20, 4 * cap * rtt / 8)))
    if stop_s is None:
        total_bits = 8 * sum(t.size_bytes for t in transfers)
        min_cap = min(e[2] for e in edges)
        stop_s = max(t.start_s for t in transfers) + 10 * total_bits / min_cap + 100 * rtt + 10
    if any(t.src == t.dst for t in transfers):
        raise ValueError("run_transfers: a transfer needs two distinct RSUs")
    routes, last_hop = host_routes(graph, transfers)
    out = drv.RunTransfers(
        len(nodes),
        _vec("unsigned int", [e[0] for e in edges]), _vec("unsigned int", [e[1] for e in edges]),
        _vec("double", [e[2] for e in edges]), _vec("double", [e[3] for e in edges]),
        _vec("unsigned int", [t.src for t in transfers]),
        _vec("unsigned int", [t.dst for t in transfers]), _vec("unsigned int", last_hop),
        _vec("double", [t.start_s for t in transfers]),
        _vec("double", [round(t.size_bytes) for t in transfers]),
        *(_vec("unsigned int", [r[k] for r in routes]) for k in range(4)),
        setup.variant, setup.segment_bytes, _vec("unsigned int", queues), buffer, setup.sack,
        setup.min_rto_s, float(stop_s))
    values = list(out)
    n = len(transfers)
    done = [v if v >= 0 else math.nan for v in values[:n]]
    return {"completion_s": done, "received_bytes": [int(v) for v in values[n:2 * n]],
            "events": int(values[-1]), "queue_packets": queues}


def sample_ns2(path: str | Path, n_nodes: int, times: Sequence[float]) -> tuple[list[float],
                                                                               list[list[list[float]]]]:
    """Replay the ns-2 movement file ``path`` in ns-3 and sample positions.

    Returns:
        ``(times, xyz)``: the exact ns-3 sample times (``times`` rounded to ns-3's
        nanosecond clock) and ``xyz[k][i] = [x, y, z]`` of node ``i`` at sample ``k``.
    """
    drv = load()
    ts = sorted(float(t) for t in times)
    flat = list(drv.SampleNs2(str(path), int(n_nodes), _vec("double", ts)))
    stride = 1 + 3 * n_nodes
    out_t, out_p = [], []
    for k in range(0, len(flat), stride):
        row = flat[k:k + stride]
        out_t.append(row[0])
        out_p.append([row[1 + 3 * i:4 + 3 * i] for i in range(n_nodes)])
    return out_t, out_p
