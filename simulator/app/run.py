"""Run a scenario: build the world, advance the clock, write the trace, return a record.

:func:`run_scenario` is the one entry point behind ``uavtwin run``, the tests and the
benchmarks. A run is determined by its scenario and one seed; the trace is written to
``NAME.partial.h5`` while the run goes and renamed to its final name only when the run
completed (see :mod:`simulator.trace.writer`).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.pricing.outcome import PricingPolicy
from analysis.loaders import MemoryTables, open_trace
from analysis.run_metrics import CHUNK_ROWS, TableSource
from simulator.app.interrupts import InterruptGuard
from simulator.app.positions import PositionSampler
from simulator.app.summary import summarise
from simulator.config.models import Scenario
from simulator.config.sanity import coverage_warnings
from simulator.trace.recorders import CoalescingRecorder, MemoryRecorder
from simulator.trace.schema import get_table
from simulator.trace.writer import TraceWriter, partial_path_for
from simulator.world.failover import run_checked, twin_checker
from simulator.world.mobility.imported import resolve_trace_scenario, trace_source_attrs
from simulator.world.rng import spawn_rngs
from simulator.world.world import World, build_world, pricing_policy

log = logging.getLogger(__name__)

SUMMARY_COLUMNS: dict[str, tuple[str, ...]] = {
    "/uavs": ("uav_id",), "/rsus": ("rsu_id",), "/training/iterations": ("iteration",),
    "/coverage/events": ("t_s", "uav_id", "kind"),
    "/mobility/segments": ("uav_id", "t_start_s", "t_end_s"),
    "/migration/requests": ("outcome",),
    "/migration/transfers": ("t_start_s", "t_end_s"),
    "/migration/service": ("interruption_s", "bandwidth_mhz", "immersion"),
    "/pricing/rounds": ("converged", "iterations", "solver", "mean_rsu_utility",
                        "reference_rsu_utility", "mean_uav_utility", "reference_uav_utility"),
    "/pricing/offers": ("rsu_id", "price", "bandwidth_mhz"),
    "/pricing/revenue": ("rsu_id", "revenue", "cost_total"),
    "/sensing/state": get_table("/sensing/state").column_names,
    "/faults/outages": ("element",),
    "/faults/twin_losses": ("t_lost_s", "t_restored_s"),
    "/faults/transfer_events": ("event",),
}
"""The columns the run summary and its coverage notes read (one per table they only count):
a traced run keeps these in memory as it writes them (``TraceWriter(keep_columns=...)``),
so that the summary does not read the trace back. A column missing here is still read from
the file (tests/test_run_summary.py checks that none is)."""

SUMMARY_MEMORY_BYTES = 1 << 25
"""The summary's columns are kept in memory while they take at most this many bytes (32 MiB;
they are a small part of a trace's data); a larger run's summary reads them back from the
trace in slices, so the end of a long run stays bounded."""


@dataclass(frozen=True)
class RunResult:
    """The record of one run (desmod style): what ran, how far, for how long, where to.

    Attributes:
        scenario: the resolved scenario that ran (every default filled in, seed included).
        sim_time_s: simulated time actually reached (the duration, unless the run failed).
        wall_time_s: wall-clock seconds the run took.
        trace_path: the trace (the ``.partial.h5`` of a failed run), None when in memory.
        summary: :func:`simulator.app.summary.summarise` of the run (empty if it failed).
        tables: the tables of an in-memory run.
        error: ``Type: message`` of the exception that ended a failed run, else None.
    """

    scenario: Scenario
    sim_time_s: float
    wall_time_s: float
    trace_path: Path | None
    summary: Mapping[str, Any]
    tables: Mapping[str, Mapping[str, np.ndarray]] | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    """Sanity warnings about the finished run (see :mod:`simulator.config.sanity`)."""

    @property
    def scenario_name(self) -> str:
        """``simulation.name`` of the scenario."""
        return self.scenario.simulation.name

    @property
    def seed(self) -> int:
        """The run's seed."""
        return self.scenario.simulation.seed

    @property
    def ok(self) -> bool:
        """Whether the run reached its end."""
        return self.error is None


def with_seed(scenario: Scenario, seed: int) -> Scenario:
    """The same scenario with ``simulation.seed`` replaced (scenarios are frozen)."""
    sim = scenario.simulation.model_copy(update={"seed": int(seed)})
    return scenario.model_copy(update={"simulation": sim})


def default_trace_path(scenario: Scenario) -> Path:
    """``output.trace`` if set, else ``traces/<name>-seed<seed>.h5``."""
    if scenario.output.trace:
        return Path(scenario.output.trace)
    return Path("traces") / f"{scenario.simulation.name}-seed{scenario.simulation.seed}.h5"


def write_static_tables(world: World) -> None:
    """Entity lookup tables and the exact trajectories (segments) of every UAV."""
    rec, rsus, uavs = world.recorder, world.rsus, world.uavs
    rec.append(
        "/rsus", rsu_id=np.arange(rsus.count), x_m=rsus.positions[:, 0],
        y_m=rsus.positions[:, 1], z_m=rsus.positions[:, 2],
        coverage_radius_m=rsus.coverage_radius_m, tx_power_dbm=rsus.tx_power_dbm,
        noise_dbm=rsus.noise_dbm, cost=rsus.cost, price_cap=rsus.price_cap,
    )
    n = len(uavs.delta)
    rec.append(
        "/uavs", uav_id=np.arange(n), twin_count=np.full(n, uavs.twin_count),
        twin_size_bytes=uavs.twin_size_bytes.sum(axis=1), delta=uavs.delta,
        ssim_threshold=uavs.ssim_threshold, budget=uavs.budget,
        present_from_s=[tr.start_time for tr in world.trajectories],
        present_to_s=[min(tr.end_time, world.scenario.simulation.duration_s)
                      for tr in world.trajectories],
    )
    trajs = world.trajectories
    p0 = np.concatenate([tr.p0 for tr in trajs])
    p1 = np.concatenate([tr.p1 for tr in trajs])
    rec.append(
        "/mobility/segments",
        uav_id=np.repeat(np.arange(len(trajs)), [tr.n_segments for tr in trajs]),
        t_start_s=np.concatenate([tr.t0 for tr in trajs]),
        t_end_s=np.concatenate([tr.t1 for tr in trajs]),
        x0_m=p0[:, 0], y0_m=p0[:, 1], z0_m=p0[:, 2], x1_m=p1[:, 0], y1_m=p1[:, 1], z1_m=p1[:, 2],
    )


#: Net allocations between two collections of Python's youngest generation while a world is
#: built and simulated (:func:`rare_collections`); Python's default is 700.
GC_GEN0_THRESHOLD = 50_000


@contextmanager
def rare_collections(gen0: int = GC_GEN0_THRESHOLD) -> Iterator[None]:
    """Run Python's cyclic garbage collector rarely inside the block, then restore the
    caller's thresholds.

    The event loop creates and frees millions of small objects (events, callbacks, rows) but
    almost no reference cycles: a 1,000-UAV hour of the benchmark world frees a few hundred
    objects by collection in all, yet at the default threshold it runs thousands of
    collections (``benchmarks/bench_gc.py`` counts them and times both settings; the numbers
    are on docs/benchmarks.md). Reference counting frees everything else at once,
    so collecting every ``gen0`` net allocations instead changes no result, only when the
    rare cycles are freed.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(gen0, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def release_free_heap() -> None:
    """Hand the C heap's free memory back to the system (glibc's ``malloc_trim``; nothing
    elsewhere).

    Building a large world makes and frees hundreds of megabytes of temporaries (the coverage
    crossings of every UAV, computed up front in vectorised chunks), which glibc would keep in
    the process for reuse. Returned here, they no longer count in the run's resident memory
    when the run needs less than the build did (long runs of large fleets). Results do not
    change: only pages that hold no data are returned.

    Once is not enough while the clock advances: the returned pages stay in the heap's
    address range, and each one the event loop's short-lived allocations touch again becomes
    resident again, and stays so after it is freed. :func:`simulate` therefore calls this
    every :data:`RELEASE_INTERVAL_S` seconds of wall time as well.
    """
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return
    trim(0)


#: Wall-clock seconds between two hand-backs of the free C heap while the clock advances
#: (:func:`simulate`, :func:`release_free_heap`). A 10,000-UAV hour takes about 200 s, so it
#: trims about 20 times (each trim costs well under a millisecond at 1,000 UAVs); a
#: 100-UAV hour ends before the first.
RELEASE_INTERVAL_S = 10.0


def simulate(world: World, duration_s: float, *, progress: bool = False,
             steps: int = 200, check: Callable[[], None] | None = None,
             interrupted: Callable[[], None] | None = None,
             release_interval_s: float | None = None,
             each_stretch: Callable[[float], None] | None = None) -> None:
    """Advance the clock to ``duration_s``; a progress bar (simulated time) on stderr.

    ``check`` (debug mode) is called after every event, e.g. the twin invariant of
    :func:`simulator.world.failover.twin_checker`. ``interrupted`` is called after each of
    the ``steps`` stretches (to re-raise a swallowed KeyboardInterrupt, see
    :class:`~simulator.app.interrupts.InterruptGuard`). After a stretch that ends at least
    ``release_interval_s`` (default :data:`RELEASE_INTERVAL_S`) of wall time after the last
    release, the heap's free memory is handed back (:func:`release_free_heap`), so that
    resident memory does not creep up with simulated time; results do not depend on it.
    ``each_stretch`` is called with the time reached after each stretch (e.g.
    :meth:`~simulator.app.positions.PositionSampler.advance`).
    """
    from tqdm import tqdm

    if release_interval_s is None:
        release_interval_s = RELEASE_INTERVAL_S
    fmt = "{l_bar}{bar}| {n:.0f}/{total:.0f} s simulated [{elapsed}<{remaining}]"
    released = time.monotonic()
    with tqdm(total=duration_s, file=sys.stderr, disable=not progress, leave=False,
              bar_format=fmt, desc="uavtwin") as bar, rare_collections():
        for t in np.linspace(0.0, duration_s, steps + 1)[1:]:
            if check is None:
                world.env.run(until=float(t))
            else:
                run_checked(world.env, float(t), check)
            bar.update(float(t) - bar.n)
            if each_stretch is not None:
                each_stretch(float(t))
            if time.monotonic() - released >= release_interval_s:
                release_free_heap()
                released = time.monotonic()
            if interrupted is not None:
                interrupted()


def _build(scenario: Scenario, recorder: CoalescingRecorder, base_dir: Path | None,
           policy: PricingPolicy) -> World:
    with rare_collections():
        world = build_world(scenario, spawn_rngs(scenario.simulation.seed), recorder, base_dir,
                            policy)
    write_static_tables(world)
    release_free_heap()
    return world


def _simulate(scenario: Scenario, world: World, recorder: CoalescingRecorder,
              progress: bool, check_invariants: bool = False,
              interrupted: Callable[[], None] | None = None) -> None:
    duration = scenario.simulation.duration_s
    check = (twin_checker(world.uav_states, world.backhaul, world.rsus.count, world.failover)
             if check_invariants else None)
    # positions are written as the clock passes them, so that a trace's chunks of them are
    # encoded while the simulation goes on, not all at its end
    positions = (PositionSampler(recorder, world.trajectories, duration,
                                 scenario.simulation.sample_interval_s)
                 if scenario.output.record_positions else None)
    try:
        simulate(world, duration, progress=progress, check=check, interrupted=interrupted,
                 each_stretch=positions.advance if positions is not None else None)
        if world.sensing is not None:
            world.sensing.finish()  # env.run(until=d) stops before the events at d
        if world.failover is not None:
            world.failover.finish()  # twins still lost at the end
    finally:
        recorder.flush()  # what happened before a failure still reaches the trace
    if positions is not None:
        positions.finish()
    recorder.flush()
    if interrupted is not None:
        interrupted()


def _coverage_notes(source: TableSource, scenario: Scenario) -> list[str]:
    """:func:`coverage_warnings` of the run's coverage events, read in bounded slices: all it
    needs is the earliest event time and the set of UAVs that entered a cell."""
    first, entered = math.inf, np.zeros(0, dtype=np.int64)
    for c in source.chunks("/coverage/events", ["t_s", "uav_id", "kind"], CHUNK_ROWS):
        first = min(first, float(c["t_s"].min()))
        entered = np.union1d(entered, c["uav_id"].to_numpy(np.int64)[
            (c["kind"] == "enter").to_numpy(bool)])
    return coverage_warnings(first, entered, scenario.uavs.count,
                             scenario.simulation.duration_s)


def optional_groups(scenario: Scenario) -> tuple[str, ...]:
    """The optional trace groups a run of ``scenario`` writes (faults, realism models)."""
    used = {"/faults": scenario.faults.enabled,
            "/live_migration": scenario.uavs.twins.migration.mode != "stop_and_copy",
            "/decision_time": scenario.pricing.decision_time.enabled}
    return tuple(g for g, on in used.items() if on)


def run_scenario(scenario: Scenario, *, trace_path: str | Path | None = None,
                 seed: int | None = None, progress: bool = False,
                 base_dir: str | Path | None = None, in_memory: bool = False,
                 raise_errors: bool = True, check_invariants: bool = False) -> RunResult:
    """Run one scenario to its end.

    Args:
        scenario: a validated :class:`simulator.config.models.Scenario`.
        trace_path: where the HDF5 trace goes (default :func:`default_trace_path`).
        seed: overrides ``simulation.seed``; the resolved scenario in the trace records it.
        progress: show a progress bar on stderr.
        base_dir: directory for relative paths in the scenario (checkpoints, trace files).
        in_memory: keep the tables in memory instead of writing a trace.
        check_invariants: debug mode: check after every event that every twin has exactly
            one authoritative copy (raises ``InvariantError`` otherwise; slow).
        raise_errors: re-raise an exception that ends the run (default); if False, return
            the record of the failed run instead (``error`` set, ``sim_time_s`` the time
            reached, the trace left as ``*.partial.h5`` with ``status=failed``).

    Returns:
        The run record; ``tables`` is set when ``in_memory``.

    Raises:
        UavtwinError: for invalid scenario contents found while building the world. Any
            exception leaves the trace as ``*.partial.h5`` with ``status=failed``.
    """
    if seed is not None:
        scenario = with_seed(scenario, seed)
    base = Path(base_dir) if base_dir is not None else None
    started = time.perf_counter()
    scenario = resolve_trace_scenario(scenario, base)  # count (and area) from a mobility file
    policy = pricing_policy(scenario.pricing, base)  # user errors surface before any file is made
    world: World | None = None

    def failed(err: BaseException, path: Path | None) -> RunResult:
        reached = float(world.env.now) if world is not None else 0.0
        return RunResult(scenario, reached, time.perf_counter() - started, path, {},
                         error=f"{type(err).__name__}: {err}")

    if in_memory:
        memory = MemoryRecorder()
        coalesced = CoalescingRecorder(memory)
        try:
            world = _build(scenario, coalesced, base, policy)
            _simulate(scenario, world, coalesced, progress, check_invariants)
        except Exception as err:
            if raise_errors:
                raise
            return failed(err, None)
        tables = memory.tables()
        return RunResult(scenario, float(world.env.now), time.perf_counter() - started, None,
                         summarise(MemoryTables(tables)), tables)
    path = Path(trace_path) if trace_path is not None else default_trace_path(scenario)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = scenario.output
    try:
        with InterruptGuard() as guard:
            with TraceWriter(path, scenario_yaml=scenario.to_yaml(),
                             seed=scenario.simulation.seed,
                             flush_interval_s=out.flush_interval_s,
                             compression=out.compression,
                             groups=optional_groups(scenario),
                             keep_bytes=SUMMARY_MEMORY_BYTES,
                             keep_columns=SUMMARY_COLUMNS) as writer:
                coalesced = CoalescingRecorder(writer)
                world = _build(scenario, coalesced, base, policy)
                _simulate(scenario, world, coalesced, progress, check_invariants,
                          guard.check)
                source = trace_source_attrs(scenario.uavs.mobility, base)
                if source:
                    writer.set_attrs("/mobility", uav_names=list(world.uav_names), **source)
            guard.check()  # an interrupt swallowed in the final copy still stops the command
    except Exception as err:
        if raise_errors:
            raise
        return failed(err, partial_path_for(path))
    wall = time.perf_counter() - started
    sim_time = float(world.env.now)
    # the finished world is not needed by the summary: drop it (no gc.collect(): a full
    # collection cost 2 % of a 100-UAV run, and the summary holds at most one slice or the
    # kept rows)
    world = None
    del coalesced
    # the summary's columns just written, if the writer could keep them (up to
    # SUMMARY_MEMORY_BYTES): the same values as the file read back, without reading it
    kept = writer.take_tables()
    with contextlib.ExitStack() as reading:
        # a trace read back is held open for the summary's reads (one open, not one per read)
        source: TableSource = (MemoryTables(kept, rest=functools.partial(open_trace, path))
                               if kept is not None
                               else reading.enter_context(open_trace(path).held_open()))
        summary = summarise(source)
        notes = _coverage_notes(source, scenario)
    log.info("run %s seed %d finished in %.2f s -> %s", scenario.simulation.name,
             scenario.simulation.seed, wall, path)
    return RunResult(scenario, sim_time, wall, path, summary, warnings=tuple(notes))
