"""Twin transfers over the RSU backhaul: latency routes and fluid bandwidth sharing.

A twin transfer follows the minimum-latency route of the backhaul graph
(:mod:`simulator.world.topology`). Concurrent transfers share links as fluids: a link's
capacity is split *equally* among the transfers crossing it (in either direction), and a
transfer moves at the smallest share along its path. Rates only change when a transfer starts
or ends (or a failure reroutes it), so between those instants every transfer drains at a
constant rate and its completion time is exact. The propagation latency of the path is added
once at the end.

Optionally (:class:`TcpCorrection`, off by default) the completion time also carries what
packet-level TCP adds to a fluid transfer: header overhead (the fluid flow carries
``size / efficiency``), the connection handshake and slow start (a delay added at the end,
from the route's round trip and the transfer's fluid rate when it starts). Its constants are
calibrated against ns-3 (docs/validation.md).

:class:`~simulator.world.fluid.FluidLinks` is the pure model (no clock of its own);
:class:`BackhaulNetwork` drives it from SimPy with one timer per next projected completion.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import networkx as nx
import simpy
from simpy.events import Event, Timeout

from simulator.trace.schema import TRANSFER_EVENT, code_of
from simulator.world.faults import backoff_delay
from simulator.world.fluid import FluidLinks, link_key
from simulator.world.topology import Router

__all__ = ["ON_LINK_FAILURE", "BackhaulNetwork", "TcpCorrection", "TransferRecord"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TcpCorrection:
    """What packet-level TCP adds to a fluid transfer (see the module docstring).

    For a transfer of ``S`` bytes on a route of one-way latency ``L`` (round trip
    ``R = 2 L``) whose fluid rate is ``r`` bit/s when it starts, with ``W = r R / 8`` bytes
    in flight at that rate and ``x = min(S, W)``:

    * the fluid flow carries ``S / efficiency`` bytes (TCP/IP/link headers);
    * ``handshake_rtts * R`` is added to the completion time (SYN, SYN-ACK);
    * so is the slow-start delay ``slow_start_weight * max(0, R log2(1 + x / IW) - 8 x / r)``:
      doubling a window of ``IW = initial_window_bytes`` each round trip until it covers
      ``x``, minus the time the fluid model already charges for those bytes.

    The defaults are the constants fitted on ns-3 (``benchmarks/validate_ns3.py``, case
    ``single``); see docs/validation.md for where the correction helps and where it does not.

    Attributes:
        efficiency: payload share of the link capacity, in (0, 1].
        handshake_rtts: round trips before the first data byte leaves.
        initial_window_bytes: initial congestion window (bytes).
        slow_start_weight: multiplier of the slow-start delay (>= 0).
    """

    efficiency: float = 0.9631
    handshake_rtts: float = 1.0
    initial_window_bytes: float = 10 * 1448
    slow_start_weight: float = 1.569

    def __post_init__(self) -> None:
        if not 0 < self.efficiency <= 1:
            raise ValueError(f"TcpCorrection: efficiency must be in (0, 1], got {self.efficiency}")
        for name in ("handshake_rtts", "slow_start_weight"):
            if not (getattr(self, name) >= 0 and math.isfinite(getattr(self, name))):
                raise ValueError(f"TcpCorrection: {name} must be >= 0, got {getattr(self, name)}")
        if not (self.initial_window_bytes > 0 and math.isfinite(self.initial_window_bytes)):
            raise ValueError("TcpCorrection: initial_window_bytes must be > 0, got "
                             f"{self.initial_window_bytes}")

    def extra_delay(self, size_bytes: float, rate_bps: float, latency_s: float) -> float:
        """Delay (s) added at the end of a transfer of ``size_bytes`` whose fluid rate is
        ``rate_bps`` when it starts, on a route of one-way latency ``latency_s``."""
        rtt = 2.0 * latency_s
        x = min(size_bytes, rate_bps * rtt / 8.0)
        slow = rtt * math.log2(1.0 + x / self.initial_window_bytes) - 8.0 * x / rate_bps
        return self.handshake_rtts * rtt + self.slow_start_weight * max(0.0, slow)


class TransferRecord(NamedTuple):
    """One finished twin transfer (an immutable record, cheap to build).

    Attributes:
        src, dst: RSU ids.
        path: the route's node sequence (the last one, after any reroute).
        size_bytes: bytes moved.
        t_start: when the transfer started (s).
        t_end: when the last bit arrived, propagation latency included (s); when the transfer
            was abandoned, the time it was.
        aborted: True if the transfer was abandoned because its source or destination RSU
            failed (the twin did not arrive).
    """

    src: int
    dst: int
    path: tuple[int, ...]
    size_bytes: float
    t_start: float
    t_end: float
    aborted: bool = False


#: What happened to a transfer when the backhaul changed (codes of
#: ``/faults/transfer_events/event``, from the trace schema).
REROUTED, STALLED, RESUMED, ABORTED, RETRIED, ABANDONED = (
    code_of(TRANSFER_EVENT, name)
    for name in ("rerouted", "stalled", "resumed", "aborted", "retried", "abandoned"))
#: What a transfer does when a link on its route fails.
ON_LINK_FAILURE = ("reroute", "abort")

#: ``observer(event, tag, src, dst, bytes_left, n_hops, attempt)`` hears of every event above.
TransferObserver = Callable[[int, Any, int, int, float, int, int], None]


@dataclass(slots=True)
class _Flow:
    """A transfer not yet delivered, in one of the phases ``active`` (its bits flow),
    ``stalled`` (no route), ``backoff`` (aborted, waiting to retry) or ``arriving`` (the last
    bit is on its way); ``starting``, ``rerouting`` and ``aborted`` are passed through while a
    failure is being handled."""

    done: simpy.Event | None  # succeeds with the record (None: on_done is called instead)
    on_done: Callable[[TransferRecord], None] | None
    src: int
    dst: int
    path: tuple[int, ...]
    size_bytes: float
    t_start: float
    tag: Any
    phase: str = "active"
    bits_left: float = 0.0
    attempt: int = 0
    extra_s: float = 0.0  # TcpCorrection delay added on arrival


class BackhaulNetwork:
    """Twin transfers over the backhaul inside a SimPy environment.

    Without failures, a transfer follows its minimum-latency route to the end. When RSUs or
    links fail (:meth:`set_failed`), a transfer whose source or destination failed is
    abandoned (its event succeeds with ``aborted=True``); one whose route lost a link or an
    RSU is rerouted with the bits it has left (``on_failure="reroute"``; with no route left
    it stalls until one comes back) or aborted and restarted from the first byte after an
    exponential back-off (``on_failure="abort"``).

    Args:
        env: the simulation environment.
        graph: a backhaul graph from :func:`~simulator.world.topology.build_backhaul`.
        on_failure: ``"reroute"`` or ``"abort"``.
        backoff: ``(first wait s, factor, cap s)`` of the retries after an abort.
        correction: packet-level TCP effects to add (None: the pure fluid model).
    """

    def __init__(self, env: simpy.Environment, graph: nx.Graph, on_failure: str = "reroute",
                 backoff: tuple[float, float, float] = (1.0, 2.0, 60.0),
                 correction: TcpCorrection | None = None) -> None:
        if on_failure not in ON_LINK_FAILURE:
            raise ValueError(f"BackhaulNetwork: on_failure must be one of {ON_LINK_FAILURE}, "
                             f"got {on_failure!r}")
        self.env = env
        self.graph = graph
        self.router = Router(graph)
        self._rsus = frozenset(graph.nodes)
        self.links = FluidLinks({(u, v): d["capacity_bps"] for u, v, d in graph.edges(data=True)})
        self.on_failure = on_failure
        self.backoff = backoff
        self.correction = correction
        self.observer: TransferObserver | None = None
        self.failed_rsus: frozenset[int] = frozenset()
        self.failed_links: frozenset[tuple[int, int]] = frozenset()
        self._pending: dict[int, _Flow] = {}
        self._ids = itertools.count()
        # One pending completion timer at a time (a callback, not a process): a later change
        # that brings the next completion forward supersedes it by replacing ``_timer``.
        self._timer: simpy.Event | None = None
        self._timer_at: float | None = None
        self._latency: dict[tuple[int, ...], float] = {}  # a route's summed link latencies
        self._debug = log.isEnabledFor(logging.DEBUG)  # log each delivery (set when made)

    def transfer(self, src: int, dst: int, size_bytes: float, tag: Any = None,
                 on_done: Callable[[TransferRecord], None] | None = None
                 ) -> simpy.Event | None:
        """Start copying ``size_bytes`` from RSU ``src`` to RSU ``dst`` now.

        Args:
            src, dst: RSU ids.
            size_bytes: bytes to move.
            tag: what is moved, e.g. ``(request_id, uav_id, twin_id)``; reported by
                :meth:`in_flight` and to the observer.
            on_done: called with the :class:`TransferRecord` instead of an event: when the
                last bit arrives, in the event that delivers it (no event of its own); when
                the transfer is abandoned (or ``src == dst``), from an event as the returned
                event would have been.

        Returns:
            An event that succeeds with a :class:`TransferRecord` when the last bit arrives
            (route latency included) or the transfer is abandoned; immediately if
            ``src == dst``. None with ``on_done``.

        Raises:
            ValueError: unknown RSU or negative size.
        """
        if not 0.0 <= size_bytes < math.inf:
            raise ValueError(f"BackhaulNetwork.transfer: size_bytes must be >= 0, got {size_bytes}")
        if src not in self._rsus or dst not in self._rsus:
            raise ValueError("BackhaulNetwork.transfer: unknown RSU "
                             f"{src if src not in self._rsus else dst}")
        now = self.env.now
        done = Event(self.env) if on_done is None else None
        if src == dst:
            self._succeed(done, on_done, TransferRecord(int(src), int(dst), (int(src),),
                                                        float(size_bytes), now, now))
            return done
        fid = next(self._ids)
        flow = _Flow(done, on_done, int(src), int(dst), (), float(size_bytes), now, tag)
        self._pending[fid] = flow
        if self.failed_rsus or self.failed_links:
            flow.phase = "starting"
            if flow.src in self.failed_rsus or flow.dst in self.failed_rsus:
                self._abandon(fid)
            else:
                self._start(fid, self._bits(flow.size_bytes), None)
            self._reschedule()
            return done
        flow.path = path = self.router.route(src, dst)
        if self.correction is None:
            nxt = self.links.start(fid, path, 8.0 * flow.size_bytes, now)
        else:
            nxt = self.links.start(fid, path, self._bits(size_bytes), now)
            self._correct(fid, flow)
        at = self._timer_at
        if at is None or nxt < at:  # else the pending timer fires first (_schedule)
            self._schedule(nxt)
        return done

    def _bits(self, size_bytes: float) -> float:
        """Bits a transfer puts on the links (payload, or payload / efficiency)."""
        bits = 8.0 * float(size_bytes)
        return bits if self.correction is None else bits / self.correction.efficiency

    def _correct(self, fid: int, flow: _Flow) -> None:
        """Set the TcpCorrection delay of a flow that just started (rate and route now)."""
        if self.correction is not None:
            flow.extra_s = self.correction.extra_delay(
                flow.size_bytes, self.links.rate(fid) * self.correction.efficiency,
                self.router.latency(flow.src, flow.dst))

    def in_flight(self) -> list[tuple[Any, int, int]]:
        """``(tag, src, dst)`` of every transfer not yet delivered, by start order."""
        return [(f.tag, f.src, f.dst) for f in self._pending.values()]

    def _reschedule(self) -> None:
        """Make sure a timer fires at (or before) the next projected completion."""
        nxt = self.links.next_completion()
        self._schedule(None if nxt is None else nxt[0])

    def _schedule(self, t: float | None) -> None:
        """Make sure a timer fires at (or before) ``t``, the next projected completion
        (None: no flow left)."""
        if t is None:
            self._timer_at = None
            return
        if self._timer_at is not None and self._timer_at <= t:
            return  # the pending timer fires first and reschedules
        self._timer_at = t
        timer = self._timer = Timeout(self.env, max(0.0, t - self.env.now))
        timer.callbacks.append(self._on_timer)

    def _on_timer(self, timer: simpy.Event) -> None:
        if timer is not self._timer:
            return  # superseded by an earlier completion
        self._timer_at = None
        done, nxt = self.links.complete(self.env.now)
        for fid in done:
            self._finish(fid)
        self._schedule(nxt)

    def _finish(self, fid: int) -> None:
        flow = self._pending[fid]
        flow.phase = "arriving"
        path = flow.path
        latency = self._latency.get(path)
        if latency is None:
            latency = self._latency[path] = sum(
                self.graph.edges[u, v]["latency_s"] for u, v in itertools.pairwise(path))
        latency += flow.extra_s
        env = self.env
        record = TransferRecord(flow.src, flow.dst, path, flow.size_bytes, flow.t_start,
                                env.now + latency)
        if self._debug:
            log.debug("transfer %d->%d %.0f B done at %.6f", flow.src, flow.dst,
                      flow.size_bytes, record.t_end)
        Timeout(env, latency).callbacks.append(partial(self._deliver, fid, record))

    def _deliver(self, fid: int, record: TransferRecord, _timer: simpy.Event | None = None
                 ) -> None:
        flow = self._pending.pop(fid, None)
        if flow is not None:  # None: abandoned while its last bit was on its way
            if flow.on_done is not None:
                flow.on_done(record)
            else:
                flow.done.succeed(record)

    def _succeed(self, done: simpy.Event | None, on_done: Callable[[TransferRecord], None] | None,
                 record: TransferRecord) -> None:
        """Report ``record`` from an event now: ``done`` succeeds, or ``on_done`` is called
        when an event made for it is processed (one event later, as ``done`` would be)."""
        if done is None:
            done = Event(self.env)
            done.callbacks.append(lambda ev: on_done(ev.value))
        done.succeed(record)

    # -- failures -------------------------------------------------------------------------
    def set_failed(self, rsus: set[int], links: set[tuple[int, int]]) -> None:
        """Declare which RSUs and links are failed from now on (repairs included).

        Transfers from or to a failed RSU are abandoned; transfers whose route crosses a
        failed link or RSU are rerouted or aborted (``on_failure``); stalled transfers resume
        when a route exists again.

        Args:
            rsus: the failed RSUs.
            links: the failed links ``(a, b)`` (either order).
        """
        self.failed_rsus = frozenset(int(r) for r in rsus)
        self.failed_links = frozenset(link_key(int(a), int(b)) for a, b in links)
        up = nx.Graph()
        up.add_nodes_from(self.graph.nodes)
        up.add_edges_from(
            (u, v, d) for u, v, d in self.graph.edges(data=True)
            if link_key(u, v) not in self.failed_links
            and u not in self.failed_rsus and v not in self.failed_rsus
        )
        self.router = Router(up)
        for fid in sorted(self._pending):
            flow = self._pending[fid]
            if flow.src in self.failed_rsus or flow.dst in self.failed_rsus:
                self._abandon(fid)
            elif flow.phase == "active" and not self._route_up(flow.path):
                self._broken(fid)
            elif flow.phase == "stalled":
                self._start(fid, flow.bits_left, RESUMED)
        self._reschedule()

    def _route_up(self, path: tuple[int, ...]) -> bool:
        return (not any(r in self.failed_rsus for r in path)
                and not any(link_key(u, v) in self.failed_links
                            for u, v in itertools.pairwise(path)))

    def _start(self, fid: int, bits: float, event: int | None) -> None:
        """Put a flow on the current best route with ``bits`` to send (a new flow id), or
        stall it / back it off when no route exists."""
        flow = self._pending.pop(fid)
        try:
            path = self.router.route(flow.src, flow.dst)
        except ValueError:
            self._pending[fid] = flow
            if flow.phase == "stalled":
                return  # still no route
            if self.on_failure == "reroute":
                flow.phase, flow.bits_left = "stalled", bits
                self._notify(STALLED, flow, bits, -1)
            else:
                self._back_off(fid, flow)
            return
        new = next(self._ids)
        flow.path, flow.phase, flow.bits_left = path, "active", 0.0
        self._pending[new] = flow
        self.links.add_route(new, path, bits, self.env.now)
        if event in (None, RETRIED):  # a fresh start (first byte): its TCP delay
            self._correct(new, flow)
        if event is not None:
            self._notify(event, flow, bits, len(path) - 1)

    def _broken(self, fid: int) -> None:
        """A link or RSU on an active flow's route failed."""
        flow = self._pending[fid]
        left = self.links.remove(fid, self.env.now)
        if self.on_failure == "reroute":
            flow.phase = "rerouting"
            self._start(fid, left, REROUTED)
        else:
            self._notify(ABORTED, flow, left, -1)
            flow.phase = "aborted"
            self._back_off(fid, flow, notify=False)

    def _back_off(self, fid: int, flow: _Flow, notify: bool = True) -> None:
        if notify:
            self._notify(ABORTED, flow, self._bits(flow.size_bytes), -1)
        flow.attempt += 1
        flow.phase = "backoff"
        wait = backoff_delay(flow.attempt, *self.backoff)
        timer = self.env.timeout(wait)
        attempt = flow.attempt
        timer.callbacks.append(lambda _ev: self._retry(fid, attempt))

    def _retry(self, fid: int, attempt: int) -> None:
        flow = self._pending.get(fid)
        if flow is None or flow.phase != "backoff" or flow.attempt != attempt:
            return  # abandoned meanwhile
        self._start(fid, self._bits(flow.size_bytes), RETRIED)
        self._reschedule()

    def _abandon(self, fid: int) -> None:
        flow = self._pending.pop(fid)
        if flow.phase == "active":
            left = self.links.remove(fid, self.env.now)
        elif flow.phase == "stalled":
            left = flow.bits_left
        elif flow.phase == "arriving":
            left = 0.0
        else:
            left = self._bits(flow.size_bytes)
        self._notify(ABANDONED, flow, left, -1)
        self._succeed(flow.done, flow.on_done,
                      TransferRecord(flow.src, flow.dst, flow.path or (flow.src,),
                                     flow.size_bytes, flow.t_start, self.env.now, aborted=True))

    def _notify(self, event: int, flow: _Flow, bits_left: float, n_hops: int) -> None:
        if self.observer is not None:
            self.observer(event, flow.tag, flow.src, flow.dst, bits_left / 8.0, n_hops,
                          flow.attempt)
