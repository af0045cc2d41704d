"""The world of one run: SimPy clock, entities, the coverage clock and the market.

A run is fully determined by its scenario and its one seed. The seed is split with
``numpy.random.SeedSequence(seed).spawn`` into one generator per subsystem (see
:data:`SUBSYSTEMS`), so adding draws in one subsystem never shifts another's. The world is:

- RSUs placed and parameterised from the ``rsus`` section, joined by the ``backhaul`` graph;
- UAVs with follower parameters and twins, each flying a piecewise-linear trajectory;
- every UAV's exact cell crossings (computed per segment by :mod:`simulator.world.coverage`),
  walked in time order by one :class:`~simulator.world.clock.CoverageClock` that behaves
  exactly like a SimPy process per UAV: it records each crossing and files a migration request
  when a UAV leaves a cell hosting one of its twins;
- the :class:`~simulator.world.market.Market` that prices and moves twins.

Everything observable goes to the trace through a *recorder* (the HDF5
:class:`~simulator.trace.writer.TraceWriter`, or :class:`MemoryRecorder` for in-process use).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import simpy

from agents.pricing.outcome import PricingPolicy
from agents.pricing.registry import make_policy
from simulator.config.models import PricingConfig, Scenario
from simulator.config.world import BackhaulConfig
from simulator.errors import ScenarioError
from simulator.trace.recorders import Recorder, row_sink
from simulator.trace.schema import SOLVER_CODES, code_of
from simulator.world.backhaul import BackhaulNetwork, TcpCorrection
from simulator.world.clock import (
    ARRIVE,
    ENTER,
    LEAVE,
    PRE_LEAVE,
    CoverageClock,
    merge_timelines,
)
from simulator.world.coverage import CellCoverage, CoverageMap, CrossingEvents
from simulator.world.failover import Failover, build_failover
from simulator.world.live_migration import LiveSetup, static_dirty_rate, sync_dirty_rate
from simulator.world.market import Market, UavState
from simulator.world.migration_modes import LiveParams
from simulator.world.mobility.imported import resolve_trace_scenario, trace_names
from simulator.world.mobility.registry import MobilityContext, build_trajectories
from simulator.world.mobility.trajectory import Trajectory
from simulator.world.population import RsuTable, UavTable, draw_rsus, draw_uavs
from simulator.world.radio.channel import path_loss_of
from simulator.world.radio.coverage import RadioCoverage
from simulator.world.sensing import SensingProcess, start_sensing
from simulator.world.topology import build_backhaul

log = logging.getLogger(__name__)


@dataclass
class World:
    """Everything a running simulation shares: clock, entities, market, recorder."""

    env: simpy.Environment
    scenario: Scenario
    rsus: RsuTable
    uavs: UavTable
    trajectories: list[Trajectory]
    coverage: CellCoverage
    backhaul: BackhaulNetwork
    policy: PricingPolicy
    solver_code: int
    rngs: dict[str, np.random.Generator]
    recorder: Recorder
    uav_states: list[UavState] = field(default_factory=list)
    market: Market | None = None
    sensing: SensingProcess | None = None
    failover: Failover | None = None
    uav_names: list[str] = field(default_factory=list)  # ids in an imported mobility file


def pricing_policy(pricing: PricingConfig, base_dir: Path | None = None) -> PricingPolicy:
    """The scenario's pricing policy, with a checkpoint path resolved against ``base_dir``.

    Raises:
        ScenarioError: the policy cannot be created (e.g. a missing or foreign checkpoint).
    """
    checkpoint = pricing.checkpoint
    if checkpoint is not None and base_dir is not None:
        checkpoint = str((base_dir / checkpoint).resolve())
    try:
        return make_policy(pricing.solver, iterations=pricing.iterations, checkpoint=checkpoint,
                           tol=pricing.tolerance, max_iter=pricing.max_iterations)
    except (ValueError, OSError) as err:
        raise ScenarioError(f"pricing: {err}") from None


def build_world(scenario: Scenario, rngs: dict[str, np.random.Generator], recorder: Recorder,
                base_dir: Path | None = None, policy: PricingPolicy | None = None) -> World:
    """Create the SimPy environment and every entity of ``scenario``.

    Args:
        scenario: a validated :class:`simulator.config.models.Scenario`.
        rngs: the run's generators from :func:`spawn_rngs`.
        recorder: sink for trace rows.
        base_dir: directory that relative paths in the scenario are resolved against.
        policy: the pricing policy (default: :func:`pricing_policy` of the scenario).

    Returns:
        The world, processes registered but not started. With ``model: trace`` mobility its
        ``scenario`` is the resolved one (``uavs.count`` and a fitted area from the file).

    Raises:
        ScenarioError: invalid scenario contents (including an unreadable or malformed
            mobility file, as ``file:line: ...``).
    """
    scenario = resolve_trace_scenario(scenario, base_dir)
    env = simpy.Environment()
    rsus = draw_rsus(scenario.rsus, scenario.area, rngs["placement"])
    uavs = draw_uavs(scenario.uavs, rngs["uavs"])
    trajectories = build_trajectories(scenario.uavs.mobility, MobilityContext(
        scenario.uavs.count, scenario.simulation.duration_s,
        (scenario.area.width_m, scenario.area.height_m), rngs["mobility"], base_dir))
    coverage = build_coverage(scenario, rsus, trajectories)
    bh = scenario.backhaul
    graph = build_backhaul(
        rsus.positions[:, :2], topology=bh.topology, k=bh.k,
        capacity_bps=bh.capacity_mbps * 1e6, latency_s=bh.latency_ms * 1e-3,
        edges=_edges(bh), grid_shape=rsus.grid_shape,
    )
    pricing = scenario.pricing
    if policy is None:
        policy = pricing_policy(pricing, base_dir)
    links = scenario.faults.links
    backhaul = BackhaulNetwork(env, graph, on_failure=links.on_failure,
                               backoff=(links.backoff_s, links.backoff_factor, links.backoff_max_s),
                               correction=TcpCorrection() if bh.tcp_correction else None)
    world = World(
        env=env, scenario=scenario, rsus=rsus, uavs=uavs, trajectories=trajectories,
        coverage=coverage, backhaul=backhaul, policy=policy,
        solver_code=code_of(SOLVER_CODES, pricing.solver), rngs=rngs, recorder=recorder,
        uav_names=(trace_names(scenario.uavs.mobility, base_dir)
                   or [str(u) for u in range(len(trajectories))]),
    )
    world.market = Market(
        env, rsus=rsus, uavs=uavs, uav_states=world.uav_states, trajectories=trajectories,
        backhaul=world.backhaul, policy=policy, solver_code=world.solver_code,
        pricing=pricing, radio=scenario.radio,
        ssim_component=scenario.uavs.follower.ssim_component,
        rng_radio=rngs["radio"], rng_market=rngs["market"], recorder=recorder,
        live=_live_setup(scenario, world), decision=pricing.decision_time,
        compute_gflops=scenario.rsus.compute_gflops,
        shadowing_root=(int(rngs["shadowing"].integers(2**62))
                        if scenario.radio.shadowing_std_db > 0 else 0),
    )
    if scenario.faults.enabled:
        world.failover = world.market.failover = build_failover(
            env, scenario.faults, scenario.simulation.duration_s, rngs["faults"], world.market,
            backhaul, recorder, uavs.twin_size_bytes, world.uav_states)
    world.sensing = start_sensing(env, scenario.sensing, scenario.simulation.duration_s,
                                  rngs["sensing"], recorder)
    starts = np.array([t.position(t.start_time) for t in trajectories])
    covered = coverage.covering(starts)  # [U, J]
    dist = np.linalg.norm(starts[:, None, :2] - rsus.positions[None, :, :2], axis=2)
    # Twins start on the nearest covering RSU; an uncovered UAV starts on the nearest RSU and
    # asks to migrate as soon as it enters a cell.
    first_host = np.argmin(np.where(covered, dist, dist + 1e12), axis=1)
    crossings = coverage.crossings_many(trajectories)
    timelines, departs = [], []
    for u, traj in enumerate(trajectories):
        state = UavState(u, np.full(uavs.twin_count, first_host[u], dtype=np.int64),
                         waiting_retry=not covered[u].any())
        world.uav_states.append(state)
        timelines.append(uav_timeline(crossings[u], traj, pricing.prediction_margin_s))
        departs.append(traj.end_time if traj.end_time < scenario.simulation.duration_s else None)
        state.present = traj.start_time <= 0.0
    del crossings
    # the clock schedules its start on env, as the processes it replaces did; no one else
    # needs a handle on it
    CoverageClock(
        env, merge_timelines(timelines, [t.start_time for t in trajectories], departs),
        coverage_handler(world))
    return world


def build_coverage(scenario: Scenario, rsus: RsuTable, trajectories: Sequence[Trajectory]
                   ) -> CellCoverage:
    """The RSU cells: discs (``radio.coverage: disc``) or where the mean SNR reaches
    ``radio.snr_min_db`` (``snr``, MODEL.md D3).

    Raises:
        ScenarioError: the UAVs fly, or the cells reach, outside the radio model's validity.
    """
    radio = scenario.radio
    z = np.concatenate([np.concatenate([t.p0[:, 2], t.p1[:, 2]]) for t in trajectories])
    altitudes = (float(z.min()), float(z.max()))
    try:
        if radio.coverage == "disc":
            if radio.model != "table2":
                path_loss_of(radio).check_validity(np.array(altitudes),
                                                   float(rsus.coverage_radius_m.max()))
            return CoverageMap(rsus.positions[:, :2], rsus.coverage_radius_m)
        return RadioCoverage(rsus.positions, rsus.tx_power_dbm - rsus.noise_dbm - radio.snr_min_db,
                             path_loss_of(radio), altitudes, radio.sample_spacing_m)
    except ValueError as err:
        raise ScenarioError(f"radio.model: {err} (UAV altitudes {altitudes[0]:g} to "
                            f"{altitudes[1]:g} m)") from None


def _live_setup(scenario: Scenario, world: World) -> LiveSetup | None:
    """The live-migration mode of ``uavs.twins.migration`` (None for stop-and-copy)."""
    cfg = scenario.uavs.twins.migration
    if cfg.mode == "stop_and_copy":
        return None
    params = LiveParams(cfg.mode, stop_bytes=cfg.stop_mb * 1e6, max_rounds=cfg.max_rounds,
                        state_bytes=cfg.state_mb * 1e6)
    if cfg.dirty_source == "static":
        rate = static_dirty_rate(cfg.dirty_rate_mb_s * 1e6)
        return LiveSetup(params, lambda twin: rate)

    def dirty_for(twin: int) -> Callable[[float, float], float]:
        sensing = world.sensing  # started after the market; read when a twin moves
        assert sensing is not None, "dirty_source 'sensing' needs sensing.enabled"
        return sync_dirty_rate(sensing.control, twin % sensing.params.M,
                               cfg.bytes_per_update_mb * 1e6)

    return LiveSetup(params, dirty_for)


def _edges(section: BackhaulConfig) -> list[tuple[int, int, float | None, float | None]] | None:
    if section.edges is None:
        return None
    return [
        (e.a, e.b,
         None if e.capacity_mbps is None else e.capacity_mbps * 1e6,
         None if e.latency_ms is None else e.latency_ms * 1e-3)
        for e in section.edges
    ]


def uav_timeline(ev: CrossingEvents, traj: Trajectory, margin_s: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every coverage event of one UAV, plus early warnings ``margin_s`` before each leave.

    Args:
        ev: the UAV's exact cell crossings (:meth:`CoverageMap.crossings`).
        traj: its trajectory.
        margin_s: prediction margin; 0 disables the warnings.

    Returns:
        ``(t, rsu, kind)`` sorted by time (stable: leave before enter at equal times); RSU
        ids as int32 and kinds as int8, the smallest types that hold them (a timeline lives
        for the whole run).
    """
    t = ev.t
    rsu = ev.rsu.astype(np.int32)
    kind = np.where(ev.enter, np.int8(ENTER), np.int8(LEAVE))
    if margin_s > 0:
        leaves = ~ev.enter
        warn_t = np.maximum(t[leaves] - margin_s, traj.start_time)
        t = np.concatenate([t, warn_t])
        rsu = np.concatenate([rsu, rsu[leaves]])
        kind = np.concatenate([kind, np.full(int(leaves.sum()), PRE_LEAVE, dtype=np.int8)])
    order = np.lexsort((kind != PRE_LEAVE, t)) if margin_s > 0 else np.arange(len(t))
    return t[order], rsu[order], kind[order]


def coverage_handler(world: World) -> Callable[[int, float, int, int], None]:
    """What a UAV does at each event of its timeline (the :class:`CoverageClock`'s handler):
    record crossings, file migration requests when due, arrive and depart.

    A UAV exists from its ``ARRIVE`` (the start of its trajectory; later than 0 for an
    imported trace) and, if its trajectory ends before the run, departs at its ``DEPART``: it
    leaves every cell it is in (recorded as ``leave`` events), is no longer covered and files
    no more requests.
    """
    event = row_sink(world.recorder, "/coverage/events", ("t_s", "uav_id", "rsu_id", "kind"))
    states = world.uav_states
    market = world.market
    assert market is not None
    request = market.request

    def handle(uav_id: int, t_k: float, r_k: int, kind_k: int) -> None:
        state = states[uav_id]
        if kind_k == LEAVE:
            event(t_k, uav_id, r_k, kind_k)
            state.covering.discard(r_k)
            if r_k in state.hosts.tolist():  # a list: numpy's `in` costs more
                request(state)
        elif kind_k == ENTER:
            event(t_k, uav_id, r_k, kind_k)
            state.covering.add(r_k)
            if state.waiting_retry:
                request(state)
        elif kind_k == PRE_LEAVE:
            if r_k in state.hosts.tolist():
                request(state, leaving_rsu=r_k)
        elif kind_k == ARRIVE:
            state.present = True
        else:  # DEPART
            state.present = False
            for r in sorted(state.covering):
                event(t_k, uav_id, r, LEAVE)
            state.covering.clear()

    return handle
