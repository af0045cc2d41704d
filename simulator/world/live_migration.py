"""Live twin migration: stop-and-copy, pre-copy and post-copy over the fluid backhaul (MODEL D4).

A twin of ``M`` bytes moves from one RSU to another at ``B(t)``, its fluid share of the
backhaul path, while its source keeps *dirtying* it at ``D(t)`` bytes/s: the twin's
synchronisation rate. For the twins of a virtual service provider ``D = bytes_per_update *
eta_m(t)``, with ``eta_m`` the provider's intensity from the sensing process (MODEL.md Part
B): a provider that synchronises harder makes its twins costlier to move.

* ``stop_and_copy`` (the default, today's model): pause the service, copy ``M``, resume.
* ``pre_copy`` (Clark et al., NSDI 2005): round 0 copies ``M`` while the service runs; round
  ``k + 1`` copies what was dirtied during round ``k`` (never more than ``M``). After a round,
  stop when the dirty volume is at most ``stop_bytes`` (``threshold``), when ``max_rounds``
  live rounds have run (``round_limit``), or when the dirty volume did not shrink
  (``no_convergence``: the dirty rate keeps up with the link, and pre-copy falls back to
  stop-and-copy). Then the service pauses and the remainder is copied (the downtime). With
  constant rates, ``rho = D / B``, ``V_k = M rho^k``, downtime ``V_n / B`` and total
  ``(M / B)(1 - rho^(n+1)) / (1 - rho)``
(:func:`simulator.world.migration_modes.precopy_volumes`).
* ``post_copy``: pause only while a minimal state ``S`` is copied (downtime ``S / B``), switch,
  then fetch the remaining ``M - S`` bytes while the service runs degraded.

Every round is one fluid transfer of :class:`simulator.world.backhaul.BackhaulNetwork`, so
rounds share links with all other transfers and their durations integrate the fluid rates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from simulator.trace.schema import MIGRATION_MODE, STOP_REASON, code_of
from simulator.world.backhaul import BackhaulNetwork, TransferRecord
from simulator.world.migration_modes import LiveParams, precopy_stop_reason

__all__ = [
    "LiveMigration",
    "LiveSetup",
    "live_migration",
    "migrate_twins",
    "paused_time_s",
    "record_live",
    "static_dirty_rate",
    "sync_dirty_rate",
    "transfer_record",
]


@dataclass
class LiveMigration:
    """What happened to one twin's migration.

    Attributes:
        src, dst: RSU ids; size_bytes: the twin's size ``M``.
        rounds: per copy round ``(bytes, t_start, t_end, paused)``; the paused ones make the
            downtime.
        reason: a label of :data:`simulator.trace.schema.STOP_REASON`.
        path: the backhaul route.
        aborted: a round was abandoned (its source or destination RSU failed): the twin did
            not arrive.
    """

    src: int = -1
    dst: int = -1
    size_bytes: float = 0.0
    rounds: list[tuple[float, float, float, bool]] = field(default_factory=list)
    reason: str = "stop_and_copy"
    path: tuple[int, ...] = ()
    aborted: bool = False

    @property
    def total_bytes(self) -> float:
        """Bytes sent over all rounds."""
        return float(sum(r[0] for r in self.rounds))

    @property
    def downtime_s(self) -> float:
        """Time the service was paused (s)."""
        return float(sum(r[2] - r[1] for r in self.rounds if r[3]))

    @property
    def t_start(self) -> float:
        """Start of the first round (s)."""
        return self.rounds[0][1]

    @property
    def t_end(self) -> float:
        """End of the last round (s)."""
        return self.rounds[-1][2]

    @property
    def pause_start(self) -> float:
        """Start of the paused copy (s)."""
        return next(r[1] for r in self.rounds if r[3])

    @property
    def pause_end(self) -> float:
        """End of the paused copy: the service resumes at the destination (s)."""
        return next(r[2] for r in self.rounds if r[3])

    @property
    def reason_code(self) -> int:
        """The trace code of :attr:`reason`."""
        return code_of(STOP_REASON, self.reason)


def live_migration(env: simpy.Environment, backhaul: BackhaulNetwork, src: int, dst: int,
                   size: float, params: LiveParams,
                   dirty_bytes: Callable[[float, float], float], tag: Any = None
                   ) -> Generator[simpy.Event, Any, LiveMigration]:
    """SimPy process moving one twin from ``src`` to ``dst`` in ``params.mode``.

    Args:
        env: the clock.
        backhaul: the network that carries each round as a fluid transfer.
        src, dst: RSU ids (distinct).
        size: twin size ``M`` (bytes).
        params: the mode and its parameters.
        dirty_bytes: ``(t_a, t_b) -> bytes`` dirtied at the source during ``[t_a, t_b]``.
        tag: what is moved (passed to the backhaul with every round).

    Returns:
        (as the process value) the :class:`LiveMigration` record; a round abandoned by the
        backhaul (a failed RSU) ends it with ``aborted`` set.
    """
    out = LiveMigration(int(src), int(dst), float(size))

    def copy(nbytes: float, paused: bool) -> Generator[simpy.Event, Any, bool]:
        rec: TransferRecord = yield backhaul.transfer(src, dst, nbytes, tag=tag)
        out.path = rec.path
        out.rounds.append((float(nbytes), rec.t_start, rec.t_end, paused))
        out.aborted = rec.aborted
        return not rec.aborted

    if params.mode == "stop_and_copy":
        yield from copy(size, True)
        return out
    if params.mode == "post_copy":
        state = min(float(size), params.state_bytes)
        if (yield from copy(state, True)):
            yield from copy(float(size) - state, False)
        out.reason = "post_copy"
        return out
    volume = float(size)
    if volume <= params.stop_bytes or params.max_rounds == 0:
        out.reason = "threshold" if volume <= params.stop_bytes else "round_limit"
    else:
        while True:
            if not (yield from copy(volume, False)):
                return out
            _, t_a, t_b, _ = out.rounds[-1]
            dirty = min(float(size), max(0.0, float(dirty_bytes(t_a, t_b))))
            reason = precopy_stop_reason(len(out.rounds), volume, dirty, params)
            volume = dirty
            if reason is not None:
                out.reason = reason
                break
    yield from copy(volume, True)
    return out


def sync_dirty_rate(control: Callable[[np.ndarray], np.ndarray], vsp: int,
                    bytes_per_update: float, samples: int = 33
                    ) -> Callable[[float, float], float]:
    """Dirtied bytes over ``[t_a, t_b]`` for a twin of VSP ``vsp``: ``bytes_per_update`` times
    the integral of the provider's intensity ``eta_vsp(t)`` (trapezoid rule on ``samples``
    points; the sensing controls are smooth or piecewise linear on a fine grid).

    Args:
        control: the sensing process's ``times [q] -> intensities [M, q]``.
        vsp: the provider's index.
        bytes_per_update: bytes dirtied per unit of synchronisation intensity (bytes).
        samples: trapezoid points per interval (>= 2).
    """
    def dirty(t_a: float, t_b: float) -> float:
        if t_b <= t_a:
            return 0.0
        ts = np.linspace(t_a, t_b, samples)
        eta = np.maximum(np.asarray(control(ts), dtype=float)[vsp], 0.0)
        return float(bytes_per_update * 0.5 * np.sum((eta[1:] + eta[:-1]) * np.diff(ts)))
    return dirty


def static_dirty_rate(rate_bytes_per_s: float) -> Callable[[float, float], float]:
    """Dirtied bytes over ``[t_a, t_b]`` at a constant rate (bytes/s)."""
    return lambda t_a, t_b: rate_bytes_per_s * max(0.0, t_b - t_a)


def migrate_twins(env: simpy.Environment, backhaul: BackhaulNetwork,
                  moves: list[tuple[int, int, int, float]], params: LiveParams,
                  dirty_for: Callable[[int], Callable[[float, float], float]]
                  ) -> Generator[simpy.Event, Any, list[tuple[int, LiveMigration]]]:
    """Move several twins at once, each in ``params.mode`` (SimPy process).

    Args:
        env: the clock.
        backhaul: the network.
        moves: ``(twin, src, dst, size_bytes)`` per twin that changes host.
        params: the mode.
        dirty_for: twin index -> its dirty-bytes function.

    Returns:
        (as the process value) ``[(twin, LiveMigration)]`` in the order of ``moves``.
    """
    procs = [env.process(live_migration(env, backhaul, src, dst, size, params, dirty_for(twin)))
             for twin, src, dst, size in moves]
    if procs:
        yield env.all_of(procs)
    return [(move[0], p.value) for move, p in zip(moves, procs, strict=True)]


def paused_time_s(migrations: list[LiveMigration]) -> tuple[float, float, float]:
    """``(first pause start, last pause end, length of the union of the pauses)`` (s)."""
    spans = sorted((r[1], r[2]) for m in migrations for r in m.rounds if r[3])
    if not spans:
        return math.nan, math.nan, 0.0
    total, cur_a, cur_b = 0.0, spans[0][0], spans[0][1]
    for a, b in spans[1:]:
        if a > cur_b:
            total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    total += cur_b - cur_a
    return spans[0][0], max(b for _, b in spans), total


@dataclass(frozen=True)
class LiveSetup:
    """What the market needs to move twins live.

    Attributes:
        params: the mode and its parameters.
        dirty_for: twin index -> its dirty-bytes function ``(t_a, t_b) -> bytes``.
    """

    params: LiveParams
    dirty_for: Callable[[int], Callable[[float, float], float]]

    @property
    def live(self) -> bool:
        """Whether twins move by a live mode (not stop-and-copy)."""
        return self.params.mode != "stop_and_copy"


def transfer_record(mig: LiveMigration) -> TransferRecord:
    """A live migration summarised as one transfer: the twin's size, first start, last end."""
    return TransferRecord(mig.src, mig.dst, mig.path, mig.size_bytes, mig.t_start, mig.t_end,
                          mig.aborted)


def record_live(recorder: Any, transfer_ids: list[int], mode: str,
                migrations: list[LiveMigration]) -> None:
    """Append the twins' live migrations to ``/live_migration/twins`` and ``.../rounds``.

    Args:
        recorder: the trace sink.
        transfer_ids: the twins' ids in ``/migration/transfers``.
        mode: the migration mode.
        migrations: one record per twin, in the order of ``transfer_ids``.
    """
    def mean_dirty_rate(m: LiveMigration) -> float:
        live = [r for r in m.rounds if not r[3]]
        if not live or m.reason == "post_copy":
            return math.nan
        dirtied = sum(r[0] for r in m.rounds[1:])
        return dirtied / (live[-1][2] - live[0][1]) if live[-1][2] > live[0][1] else math.nan

    recorder.append(
        "/live_migration/twins",
        transfer_id=transfer_ids, mode=code_of(MIGRATION_MODE, mode),
        rounds=[len(m.rounds) for m in migrations],
        total_bytes=[m.total_bytes for m in migrations],
        downtime_s=[m.downtime_s for m in migrations],
        total_s=[m.t_end - m.t_start for m in migrations],
        mean_dirty_rate=[mean_dirty_rate(m) for m in migrations],
        stop_reason=[m.reason_code for m in migrations],
    )
    recorder.append(
        "/live_migration/rounds",
        transfer_id=[t for t, m in zip(transfer_ids, migrations, strict=True) for _ in m.rounds],
        round=[k for m in migrations for k in range(len(m.rounds))],
        size_bytes=[r[0] for m in migrations for r in m.rounds],
        t_start_s=[r[1] for m in migrations for r in m.rounds],
        t_end_s=[r[2] for m in migrations for r in m.rounds],
        paused=[r[3] for m in migrations for r in m.rounds],
    )
