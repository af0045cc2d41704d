"""The registry of mobility models: ``uavs.mobility.model`` -> the builder of trajectories.

Each builder turns the scenario's ``uavs.mobility`` section into one exact piecewise-linear
:class:`~simulator.world.mobility.trajectory.Trajectory` per UAV over the run's duration.
The world asks :func:`build_trajectories` and never looks at model names itself; adding a
model means adding a builder here (and its name to the config's ``model`` choices, which a
test keeps equal to :data:`MOBILITY_MODELS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import numpy as np

from simulator.config.world import MobilityConfig
from simulator.errors import ScenarioError
from simulator.world.mobility.files import waypoint_trajectory
from simulator.world.mobility.generators import gauss_markov_many, random_waypoints
from simulator.world.mobility.imported import mobility_fleet
from simulator.world.mobility.trajectory import Trajectory

__all__ = ["MOBILITY_MODELS", "MobilityContext", "build_trajectories"]


class MobilityContext:
    """What every builder may use besides the mobility section itself.

    Attributes:
        count: number of UAVs.
        duration_s: simulated duration.
        area_m: ``(width, height)`` of the scenario area.
        rng: the run's ``mobility`` generator.
        base_dir: directory that relative file names are resolved against.
    """

    def __init__(self, count: int, duration_s: float, area_m: tuple[float, float],
                 rng: np.random.Generator, base_dir: Path | None) -> None:
        self.count = count
        self.duration_s = duration_s
        self.area_m = area_m
        self.rng = rng
        self.base_dir = base_dir


Builder = Callable[[MobilityConfig, MobilityContext], list[Trajectory]]


def _random_waypoint(mob: MobilityConfig, ctx: MobilityContext) -> list[Trajectory]:
    return random_waypoints(ctx.rng, ctx.count, duration_s=ctx.duration_s, area_m=ctx.area_m,
                            speed_mps=(mob.speed_mps.lo, mob.speed_mps.hi),
                            pause_s=(mob.pause_s.lo, mob.pause_s.hi),
                            altitude_m=(mob.altitude_m.lo, mob.altitude_m.hi))


def _gauss_markov(mob: MobilityConfig, ctx: MobilityContext) -> list[Trajectory]:
    gm = mob.gauss_markov
    return gauss_markov_many(
        ctx.rng, ctx.count, duration_s=ctx.duration_s, area_m=ctx.area_m,
        altitude_m=(mob.altitude_m.lo, mob.altitude_m.hi), alpha=gm.alpha,
        mean_speed_mps=gm.mean_speed_mps, speed_std_mps=gm.speed_std_mps,
        direction_std_rad=gm.direction_std_rad, pitch_std_rad=gm.pitch_std_rad,
        update_interval_s=gm.update_interval_s)


def _waypoints(mob: MobilityConfig, ctx: MobilityContext) -> list[Trajectory]:
    by_uav = {w.uav: w for w in mob.waypoints}
    trajectories = []
    for u in range(ctx.count):
        if u not in by_uav:
            raise ScenarioError(f"uavs.mobility.waypoints: no waypoints for UAV {u} "
                                f"(uavs.count is {ctx.count})")
        w = by_uav[u]
        points = np.array([[p.x_m, p.y_m, p.z_m] for p in w.points], dtype=float)
        speeds = np.array([p.speed_mps for p in w.points[1:]], dtype=float)
        pauses = np.array([p.pause_s for p in w.points], dtype=float)
        trajectories.append(waypoint_trajectory(points, speeds_mps=speeds, pauses_s=pauses,
                                                duration_s=ctx.duration_s, loop=w.loop))
    return trajectories


def _trace(mob: MobilityConfig, ctx: MobilityContext) -> list[Trajectory]:
    """An imported mobility file (docs/mobility.md): each UAV over its presence interval.
    The scenario must have been through
    :func:`~simulator.world.mobility.imported.resolve_trace_scenario` (count, fitted area)."""
    return mobility_fleet(mob, ctx.rng, ctx.area_m, ctx.base_dir).trajectories


MOBILITY_MODELS: Mapping[str, Builder] = MappingProxyType({
    "random_waypoint": _random_waypoint,
    "gauss_markov": _gauss_markov,
    "waypoints": _waypoints,
    "trace": _trace,
})
"""Every mobility model by its scenario name."""


def build_trajectories(mobility: MobilityConfig, ctx: MobilityContext) -> list[Trajectory]:
    """One trajectory per UAV from the scenario's mobility model.

    Args:
        mobility: the ``uavs.mobility`` section.
        ctx: UAV count, duration, area, generator and base directory.

    Returns:
        ``ctx.count`` trajectories, UAV id order.

    Raises:
        ScenarioError: the model's inputs do not describe every UAV.
    """
    return MOBILITY_MODELS[mobility.model](mobility, ctx)
