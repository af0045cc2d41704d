"""Run a scenario: build the world, advance the clock, write the trace, return a record.

:func:`run_scenario` is the one entry point behind ``uavtwin run``, the tests and the
benchmarks. A run is determined by its scenario and one seed; the trace is written to
``NAME.partial.h5`` while the run goes and renamed to its final name only when the run
completed (see :mod:`simulator.trace.writer`).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from agents.pricing.outcome import PricingPolicy
from simulator.app.summary import summarise
from simulator.trace.reader import TraceReader
from simulator.trace.recorders import CoalescingRecorder, MemoryRecorder, Recorder
from simulator.trace.writer import TraceWriter
from simulator.world.failover import run_checked, twin_checker
from simulator.world.mobility.trajectory import sample_positions
from simulator.world.rng import spawn_rngs
from simulator.world.world import World, build_world, pricing_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """The record of one finished run (desmod style): what ran, for how long, where to."""

    scenario_name: str
    seed: int
    sim_time_s: float
    wall_time_s: float
    trace_path: Path | None
    summary: Mapping[str, Any]
    tables: Mapping[str, Mapping[str, np.ndarray]] | None = None


def with_seed(scenario: Any, seed: int) -> Any:
    """The same scenario with ``simulation.seed`` replaced (scenarios are frozen)."""
    sim = scenario.simulation.model_copy(update={"seed": int(seed)})
    return scenario.model_copy(update={"simulation": sim})


def default_trace_path(scenario: Any) -> Path:
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


def write_positions(world: World, duration_s: float, interval_s: float) -> None:
    """Positions sampled every ``interval_s`` (long format, time-major), vectorised."""
    times = np.arange(0.0, duration_s + 1e-9, interval_s)
    pos = sample_positions(world.trajectories, times)  # [U, T, 3]
    n_uav = pos.shape[0]
    world.recorder.append(
        "/mobility/positions", t_s=np.repeat(times, n_uav),
        uav_id=np.tile(np.arange(n_uav), len(times)),
        x_m=pos[:, :, 0].T.ravel(), y_m=pos[:, :, 1].T.ravel(), z_m=pos[:, :, 2].T.ravel(),
    )


def simulate(world: World, duration_s: float, *, progress: bool = False,
             steps: int = 200, check: Callable[[], None] | None = None) -> None:
    """Advance the clock to ``duration_s``; a progress bar (simulated time) on stderr.

    ``check`` (debug mode) is called after every event, e.g. the twin invariant of
    :func:`simulator.world.failover.twin_checker`.
    """
    from tqdm import tqdm

    fmt = "{l_bar}{bar}| {n:.0f}/{total:.0f} s simulated [{elapsed}<{remaining}]"
    with tqdm(total=duration_s, file=sys.stderr, disable=not progress, leave=False,
              bar_format=fmt, desc="uavtwin") as bar:
        for t in np.linspace(0.0, duration_s, steps + 1)[1:]:
            if check is None:
                world.env.run(until=float(t))
            else:
                run_checked(world.env, float(t), check)
            bar.update(float(t) - bar.n)


def _populate(scenario: Any, recorder: Recorder, base_dir: Path | None,
              progress: bool, policy: PricingPolicy, check_invariants: bool = False) -> World:
    coalesced = CoalescingRecorder(recorder)
    world = build_world(scenario, spawn_rngs(scenario.simulation.seed), coalesced, base_dir,
                        policy)
    write_static_tables(world)
    duration = scenario.simulation.duration_s
    check = (twin_checker(world.uav_states, world.backhaul, world.rsus.count, world.failover)
             if check_invariants else None)
    try:
        simulate(world, duration, progress=progress, check=check)
        if world.sensing is not None:
            world.sensing.finish()  # env.run(until=d) stops before the events at d
        if world.failover is not None:
            world.failover.finish()  # twins still lost at the end
    finally:
        coalesced.flush()  # what happened before a failure still reaches the trace
    if scenario.output.record_positions:
        write_positions(world, duration, scenario.simulation.sample_interval_s)
    coalesced.flush()
    return world


def run_scenario(scenario: Any, *, trace_path: str | Path | None = None,
                 seed: int | None = None, progress: bool = False,
                 base_dir: str | Path | None = None, in_memory: bool = False,
                 check_invariants: bool = False) -> RunResult:
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
    duration = scenario.simulation.duration_s
    policy = pricing_policy(scenario, base)  # user errors surface before any file is made
    if in_memory:
        memory = MemoryRecorder()
        _populate(scenario, memory, base, progress, policy, check_invariants)
        tables = memory.tables()
        summary = summarise(lambda t: tables.get(t, {}))
        return RunResult(scenario.simulation.name, scenario.simulation.seed, duration,
                         time.perf_counter() - started, None, summary, tables)
    path = Path(trace_path) if trace_path is not None else default_trace_path(scenario)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = scenario.output
    with TraceWriter(path, scenario_yaml=scenario.to_yaml(), seed=scenario.simulation.seed,
                     flush_interval_s=out.flush_interval_s,
                     compression=out.compression,
                     groups=("/faults",) if scenario.faults.enabled else ()) as writer:
        _populate(scenario, writer, base, progress, policy, check_invariants)
    wall = time.perf_counter() - started
    with TraceReader(path) as reader:
        summary = summarise(reader.read)
    log.info("run %s seed %d finished in %.2f s -> %s", scenario.simulation.name,
             scenario.simulation.seed, wall, path)
    return RunResult(scenario.simulation.name, scenario.simulation.seed, duration, wall, path,
                     summary)
