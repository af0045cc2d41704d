"""Failover: applying RSU and backhaul-link outages to a running world, and restoring twins.

The fault schedule (:mod:`simulator.world.faults`) is a time-ordered list of elements going
down and coming back up. :class:`Failover` is the SimPy process that applies it:

- **An RSU fails.** It leaves every market round (the market masks it out of the candidate
  RSUs) and its backhaul links go down with it. Every twin it hosted is *lost* there: its
  authoritative copy falls back to the restore source (the UAV's own copy, or the checkpoint
  store), and the twin is unavailable until it is restored. Transfers from or to the RSU are
  abandoned; a restore towards it is aborted. UAVs that lost a twin and are not already
  migrating file an *urgent* request: the market plays it at once, without waiting for its
  batching window.
- **A twin is restored** when a market round places it on a new RSU: the state is uploaded
  from the UAV over the radio at the rate the UAV bought from that RSU, or downloaded from the
  checkpoint store (fixed rate and latency, the newest periodic checkpoint, whose staleness
  is recorded).
- **A link fails.** The backhaul reroutes the transfers crossing it (fluid rates recomputed)
  or aborts and retries them after a back-off (:class:`simulator.world.backhaul.
  BackhaulNetwork`); the choice is ``faults.links.on_failure``.
- **An element is repaired.** An RSU comes back empty and rejoins the market; UAVs waiting to
  retry inside its cell ask again. A link carries traffic again (stalled transfers resume).

The *invariant* of the twin pipeline, checked after every event when a run is started with
``check_invariants`` (tests do): every twin has exactly one authoritative copy. It is hosted
by an RSU that is up, or it has fallen back to its restore source (recorded as lost, with a
source), and a transfer in flight always has as its source the RSU hosting the twin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import simpy

from simulator.config.faults import FaultsConfig
from simulator.errors import ScenarioError
from simulator.trace.recorders import Recorder
from simulator.trace.schema import RESTORE_SOURCE, code_of
from simulator.world import faults as F
from simulator.world.backhaul import BackhaulNetwork

log = logging.getLogger(__name__)

#: Restore sources (codes of ``/faults/twin_losses/source``, from the trace schema).
SOURCE_UAV = code_of(RESTORE_SOURCE, "uav")
SOURCE_CHECKPOINT = code_of(RESTORE_SOURCE, "checkpoint")


class Requests(Protocol):
    """What the failover asks of the market (:class:`simulator.world.market.Market`)."""

    def request(self, state: Any, leaving_rsu: int = -1) -> None:
        """File a request for a UAV (ignored while it is migrating)."""

    def urgent(self, states: list[Any]) -> list[int]:
        """File and play at once the requests of UAVs that lost twins; their ids."""


@dataclass
class LostTwin:
    """A twin whose host failed: unavailable until restored (its copy is at ``source``)."""

    outage_id: int
    uav_id: int
    twin_id: int
    rsu_id: int
    t_lost: float
    source: int
    staleness_s: float
    request_id: int = -1
    dst: int = -1
    t_restore_start: float = float("nan")
    attempts: int = 0
    restoring: bool = False


class InvariantError(AssertionError):
    """The twin pipeline lost or duplicated a twin (a simulator bug, never a user error)."""


def twin_violations(hosts: Sequence[np.ndarray], rsu_down: np.ndarray,
                    lost: Mapping[tuple[int, int], LostTwin],
                    in_flight: Iterable[tuple[int, int, int, int]]) -> list[str]:
    """Every breach of "each twin has exactly one authoritative copy".

    Args:
        hosts: per UAV, ``[twins]`` the RSU hosting each twin, or -1 if the twin is lost.
        rsu_down: ``[J]`` whether each RSU is failed now.
        lost: the lost twins, by ``(uav, twin)``.
        in_flight: ``(uav, twin, src, dst)`` of every backhaul transfer not yet delivered.

    Returns:
        One message per breach (empty when the invariant holds).
    """
    out: list[str] = []
    n_rsu = len(rsu_down)
    for u, h in enumerate(hosts):
        for t, rsu in enumerate(h.tolist()):
            key = (u, t)
            if rsu >= 0:
                if rsu >= n_rsu:
                    out.append(f"twin {key} hosted by unknown RSU {rsu}")
                elif rsu_down[rsu]:
                    out.append(f"twin {key} lost: hosted by failed RSU {rsu} and not restored")
                if key in lost:
                    out.append(f"twin {key} duplicated: hosted by RSU {rsu} and also lost")
            elif rsu == -1:
                if key not in lost:
                    out.append(f"twin {key} lost: no host and no restore source")
            else:
                out.append(f"twin {key} has a bad host {rsu}")
    for key, rec in lost.items():
        u, t = key
        if not (0 <= u < len(hosts) and 0 <= t < len(hosts[u])):
            out.append(f"lost twin {key} does not exist")
        elif rec.source not in (SOURCE_UAV, SOURCE_CHECKPOINT):
            out.append(f"lost twin {key} has an unknown source {rec.source}")
    seen: set[tuple[int, int]] = set()
    for u, t, src, dst in in_flight:
        key = (u, t)
        if key in seen:
            out.append(f"twin {key} in flight twice")
        seen.add(key)
        if not (0 <= u < len(hosts) and 0 <= t < len(hosts[u])):
            out.append(f"transfer of unknown twin {key}")
        elif int(hosts[u][t]) != src:
            out.append(f"twin {key} in flight from RSU {src} but hosted by {int(hosts[u][t])}")
        if src == dst:
            out.append(f"twin {key} in flight from RSU {src} to itself")
    return out


def twin_checker(uav_states: Sequence[Any], backhaul: BackhaulNetwork, n_rsus: int,
                 failover: Failover | None) -> Callable[[], None]:
    """A function raising :class:`InvariantError` when a twin is lost or duplicated.

    Args:
        uav_states: the UAVs' bookkeeping.
        backhaul: the backhaul (its transfers in flight, tagged ``(request, uav, twin)``).
        n_rsus: number of RSUs.
        failover: the run's failover, or None for a run without faults.
    """
    no_failures = np.zeros(n_rsus, dtype=bool)

    def check() -> None:
        flights = [(tag[1], tag[2], src, dst) for tag, src, dst in backhaul.in_flight()
                   if tag is not None]
        problems = twin_violations(
            [s.hosts for s in uav_states],
            no_failures if failover is None else failover.rsu_down,
            {} if failover is None else failover.lost, flights)
        if problems:
            raise InvariantError(f"t={backhaul.env.now}: " + "; ".join(problems[:5]))

    return check


def run_checked(env: simpy.Environment, until: float, check: Callable[[], None]) -> None:
    """``env.run(until=until)``, calling ``check()`` after every processed event."""
    while env.peek() < until:
        env.step()
        check()
    env.run(until=until)


class Failover:
    """Applies a fault schedule to the world and restores the twins lost with failed RSUs.

    Args:
        env: the simulation environment.
        config: the scenario's ``faults`` section.
        events: the fault events (:func:`simulator.world.faults.fault_events`).
        links: the backhaul links, ``(a, b)`` with ``a < b``, indexed like the link events.
        n_rsus: number of RSUs.
        uav_states: the UAVs' bookkeeping (``hosts`` is updated in place when twins are lost).
        market: the market (``urgent``, ``request``).
        backhaul: the backhaul (``set_failed``, ``in_flight``).
        recorder: trace sink.
        twin_sizes: ``[U, twins]`` twin sizes (bytes).
    """

    def __init__(self, env: simpy.Environment, config: FaultsConfig, events: F.FaultEvents,
                 links: Sequence[tuple[int, int]], n_rsus: int, uav_states: Sequence[Any],
                 market: Requests, backhaul: BackhaulNetwork, recorder: Recorder,
                 twin_sizes: np.ndarray) -> None:
        self.env = env
        self.config = config
        self.events = events
        self.links = list(links)
        self.rsu_down = np.zeros(n_rsus, dtype=bool)
        self.links_down: set[tuple[int, int]] = set()
        self.uav_states = uav_states
        self.market = market
        self.backhaul = backhaul
        self.recorder = recorder
        self.twin_sizes = twin_sizes
        self.source = code_of(RESTORE_SOURCE, config.restore.source)
        self.lost: dict[tuple[int, int], LostTwin] = {}
        self._aborts: dict[tuple[int, int], simpy.Event] = {}
        self._cause = -1
        backhaul.observer = self._transfer_event
        env.process(self._run())

    # -- the schedule ---------------------------------------------------------------------
    def _run(self) -> Generator[simpy.Event, Any, None]:
        ev = self.events
        for t, kind, element, index, outage in zip(ev.t.tolist(), ev.kind.tolist(),
                                                   ev.element.tolist(), ev.index.tolist(),
                                                   ev.outage.tolist(), strict=True):
            if t > self.env.now:
                yield self.env.timeout(t - self.env.now)
            self._cause = outage
            if element == F.ELEMENT_RSU:
                (self._rsu_fails if kind == F.DOWN else self._rsu_repaired)(index, outage)
            else:
                link = self.links[index]
                if kind == F.DOWN:
                    self.links_down.add(link)
                else:
                    self.links_down.discard(link)
                self._apply_topology()
            self._cause = -1

    def _apply_topology(self) -> None:
        self.backhaul.set_failed(set(np.flatnonzero(self.rsu_down).tolist()), self.links_down)

    def _rsu_fails(self, rsu: int, outage: int) -> None:
        now = float(self.env.now)
        self.rsu_down[rsu] = True
        staleness = (0.0 if self.source == SOURCE_UAV
                     else F.checkpoint_staleness(now, self.config.restore.checkpoint_interval_s))
        affected = []
        for state in self.uav_states:
            twins = np.flatnonzero(state.hosts == rsu)
            if not twins.size or not state.present:  # a UAV outside its presence holds none
                continue
            state.hosts[twins] = -1
            for t in twins.tolist():
                self.lost[(state.uav_id, t)] = LostTwin(outage, state.uav_id, t, rsu, now,
                                                       self.source, staleness)
            affected.append(state)
        self._apply_topology()  # abandons transfers from or to the RSU
        for key in [k for k, rec in self.lost.items() if rec.restoring and rec.dst == rsu]:
            self._aborts[key].succeed(False)
        waiting = [s for s in affected if not s.migrating]
        for state, request_id in zip(waiting, self.market.urgent(waiting), strict=True):
            for t in np.flatnonzero(state.hosts == -1).tolist():
                rec = self.lost[(state.uav_id, t)]
                if rec.request_id < 0:
                    rec.request_id = request_id
        log.debug("RSU %d failed at %.3f: %d UAVs lost twins", rsu, now, len(affected))

    def _rsu_repaired(self, rsu: int, outage: int) -> None:
        self.rsu_down[rsu] = False
        self._apply_topology()
        for state in self.uav_states:
            if state.waiting_retry and rsu in state.covering:
                self.market.request(state)

    # -- restores -------------------------------------------------------------------------
    def restore(self, uav_id: int, twins: Sequence[int], dsts: Sequence[int],
                radio_rates_mbps: Sequence[float]) -> list[simpy.Event]:
        """Start restoring lost twins of one UAV onto new hosts.

        From the UAV's own copy, twins bound for the same RSU are uploaded one after the
        other at the rate the UAV bought from it; from the checkpoint store, every twin is
        downloaded at the store's rate after its latency.

        Args:
            uav_id: the UAV.
            twins: the lost twins to restore.
            dsts: their new hosts.
            radio_rates_mbps: the UAV's purchased rate to each new host (Mbit/s).

        Returns:
            One event per twin, succeeding with True when the twin is hosted again and with
            False if its new host failed first (the twin stays lost).
        """
        cfg = self.config.restore
        queue_end: dict[int, float] = {}
        events = []
        for twin, dst, rate in zip(twins, dsts, radio_rates_mbps, strict=True):
            size = float(self.twin_sizes[uav_id, twin])
            if self.source == SOURCE_UAV:
                start = queue_end.get(dst, 0.0)
                duration = start + F.transfer_time(size, rate)
                queue_end[dst] = duration
            else:
                duration = F.transfer_time(size, cfg.checkpoint_rate_mbps,
                                           cfg.checkpoint_latency_ms * 1e-3)
            events.append(self.env.process(self._restore(uav_id, twin, dst, duration)))
        return events

    def _restore(self, uav_id: int, twin: int, dst: int, duration: float
                 ) -> Generator[simpy.Event, Any, bool]:
        key = (uav_id, twin)
        rec = self.lost[key]
        rec.attempts += 1
        if self.rsu_down[dst]:
            # the new host failed at the instant of the round, before this process started
            return False
        rec.restoring, rec.dst = True, dst
        rec.t_restore_start = float(self.env.now)
        abort = self._aborts[key] = self.env.event()
        yield self.env.timeout(duration) | abort
        del self._aborts[key]
        rec.restoring = False
        if abort.triggered:
            return False
        self.uav_states[uav_id].hosts[twin] = dst
        del self.lost[key]
        self._record_losses([rec], float(self.env.now))
        return True

    def finish(self) -> None:
        """Write the twins still lost at the end of the run (restore time NaN)."""
        self._record_losses(sorted(self.lost.values(), key=lambda r: (r.t_lost, r.uav_id,
                                                                      r.twin_id)), np.nan)

    def _record_losses(self, recs: Sequence[LostTwin], t_restored: float) -> None:
        if not recs:
            return
        self.recorder.append(
            "/faults/twin_losses",
            outage_id=[r.outage_id for r in recs], uav_id=[r.uav_id for r in recs],
            twin_id=[r.twin_id for r in recs], rsu_id=[r.rsu_id for r in recs],
            t_lost_s=[r.t_lost for r in recs], request_id=[r.request_id for r in recs],
            source=[r.source for r in recs], staleness_s=[r.staleness_s for r in recs],
            dst_rsu_id=[r.dst if np.isfinite(t_restored) else -1 for r in recs],
            restore_attempts=[r.attempts for r in recs],
            t_restore_start_s=[r.t_restore_start if np.isfinite(t_restored) else np.nan
                               for r in recs],
            t_restored_s=[t_restored] * len(recs),
        )

    # -- transfers and the invariant ------------------------------------------------------
    def _transfer_event(self, kind: int, tag: tuple[int, int, int], src: int, dst: int,
                        bytes_left: float, n_hops: int, attempt: int) -> None:
        request_id, uav_id, twin = (-1, -1, -1) if tag is None else tag
        self.recorder.append(
            "/faults/transfer_events", t_s=float(self.env.now), request_id=request_id,
            uav_id=uav_id, twin_id=twin, src_rsu_id=src, dst_rsu_id=dst, event=kind,
            outage_id=self._cause, bytes_left=bytes_left, n_hops=n_hops, attempt=attempt,
        )



def fault_schedule(config: FaultsConfig, n_rsus: int, links: Sequence[tuple[int, int]],
                   horizon_s: float, rng: np.random.Generator) -> tuple[F.FaultEvents, np.ndarray]:
    """The merged outages of every RSU and link of a run, as fault events.

    Random outages are drawn from ``rng`` split into an RSU stream and a link stream (then one
    per element), so RSU outage times do not depend on whether links fail too.

    Args:
        config: the scenario's ``faults`` section.
        n_rsus: number of RSUs.
        links: the backhaul links ``(a, b)``, ``a < b``, in a fixed order.
        horizon_s: the run's duration.
        rng: the run's ``faults`` generator.

    Returns:
        ``(events, outages)`` as :func:`simulator.world.faults.fault_events`.

    Raises:
        ScenarioError: a scheduled outage names an RSU or a link that does not exist.
    """
    rsu_rng, link_rng = rng.spawn(2)
    rsu_iv: list[list[tuple[float, float]]] = [[] for _ in range(n_rsus)]
    link_iv: list[list[tuple[float, float]]] = [[] for _ in links]
    for n, o in enumerate(config.rsus.scheduled):
        if o.rsu_id >= n_rsus:
            raise ScenarioError(f"faults.rsus.scheduled[{n}].rsu_id: RSU id must be < the "
                                f"number of RSUs ({n_rsus}), got {o.rsu_id}")
        rsu_iv[o.rsu_id].append((o.at_s, o.at_s + o.for_s))
    index = {link: k for k, link in enumerate(links)}
    for n, f in enumerate(config.links.scheduled):
        key = (min(f.a, f.b), max(f.a, f.b))
        if key not in index:
            raise ScenarioError(f"faults.links.scheduled[{n}]: no backhaul link between RSU "
                                f"{f.a} and RSU {f.b}")
        link_iv[index[key]].append((f.at_s, f.at_s + f.for_s))
    for rand, store, stream in ((config.rsus.random, rsu_iv, rsu_rng),
                                (config.links.random, link_iv, link_rng)):
        if rand is None:
            continue
        drawn = F.element_outages(stream, len(store), horizon_s, rand.mtbf_s, rand.mttr_s,
                                  rand.distribution, rand.shape)
        for k, iv in enumerate(drawn):
            store[k].extend(map(tuple, iv.tolist()))
    return F.fault_events([F.merge_intervals(iv) for iv in rsu_iv],
                          [F.merge_intervals(iv) for iv in link_iv], horizon_s)


def build_failover(env: simpy.Environment, faults: FaultsConfig, duration_s: float,
                   rng: np.random.Generator, market: Requests, backhaul: BackhaulNetwork,
                   recorder: Recorder, twin_sizes: np.ndarray,
                   uav_states: Sequence[Any]) -> Failover:
    """The failover of a scenario with faults: its schedule drawn and written to the trace.

    Args:
        env: the simulation environment.
        faults: the scenario's ``faults`` section (enabled).
        duration_s: the run's duration (``simulation.duration_s``), the schedule's horizon.
        rng: the run's ``faults`` generator.
        market, backhaul, recorder, twin_sizes, uav_states: as in :class:`Failover`.

    Returns:
        The failover, its process registered.
    """
    links = sorted((min(u, v), max(u, v)) for u, v in backhaul.graph.edges)
    n_rsus = backhaul.graph.number_of_nodes()
    events, outages = fault_schedule(faults, n_rsus, links, duration_s, rng)
    element = outages[:, 2].astype(np.int64)
    index = outages[:, 3].astype(np.int64)
    ends = np.array([links[k] if el == F.ELEMENT_LINK else (k, -1)
                     for el, k in zip(element.tolist(), index.tolist(), strict=True)],
                    dtype=np.int64).reshape(-1, 2)
    recorder.append("/faults/outages", outage_id=outages[:, 4].astype(np.int64),
                    element=element, rsu_id=ends[:, 0], peer_rsu_id=ends[:, 1],
                    t_start_s=outages[:, 0], t_end_s=outages[:, 1])
    return Failover(env, faults, events, links, n_rsus, uav_states, market, backhaul,
                    recorder, twin_sizes)
