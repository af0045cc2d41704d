"""Warnings for scenarios that are valid but almost surely not what the author meant.

A kilometre typed where metres were meant (``coverage_radius_m: 0.8``), a speed in km/h
(``speed_mps: 500``) or a world where nobody is ever covered all validate, run, and give a
trace full of zeros. These checks do not refuse anything; they return one sentence per
suspicion, which ``uavtwin validate`` and ``uavtwin run`` print as
``uavtwin: warning: ...`` lines on stderr.

* :func:`scenario_warnings` looks at the scenario alone (cell size, speeds);
* :func:`coverage_warnings` looks at the coverage events of a finished run (nothing covered
  in the first simulated minute, UAVs never covered).
"""

from __future__ import annotations

import numpy as np

from simulator.config.models import Scenario

__all__ = ["MAX_SPEED_MPS", "MIN_CELL_M", "coverage_warnings", "scenario_warnings"]

MIN_CELL_M = 10.0
"""Coverage radii below this (metres) are suspicious: a kilometre typed as metres?"""
MAX_SPEED_MPS = 150.0
"""UAV speeds above this (m/s, 540 km/h) are suspicious: km/h typed as m/s?"""
FIRST_MINUTE_S = 60.0
"""A run with no coverage event in this first stretch of simulated time is suspicious."""


def scenario_warnings(scenario: Scenario) -> list[str]:
    """Suspicious but valid values of a scenario.

    Args:
        scenario: a validated scenario.

    Returns:
        One sentence per suspicion (empty if none).
    """
    out = []
    radius = scenario.rsus.coverage_radius_m
    if radius < MIN_CELL_M:
        out.append(f"rsus.coverage_radius_m: cells of {radius:g} m are smaller than "
                   f"{MIN_CELL_M:g} m; kilometres typed as metres?")
    mob = scenario.uavs.mobility
    speeds = []
    if mob.model == "random_waypoint":
        speeds.append(("uavs.mobility.speed_mps", mob.speed_mps.hi))
    elif mob.model == "gauss_markov":
        gm = mob.gauss_markov
        speeds.append(("uavs.mobility.gauss_markov.mean_speed_mps", gm.mean_speed_mps))
    elif mob.model == "waypoints":
        for n, w in enumerate(mob.waypoints):
            for m, p in enumerate(w.points):
                if p.speed_mps is not None:
                    speeds.append((f"uavs.mobility.waypoints[{n}].points[{m}].speed_mps",
                                   p.speed_mps))
    for key, v in speeds:
        if v > MAX_SPEED_MPS:
            out.append(f"{key}: {v:g} m/s is faster than {MAX_SPEED_MPS:g} m/s "
                       f"({v * 3.6:g} km/h); km/h typed as m/s?")
            break
    return out


def coverage_warnings(first_event_s: float, entered: np.ndarray, n_uavs: int,
                      duration_s: float) -> list[str]:
    """Suspicions about a finished run's coverage events.

    Args:
        first_event_s: time of the earliest coverage event (s; ``inf`` if there was none).
        entered: ids of the UAVs that entered a cell at least once.
        n_uavs: number of UAVs in the run.
        duration_s: simulated time.

    Returns:
        One sentence per suspicion (empty if none).
    """
    out = []
    first = min(FIRST_MINUTE_S, duration_s)
    if not first_event_s <= first:
        out.append(f"no coverage event in the first {first:g} simulated seconds: no UAV "
                   "starts inside or crosses an RSU cell (rsus.coverage_radius_m too small, "
                   "or the RSUs away from the UAVs?)")
    covered = np.zeros(n_uavs, dtype=bool)
    covered[entered[(entered >= 0) & (entered < n_uavs)]] = True
    never = np.flatnonzero(~covered)
    if never.size:
        ids = ", ".join(str(int(u)) for u in never[:5]) + (", ..." if never.size > 5 else "")
        out.append(f"{never.size} of {n_uavs} UAVs were never covered by any RSU "
                   f"(uav_id {ids})")
    return out
