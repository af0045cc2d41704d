"""The simulated world of a scenario: area, roadside units, backhaul, radio and the UAV fleet.

RSUs (roadside units) are the leaders of the pricing game: each hosts digital twins, covers a
disc of the service area, and sells bandwidth at a price between its cost and its price cap
(per-RSU values drawn from paper Table II ranges). They are placed on a grid, at random, by a
Poisson process or explicitly, and are joined by a wired backhaul graph over which twin state
migrates. The radio model turns a UAV position into the channel gain of each UAV-RSU pair.
UAVs are the followers: they fly piecewise-linear trajectories (random waypoint, Gauss-Markov,
scripted waypoints or an imported trace), keep digital twins on the RSUs, and buy bandwidth
with per-UAV immersion weight, SSIM threshold and budget.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from simulator.config.fields import (
    FrozenModel,
    NonNegRange,
    PositiveRange,
    Range,
    TupleOf,
    UnitRange,
    field_error,
    fmt_number,
    range_default,
)
from simulator.config.realism import LiveMigrationConfig
from simulator.world.mobility.formats.names import FORMAT_NAMES
from simulator.world.radio.air_to_ground import ENVIRONMENTS
from simulator.world.radio.registry import RADIO_MODEL_NAMES

__all__ = [
    "AreaConfig",
    "RsuGrid",
    "RsuRandom",
    "RsuPoisson",
    "RsuPosition",
    "RsusConfig",
    "BackhaulEdge",
    "BackhaulConfig",
    "RadioConfig",
    "GaussMarkovConfig",
    "WaypointPoint",
    "UavWaypoints",
    "MobilityConfig",
    "TwinsConfig",
    "FollowerConfig",
    "UavsConfig",
]

_n = fmt_number  # compact number formatting in messages

RadioModelName = Literal[RADIO_MODEL_NAMES]  # type: ignore[valid-type]
AlHouraniEnvironment = Literal[tuple(ENVIRONMENTS)]  # type: ignore[valid-type]


class AreaConfig(FrozenModel):
    """The rectangular service area [0, width_m] x [0, height_m]; origin at (0, 0)."""

    width_m: float = Field(2000.0, gt=0, description="Extent along x, metres.")
    height_m: float = Field(2000.0, gt=0, description="Extent along y, metres.")

    def contains(self, x_m: float, y_m: float) -> bool:
        """Whether the point (x_m, y_m) lies in the area (boundary included)."""
        return 0.0 <= x_m <= self.width_m and 0.0 <= y_m <= self.height_m


class RsuGrid(FrozenModel):
    """Regular grid placement: RSU (r, c) at origin + (c * spacing_m, r * spacing_m)."""

    rows: int = Field(3, ge=1, description="Number of grid rows.")
    cols: int = Field(3, ge=1, description="Number of grid columns.")
    spacing_m: float = Field(650.0, gt=0, description="Distance between neighbours, metres.")
    origin_m: TupleOf[float, float] | None = Field(
        None, description="[x, y] of RSU (row 0, col 0), metres; null = grid centred in the area.")

    def positions_m(self, area: AreaConfig) -> np.ndarray:
        """RSU positions, row-major (id = r * cols + c).

        Args:
            area: the service area (used to centre the grid when ``origin_m`` is null).

        Returns:
            Array [rows * cols, 2] of (x, y) in metres.
        """
        if self.origin_m is None:
            ox = (area.width_m - (self.cols - 1) * self.spacing_m) / 2.0
            oy = (area.height_m - (self.rows - 1) * self.spacing_m) / 2.0
        else:
            ox, oy = self.origin_m
        rr, cc = np.meshgrid(np.arange(self.rows), np.arange(self.cols), indexing="ij")
        return np.column_stack([ox + cc.ravel() * self.spacing_m, oy + rr.ravel() * self.spacing_m])


class RsuRandom(FrozenModel):
    """Uniformly random placement of a fixed number of RSUs in the area."""

    count: int = Field(9, ge=1, description="Number of RSUs.")


class RsuPoisson(FrozenModel):
    """Homogeneous Poisson point process placement in the area."""

    density_per_km2: float = Field(2.0, gt=0, description="Mean RSUs per square kilometre.")


class RsuPosition(FrozenModel):
    """One explicitly placed RSU."""

    x_m: float = Field(ge=0, description="x position, metres (inside the area).")
    y_m: float = Field(ge=0, description="y position, metres (inside the area).")


class RsusConfig(FrozenModel):
    """Roadside units: placement, coverage discs, radio and Table II price parameters."""

    placement: Literal["grid", "random", "poisson", "explicit"] = Field(
        "grid", description="How RSU positions are generated.")
    grid: RsuGrid = Field(default_factory=RsuGrid, description="Used when placement is grid.")
    random: RsuRandom = Field(default_factory=RsuRandom,
                              description="Used when placement is random.")
    poisson: RsuPoisson = Field(default_factory=RsuPoisson,
                                description="Used when placement is poisson.")
    explicit: TupleOf[RsuPosition, ...] = Field(
        (), description="RSU positions (id = list index); used when placement is explicit.")
    height_m: float = Field(10.0, ge=0, description="Antenna height, metres.")
    coverage_radius_m: float = Field(500.0, gt=0, description="Radius of each RSU's coverage "
                                                              "disc (horizontal), metres.")
    tx_power_dbm: Range = range_default(20, 25, "Transmit power m_j, dBm.")
    noise_dbm: Range = range_default(-116, -112, "Noise power sigma_j^2, dBm.")
    cost: PositiveRange = range_default(1, 4, "Unit cost c_j per MHz sold.")
    price_cap: PositiveRange = range_default(5, 35, "Price cap pbar_j per MHz; lo must be >= "
                                                    "the hi of cost.")
    compute_gflops: float = Field(10.0, gt=0, description="Compute rate of each RSU for its "
                                  "pricing agent, GFLOP/s (pricing.decision_time).")

    @property
    def fixed_count(self) -> int | None:
        """Number of RSUs if the placement fixes it (None for poisson)."""
        return {"grid": self.grid.rows * self.grid.cols, "random": self.random.count,
                "explicit": len(self.explicit), "poisson": None}[self.placement]

    @model_validator(mode="after")
    def _check(self) -> RsusConfig:
        if self.placement == "explicit" and not self.explicit:
            raise field_error(("explicit",), "placement 'explicit' needs at least one RSU",
                              related=(("placement",),))
        if self.price_cap.lo < self.cost.hi:
            raise field_error(("price_cap",), f"lower end {_n(self.price_cap.lo)} must be >= "
                              f"the upper end of rsus.cost ({_n(self.cost.hi)}) so that every "
                              "RSU's price cap covers its cost", related=(("cost",),))
        return self


class BackhaulEdge(FrozenModel):
    """One backhaul link between RSUs a and b (ids as in the RSU list)."""

    a: int = Field(ge=0, description="RSU id of one end.")
    b: int = Field(ge=0, description="RSU id of the other end.")
    capacity_mbps: float | None = Field(None, gt=0, description="Link capacity, Mbit/s; null = "
                                                                "backhaul.capacity_mbps.")
    latency_ms: float | None = Field(None, ge=0, description="Link latency, ms; null = "
                                                             "backhaul.latency_ms.")


class BackhaulConfig(FrozenModel):
    """The wired RSU-to-RSU graph over which twin state migrates (fluid max-min sharing)."""

    topology: Literal["grid", "knn", "complete", "edges"] = Field(
        "knn", description="grid: lattice neighbours (grid placement only); knn: each RSU to its "
                           "k nearest; complete: all pairs; edges: the explicit list.")
    k: int = Field(3, ge=1, description="Neighbours per RSU for knn.")
    capacity_mbps: float = Field(1000.0, gt=0, description="Default link capacity, Mbit/s.")
    latency_ms: float = Field(2.0, ge=0, description="Default link latency, ms.")
    edges: TupleOf[BackhaulEdge, ...] = Field((), description="Links; required iff topology is "
                                                            "edges.")
    tcp_correction: bool = Field(
        False, description="Add what packet-level TCP adds to each fluid transfer (headers, "
                           "handshake, slow start; constants fitted on ns-3, see "
                           "docs/validation.md). false = the pure fluid model.")

    @model_validator(mode="after")
    def _check(self) -> BackhaulConfig:
        if self.topology == "edges" and not self.edges:
            raise field_error(("edges",), "topology 'edges' needs at least one edge",
                              related=(("topology",),))
        seen: dict[frozenset[int], int] = {}
        for n, edge in enumerate(self.edges):
            if edge.a == edge.b:
                raise field_error(("edges", n, "b"), f"a link needs two RSUs, got a = b = {edge.a}")
            pair = frozenset((edge.a, edge.b))
            if pair in seen:
                raise field_error(("edges", n), f"duplicate link {edge.a}-{edge.b} (also "
                                                f"edges[{seen[pair]}])")
            seen[pair] = n
        return self


class RadioConfig(FrozenModel):
    """Channel gain model giving g_ij at each UAV position, and what an RSU covers."""

    model: RadioModelName = Field(
        "table2", description="table2: gain drawn from gain_db per pair (paper Table II); "
        "log_distance: reference_loss_db + 10 n log10(d / 1 m); free_space: Friis at "
        "frequency_hz; al_hourani: air-to-ground LoS/NLoS mean path loss (Al-Hourani 2014, "
        "environment); uma_av, umi_av, rma_av: 3GPP TR 36.777 aerial UE (UAV heights "
        "22.5-300 m, rma_av 10-300 m).")
    gain_db: Range = range_default(-25, -22, "Channel gain, dB (table2).")
    path_loss_exponent: float = Field(2.5, gt=0, description="n of log_distance.")
    reference_loss_db: float = Field(40.0, ge=0, description="Path loss at 1 m, dB "
                                                             "(log_distance).")
    frequency_hz: float = Field(2.4e9, gt=0, description="Carrier frequency, Hz (free_space, "
                                                         "al_hourani, 3GPP models).")
    environment: AlHouraniEnvironment = Field("urban", description="Al-Hourani environment: "
                                              "suburban, urban, dense_urban, high_rise.")
    coverage: Literal["disc", "snr"] = Field(
        "disc", description="disc: rsus.coverage_radius_m around each RSU at any altitude; "
        "snr: where the mean SNR (tx power - mean path loss - noise) >= snr_min_db.")
    snr_min_db: float = Field(10.0, description="SNR threshold of coverage snr, dB.")
    sample_spacing_m: float = Field(10.0, gt=0, description="coverage snr: largest distance "
                                    "between two samples that bracket a crossing, m.")
    shadowing_std_db: float = Field(0.0, ge=0, description="Std of log-normal shadowing drawn "
                                    "per (UAV, RSU, segment) for the spectral efficiency, dB "
                                    "(not table2).")

    @model_validator(mode="after")
    def _check(self) -> RadioConfig:
        if self.model == "table2":
            if self.coverage == "snr":
                raise field_error(("coverage",), "coverage 'snr' needs a path-loss model, not "
                                  "'table2' (its gain does not depend on position)",
                                  related=(("model",),))
            if self.shadowing_std_db > 0:
                raise field_error(("shadowing_std_db",), "shadowing needs a path-loss model, "
                                  "not 'table2'", related=(("model",),))
        return self


class GaussMarkovConfig(FrozenModel):
    """Gauss-Markov mobility: speed and heading relax to their means with memory alpha."""

    alpha: float = Field(0.85, ge=0, le=1, description="Memory (0: random walk, 1: straight).")
    mean_speed_mps: float = Field(15.0, gt=0, description="Mean speed, m/s.")
    speed_std_mps: float = Field(3.0, ge=0, description="Speed noise std, m/s.")
    direction_std_rad: float = Field(0.4, ge=0, description="Heading noise std, rad.")
    pitch_std_rad: float = Field(0.05, ge=0, description="Pitch noise std, rad.")
    update_interval_s: float = Field(1.0, gt=0, description="Time between updates (segment "
                                                            "length), s.")


class WaypointPoint(FrozenModel):
    """A point of a scripted path, reached at speed_mps, then held for pause_s."""

    x_m: float = Field(description="x, metres (inside the area).")
    y_m: float = Field(description="y, metres (inside the area).")
    z_m: float = Field(ge=0, description="Altitude, metres.")
    speed_mps: float | None = Field(None, gt=0, description="Speed to reach this point, m/s "
                                    "(unused for the first point); default (filled in on load): "
                                    "lo of mobility.speed_mps.")
    pause_s: float = Field(0.0, ge=0, description="Hold time at the point, s.")


class UavWaypoints(FrozenModel):
    """The scripted path of one UAV (starts at its first point)."""

    uav: int = Field(ge=0, description="UAV id (0 .. uavs.count - 1).")
    points: TupleOf[WaypointPoint, ...] = Field(min_length=1, description="Points in order.")
    loop: bool = Field(False, description="Return to the first point and repeat; otherwise "
                                          "hover at the last point.")


class MobilityConfig(FrozenModel):
    """How UAVs move: piecewise-linear trajectories from a model or an imported trace."""

    model: Literal["random_waypoint", "gauss_markov", "waypoints", "trace"] = Field(
        "random_waypoint", description="Mobility model.")
    speed_mps: PositiveRange = range_default(10, 20, "Cruise speed, m/s (random_waypoint).")
    pause_s: NonNegRange = range_default(0, 10, "Pause at each waypoint, s (random_waypoint).")
    altitude_m: NonNegRange = range_default(50, 120, "Flight altitude, metres.")
    gauss_markov: GaussMarkovConfig = Field(default_factory=GaussMarkovConfig,
                                            description="Used when model is gauss_markov.")
    waypoints: TupleOf[UavWaypoints, ...] = Field((), description="One entry per UAV; used when "
                                                                "model is waypoints.")
    trace_file: str | None = Field(None, description="Older name of file (a uavtwin CSV); "
                                   "give one of the two.")
    file: str | None = Field(None, description="Mobility file, relative to the scenario file; "
                             "used when model is trace (see docs/mobility.md).")
    format: Literal[("auto", *FORMAT_NAMES)] = Field(  # type: ignore[valid-type]
        "auto", description="Format of file: auto recognises it by name or content.")
    dimensions: Literal[2, 3] | None = Field(
        None, description="2 or 3: for BonnMotion files without .params; 2 also rejects a "
                          "file with altitudes. Default: what the file says.")
    time_offset_s: float = Field(0.0, description="Added to every time of the file, s "
                                                  "(trace).")
    offset_m: TupleOf[float, ...] = Field(
        (0.0, 0.0), min_length=2, max_length=3,
        description="[dx, dy] or [dx, dy, dz] added to every position of the file, metres.")
    area: Literal["check", "fit"] = Field(
        "check", description="check: the trace must lie in the area; fit: the area becomes "
                             "the trace's bounding box (shifted to the origin).")
    origin: TupleOf[float, ...] | None = Field(
        None, min_length=2, max_length=3,
        description="Geographic input (GPX, SUMO geo): [lat, lon] or [lat, lon, alt_m] of "
                    "the projection origin (default: the data's centroid, altitude 0).")
    geo: bool | None = Field(None, description="SUMO FCD: x/y are longitude/latitude "
                                               "(default: detect from the file).")

    @model_validator(mode="before")
    @classmethod
    def _fill_waypoint_speeds(cls, data: Any) -> Any:
        """Default each waypoint's speed to the lower end of speed_mps (raw data level)."""
        if not isinstance(data, dict) or not isinstance(data.get("waypoints"), list | tuple):
            return data
        raw = data.get("speed_mps", 10.0)
        if isinstance(raw, list | tuple) and len(raw) == 2:
            raw = raw[0]
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
            return data
        wps = [
            {**wp, "points": [{**p, "speed_mps": float(raw)}
                              if isinstance(p, dict) and p.get("speed_mps") is None else p
                              for p in wp["points"]]}
            if isinstance(wp, dict) and isinstance(wp.get("points"), list | tuple) else wp
            for wp in data["waypoints"]
        ]
        return {**data, "waypoints": wps}

    @model_validator(mode="after")
    def _check(self) -> MobilityConfig:
        if self.model == "waypoints" and not self.waypoints:
            raise field_error(("waypoints",), "model 'waypoints' needs one entry per UAV",
                              related=(("model",),))
        if self.model == "trace" and not (self.file or self.trace_file):
            raise field_error(("file",), "model 'trace' needs a file",
                              related=(("model",),))
        if self.file and self.trace_file:
            raise field_error(("trace_file",), "give file or trace_file, not both",
                              related=(("file",),))
        if self.origin is not None and not (-90 < self.origin[0] < 90
                                            and -180 <= self.origin[1] <= 180):
            raise field_error(("origin",), f"expected [lat, lon] in degrees, got "
                                           f"{list(self.origin)}")
        return self


class TwinsConfig(FrozenModel):
    """The digital twins each UAV keeps on RSUs."""

    count: int = Field(3, ge=1, description="Twins per UAV.")
    size_mb: PositiveRange = range_default(50, 200, "State size of one twin, MB (drawn per twin).")
    migration: LiveMigrationConfig = Field(default_factory=LiveMigrationConfig,
                                           description="How twins move (MODEL.md D4).")


class FollowerConfig(FrozenModel):
    """Per-UAV parameters of the pricing game (paper Table II), drawn once per UAV."""

    delta: PositiveRange = range_default(10, 20, "Immersion weight delta_i = xi_i mu_i.")
    ssim_threshold: UnitRange = range_default(0.5, 0.55, "SSIM threshold, in (0, 1].")
    budget: NonNegRange = range_default(2, 10, "Budget R_i per pricing round.")
    ssim_component: UnitRange = range_default(0.85, 1.0, "Each of l, c, s of SSIM = l*c*s, drawn "
                                                         "per UAV-RSU pair, in (0, 1].")


class UavsConfig(FrozenModel):
    """The UAV fleet: size, mobility, twins and pricing-game follower parameters."""

    count: int = Field(20, ge=1, description="Number of UAVs (ids 0 .. count - 1).")
    mobility: MobilityConfig = Field(default_factory=MobilityConfig, description="Movement.")
    twins: TwinsConfig = Field(default_factory=TwinsConfig, description="Digital twins.")
    follower: FollowerConfig = Field(default_factory=FollowerConfig,
                                     description="Pricing-game follower parameters.")

    @model_validator(mode="after")
    def _check(self) -> UavsConfig:
        if self.mobility.model != "waypoints":
            return self
        seen: dict[int, int] = {}
        for n, wp in enumerate(self.mobility.waypoints):
            loc = ("mobility", "waypoints", n, "uav")
            if wp.uav >= self.count:
                raise field_error(loc, f"UAV id must be < uavs.count ({self.count}), got {wp.uav}",
                                  related=(("count",),))
            if wp.uav in seen:
                raise field_error(loc, f"UAV {wp.uav} already has a path "
                                       f"(mobility.waypoints[{seen[wp.uav]}])")
            seen[wp.uav] = n
        missing = sorted(set(range(self.count)) - set(seen))
        if missing:
            raise field_error(("mobility", "waypoints"), f"model 'waypoints' needs one entry per "
                              f"UAV (count {self.count}), missing uav {missing[0]}"
                              + (f" and {len(missing) - 1} more" if len(missing) > 1 else ""),
                              related=(("count",),))
        return self
