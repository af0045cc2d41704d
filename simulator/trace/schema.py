"""The uavtwin trace schema: every table, column, dtype and unit, in one place.

A run of the simulator writes one HDF5 file, the *trace*. It is organised like a small
column store so that analysts can open it with h5py, pandas or HDFView without reading our
code: each *table* is an HDF5 group (for example ``/migration/transfers``) holding equal-length
1-D datasets, one per column; every column dataset carries the attributes ``unit`` and
``description``, and integer enum columns also carry ``codes`` and ``labels``. Table groups
carry ``description`` and ``columns`` (the column order). Ids are integers that index the
lookup tables ``/rsus`` and ``/uavs``; times are simulation seconds.

This module is the single source of truth. The writer validates appends against it, the
reader uses it to recognise tables, ``docs/trace-format.md`` is generated from it
(``python -m simulator.trace.docs > docs/trace-format.md``) and a test diffs all of them.
Bump :data:`SCHEMA_VERSION` whenever a table or column changes meaning, is renamed or removed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from agents.pricing.registry import POLICIES

__all__ = [
    "COVERAGE_KIND",
    "FAULT_ELEMENT",
    "GROUP_DESCRIPTIONS",
    "OPTIONAL_GROUPS",
    "MIGRATION_MODE",
    "REQUEST_OUTCOME",
    "RESTORE_SOURCE",
    "SCHEMA_VERSION",
    "SOLVER_CODES",
    "STOP_REASON",
    "STATUSES",
    "TABLES",
    "TRANSFER_EVENT",
    "VSP_ROLE",
    "WALL_CLOCK_COLUMNS",
    "Column",
    "Table",
    "code_of",
    "get_table",
]

SCHEMA_VERSION: int = 1
"""Version of the on-disk layout; readers refuse files with a larger version."""

STATUSES: tuple[str, ...] = ("complete", "partial", "failed")
"""Values of the root ``status`` attribute."""


@dataclass(frozen=True)
class Column:
    """One column of a table: a 1-D dataset named ``name`` inside the table's group.

    Attributes:
        name: Dataset name (a Python identifier; the keyword used in ``TraceWriter.append``).
        dtype: NumPy dtype string of the stored values (``"<f8"``, ``"<i4"``, ``"|b1"`` ...).
        unit: Physical unit (``"s"``, ``"m"``, ``"MHz"`` ...; ``"1"`` for dimensionless).
        description: One sentence for humans, including sentinel values (-1, NaN) if any.
        codes: For integer enum columns, the mapping code -> label; ``None`` otherwise.
        reproducible: False for wall-clock measurements, which differ between two runs of
            the same scenario and seed (see :data:`WALL_CLOCK_COLUMNS`).
        default: Value the writer fills in when an append leaves the column out (columns
            added to a table after its first release); ``None``: the column is required.
    """

    name: str
    dtype: str
    unit: str
    description: str
    codes: Mapping[int, str] | None = None
    reproducible: bool = True
    default: float | None = None

    @property
    def np_dtype(self) -> np.dtype:
        """The column dtype as a :class:`numpy.dtype`."""
        return np.dtype(self.dtype)


@dataclass(frozen=True)
class Table:
    """One table: an HDF5 group at ``path`` holding one equal-length dataset per column.

    Attributes:
        path: Absolute HDF5 path of the group, e.g. ``"/migration/transfers"``.
        description: What one row is and when it is written.
        columns: The columns, in their documented order.
    """

    path: str
    description: str
    columns: tuple[Column, ...]
    _by_name: Mapping[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {c.name: c for c in self.columns}
        if len(by_name) != len(self.columns):
            raise ValueError(f"table {self.path}: duplicate column names")
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in order."""
        return tuple(c.name for c in self.columns)

    @property
    def group(self) -> str:
        """The subsystem group holding the table (``"/"`` for root-level lookup tables)."""
        parent = self.path.rsplit("/", 1)[0]
        return parent or "/"

    @property
    def optional(self) -> bool:
        """Whether only some traces hold the table (its group is in :data:`OPTIONAL_GROUPS`)."""
        return self.group in OPTIONAL_GROUPS

    def column(self, name: str) -> Column:
        """Return the column called ``name``.

        Args:
            name: Column name.

        Returns:
            The :class:`Column`.

        Raises:
            ValueError: If the table has no such column (the message suggests close names).
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueError(
                f"table {self.path} has no column {name!r}{_suggest(name, self.column_names)}; "
                f"columns are: {', '.join(self.column_names)}"
            ) from None


def _suggest(name: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ---------------------------------------------------------------------------------------------
# The tables. Each column: (name, dtype, unit, description[, {code: label}]).
# ---------------------------------------------------------------------------------------------
_I4, _I8, _F8, _B = "<i4", "<i8", "<f8", "|b1"

GROUP_DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "/mobility": "UAV trajectories: exact piecewise-linear segments and regular position samples.",
    "/coverage": "RSU cell membership: the exact times UAVs enter and leave RSU coverage discs.",
    "/migration": "Twin migration: requests, transfers over the RSU backhaul and the service "
    "interruption each UAV experienced.",
    "/pricing": "Bandwidth market: one Stackelberg pricing round per market window, "
    "RSUs (leaders) posting prices and UAVs (followers) buying bandwidth.",
    "/sensing": "Twin synchronisation: the IoT-sensing UAV population shared among virtual "
    "service providers (VSPs) and the resulting twin values and payoffs.",
    "/training": "Training of the pricing agents (written by `uavtwin train`).",
    "/faults": "Faults inside the simulated network (only in traces of scenarios with a "
    "`faults` section): RSU and backhaul-link outages, the twins lost with failed RSUs and "
    "their restores, and what failures did to transfers.",
    "/live_migration": "Live twin migration (only in traces of scenarios with "
    "uavs.twins.migration.mode pre_copy or post_copy; MODEL.md D4): per twin and per copy "
    "round. In such runs /migration/service/interruption_s is the decision time plus the time "
    "any of the UAV's twins was paused, and t_interrupt_end_s is when the last one resumed.",
    "/decision_time": "Decision time of the pricing agents (only in traces of scenarios with "
    "pricing.decision_time.enabled; MODEL.md D5): a round's prices take effect this long after "
    "it, and the UAVs' interruption includes it.",
})

OPTIONAL_GROUPS: frozenset[str] = frozenset({"/faults", "/live_migration", "/decision_time"})
"""Groups (and their tables) a trace holds only when its run uses them; the writer creates
them on request, so traces of runs without them keep their former layout."""

_TABLE_SPECS: tuple[tuple[str, str, tuple[tuple, ...]], ...] = (
    ("/rsus", "Lookup table of roadside units (RSUs); row k describes rsu_id k.", (
        ("rsu_id", _I4, "1", "RSU id (equals the row index)."),
        ("x_m", _F8, "m", "Antenna position, x coordinate."),
        ("y_m", _F8, "m", "Antenna position, y coordinate."),
        ("z_m", _F8, "m", "Antenna height."),
        ("coverage_radius_m", _F8, "m", "Radius of the (horizontal) coverage disc."),
        ("tx_power_dbm", _F8, "dBm", "Transmit power."),
        ("noise_dbm", _F8, "dBm", "Receiver noise power."),
        ("cost", _F8, "price/MHz", "Unit cost c_j of serving bandwidth."),
        ("price_cap", _F8, "price/MHz", "Largest price the RSU may post (pbar_j)."),
    )),
    ("/uavs", "Lookup table of UAVs (pricing followers); row i describes uav_id i.", (
        ("uav_id", _I4, "1", "UAV id (equals the row index)."),
        ("twin_count", _I4, "1", "Number of digital twins the UAV owns (twin_id 0..n-1)."),
        ("twin_size_bytes", _F8, "bytes", "Total size of the UAV's twins (sum over twin_id)."),
        ("delta", _F8, "1", "Immersion weight delta_i = xi_i * mu_i."),
        ("ssim_threshold", _F8, "1", "Minimum acceptable SSIM of the rendered twin."),
        ("budget", _F8, "price", "Budget R_i per pricing round."),
        ("present_from_s", _F8, "s", "Start of the UAV's presence interval (its first "
         "trajectory point): before it the UAV has no coverage, requests or twins. 0 for "
         "generated mobility (the /mobility attribute uav_names holds the UAVs' ids in an "
         "imported mobility file)."),
        ("present_to_s", _F8, "s", "End of the presence interval (its last trajectory point, "
         "at most the run's duration): the UAV departs, leaving its cells."),
    )),
    ("/mobility/segments", "Exact trajectories: UAV uav_id moves on a straight line from "
     "(x0, y0, z0) at t_start_s to (x1, y1, z1) at t_end_s; a UAV's segments are contiguous.", (
        ("uav_id", _I4, "1", "UAV id."),
        ("t_start_s", _F8, "s", "Segment start time."),
        ("t_end_s", _F8, "s", "Segment end time."),
        ("x0_m", _F8, "m", "Start position, x."),
        ("y0_m", _F8, "m", "Start position, y."),
        ("z0_m", _F8, "m", "Start position, z (altitude)."),
        ("x1_m", _F8, "m", "End position, x."),
        ("y1_m", _F8, "m", "End position, y."),
        ("z1_m", _F8, "m", "End position, z (altitude)."),
    )),
    ("/mobility/positions", "UAV positions sampled every simulation.sample_interval_s "
     "within each UAV's presence interval (for plotting; exact motion is in "
     "/mobility/segments).", (
        ("t_s", _F8, "s", "Sample time."),
        ("uav_id", _I4, "1", "UAV id."),
        ("x_m", _F8, "m", "Position, x."),
        ("y_m", _F8, "m", "Position, y."),
        ("z_m", _F8, "m", "Position, z (altitude)."),
    )),
    ("/coverage/events", "A UAV crossing the boundary of an RSU coverage disc, at the exact "
     "crossing time.", (
        ("t_s", _F8, "s", "Crossing time."),
        ("uav_id", _I4, "1", "UAV id."),
        ("rsu_id", _I4, "1", "RSU id."),
        ("kind", "|u1", "1", "Direction of the crossing.", {0: "leave", 1: "enter"}),
    )),
    ("/migration/requests", "A UAV asking for its twins to be migrated (it left its serving "
     "RSU's cell or entered coverage for the first time); one row per request, written "
     "when the request is resolved or at the end of the run.", (
        ("request_id", _I8, "1", "Request id (unique in the run)."),
        ("t_s", _F8, "s", "Time the request was made."),
        ("uav_id", _I4, "1", "UAV id."),
        ("src_rsu_id", _I4, "1", "RSU hosting the twins when the request was made (-1 none)."),
        ("n_candidates", _I4, "1", "RSUs covering the UAV that could take the twins."),
        ("outcome", "|u1", "1", "How the request ended.",
         {0: "served", 1: "no_viable_rsu", 2: "no_coverage", 3: "pending"}),
    )),
    ("/migration/transfers", "One twin moved from src_rsu_id to dst_rsu_id over the backhaul "
     "(fluid link sharing); the route is in /migration/transfer_hops.", (
        ("transfer_id", _I8, "1", "Transfer id (unique in the run)."),
        ("request_id", _I8, "1", "Request that caused the transfer."),
        ("uav_id", _I4, "1", "UAV owning the twin."),
        ("twin_id", _I4, "1", "Twin index within the UAV (0..twin_count-1)."),
        ("src_rsu_id", _I4, "1", "RSU the twin left."),
        ("dst_rsu_id", _I4, "1", "RSU the twin moved to."),
        ("n_hops", _I4, "1", "Backhaul links on the route (0 if src = dst)."),
        ("size_bytes", _F8, "bytes", "Size of the twin moved (sizes are continuous draws)."),
        ("t_start_s", _F8, "s", "Transfer start."),
        ("t_end_s", _F8, "s", "Transfer end (NaN if unfinished at the end of the run)."),
    )),
    ("/migration/transfer_hops", "Routes of the transfers, one row per RSU on the path "
     "(hop 0 is the source, hop n_hops the destination).", (
        ("transfer_id", _I8, "1", "Transfer id."),
        ("hop", _I4, "1", "Position on the route (0-based)."),
        ("rsu_id", _I4, "1", "RSU at this position."),
    )),
    ("/migration/service", "Service a UAV received for one request: the interruption while "
     "its twins were in flight and the rate it bought.", (
        ("request_id", _I8, "1", "Request id."),
        ("uav_id", _I4, "1", "UAV id."),
        ("t_request_s", _F8, "s", "Time of the request."),
        ("t_interrupt_start_s", _F8, "s", "Start of the service interruption."),
        ("t_interrupt_end_s", _F8, "s", "End of the interruption (NaN if never resumed)."),
        ("interruption_s", _F8, "s", "t_interrupt_end_s - t_interrupt_start_s."),
        ("bandwidth_mhz", _F8, "MHz", "Total bandwidth bought in the round."),
        ("rate_mbps", _F8, "Mbit/s", "Total rate sum_j b_ij * q_ij."),
        ("immersion", _F8, "1", "Immersion sum_j a_ij ln(1 + b_ij q_ij) with a_ij = "
         "delta_i ln(ssim_ij / ssim_threshold_i) (MODEL A1)."),
    )),
    ("/live_migration/twins", "Live migration of one twin (uavs.twins.migration.mode pre_copy "
     "or post_copy; MODEL.md D4); its copy rounds are in /live_migration/rounds.", (
        ("transfer_id", _I8, "1", "Transfer id (the twin's row in /migration/transfers)."),
        ("mode", "|u1", "1", "Migration mode.", {0: "stop_and_copy", 1: "pre_copy",
                                                  2: "post_copy"}),
        ("rounds", _I4, "1", "Copy rounds, the paused one included."),
        ("total_bytes", _F8, "bytes", "Bytes sent over all rounds."),
        ("downtime_s", _F8, "s", "Time the twin's service was paused."),
        ("total_s", _F8, "s", "From the first round's start to the last round's end."),
        ("mean_dirty_rate", _F8, "bytes/s", "Mean dirty rate over the live rounds (NaN "
         "without live rounds)."),
        ("stop_reason", "|u1", "1", "Why copying stopped (no_convergence: pre-copy fell back "
         "to stop-and-copy).", {0: "stop_and_copy", 1: "threshold", 2: "round_limit",
                                3: "no_convergence", 4: "post_copy"}),
    )),
    ("/live_migration/rounds", "One copy round of a live migration.", (
        ("transfer_id", _I8, "1", "Transfer id."),
        ("round", _I4, "1", "Round index (0-based)."),
        ("size_bytes", _F8, "bytes", "Bytes copied in the round."),
        ("t_start_s", _F8, "s", "Round start."),
        ("t_end_s", _F8, "s", "Round end (last byte arrived, latency included)."),
        ("paused", _B, "1", "Whether the service was paused during the round."),
    )),
    ("/pricing/rounds", "One pricing round (a Stackelberg game among the RSUs covering the "
     "UAVs whose requests fell in the market window).", (
        ("round_id", _I8, "1", "Round id (unique in the run)."),
        ("t_s", _F8, "s", "Time the round was played (end of the market window)."),
        ("solver", "|u1", "1", "Pricing policy that set the prices.",
         {s.code: s.name for s in POLICIES.values()}),
        ("n_uavs", _I4, "1", "UAVs (followers) in the round."),
        ("n_rsus", _I4, "1", "RSUs (leaders) in the round."),
        ("iterations", _I4, "1", "Iterations the solver used."),
        ("converged", _B, "1", "Whether the solver met its tolerance."),
        ("residual", _F8, "price/MHz", "Final fixed-point residual of the prices."),
        ("wall_time_s", _F8, "s", "Wall-clock time the solver took."),
        ("mean_rsu_utility", _F8, "price", "Mean RSU utility V_j at the final prices."),
        ("mean_uav_utility", _F8, "price", "Mean UAV utility U_i at the final prices."),
        ("reference_rsu_utility", _F8, "price", "Mean RSU utility at the exact Stackelberg "
         "equilibrium of the same game (the solver's own value for equilibrium rounds; NaN "
         "with pricing.reference false)."),
        ("reference_uav_utility", _F8, "price", "Mean UAV utility at that equilibrium (NaN "
         "with pricing.reference false)."),
    )),
    ("/pricing/offers", "Long format: one row per (round, UAV, RSU) pair that took part in a "
     "round, with the RSU's posted price and the bandwidth the UAV bought.", (
        ("round_id", _I8, "1", "Round id."),
        ("request_id", _I8, "1", "The UAV's migration request served by this round."),
        ("uav_id", _I4, "1", "UAV id."),
        ("rsu_id", _I4, "1", "RSU id."),
        ("price", _F8, "price/MHz", "Price posted by the RSU to this UAV."),
        ("bandwidth_mhz", _F8, "MHz", "Bandwidth bought (0 if the pair is not viable)."),
        ("spectral_efficiency", _F8, "bit/s/Hz", "q_ij = log2(1 + SNR)."),
        ("ssim", _F8, "1", "SSIM of the twin rendered over this pair."),
    )),
    ("/pricing/revenue", "Per-RSU outcome of a round.", (
        ("round_id", _I8, "1", "Round id."),
        ("rsu_id", _I4, "1", "RSU id."),
        ("revenue", _F8, "price", "Sum over UAVs of price * bandwidth."),
        ("cost_total", _F8, "price", "Sum over UAVs of cost * bandwidth."),
    )),
    ("/pricing/paths", "Per-iteration reward path of repeated-game solvers (one row for the "
     "equilibrium solver).", (
        ("round_id", _I8, "1", "Round id."),
        ("iteration", _I4, "1", "Iteration of the repeated game (0-based)."),
        ("mean_rsu_utility", _F8, "price", "Mean RSU utility after this iteration."),
    )),
    ("/decision_time/rounds", "Decision time of a pricing round (pricing.decision_time; "
     "MODEL.md D5): its prices take effect this long after the round.", (
        ("round_id", _I8, "1", "Round id."),
        ("decision_time_s", _F8, "s", "Time until the round's prices take effect."),
        ("flops", _F8, "FLOP", "Floating-point operations charged (0 for the equilibrium "
         "solver, charged per sweep)."),
        ("flops_per_decision", _F8, "FLOP", "Actor FLOPs per price (learned agents; 0 "
         "otherwise)."),
    )),
    ("/sensing/vsps", "Lookup table of virtual service providers (VSPs) competing for the "
     "IoT-sensing UAV population.", (
        ("vsp_id", _I4, "1", "VSP id (equals the row index)."),
        ("theta", _F8, "1/s", "Decay rate theta of the VSP's twin value (MODEL.md B2)."),
        ("twins", _I4, "1", "Number d of twins the VSP maintains."),
        ("alpha", _F8, "price", "Unit price alpha of sensed data in the VSP's payoff (B3)."),
        ("k", _F8, "1", "Data k consumed per synchronisation (B3)."),
        ("v", _F8, "1", "Desired twin value v (B3)."),
        ("c", _F8, "price/s", "Energy cost c of a sensing UAV working for the VSP (B2)."),
        ("role", "|u1", "1", "Role in the synchronisation game.",
         {0: "follower", 1: "leader", 2: "player"}),
    )),
    ("/sensing/state", "State of the sensing market sampled over time, one row per "
     "(sample time, VSP).", (
        ("t_s", _F8, "s", "Sample time."),
        ("vsp_id", _I4, "1", "VSP id."),
        ("share", _F8, "1", "Share of the sensing UAV population serving the VSP."),
        ("twin_value", _F8, "1", "Value z of the VSP's twins."),
        ("intensity", _F8, "1/s", "Synchronisation intensity eta chosen by the VSP."),
        ("payoff_rate", _F8, "price/s", "Instantaneous payoff J_m (MODEL.md B3)."),
        ("cumulative_payoff", _F8, "price", "Discounted payoff integral of J_m since t = 0."),
    )),
    ("/training/iterations", "One PPO update of the pricing agents.", (
        ("iteration", _I4, "1", "Update index (0-based)."),
        ("step", _I8, "1", "Environment steps collected so far."),
        ("mean_reward", _F8, "price", "Mean RSU reward over the rollout."),
        ("se_reward", _F8, "price", "Mean RSU reward at the Stackelberg equilibrium."),
        ("reward_ratio", _F8, "1", "mean_reward / se_reward."),
        ("eval_ratio", _F8, "1", "Greedy policy's final-iteration reward / equilibrium reward "
         "on the held-out Fig. 3 games (NaN between evaluations)."),
        ("policy_loss", _F8, "1", "Clipped surrogate loss."),
        ("value_loss", _F8, "1", "Value-function loss."),
        ("entropy", _F8, "1", "Mean policy entropy."),
        ("approx_kl", _F8, "1", "Approximate KL divergence of the update."),
        ("clip_fraction", _F8, "1", "Fraction of samples whose ratio was clipped."),
        ("sparsity", _F8, "1", "Fraction of pruned hidden units."),
        ("live_params", _I8, "1", "Parameters remaining after pruning."),
    )),
    ("/training/agents", "Per-agent reward of each training update.", (
        ("iteration", _I4, "1", "Update index."),
        ("agent", _I4, "1", "Agent (RSU) index."),
        ("reward", _F8, "price", "Mean reward of the agent over the rollout."),
    )),
    ("/faults/outages", "One outage of a network element, an RSU or a backhaul link, from "
     "its failure to its repair; overlapping scheduled and random outages of one element are "
     "merged. Written when the run starts.", (
        ("outage_id", _I8, "1", "Outage id (in order of failure time)."),
        ("element", "|u1", "1", "Kind of element that failed.", {0: "rsu", 1: "link"}),
        ("rsu_id", _I4, "1", "The failed RSU, or one end of the failed link."),
        ("peer_rsu_id", _I4, "1", "The other end of the failed link (-1 for an RSU)."),
        ("t_start_s", _F8, "s", "Failure time."),
        ("t_end_s", _F8, "s", "Repair time (may lie after the end of the run)."),
    )),
    ("/faults/twin_losses", "A twin lost with its failed host RSU: unavailable from t_lost_s "
     "until restored on a new host from its restore source (the UAV's own copy or the "
     "checkpoint store). Written when the twin is restored or at the end of the run.", (
        ("outage_id", _I8, "1", "The RSU outage that lost the twin."),
        ("uav_id", _I4, "1", "UAV owning the twin."),
        ("twin_id", _I4, "1", "Twin index within the UAV."),
        ("rsu_id", _I4, "1", "The failed host."),
        ("t_lost_s", _F8, "s", "Time of the failure."),
        ("request_id", _I8, "1", "Urgent migration request filed for the UAV at the failure "
         "(-1: the UAV was already migrating and asked again when that migration ended)."),
        ("source", "|u1", "1", "Where the state was restored from.", {0: "uav", 1: "checkpoint"}),
        ("staleness_s", _F8, "s", "Age of the restored state at the failure: 0 for the UAV's "
         "own copy, the time since the newest checkpoint for the store."),
        ("dst_rsu_id", _I4, "1", "New host (-1 if the twin was never restored)."),
        ("restore_attempts", _I4, "1", "Restores started, including ones aborted because the "
         "new host failed too."),
        ("t_restore_start_s", _F8, "s", "Start of the restore that succeeded (NaN if none)."),
        ("t_restored_s", _F8, "s", "Time the twin was hosted again (NaN if not during the run)."),
    )),
    ("/faults/transfer_events", "What a failure or a repair did to a backhaul transfer in "
     "flight (one row per event; the finished transfers are in /migration/transfers).", (
        ("t_s", _F8, "s", "Event time."),
        ("request_id", _I8, "1", "Request that caused the transfer."),
        ("uav_id", _I4, "1", "UAV owning the twin."),
        ("twin_id", _I4, "1", "Twin index within the UAV."),
        ("src_rsu_id", _I4, "1", "Source RSU."),
        ("dst_rsu_id", _I4, "1", "Destination RSU."),
        ("event", "|u1", "1", "What happened: rerouted (the bits left go on over a new route), "
         "stalled (no route left; waits for a repair), resumed (a route is back), aborted "
         "(bits dropped; retry after a back-off), retried (restarted from the first byte), "
         "abandoned (the source or destination RSU failed; the twin stays at the source or is "
         "lost with it).",
         {0: "rerouted", 1: "stalled", 2: "resumed", 3: "aborted", 4: "retried", 5: "abandoned"}),
        ("outage_id", _I8, "1", "Outage whose failure or repair caused the event (-1: a retry "
         "after a back-off)."),
        ("bytes_left", _F8, "bytes", "Bytes still to send after the event."),
        ("n_hops", _I4, "1", "Links on the new route (-1 when the transfer is not moving)."),
        ("attempt", _I4, "1", "Aborts of this transfer before the event."),
    )),
)

# Columns holding wall-clock measurements: excluded from the byte-identity guarantee.
_WALL_CLOCK = frozenset({"/pricing/rounds/wall_time_s"})
# Columns added after their table was first released: an append may leave them out (NaN).
_DEFAULTS: Mapping[str, float] = MappingProxyType({
    "/pricing/rounds/mean_uav_utility": float("nan"),
    "/pricing/rounds/reference_rsu_utility": float("nan"),
    "/pricing/rounds/reference_uav_utility": float("nan"),
})


def _build_tables() -> tuple[Table, ...]:
    tables = []
    for path, description, columns in _TABLE_SPECS:
        cols = tuple(
            Column(
                name=c[0],
                dtype=np.dtype(c[1]).str,
                unit=c[2],
                description=c[3],
                codes=MappingProxyType(dict(c[4])) if len(c) > 4 else None,
                reproducible=f"{path}/{c[0]}" not in _WALL_CLOCK,
                default=_DEFAULTS.get(f"{path}/{c[0]}"),
            )
            for c in columns
        )
        tables.append(Table(path=path, description=description, columns=cols))
    return tuple(tables)


TABLES: tuple[Table, ...] = _build_tables()
"""Every table of a schema-version-1 trace, in documentation (and file) order."""

_TABLE_BY_PATH: Mapping[str, Table] = MappingProxyType({t.path: t for t in TABLES})

WALL_CLOCK_COLUMNS: tuple[str, ...] = tuple(
    f"{t.path}/{c.name}" for t in TABLES for c in t.columns if not c.reproducible
)
"""Dataset paths whose values are wall-clock measurements (not reproducible across runs)."""



def _enum(table: str, column: str) -> Mapping[int, str]:
    codes = _TABLE_BY_PATH[table].column(column).codes
    assert codes is not None
    return codes


COVERAGE_KIND: Mapping[int, str] = _enum("/coverage/events", "kind")
"""Codes of ``/coverage/events/kind``: 0 leave, 1 enter."""
REQUEST_OUTCOME: Mapping[int, str] = _enum("/migration/requests", "outcome")
"""Codes of ``/migration/requests/outcome``."""
SOLVER_CODES: Mapping[int, str] = _enum("/pricing/rounds", "solver")
"""Codes of ``/pricing/rounds/solver`` (from :data:`agents.pricing.registry.POLICIES`)."""
VSP_ROLE: Mapping[int, str] = _enum("/sensing/vsps", "role")
"""Codes of ``/sensing/vsps/role``."""
FAULT_ELEMENT: Mapping[int, str] = _enum("/faults/outages", "element")
"""Codes of ``/faults/outages/element``: 0 rsu, 1 link."""
RESTORE_SOURCE: Mapping[int, str] = _enum("/faults/twin_losses", "source")
"""Codes of ``/faults/twin_losses/source``: 0 uav, 1 checkpoint."""
TRANSFER_EVENT: Mapping[int, str] = _enum("/faults/transfer_events", "event")
"""Codes of ``/faults/transfer_events/event``."""
MIGRATION_MODE: Mapping[int, str] = _enum("/live_migration/twins", "mode")
"""Codes of ``/live_migration/twins/mode`` (the names of
:data:`simulator.world.migration_modes.MIGRATION_MODES`, in order; a test holds them equal)."""
STOP_REASON: Mapping[int, str] = _enum("/live_migration/twins", "stop_reason")
"""Codes of ``/live_migration/twins/stop_reason``."""



def code_of(codes: Mapping[int, str], label: str) -> int:
    """Return the integer code of ``label`` in an enum mapping.

    Args:
        codes: An enum mapping such as :data:`SOLVER_CODES`.
        label: The label, e.g. ``"equilibrium"``.

    Returns:
        The code stored in the trace.

    Raises:
        ValueError: If ``label`` is not one of the mapping's labels.
    """
    for code, name in codes.items():
        if name == label:
            return code
    labels = list(codes.values())
    raise ValueError(f"unknown label {label!r}{_suggest(label, labels)}; expected one of {labels}")


def normalise_path(table: str) -> str:
    """Return ``table`` as an absolute path (``"migration/transfers"`` -> ``"/migration/..."``)."""
    return table if table.startswith("/") else "/" + table


def get_table(table: str) -> Table:
    """Look up a table by path (with or without the leading ``/``).

    Args:
        table: Table path, e.g. ``"/migration/transfers"``.

    Returns:
        The :class:`Table`.

    Raises:
        ValueError: If the schema has no such table (the message suggests close names).
    """
    try:
        return _TABLE_BY_PATH[normalise_path(table)]
    except KeyError:
        paths = list(_TABLE_BY_PATH)
        raise ValueError(
            f"unknown trace table {table!r}{_suggest(normalise_path(table), paths)}"
        ) from None
