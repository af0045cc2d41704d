"""The trace schema's group attributes: every attribute a subsystem group may carry.

Tables are declared in :mod:`simulator.trace.schema`; this module declares, the same way, the
attributes that writers put on the subsystem groups (``/pricing``, ``/sensing``,
``/training``): the sweep layout of a reproduction trace, the sensing controller's
diagnostics, a training run's headline numbers. Each has a kind (``str``, ``int``,
``float``, ``bool`` or an array of one of them), a unit and a description. The writer refuses
an undeclared name or a value of the wrong kind, the reader serves them as plain Python, and
docs/trace-format.md lists them, so a reader of a trace never has to guess what a free-form
attribute means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from agents.pricing.registry import POLICIES

__all__ = ["GROUP_ATTRS", "WALL_CLOCK_ATTRS", "GroupAttr", "check_group_attr"]


@dataclass(frozen=True)
class GroupAttr:
    """One declared group attribute.

    Attributes:
        group: the group that carries it, e.g. ``"/pricing"``.
        name: attribute name.
        kinds: accepted kinds: ``str``, ``int``, ``float``, ``bool``, or ``T[]`` for a 1-D
            array of ``T`` (more than one when, e.g., a flag is per run or per sweep value).
        unit: physical unit (``1`` dimensionless, ``s`` seconds ...).
        description: what it means and who writes it.
        reproducible: False for wall-clock measurements.
    """

    group: str
    name: str
    kinds: tuple[str, ...]
    unit: str
    description: str
    reproducible: bool = True


_SWEEP = "Written by `uavtwin reproduce` on a paper-figure trace."
_TRACE = "Written by runs with `uavs.mobility.model: trace` (docs/mobility.md)."
_SPECS: tuple[tuple[Any, ...], ...] = (
    ("/pricing", "experiment", ("str",), "1", "Paper experiment of the trace, e.g. "
     "`tiny-fig5-cost`. " + _SWEEP),
    ("/pricing", "iterations", ("int",), "1", "Iterations K of the repeated-game solvers. "
     + _SWEEP),
    ("/pricing", "layout", ("str",), "1", "How rounds map to iterations in the Fig. 4 trace. "
     + _SWEEP),
    ("/pricing", "sweep_parameter", ("str",), "1", "Game parameter varied across the sweep "
     "(`none`, `cost`, `price_cap`, `n_rsus`, `n_uavs`). " + _SWEEP),
    ("/pricing", "sweep_values", ("float[]",), "1", "Values of the sweep parameter, in sweep "
     "order. " + _SWEEP),
    ("/pricing", "sweep_round_offsets", ("int[]",), "1", "round_id where each sweep value's "
     "rounds start (length = values + 1). " + _SWEEP),
    ("/pricing", "games_per_value", ("int",), "1", "Random games averaged per sweep value. "
     + _SWEEP),
    *(("/pricing", f"training_eval_{s.name}", ("float[]",), "1",
       f"{s.label}: the held-out ratio to the SE per PPO training iteration, as (iteration, "
       f"ratio) pairs flattened, from the shipped checkpoint. " + _SWEEP)
      for s in POLICIES.values() if s.learned),
    ("/sensing", "experiment", ("str",), "1", "Paper experiment of the trace, e.g. "
     "`sync-fig6`. " + _SWEEP),
    ("/sensing", "sweep_parameter", ("str",), "1", "Parameter varied across the runs. "
     + _SWEEP),
    ("/sensing", "sweep_values", ("str[]",), "1", "Its values as text, in run order. "
     + _SWEEP),
    ("/sensing", "n_vsps", ("int",), "1", "Number of VSPs M. " + _SWEEP),
    ("/sensing", "horizon_s", ("float",), "s", "Horizon T of each game. " + _SWEEP),
    ("/sensing", "payoff", ("float[]",), "price", "Discounted payoff of each VSP in each run "
     "(runs x M, flattened). " + _SWEEP),
    ("/sensing", "controller", ("str",), "1", "Controller of the VSP intensities in a "
     "simulation run (`nash`, `stackelberg`, `static`, `constant`)."),
    ("/sensing", "revision", ("str",), "1", "Population revision model of a simulation run "
     "(`replicator`, `agent`)."),
    ("/sensing", "converged", ("bool", "bool[]"), "1", "Whether the controller's solver "
     "converged (one flag per run in a reproduction trace)."),
    ("/sensing", "message", ("str",), "1", "The controller solver's message."),
    ("/sensing", "solve_time_s", ("float",), "s", "Wall-clock time of the controller solve.",
     False),
    ("/mobility", "uav_names", ("str[]",), "1", "Each UAV's id in the imported mobility "
     "file (SUMO vehicle id, GPX track name, ns-2 node index), by uav_id. " + _TRACE),
    ("/mobility", "source_file", ("str",), "1", "The mobility file the UAVs flew. " + _TRACE),
    ("/mobility", "source_format", ("str",), "1", "Its format (`ns2`, `bonnmotion`, "
     "`sumo-fcd`, `gpx`, `csv`). " + _TRACE),
    ("/mobility", "source_dimensions", ("int",), "1", "3 if the file gave altitudes, 2 if they "
     "were drawn from uavs.mobility.altitude_m. " + _TRACE),
    ("/mobility", "projection", ("str",), "1", "PROJ string of the map projection applied to "
     "geographic input (GPX, SUMO geo), empty otherwise. " + _TRACE),
    ("/mobility", "epoch", ("str",), "1", "ISO 8601 time of t = 0 for input with absolute "
     "times (GPX), empty otherwise. " + _TRACE),
    ("/mobility", "time_offset_s", ("float",), "s", "uavs.mobility.time_offset_s added to the "
     "file's times. " + _TRACE),
    ("/mobility", "shift_m", ("float[]",), "m", "(dx, dy, dz) added to the file's positions "
     "(offset_m, plus the shift of area: fit). " + _TRACE),
    ("/training", "solver", ("str",), "1", "Policy trained (`tiny_madrl` or `ppo`)."),
    ("/training", "iterations", ("int",), "1", "PPO iterations run."),
    ("/training", "eval_ratio", ("float",), "1", "Final held-out greedy reward ratio to the SE."),
    ("/training", "eval_se_reward", ("float",), "price", "Mean SE reward of the held-out games."),
    ("/training", "iterations_to_band", ("int",), "1", "First PPO iteration from which the "
     "held-out ratio stays in the 2% band (-1: never)."),
    ("/training", "dense_actor_parameters", ("int",), "1", "Actor parameters before compaction."),
    ("/training", "compact_actor_parameters", ("int",), "1", "Actor parameters after "
     "structured pruning and compaction."),
)

GROUP_ATTRS: Mapping[str, Mapping[str, GroupAttr]] = MappingProxyType({
    group: MappingProxyType({s[1]: GroupAttr(*s) for s in _SPECS if s[0] == group})
    for group in dict.fromkeys(s[0] for s in _SPECS)
})
"""Declared attributes by group, then by name, in declaration order."""

WALL_CLOCK_ATTRS: tuple[str, ...] = tuple(
    f"{a.group}@{a.name}" for attrs in GROUP_ATTRS.values() for a in attrs.values()
    if not a.reproducible)
"""Group attributes whose values are wall-clock measurements (``group@name``)."""


def _kind(value: Any) -> str | None:
    """The kind of a value as declared (``float[]`` ...), None if HDF5 cannot hold it."""
    arr = np.asarray(value)
    if arr.ndim > 1:
        return None
    base = {"b": "bool", "i": "int", "u": "int", "f": "float", "U": "str", "S": "str",
            "O": "str"}.get(arr.dtype.kind)
    if base is None or (arr.dtype.kind == "O" and not all(isinstance(v, str) for v in
                                                          arr.ravel().tolist())):
        return None
    return base + "[]" if arr.ndim == 1 else base


def check_group_attr(group: str, name: str, value: Any) -> GroupAttr:
    """The declaration of attribute ``name`` of ``group``, after checking ``value``'s kind.

    Args:
        group: group path, e.g. ``"/pricing"``.
        name: attribute name.
        value: the value to be written.

    Returns:
        The declaration.

    Raises:
        ValueError: undeclared name, or a value of another kind (an int is accepted where a
            float is declared).
    """
    decl = GROUP_ATTRS.get(group, {}).get(name)
    if decl is None:
        known = ", ".join(GROUP_ATTRS.get(group, {})) or "none"
        raise ValueError(f"attribute {name!r} of {group} is not declared in "
                         f"simulator/trace/attributes.py (declared: {known})")
    kind = _kind(value)
    widened = {"int": "float", "int[]": "float[]"}.get(kind or "")
    if kind not in decl.kinds and widened not in decl.kinds:
        raise ValueError(f"attribute {group}@{name}: expected {' or '.join(decl.kinds)}, got "
                         f"{kind or type(value).__name__} {value!r}")
    return decl
