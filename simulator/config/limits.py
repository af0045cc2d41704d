"""How much memory a scenario implies, estimated before anything is allocated.

A typo such as ``duration_s: 1e12`` or ``sample_interval_s: 1e-9`` is a valid number, and
the run would only fail minutes later in a multi-TiB allocation. :func:`estimate_needs` turns
a validated scenario into a few named needs (trajectory segments, position samples, UAV-RSU
pairs, twins, market rounds, backhaul links, sensing state), each an order-of-magnitude count
times the bytes one item costs in the engine, and :func:`check_scenario_limits` refuses a
scenario whose total exceeds the memory limit with one line naming the key that drives the
largest need, the estimate and the limit, and how to raise it.

The limit is ``UAVTWIN_MAX_MEMORY`` (bytes, or a size such as ``8G``; the ``uavtwin
--max-memory SIZE`` option sets it) or else 80 % of this machine's physical memory. The
per-item costs are deliberately generous (they include the temporaries of the vectorised
code), so a scenario that passes is not guaranteed to fit, but one that fails cannot.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from simulator.config.models import Scenario

__all__ = ["MEMORY_ENV", "Need", "blame", "check_scenario_limits", "estimate_needs", "format_bytes",
           "max_memory_bytes", "parse_size"]

MEMORY_ENV = "UAVTWIN_MAX_MEMORY"
"""Environment variable holding the memory limit (``uavtwin --max-memory`` sets it)."""

_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
# bytes per item, temporaries included (see the module docstring)
_SEGMENT_B = 320        # 8 float64 per segment, x ~4 for generation and coverage chunks
_POSITION_B = 96        # 5 columns + the [U, T, 3] sample array, x ~1.5
_PAIR_B = 64            # per UAV-RSU pair: gains, SSIM components, candidates
_TWIN_B = 64            # per twin: host, size, transfer state
_ROUND_B = 24           # per (iteration, UAV, RSU) of a pricing round's paths
_SOLVER_CELL_B = 128    # per (UAV, RSU) of an equilibrium round: ~16 float64 arrays
_LINK_B = 2048          # per backhaul link: networkx edge + route tables
_AGENT_B = 24           # per sensing agent (agent revision)
_MESH_B = 8 * 64        # per (mesh node, VSP) of the sync solvers


@dataclass(frozen=True)
class Need:
    """One estimated memory need of a run.

    Attributes:
        what: what is counted ("position samples").
        count: how many items (a float: may exceed any integer type).
        bytes: estimated bytes (count x cost per item).
        keys: scenario key paths that drive it; the first is blamed in messages.
        formula: how ``count`` follows from the keys, for the message.
    """

    what: str
    count: float
    bytes: float
    keys: tuple[tuple[str | int, ...], ...]
    formula: str


def parse_size(text: str) -> int:
    """Bytes in a size such as ``8G``, ``512M``, ``1.5T`` or ``1000000`` (binary units).

    Raises:
        ValueError: for anything else.
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([KMGTP]?)i?B?\s*",
                     str(text), re.IGNORECASE)
    if m is None:
        raise ValueError(f"expected a size such as 8G, 512M or 1000000, got {text!r}")
    value = float(m.group(1)) * _UNITS[m.group(2).upper()]
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"expected a positive size, got {text!r}")
    return int(value)


def max_memory_bytes() -> int:
    """The memory limit: ``$UAVTWIN_MAX_MEMORY`` or 80 % of physical memory.

    Raises:
        ValueError: if the environment variable is not a size.
    """
    env = os.environ.get(MEMORY_ENV)
    if env:
        try:
            return parse_size(env)
        except ValueError as err:
            raise ValueError(f"{MEMORY_ENV}: {err}") from None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a laptop
        total = 8 * 2**30
    return int(0.8 * total)


def format_bytes(n: float) -> str:
    """``n`` bytes as a short binary size: ``1.5 GiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # unreachable


def _rsu_count(scenario: Scenario) -> float:
    rsus = scenario.rsus
    fixed = rsus.fixed_count
    if fixed is not None:
        return float(fixed)
    mean = rsus.poisson.density_per_km2 * scenario.area.width_m * scenario.area.height_m / 1e6
    return mean + 6 * math.sqrt(mean) + 1  # a generous upper quantile of the Poisson draw


def _segments_per_uav(scenario: Scenario) -> float:
    sim, mob, area = scenario.simulation, scenario.uavs.mobility, scenario.area
    if mob.model == "gauss_markov":
        return sim.duration_s / mob.gauss_markov.update_interval_s + 1
    if mob.model == "random_waypoint":
        box = math.hypot(area.width_m, area.height_m)
        height = mob.altitude_m.hi - mob.altitude_m.lo
        leg = 0.5 * math.hypot(box, height) / (0.5 * (mob.speed_mps.lo + mob.speed_mps.hi))
        leg += 0.5 * (mob.pause_s.lo + mob.pause_s.hi)
        return 2 * (1.3 * sim.duration_s / max(leg, 1e-9) + 2)
    if mob.model == "waypoints":
        total = 0.0
        for w in mob.waypoints:
            pts = w.points
            if not w.loop:
                total += 2 * len(pts)
                continue
            ring = (*pts, pts[0])
            lap = sum(math.dist((a.x_m, a.y_m, a.z_m), (b.x_m, b.y_m, b.z_m))
                      / (b.speed_mps or 1.0) + b.pause_s for a, b in itertools.pairwise(ring))
            total += 2 * len(pts) * (sim.duration_s / max(lap, 1e-9) + 1)
        return total / max(scenario.uavs.count, 1)
    return 0.0  # trace files: sized by the file itself


def estimate_needs(scenario: Scenario) -> list[Need]:
    """The memory needs of running ``scenario`` (largest first).

    Args:
        scenario: a validated :class:`~simulator.config.models.Scenario`.

    Returns:
        The needs, sorted by decreasing bytes.
    """
    sim, uavs, pricing = scenario.simulation, scenario.uavs, scenario.pricing
    n_uav = float(uavs.count)
    n_rsu = _rsu_count(scenario)
    segments = n_uav * _segments_per_uav(scenario)
    mob_key: tuple[str | int, ...] = (("uavs", "mobility", "gauss_markov", "update_interval_s")
                                      if uavs.mobility.model == "gauss_markov"
                                      else ("uavs", "mobility", "speed_mps"))
    needs = [
        Need("trajectory segments", segments, segments * _SEGMENT_B,
             (("simulation", "duration_s"), ("uavs", "count"), mob_key),
             "uavs.count x simulation.duration_s / time per segment"),
        Need("UAV-RSU pairs", n_uav * n_rsu, n_uav * n_rsu * _PAIR_B,
             (("uavs", "count"), ("rsus",)), "uavs.count x RSUs"),
        Need("twins", n_uav * uavs.twins.count, n_uav * uavs.twins.count * _TWIN_B,
             (("uavs", "twins", "count"), ("uavs", "count")), "uavs.count x uavs.twins.count"),
    ]
    if scenario.output.record_positions:
        rows = n_uav * (math.floor(sim.duration_s / sim.sample_interval_s) + 1)
        needs.append(Need("position samples", rows, rows * _POSITION_B,
                          (("simulation", "sample_interval_s"), ("simulation", "duration_s"),
                           ("uavs", "count")),
                          "uavs.count x simulation.duration_s / simulation.sample_interval_s"))
    if pricing.solver == "equilibrium":
        # the compiled solver keeps [UAVs, RSUs] arrays only (agents.pricing.kernel); every
        # UAV in one round is the worst case (market windows)
        cells = n_uav * n_rsu
        needs.append(Need("solver arrays of a round", cells, cells * _SOLVER_CELL_B,
                          (("rsus",), ("uavs", "count")), "uavs.count x RSUs"))
    else:
        cells = float(pricing.iterations) * n_uav * n_rsu
        needs.append(Need("price/demand paths of a round", cells, cells * _ROUND_B,
                          (("pricing", "iterations"), ("uavs", "count"), ("rsus",)),
                          "pricing.iterations x uavs.count x RSUs"))
    hb = scenario.backhaul
    links = {"complete": n_rsu * (n_rsu - 1) / 2, "knn": n_rsu * hb.k, "grid": 2 * n_rsu,
             "edges": float(len(hb.edges))}[hb.topology]
    needs.append(Need("backhaul links and routes", links + n_rsu * n_rsu,
                      (links + n_rsu * n_rsu) * _LINK_B / 8,
                      (("rsus",), ("backhaul", "topology")), "RSUs^2 routes + links"))
    sen = scenario.sensing
    if sen.enabled:
        m = len(sen.vsps)
        if sen.revision == "agent":
            needs.append(Need("sensing agents", float(sen.population),
                              sen.population * _AGENT_B, (("sensing", "population"),),
                              "sensing.population"))
        steps = (max(sen.horizon_s, sim.duration_s) / sen.step_s + 1) * m
        needs.append(Need("sensing time steps", steps, steps * _MESH_B,
                          (("sensing", "step_s"), ("sensing", "horizon_s"),
                           ("simulation", "duration_s")),
                          "max(sensing.horizon_s, simulation.duration_s) / sensing.step_s x "
                          "VSPs"))
    return sorted(needs, key=lambda n: -n.bytes)


def blame(scenario: Scenario, need: Need) -> tuple[str | int, ...]:
    """The key of ``need`` whose default value would shrink it the most.

    Each key of the need is reset to its default in turn (on a plain copy of the scenario);
    the key whose reset lowers the estimate most is the one the author most likely mistyped.

    Args:
        scenario: a validated scenario.
        need: one of its needs.

    Returns:
        A key path of ``need.keys``.
    """
    data = scenario.model_dump(mode="json")
    defaults = type(scenario)().model_dump(mode="json")
    best, best_bytes = need.keys[0], need.bytes
    for key in need.keys:
        trial, default = _copy(data), defaults
        node = trial
        for part in key[:-1]:
            node, default = node[part], default[part]
        node[key[-1]] = default[key[-1]]
        try:
            changed = type(scenario).model_validate(trial)
        except ValueError:
            continue
        after = next((n.bytes for n in estimate_needs(changed) if n.what == need.what), 0.0)
        if after < best_bytes:
            best, best_bytes = key, after
    return best


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def check_scenario_limits(scenario: Scenario,
                          limit: int | None = None) -> tuple[Need, float] | None:
    """The largest need if the scenario's total estimate exceeds the limit, else None.

    Args:
        scenario: a validated scenario.
        limit: bytes; default :func:`max_memory_bytes`.

    Returns:
        ``(largest need, total bytes)`` when the total is over the limit, else None.
    """
    limit = max_memory_bytes() if limit is None else limit
    needs = estimate_needs(scenario)
    total = sum(n.bytes for n in needs)
    return (needs[0], total) if total > limit else None
