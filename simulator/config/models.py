"""Typed, frozen models of a uavtwin scenario: every knob of a run, with unit, default and range.

A scenario describes one simulated UAV metaverse: the service area, the roadside units (RSUs)
that host the UAVs' digital twins and sell them bandwidth, the backhaul between RSUs, the UAV
fleet (mobility, twins, follower parameters of the pricing game), the radio model, the pricing
solver, the sensing population with its virtual service providers (VSPs), the training setup
of the learned pricing agents, and where the trace goes. The engine reads these models by
field name; nothing mutates them (every model is frozen and rejects unknown keys).

Per-entity parameters that the paper draws at random (transmit power, noise, cost, price cap,
immersion weight, budget, ...) are :class:`Range` values: a single number fixes the value, a
2-list ``[lo, hi]`` makes the engine draw it uniformly per RSU or per UAV.

Cross-field rules (the price cap must be able to cover the cost, waypoint UAV ids must exist,
explicit RSUs lie inside the area, ...) are checked by model validators that raise
:func:`field_error`, so the loader can point at the offending key. Loading YAML, line numbers
and ``--set`` overrides live in :mod:`simulator.config.loader`.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field, model_validator

from agents.pricing.registry import POLICY_NAMES
from agents.sync.params import DEFAULT_SCALARS as SYNC_DEFAULT_SCALARS
from agents.sync.params import DEFAULT_THETA as SYNC_DEFAULT_THETA
from agents.sync.params import DEFAULT_VSP as SYNC_DEFAULT_VSP
from agents.sync.params import DEFAULT_WEIGHTS as SYNC_DEFAULT_WEIGHTS
from simulator.config.faults import FaultsConfig
from simulator.config.fields import (
    FrozenModel,
    IntRange,
    PositiveIntRange,
    TupleOf,
    field_error,
    fmt_number,
    range_default,
)
from simulator.config.realism import DecisionTimeConfig
from simulator.config.world import (
    AreaConfig,
    BackhaulConfig,
    RadioConfig,
    RsusConfig,
    UavsConfig,
)

__all__ = [
    "SENSING_DEFAULTS", "VSP_DEFAULTS", "DEFAULT_VSPS", "SimulationConfig", "OutputConfig",
    "PricingConfig", "VspConfig", "SensingConfig", "PruneConfig", "TrainingConfig", "Scenario"
]

_n = fmt_number  # compact number formatting in messages

# --- Sensing defaults (MODEL.md Part B): the calibrated 2-VSP game of
# agents.sync.params.SyncParams.paper_defaults(M=2), derived from its constants so the two
# never drift apart (docs/sync-games.md explains the values). ---
SENSING_DEFAULTS: dict[str, Any] = {
    "population": int(SYNC_DEFAULT_SCALARS["N"]), "data_per_uav": SYNC_DEFAULT_SCALARS["b"],
    "revision_rate": SYNC_DEFAULT_SCALARS["delta"], "discount": SYNC_DEFAULT_SCALARS["rho"],
    "horizon_s": SYNC_DEFAULT_SCALARS["T"], "g0": SYNC_DEFAULT_SCALARS["g0"],
    "g1": SYNC_DEFAULT_SCALARS["g1"], "weights": tuple(SYNC_DEFAULT_WEIGHTS), "step_s": 1.0,
}
VSP_DEFAULTS: dict[str, Any] = {
    "twins": int(SYNC_DEFAULT_VSP["d"]), "alpha": SYNC_DEFAULT_VSP["alpha"],
    "k": SYNC_DEFAULT_VSP["k"], "v": SYNC_DEFAULT_VSP["v"], "c": SYNC_DEFAULT_VSP["c"],
    "z0": SYNC_DEFAULT_VSP["z0"], "intensity": 1.0,
}
DEFAULT_VSPS: tuple[dict[str, float], ...] = tuple(
    {"theta": th, "x0": 1.0 / len(SYNC_DEFAULT_THETA[2])} for th in SYNC_DEFAULT_THETA[2])

Solver = Literal[POLICY_NAMES]  # type: ignore[valid-type]  # the registry's names


class SimulationConfig(FrozenModel):
    """Run length, seed and sampling of the discrete-event simulation."""

    name: str = Field("scenario", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$",
                      description="Run name (letters, digits, '.', '_', '-'); default: the "
                                  "scenario file's stem.")
    duration_s: float = Field(300.0, gt=0, description="Simulated time, seconds.")
    seed: int = Field(1, ge=0, lt=2**63, description="Seed of the run (0 <= seed < 2^63); "
                      "every subsystem spawns its "
                                           "generator from it.")
    sample_interval_s: float = Field(5.0, gt=0, description="Period of the UAV position "
                                                            "samples written to the trace, s.")


class OutputConfig(FrozenModel):
    """Where and how the HDF5 trace is written."""

    trace: str | None = Field(None, description="Trace path (relative to the working "
                                                "directory); null = traces/<name>-seed<seed>.h5.")
    flush_interval_s: float = Field(30.0, gt=0, description="Wall-clock seconds between "
                                                            "flushes of buffered rows.")
    compression: Literal["gzip", "lzf", "none"] = Field("gzip", description="HDF5 compression.")
    record_positions: bool = Field(True, description="Write sampled UAV positions.")


class PricingConfig(FrozenModel):
    """The twin-migration market: which solver prices bandwidth and how rounds are batched."""

    solver: Solver = Field("equilibrium", description="Pricing policy (MODEL.md A4).")
    market_window_s: float = Field(0.0, ge=0, description="Batching window of migration "
                                                          "requests, s; 0 = one round per request.")
    iterations: int = Field(50, ge=1, description="K: iterations of the repeated-game solvers "
                                                  "per round.")
    history: int = Field(3, ge=1, description="L: own past prices and demands seen by "
                         "learned agents when training (a checkpoint carries its own).")
    checkpoint: str | None = Field(None, description="Agent checkpoint, relative to the scenario "
                                   "file; null = scenarios/agents/<solver>.pt.")
    tolerance: float = Field(1e-9, gt=0, description="Equilibrium price tolerance.")
    max_iterations: int = Field(500, ge=1, description="Best-response iterations of equilibrium.")
    prediction_margin_s: float = Field(0.0, ge=0, description="Request migration this long "
                                                              "before leaving the cell, s.")
    decision_time: DecisionTimeConfig = Field(default_factory=DecisionTimeConfig,
                                              description="Decision time of the agents "
                                                          "(MODEL.md D5).")
    reference: bool = Field(True, description="Also solve every round's exact Stackelberg "
                            "equilibrium and record its mean RSU and UAV utilities (the "
                            "reference of the optimality ratio); false saves that solve.")


def _check_weights(weights: tuple[float, ...], loc: tuple[str | int, ...]) -> None:
    """Payoff weights: all >= 0 and w4 > 0 (it makes the VSP's Hamiltonian strictly concave)."""
    for n, w in enumerate(weights):
        if w < 0:
            raise field_error((*loc, n), f"must be >= 0, got {_n(w)}")
    if weights[3] <= 0:
        raise field_error((*loc, 3), f"w4 must be > 0 (strictly concave payoff in the "
                                     f"intensity), got {_n(weights[3])}")


class VspConfig(FrozenModel):
    """One virtual service provider of the sensing game (MODEL.md Part B)."""

    theta: float = Field(gt=0, description="Twin decay rate theta_m, 1/s.")
    x0: float = Field(ge=0, le=1, description="Initial population share x_m(0).")
    twins: int = Field(VSP_DEFAULTS["twins"], ge=1, description="Number of twins d_m.")
    alpha: float = Field(VSP_DEFAULTS["alpha"], ge=0, description="Weight alpha_m of sensed data.")
    k: float = Field(VSP_DEFAULTS["k"], gt=0, description="Data per synchronisation k_m.")
    v: float = Field(VSP_DEFAULTS["v"], ge=0, description="Desired twin value v_m.")
    c: float = Field(VSP_DEFAULTS["c"], ge=0, description="Energy cost c_m of a sensing UAV.")
    z0: float = Field(VSP_DEFAULTS["z0"], ge=0, description="Initial twin value z_m(0).")
    intensity: float = Field(VSP_DEFAULTS["intensity"], ge=0,
                             description="eta_m of the constant controller.")
    weights: TupleOf[float, float, float, float] | None = Field(
        None, description="[w1, w2, w3, w4] of this VSP's payoff; null = sensing.weights "
                          "(paper Fig. 12 changes w3 of VSP 1 only).")

    @model_validator(mode="after")
    def _check(self) -> VspConfig:
        if self.weights is not None:
            _check_weights(self.weights, ("weights",))
        return self


class SensingConfig(FrozenModel):
    """Sensing population (replicator or agent-based) and VSP synchronisation controllers."""

    enabled: bool = Field(False, description="Run the sensing process.")
    population: int = Field(SENSING_DEFAULTS["population"], ge=1, description="N sensing UAVs.")
    data_per_uav: float = Field(SENSING_DEFAULTS["data_per_uav"], gt=0, description="b.")
    revision_rate: float = Field(SENSING_DEFAULTS["revision_rate"], gt=0,
                                 description="delta, 1/s.")
    discount: float = Field(SENSING_DEFAULTS["discount"], ge=0, description="rho, 1/s.")
    horizon_s: float = Field(SENSING_DEFAULTS["horizon_s"], gt=0, description="T, s.")
    g0: float = Field(SENSING_DEFAULTS["g0"], ge=0, description="g(theta) = g0 + g1 theta.")
    g1: float = Field(SENSING_DEFAULTS["g1"], ge=0, description="g(theta) = g0 + g1 theta.")
    weights: TupleOf[float, float, float, float] = Field(
        SENSING_DEFAULTS["weights"], description="[w1, w2, w3, w4] of the VSP payoff (B3), >= 0.")
    step_s: float = Field(SENSING_DEFAULTS["step_s"], gt=0, description="Integration step, s.")
    revision: Literal["replicator", "agent"] = Field("replicator", description="Population "
                                                     "dynamics: ODE or agent-based imitation.")
    controller: Literal["nash", "stackelberg", "static", "constant"] = Field(
        "nash", description="VSP intensities: open-loop Nash, Stackelberg, static, constant.")
    leaders: TupleOf[int, ...] = Field((), description="0-based indices of the leader VSPs "
                                       "(stackelberg; the paper's VSP 3 is 2).")
    vsps: TupleOf[VspConfig, ...] = Field(
        tuple(VspConfig(**v) for v in DEFAULT_VSPS), min_length=1,
        description="The VSPs; default: " + "; ".join(
            f"theta {v['theta']}, x0 {v['x0']}" for v in DEFAULT_VSPS)
        + f" (others: {', '.join(f'{k} {v}' for k, v in VSP_DEFAULTS.items())}).")

    @model_validator(mode="after")
    def _check(self) -> SensingConfig:
        _check_weights(self.weights, ("weights",))
        for n, vsp in enumerate(self.vsps):
            g = self.g0 + self.g1 * vsp.theta
            if g <= 0:
                raise field_error(("vsps", n, "theta"), f"incentive weight g0 + g1 theta must "
                                  f"be > 0, got {_n(g)}", related=(("g0",), ("g1",)))
        total = sum(v.x0 for v in self.vsps)
        if abs(total - 1.0) > 1e-6:
            raise field_error(("vsps",), f"initial shares x0 must sum to 1, got {total:.6g}")
        for n, lead in enumerate(self.leaders):
            if not 0 <= lead < len(self.vsps):
                raise field_error(("leaders", n), f"must be a VSP index in 0..{len(self.vsps) - 1}"
                                                  f", got {lead}")
            if lead in self.leaders[:n]:
                raise field_error(("leaders", n), f"duplicate leader {lead}")
        if self.leaders and len(self.leaders) >= len(self.vsps):
            raise field_error(("leaders",), f"at least one VSP must be a follower, got "
                              f"{len(self.leaders)} leaders of {len(self.vsps)} VSPs")
        if self.controller == "stackelberg" and not self.leaders:
            raise field_error(("leaders",), "controller 'stackelberg' needs at least one leader",
                              related=(("controller",),))
        if self.step_s > self.horizon_s:
            raise field_error(("step_s",), f"must be <= horizon_s ({_n(self.horizon_s)}), "
                                           f"got {_n(self.step_s)}")
        return self


class PruneConfig(FrozenModel):
    """Dynamic structured pruning (cubic sparsity schedule, MODEL.md A5)."""

    enabled: bool = Field(True, description="Prune hidden neurons (false = plain PPO).")
    initial_sparsity: float = Field(0.0, ge=0, lt=1, description="w_init.")
    final_sparsity: float = Field(0.625, ge=0, lt=1, description="w_final.")
    start_iteration: int = Field(10, ge=0, description="t0, PPO update of the first step.")
    frequency: int = Field(5, ge=1, description="dt, updates between pruning steps.")
    steps: int = Field(10, ge=1, description="n, number of pruning steps.")
    importance: Literal["activation", "output"] = Field(
        "activation", description="Neuron importance: activation = incoming-weight norm x "
        "mean |activation|; output = outgoing-weight norm x activation std.")
    compensate: bool = Field(True, description="Fold a pruned neuron's mean activation "
                             "into the next layer's bias.")

    @model_validator(mode="after")
    def _check(self) -> PruneConfig:
        if self.final_sparsity < self.initial_sparsity:
            raise field_error(("final_sparsity",), f"must be >= initial_sparsity "
                              f"({_n(self.initial_sparsity)}), got {_n(self.final_sparsity)}")
        return self


class TrainingConfig(FrozenModel):
    """Training of the learned pricing agents on randomly drawn games."""

    iterations: int = Field(120, ge=1, description="PPO updates.")
    games_per_iteration: int = Field(16, ge=1, description="Games (episodes) per update.")
    round_iterations: int = Field(12, ge=1, description="Pricing iterations per training game.")
    rsus: PositiveIntRange = range_default(1, 6, "RSUs per training game.", kind=IntRange)
    uavs: PositiveIntRange = range_default(1, 20, "UAVs per training game.", kind=IntRange)
    learning_rate: float = Field(3e-3, gt=0, description="Adam step size.")
    hidden: int = Field(64, ge=1, description="Hidden neurons per layer.")
    prune: PruneConfig = Field(default_factory=PruneConfig, description="Pruning schedule.")
    seed: int | None = Field(None, ge=0, lt=2**63,
                             description="Training seed; null = simulation.seed.")


class Scenario(FrozenModel):
    """A complete uavtwin scenario (every section optional in the file; defaults fill it)."""

    simulation: SimulationConfig = Field(default_factory=SimulationConfig, description="Run.")
    output: OutputConfig = Field(default_factory=OutputConfig, description="Trace output.")
    area: AreaConfig = Field(default_factory=AreaConfig, description="Service area.")
    rsus: RsusConfig = Field(default_factory=RsusConfig, description="Roadside units.")
    backhaul: BackhaulConfig = Field(default_factory=BackhaulConfig, description="RSU links.")
    uavs: UavsConfig = Field(default_factory=UavsConfig, description="UAV fleet.")
    radio: RadioConfig = Field(default_factory=RadioConfig, description="Channel model.")
    pricing: PricingConfig = Field(default_factory=PricingConfig, description="Market.")
    sensing: SensingConfig = Field(default_factory=SensingConfig, description="Sensing game.")
    training: TrainingConfig = Field(default_factory=TrainingConfig, description="Agents.")
    faults: FaultsConfig = Field(default_factory=FaultsConfig, description="RSU and link "
                                 "failures (docs/faults.md); none by default.")

    @property
    def trace_path(self) -> str:
        """The trace file: output.trace, or traces/<name>-seed<seed>.h5."""
        sim = self.simulation
        return self.output.trace or f"traces/{sim.name}-seed{sim.seed}.h5"

    @property
    def training_seed(self) -> int:
        """training.seed, or simulation.seed when it is null."""
        return self.simulation.seed if self.training.seed is None else self.training.seed

    def summary(self) -> str:
        """One-line description, e.g. for ``uavtwin validate``."""
        r = self.rsus
        place = f"grid {r.grid.rows}x{r.grid.cols}" if r.placement == "grid" else r.placement
        n_rsu = "Poisson" if r.fixed_count is None else str(r.fixed_count)
        return (f"{_n(self.simulation.duration_s)} s, {self.uavs.count} UAVs "
                f"({self.uavs.mobility.model}), {n_rsu} RSUs ({place}), "
                f"solver {self.pricing.solver}, seed {self.simulation.seed}")

    def to_yaml(self) -> str:
        """The resolved scenario (defaults filled in) as YAML, in field order.

        Returns:
            YAML text; ``parse_scenario(s.to_yaml()) == s``.
        """
        data = self.model_dump(mode="json")
        if self.faults == FaultsConfig():
            del data["faults"]  # scenarios without faults resolve (and trace) as before
        body = yaml.dump(data, Dumper=_ScenarioDumper, sort_keys=False,
                         default_flow_style=False, width=100)
        return "# uavtwin scenario, resolved (every default filled in)\n" + body

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        rsus, area = self.rsus, self.area
        if self.uavs.twins.migration.dirty_source == "sensing" and not self.sensing.enabled:
            raise field_error(("uavs", "twins", "migration", "dirty_source"), "'sensing' needs "
                              "the sensing process (sensing.enabled: true)",
                              related=(("sensing", "enabled"),))
        if rsus.placement == "explicit":
            for n, pos in enumerate(rsus.explicit):
                if not area.contains(pos.x_m, pos.y_m):
                    raise field_error(("rsus", "explicit", n), f"RSU at ({_n(pos.x_m)}, "
                                      f"{_n(pos.y_m)}) is outside the area {_n(area.width_m)}"
                                      f" x {_n(area.height_m)} m", related=(("area",),))
        if rsus.placement == "grid":
            pts = rsus.grid.positions_m(area)
            outside = ~((pts >= 0) & (pts <= [area.width_m, area.height_m])).all(axis=1)
            if outside.any():
                x, y = pts[int(np.argmax(outside))]
                raise field_error(("rsus", "grid"), f"grid RSU at ({_n(x)}, {_n(y)}) is "
                                  "outside the area "
                                  f"{_n(area.width_m)} x {_n(area.height_m)} m",
                                  related=(("area",), ("rsus", "placement")))
        topo = self.backhaul.topology
        if topo == "grid" and rsus.placement != "grid":
            raise field_error(("backhaul", "topology"), "topology 'grid' needs placement 'grid', "
                                                        f"got placement '{rsus.placement}'",
                              related=(("rsus", "placement"),))
        if topo == "edges":
            n_rsu = rsus.fixed_count
            if n_rsu is None:
                raise field_error(("backhaul", "topology"), "topology 'edges' needs a fixed RSU "
                                  "count (placement grid, random or explicit), got 'poisson'",
                                  related=(("rsus", "placement"),))
            for n, edge in enumerate(self.backhaul.edges):
                for end in ("a", "b"):
                    if getattr(edge, end) >= n_rsu:
                        raise field_error(("backhaul", "edges", n, end), f"RSU id must be < the "
                                          f"number of RSUs ({n_rsu}), got {getattr(edge, end)}",
                                          related=(("rsus",),))
        if self.uavs.mobility.model == "waypoints":
            for n, wp in enumerate(self.uavs.mobility.waypoints):
                for m, p in enumerate(wp.points):
                    if not area.contains(p.x_m, p.y_m):
                        raise field_error(("uavs", "mobility", "waypoints", n, "points", m),
                                          f"point ({_n(p.x_m)}, {_n(p.y_m)}) is outside the "
                                          f"area {_n(area.width_m)} x {_n(area.height_m)} m",
                                          related=(("area",),))
        n_rsu = rsus.fixed_count
        if n_rsu is not None:
            for n, outage in enumerate(self.faults.rsus.scheduled):
                if outage.rsu_id >= n_rsu:
                    raise field_error(("faults", "rsus", "scheduled", n, "rsu_id"), f"RSU id must "
                                      f"be < the number of RSUs ({n_rsu}), got {outage.rsu_id}",
                                      related=(("rsus",),))
            for n, link in enumerate(self.faults.links.scheduled):
                for end in ("a", "b"):
                    if getattr(link, end) >= n_rsu:
                        raise field_error(("faults", "links", "scheduled", n, end), f"RSU id "
                                          f"must be < the number of RSUs ({n_rsu}), got "
                                          f"{getattr(link, end)}", related=(("rsus",),))
        return self


class _ScenarioDumper(yaml.SafeDumper):
    """Block-style mappings; lists of scalars (ranges, coordinates, weights) in flow style."""

    def represent_list(self, data: list[Any]) -> yaml.Node:  # noqa: D102
        flow = all(not isinstance(x, dict | list) for x in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_ScenarioDumper.add_representer(list, _ScenarioDumper.represent_list)
