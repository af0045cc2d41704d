"""Twin migration: requests, market rounds and twin transfers on the simulation clock.

When a UAV leaves the cell of an RSU that hosts one of its twins (or is about to, with a
prediction margin) it files a migration request. The *market* batches requests over a
window and runs one Stackelberg pricing round (MODEL.md Part A) among the RSUs that cover
the requesting UAVs; the round's solver is the scenario's pricing policy. Each UAV's twins
are then placed on the RSUs it bought bandwidth from, in proportion to the bandwidth bought,
and every twin whose host changes is copied over the backhaul (fluid link sharing). Service
is interrupted from the round until the last twin has arrived; afterwards the UAV enjoys the
immersion of MODEL.md A1 at the purchased rate. Options of MODEL.md Part D: the twins may move
by a live mode (:mod:`simulator.world.live_migration`; the service then stops only while a
twin is paused), and a round's prices may take effect only after the agents' decision time
(:mod:`agents.pricing.decision_time`), which counts as interruption.

A UAV that no RSU covers, or whose pairs are all non-viable, keeps its twins where they are
and asks again at its next coverage event.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import simpy

from agents import compiled
from agents.pricing.decision_time import round_decision_time
from agents.pricing.game import (
    PricingGame,
    round_sums,
    solve_equilibrium,
    solve_packed,
    split_sums,
)
from agents.pricing.outcome import PricingPolicy
from agents.pricing.policies import EquilibriumPolicy
from simulator.config.fields import Range
from simulator.config.models import PricingConfig
from simulator.config.realism import DecisionTimeConfig
from simulator.config.world import RadioConfig
from simulator.trace.recorders import Recorder, row_sink, rows_sink
from simulator.trace.schema import REQUEST_OUTCOME, code_of
from simulator.world.backhaul import BackhaulNetwork, TransferRecord
from simulator.world.failover import Failover
from simulator.world.live_migration import (
    LiveMigration,
    LiveSetup,
    live_migration,
    paused_time_s,
    record_live,
    transfer_record,
)
from simulator.world.mobility.trajectory import Trajectory
from simulator.world.population import RsuTable, UavTable
from simulator.world.radio.channel import channel_gain_db, reads_positions, shadowing_db
from simulator.world.radio.core import spectral_efficiency

log = logging.getLogger(__name__)

# _HOT: the zips of a round's and a migration's path pair sequences built to the same length
# (rows of the same round, lists made from the same batch): they go without ``strict=True``
# (ruff's B905 waived line by line), since a keyword makes ``zip`` take CPython's slow
# constructor path, about 1,700 instructions more per call (callgrind), six calls a migration.

#: Outcome codes of ``/migration/requests`` (from the trace schema).
OUTCOME_SERVED = code_of(REQUEST_OUTCOME, "served")
OUTCOME_NO_VIABLE = code_of(REQUEST_OUTCOME, "no_viable_rsu")
OUTCOME_NO_COVERAGE = code_of(REQUEST_OUTCOME, "no_coverage")


@dataclass(slots=True)
class UavState:
    """Mutable per-UAV bookkeeping of the migration pipeline (owned by the run)."""

    uav_id: int
    hosts: np.ndarray  # [twins] RSU id hosting each twin
    migrating: bool = False
    waiting_retry: bool = False
    covering: set[int] = field(default_factory=set)
    present: bool = True  # False once the UAV has departed (end of its presence interval)


class Request(NamedTuple):
    """A migration request waiting for the market."""

    request_id: int
    uav_id: int
    t_s: float
    leaving_rsu: int = -1  # with a prediction margin: the cell about to be left (not a candidate)


class _Outcome(NamedTuple):
    """What the market keeps of one round's play (:meth:`Market._play`), as plain lists
    (what its rows and the twins' moves read)."""

    prices: list[list[float]]  # [I][J]
    demand: list[list[float]]  # [I][J]
    revenue: list[float]       # [J] sum_i p_ij b_ij
    cost_total: list[float]    # [J] revenue - RSU utility
    mean_rsu: float
    mean_uav: float
    iterations: int
    converged: bool
    residual: float
    reward_path: list[float]
    wall: float              # wall-clock seconds of the play
    reference: tuple[float, float]  # mean RSU and UAV utility at the exact equilibrium
    bandwidth: list[float]   # [I] bought by each UAV (MHz)
    rate: list[float]        # [I] sum_j b_ij q_ij (Mbit/s)
    immersion: list[float]   # [I] sum_j a_ij ln(1 + b_ij q_ij) (MODEL.md A1)


def allocate_twins(bandwidth: np.ndarray, n_twins: int) -> np.ndarray:
    """Split ``n_twins`` twins over RSUs in proportion to the bandwidth bought from each.

    Largest-remainder rounding, ties to the lower RSU index, so that every RSU holding a
    positive share of the bandwidth gets ``floor(share)`` twins and the rest go to the
    largest remainders.

    Args:
        bandwidth: ``[J]`` bandwidth bought from each candidate RSU (MHz), not all zero.
        n_twins: number of twins to place, >= 1.

    Returns:
        ``[n_twins]`` candidate indices (into ``bandwidth``), sorted ascending.

    Raises:
        ValueError: if no bandwidth was bought or ``n_twins < 1``.
    """
    return np.array(twin_slots(np.asarray(bandwidth, dtype=float).tolist(), n_twins),
                    dtype=np.int64)


def twin_slots(bandwidth: list[float], n_twins: int) -> list[int]:
    """:func:`allocate_twins` on a list of floats, as a list (the market's path)."""
    sellers = [j for j, b in enumerate(bandwidth) if b != 0.0]
    if len(sellers) == 1 and bandwidth[sellers[0]] > 0.0 and n_twins >= 1:
        # the total is that bandwidth exactly: every quota below is 0 or n_twins
        return [sellers[0]] * n_twins
    total = float(np.add.reduce(np.array(bandwidth, dtype=float)))  # np.sum's rounding
    if total <= 0.0 or n_twins < 1:
        raise ValueError(f"Cannot place {n_twins} twins on bandwidth {bandwidth!r}")
    # plain floats: the same IEEE operations as the array expression, for a handful of RSUs
    quota = [b / total * n_twins for b in bandwidth]
    counts = [math.floor(x) for x in quota]
    remainder = [x - c for x, c in zip(quota, counts, strict=True)]
    order = sorted(range(len(quota)), key=lambda j: (-remainder[j], j))
    for j in order[: n_twins - sum(counts)]:
        counts[j] += 1
    return [j for j, c in enumerate(counts) for _ in range(c)]


class Market:
    """Batches migration requests and runs pricing rounds on the simulation clock."""

    def __init__(self, env: simpy.Environment, *, rsus: RsuTable, uavs: UavTable,
                 uav_states: list[UavState], trajectories: Sequence[Trajectory],
                 backhaul: BackhaulNetwork, policy: PricingPolicy, solver_code: int,
                 pricing: PricingConfig, radio: RadioConfig, ssim_component: Range,
                 rng_radio: np.random.Generator, rng_market: np.random.Generator,
                 recorder: Recorder, live: LiveSetup | None = None,
                 decision: DecisionTimeConfig | None = None, compute_gflops: float = 10.0,
                 shadowing_root: int = 0) -> None:
        """Args: the world's tables and processes the market reads and drives.

        ``uav_states`` is shared with the coverage clock's handler (the market updates hosts
        and flags); ``rng_radio`` draws the per-round channel gains and SSIMs,
        ``rng_market`` is handed to the pricing policy. The realism options (MODEL.md Part
        D): ``live`` moves twins by a live migration mode (None: stop-and-copy),
        ``decision`` delays a round's prices by the agents' decision time on RSUs of
        ``compute_gflops``, ``shadowing_root`` seeds the shadowing draws of
        ``radio.shadowing_std_db``.
        """
        self.env = env
        self.rsus = rsus
        self.uavs = uavs
        self.uav_states = uav_states
        self.trajectories = trajectories
        self.backhaul = backhaul
        self.policy = policy
        self.solver_code = solver_code
        self.market_window_s = pricing.market_window_s
        self.pricing = pricing
        self.radio = radio
        self.ssim_component = ssim_component
        self.rng_radio = rng_radio
        self.rng_market = rng_market
        self.recorder = recorder
        self.failover: Failover | None = None  # set when the scenario has faults
        self.live = live
        self.decision = decision
        self.compute_gflops = compute_gflops
        self.shadowing_root = shadowing_root
        self.pending: list[Request] = []
        self._busy = False  # a wakeup is due, or rounds are being played
        self._kernel = _pair_kernel()
        self._rsu_sets: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._one_uav: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # _uav_arrays
        # Table II draws the gains with the SSIM components; other models read positions
        self._gain_drawn = not reads_positions(radio)
        self._gain_lo = float(radio.gain_db.lo)
        self._gain_range = float(radio.gain_db.hi) - float(radio.gain_db.lo)  # as uniform's
        self._ssim_lo = float(ssim_component.lo)
        self._ssim_range = float(ssim_component.hi) - float(ssim_component.lo)
        self._no_gain = np.zeros((1, 1))  # stand-ins for arrays a kernel does not read
        # the constants of the round's ufuncs as 0-d float64 arrays: the same loops and
        # values as Python floats, without converting a scalar on every call
        self._ten, self._one = np.array(10.0), np.array(1.0)
        self._no_pairs = np.ones((1, 1), dtype=bool)
        # one compiled call per round where it gives NumPy's numbers (pairkernel)
        self._fused = self._kernel.fused_agrees()
        self._consts = np.array([self._gain_lo, self._gain_range, self._ssim_lo,
                                 self._ssim_range, 10.0, 1.0])
        self._next_request_id = 0
        self._next_round_id = 0
        self._next_transfer_id = 0
        self._round_row = row_sink(recorder, "/pricing/rounds", (
            "round_id", "t_s", "solver", "n_uavs", "n_rsus", "iterations", "converged",
            "residual", "wall_time_s", "mean_rsu_utility", "mean_uav_utility",
            "reference_rsu_utility", "reference_uav_utility"))
        self._service_row = row_sink(recorder, "/migration/service", (
            "request_id", "uav_id", "t_request_s", "t_interrupt_start_s", "t_interrupt_end_s",
            "interruption_s", "bandwidth_mhz", "rate_mbps", "immersion"))
        self._request_rows = rows_sink(recorder, "/migration/requests", (
            "request_id", "t_s", "uav_id", "src_rsu_id", "n_candidates", "outcome"))
        self._path_rows = rows_sink(recorder, "/pricing/paths",
                                    ("round_id", "iteration", "mean_rsu_utility"))
        self._offer_rows = rows_sink(recorder, "/pricing/offers", (
            "round_id", "request_id", "uav_id", "rsu_id", "price", "bandwidth_mhz",
            "spectral_efficiency", "ssim"))
        self._revenue_rows = rows_sink(recorder, "/pricing/revenue",
                                       ("round_id", "rsu_id", "revenue", "cost_total"))
        self._transfer_rows = rows_sink(recorder, "/migration/transfers", (
            "transfer_id", "request_id", "uav_id", "twin_id", "src_rsu_id", "dst_rsu_id",
            "n_hops", "size_bytes", "t_start_s", "t_end_s"))
        self._hop_rows = rows_sink(recorder, "/migration/transfer_hops",
                                   ("transfer_id", "hop", "rsu_id"))

    # -- requests -------------------------------------------------------------------------
    def request(self, state: UavState, leaving_rsu: int = -1) -> None:
        """File a migration request for ``state``'s UAV at the current time.

        Args:
            state: the UAV's bookkeeping; ignored while its twins are already migrating or
                after the UAV has departed.
            leaving_rsu: an RSU whose cell the UAV is about to leave (prediction margin); it
                is not offered as a destination.
        """
        if state.migrating or not state.present:
            return
        req = self._new_request(state, leaving_rsu)
        self.pending.append(req)
        if not self._busy:  # play after the events already due at this instant
            self._busy = True
            wakeup = self.env.event()
            wakeup.callbacks.append(self._wake)
            wakeup.succeed()

    def _new_request(self, state: UavState, leaving_rsu: int = -1) -> Request:
        state.migrating = True
        state.waiting_retry = False
        req = Request(self._next_request_id, state.uav_id, float(self.env.now), leaving_rsu)
        self._next_request_id += 1
        return req

    def urgent(self, states: list[UavState]) -> list[int]:
        """Requests of UAVs that lost twins with a failed RSU: played now, not after the window.

        Args:
            states: UAVs not already migrating.

        Returns:
            The request ids, in the order of ``states``.
        """
        batch = [self._new_request(state) for state in states]
        if self.market_window_s > 0:
            if batch:
                self._round(batch)
        else:
            for req in batch:
                self._round([req])
        return [req.request_id for req in batch]

    def _wake(self, _event: simpy.Event) -> None:
        """Requests are waiting: play them one round each, or batch them over the window."""
        if self.market_window_s > 0:
            self.env.timeout(self.market_window_s).callbacks.append(self._play_window)
            return
        while self.pending:
            self._round([self.pending.pop(0)])
        self._busy = False

    def _play_window(self, _event: simpy.Event) -> None:
        """The window is over: one round for every request filed during it."""
        batch, self.pending = self.pending, []
        self._round(batch)
        if self.pending:  # filed by the round itself: the next window starts now
            self.env.timeout(self.market_window_s).callbacks.append(self._play_window)
        else:
            self._busy = False

    # -- one pricing round ----------------------------------------------------------------
    def _round(self, batch: list[Request]) -> None:
        now = float(self.env.now)
        # Candidates come from the UAVs' exact enter/leave events, not from re-testing the
        # position: at a crossing time the UAV sits on the cell border. A failed RSU leaves
        # every round.
        down = self.failover.rsu_down if self.failover is not None else None
        cands = [self._candidates(self.uav_states[req.uav_id].covering, req.leaving_rsu, down)
                 for req in batch]
        rsu_list = cands[0] if len(cands) == 1 else sorted(set().union(*cands))
        uav_ids, budget = self._uav_arrays(batch)
        primary = [primary_host(self.uav_states[r.uav_id].hosts) for r in batch]

        viable_any = [False] * len(batch)
        if rsu_list:
            rsu_ids, cost, cap = self._rsu_arrays(rsu_list)
            # a UAV trades only with the RSUs covering it (None: each with all, one UAV)
            available = None if len(batch) == 1 else np.array(
                [[r in c for r in rsu_list] for c in map(set, cands)], dtype=bool)
            q, ssim, weight, viable, viable_any = self._pair_arrays(uav_ids, rsu_ids, available)
        self._request_rows([
            (r.request_id, r.t_s, r.uav_id, src, len(cand),
             OUTCOME_SERVED if v else OUTCOME_NO_VIABLE if cand else OUTCOME_NO_COVERAGE)
            for r, src, cand, v in zip(batch, primary, cands, viable_any)])  # noqa: B905 (_HOT)
        for k, req in enumerate(batch):
            if not viable_any[k]:
                state = self.uav_states[req.uav_id]
                state.migrating = False
                state.waiting_retry = True
        if not any(viable_any):
            return
        if not all(viable_any):
            keep = np.flatnonzero(viable_any)
            batch = [batch[k] for k in keep]
            uav_ids, q, ssim, weight, viable = (x[keep] for x in (uav_ids, q, ssim, weight, viable))
            budget = None  # (a one-UAV round is viable or over)
            if available is not None:
                available = available[keep]

        round_id = self._next_round_id
        self._next_round_id += 1
        outcome = self._play(uav_ids, rsu_ids, cost, cap, q, ssim, weight, viable, available,
                             budget)
        # the rows and the twins' moves read plain lists (cheaper than numpy on a round)
        q_rows = q.tolist()
        self._record_round(round_id, now, batch, uav_ids.tolist(), rsu_list, available, q_rows,
                           ssim.tolist(), outcome)
        decision_s = self._decision_time(round_id, (len(batch), len(rsu_list)), available,
                                         outcome.iterations)
        for k, req in enumerate(batch):
            self._migrate(req, rsu_list, outcome.demand[k], q_rows[k], outcome.bandwidth[k],
                          outcome.rate[k], outcome.immersion[k], decision_s)

    @staticmethod
    def _candidates(covering: set[int], leaving: int, down: np.ndarray | None) -> list[int]:
        """A UAV's candidate RSUs, ascending: those covering it, but the cell it is about to
        leave and any failed RSU."""
        if down is not None:
            return sorted(r for r in covering if r != leaving and not down[r])
        cands = sorted(covering)
        if leaving in covering:
            cands.remove(leaving)
        return cands

    def _uav_arrays(self, batch: list[Request]) -> tuple[np.ndarray, np.ndarray | None]:
        """The ids of a round's UAVs, with their budgets when the round has one UAV: those made
        once per UAV (most rounds have one UAV). Shared: read, never written."""
        if len(batch) == 1:
            uav_id = batch[0].uav_id
            arrays = self._one_uav.get(uav_id)
            if arrays is None:
                ids = np.array([uav_id], dtype=np.int64)
                arrays = self._one_uav[uav_id] = (ids, self.uavs.budget[ids])
            return arrays
        return np.array([r.uav_id for r in batch], dtype=np.int64), None

    def _rsu_arrays(self, rsu_list: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ids, costs and price caps of a round's RSUs, made once per set of RSUs (the
        market meets the same few sets again and again). Shared: read, never written."""
        key = tuple(rsu_list)
        arrays = self._rsu_sets.get(key)
        if arrays is None:
            ids = np.array(rsu_list, dtype=np.int64)
            arrays = self._rsu_sets[key] = (ids, self.rsus.cost[ids], self.rsus.price_cap[ids])
        return arrays

    def _play(self, uav_ids: np.ndarray, rsu_ids: np.ndarray, cost: np.ndarray, cap: np.ndarray,
              q: np.ndarray, ssim: np.ndarray, weight: np.ndarray, viable: np.ndarray,
              available: np.ndarray | None, budget: np.ndarray | None = None) -> _Outcome:
        """Prices and demands of the round by the scenario's policy, with its reference.

        The equilibrium is solved on the round's arrays (:func:`solve_packed`: on a market's
        one-UAV rounds, the game and result objects cost more than the solve); any other
        policy plays a :class:`PricingGame`, and its round is solved again exactly as the
        reference (no randomness used), so every round has an optimality ratio. ``cost`` and
        ``cap`` are the RSUs' (:meth:`_rsu_arrays`, shared: the game gets copies); ``budget``
        the UAVs' (:meth:`_uav_arrays`; None: taken from the table).
        """
        uavs = self.uavs
        if budget is None:
            budget = uavs.budget[uav_ids]
        policy = self.policy
        started = time.perf_counter()
        if isinstance(policy, EquilibriumPolicy):
            sol = solve_packed(weight, viable, q, budget, cost, cap, tol=policy.tol,
                               max_iter=policy.max_iter)
            wall = time.perf_counter() - started
            mean_rsu, mean_uav = sol.mean_rsu_utility, sol.mean_uav_utility
            prices, demand, _ = sol.game.tolist()
            rsu_u, revenue, _, bandwidth, rate, immersion = split_sums(sol.sums.tolist(),
                                                                       *q.shape)
            return _Outcome(prices, demand, revenue, _cost_total(revenue, rsu_u), mean_rsu,
                            mean_uav, sol.sweeps, sol.residual <= policy.tol, sol.residual,
                            [mean_rsu], wall, (mean_rsu, mean_uav), bandwidth, rate, immersion)
        game = PricingGame.from_trusted(
            delta=uavs.delta[uav_ids], ssim=ssim, ssim_threshold=uavs.ssim_threshold[uav_ids],
            spectral_efficiency=q, budget=budget.copy(), cost=cost.copy(), price_cap=cap.copy(),
            available=np.ones(q.shape, dtype=bool) if available is None else available)
        result = policy.run_round(game, self.rng_market)
        wall = time.perf_counter() - started
        reference = (float("nan"), float("nan"))
        pricing = self.pricing
        if pricing.reference:
            eq = solve_equilibrium(game, tol=pricing.tolerance, max_iter=pricing.max_iterations)
            reference = (_mean(eq.rsu_utility), _mean(eq.uav_utility))
        demand = np.asarray(result.demand, dtype=float)
        _, revenue, _, bandwidth, rate, immersion = round_sums(result.prices, demand, weight, q,
                                                               cost)
        revenue = revenue.tolist()
        return _Outcome(np.asarray(result.prices).tolist(), demand.tolist(), revenue,
                        _cost_total(revenue, np.asarray(result.rsu_utility, dtype=float).tolist()),
                        _mean(result.rsu_utility), _mean(result.uav_utility),
                        int(result.iterations), bool(result.converged), float(result.residual),
                        np.asarray(result.reward_path, dtype=float).tolist(), wall, reference,
                        bandwidth.tolist(), rate.tolist(), immersion.tolist())

    def _decision_time(self, round_id: int, shape: tuple[int, int],
                       available: np.ndarray | None, iterations: int) -> float:
        """The round's decision time (MODEL.md D5), recorded; 0 when the option is off."""
        if self.decision is None or not self.decision.enabled:
            return 0.0
        seconds, flops, per_decision = round_decision_time(
            self.policy, np.ones(shape, dtype=bool) if available is None else available,
            iterations, self.compute_gflops, self.decision.equilibrium_iteration_s)
        self.recorder.append("/decision_time/rounds", round_id=round_id, decision_time_s=seconds,
                             flops=flops, flops_per_decision=per_decision)
        return seconds

    def _pair_arrays(self, uav_ids: np.ndarray, rsu_ids: np.ndarray,
                     available: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[bool]]:
        """``[I, J]`` spectral efficiency, SSIM, weight and viability of every pair in this
        round (drawn now), and whether each UAV has a viable pair.

        The arithmetic runs in :mod:`simulator.world.pairkernel`, bit for bit
        ``spectral_efficiency(snr_linear(m, gain, sigma^2))``, the product of the three drawn
        SSIM components and :func:`agents.pricing.game.pair_weights`; the drawn gains and
        components come from one ``random`` call, the same stream as ``uniform``'s.
        """
        rsus, uavs, kernel = self.rsus, self.uavs, self._kernel
        n = len(uav_ids) * len(rsu_ids)
        if self._gain_drawn:  # Table II: I J gains, then 3 I J SSIM components
            draws = self.rng_radio.random(4 * n)
            if self.radio.shadowing_std_db > 0:
                mode, gain = kernel.GAIN_DRAWN_SHADOWED, self._shadowing_db(uav_ids, rsu_ids)
            else:
                mode, gain = kernel.GAIN_DRAWN, self._no_gain
        else:
            mode, gain = kernel.GAIN_GIVEN, self._channel_gain_db(uav_ids, rsu_ids)
            draws = self.rng_radio.random(3 * n)
        if self._fused:
            try:  # (the first round loads the kernel's machine code: see agents.compiled)
                planes, viable, n_viable, finite = kernel.pair_arrays(
                    draws, mode, gain, self._consts, rsus.tx_power_dbm, rsus.noise_dbm,
                    uavs.ssim_threshold, uavs.delta, uav_ids, rsu_ids,
                    self._no_pairs if available is None else available, available is not None)
            except SystemError as err:
                compiled.unwrap(err)
            if finite:
                return planes[0], planes[1], planes[2], viable, self._any_viable(n_viable,
                                                                                 viable)
            # a NaN SNR: the split path below raises the SNR check's error
        try:  # (the first round loads the kernels' machine code: see agents.compiled)
            planes, finite = kernel.pair_inputs(
                draws, mode, gain, self._gain_lo, self._gain_range, self._ssim_lo,
                self._ssim_range, rsus.tx_power_dbm, rsus.noise_dbm, uavs.ssim_threshold,
                uav_ids, rsu_ids)
            x, ssim, ratio = planes[0], planes[1], planes[2]  # (indexing beats unpacking)
            snr = np.power(self._ten, x)  # db_to_linear: 10.0 ** x
            if not finite:
                spectral_efficiency(snr)  # raises its error for the NaN
            q = np.log2(np.add(self._one, snr))  # spectral_efficiency: log2(1.0 + snr)
            weight, viable, n_viable = kernel.pair_weights(
                np.log(ratio), q, uavs.delta, uav_ids,
                self._no_pairs if available is None else available, available is not None)
        except SystemError as err:
            compiled.unwrap(err)
        return q, ssim, weight, viable, self._any_viable(n_viable, viable)

    @staticmethod
    def _any_viable(n_viable: int, viable: np.ndarray) -> list[bool]:
        """Whether each UAV of a round has a viable pair (``n_viable`` of them do)."""
        n_uavs = viable.shape[0]
        return ([n_viable > 0] * n_uavs if n_viable in (0, n_uavs)
                else viable.any(axis=1).tolist())

    def _channel_gain_db(self, uav_ids: np.ndarray, rsu_ids: np.ndarray) -> np.ndarray:
        """Gain (dB) from each RSU in ``rsu_ids`` to each UAV in ``uav_ids`` now (a model that
        reads positions; Table II's drawn gains are made in :meth:`_pair_arrays`)."""
        now = float(self.env.now)
        gain = channel_gain_db(self.radio, self.rng_radio,
                               np.array([self.trajectories[u].position(now) for u in uav_ids]),
                               self.rsus.positions[rsu_ids])
        if self.radio.shadowing_std_db > 0:
            gain = gain + self._shadowing_db(uav_ids, rsu_ids)
        return gain

    def _shadowing_db(self, uav_ids: np.ndarray, rsu_ids: np.ndarray) -> np.ndarray:
        """Shadowing (dB) of every pair now (one draw per UAV, RSU and trajectory segment)."""
        now = float(self.env.now)
        segments = [max(0, int(np.searchsorted(self.trajectories[u].t0, now, "right")) - 1)
                    for u in uav_ids]
        return shadowing_db(self.shadowing_root, uav_ids, rsu_ids, np.array(segments),
                            self.radio.shadowing_std_db)

    def _record_round(
        self, round_id: int, now: float, batch: list[Request], uav: list[int], rsu: list[int],
        available: np.ndarray | None, q: list[list[float]], ssim: list[list[float]],
        outcome: _Outcome,
    ) -> None:
        """The round's rows; the ``[I, J]`` pair values come as lists of rows."""
        reference = outcome.reference
        self._round_row(round_id, now, self.solver_code, len(uav), len(rsu),
                        outcome.iterations, outcome.converged, outcome.residual, outcome.wall,
                        outcome.mean_rsu, outcome.mean_uav, reference[0], reference[1])
        # one row per offered pair, indexed in lists (cheaper than numpy gathers on a round)
        price, bought = outcome.prices, outcome.demand
        if available is None:  # every pair, UAV by UAV
            self._offer_rows([(round_id, batch[i].request_id, uav[i], r, p, b, e, m)
                              for i in range(len(uav)) for r, p, b, e, m  # (_HOT)
                              in zip(rsu, price[i], bought[i], q[i], ssim[i])])  # noqa: B905
        else:
            self._offer_rows([(round_id, batch[i].request_id, uav[i], rsu[j], price[i][j],
                               bought[i][j], q[i][j], ssim[i][j])
                              for i, j in zip(*(x.tolist() for x in np.nonzero(available)),
                                              strict=True)])
        self._revenue_rows(zip(repeat(round_id), rsu, outcome.revenue, outcome.cost_total))
        self._path_rows(zip(repeat(round_id), range(len(outcome.reward_path)),
                            outcome.reward_path))

    # -- twin transfers -------------------------------------------------------------------
    def _migrate(
        self, req: Request, rsu_ids: list[int], bandwidth: list[float], q: list[float],
        bought: float, rate: float, immersion: float, decision_s: float = 0.0,
    ) -> None:
        """Move ``req``'s twins after its round (called at the round's time).

        ``bandwidth`` and ``q`` are the UAV's rows of the round's demand and spectral
        efficiency (over the RSUs ``rsu_ids``); ``bought``, ``rate`` and ``immersion`` its sums
        (:class:`_Outcome`). The twins leave at once, or after the agents' decision time.
        A migration is not a SimPy process: its transfers call it back as they land, and the
        last one to land ends it in the same event (a process waiting for all of them would
        end one event later, at the same time).
        """
        started = float(self.env.now)
        if decision_s > 0:  # the round's prices take effect after the agents' decision time
            self.env.timeout(decision_s).callbacks.append(partial(
                self._move, req, rsu_ids, bandwidth, q, bought, rate, immersion, started,
                decision_s))
        else:
            self._move(req, rsu_ids, bandwidth, q, bought, rate, immersion, started, decision_s)

    def _move(self, req: Request, rsu_ids: list[int], bandwidth: list[float], q: list[float],
              bought: float, rate: float, immersion: float, started: float,
              decision_s: float, _timer: simpy.Event | None = None) -> None:
        state = self.uav_states[req.uav_id]
        if bought <= 0.0:
            # Every viable RSU priced the UAV out: keep the twins, retry at the next event.
            state.migrating = False
            state.waiting_retry = True
            return
        slots = twin_slots(bandwidth, len(state.hosts))
        sizes = self.uavs.twin_size_bytes[req.uav_id].tolist()
        live = self.live is not None and self.live.live
        moving = _Moving(req, [rsu_ids[j] for j in slots], started, decision_s, bought, rate,
                         immersion, live)
        lost = []  # twins lost with a failed RSU: restored from their fallback copy
        pairs = zip(state.hosts.tolist(), moving.new_hosts)  # noqa: B905 (_HOT)
        for twin, (src, dst) in enumerate(pairs):
            if src < 0:
                lost.append(twin)
            elif src != dst:
                tag = (req.request_id, req.uav_id, twin)
                k = len(moving.twins)
                moving.twins.append(twin)
                moving.results.append(None)
                moving.waiting += 1
                if live:  # MODEL.md D4: rounds of fluid transfers while the service runs
                    assert self.live is not None
                    self.env.process(live_migration(
                        self.env, self.backhaul, src, dst, sizes[twin], self.live.params,
                        self.live.dirty_for(twin), tag=tag,
                    )).callbacks.append(partial(self._live_landed, moving, k))
                else:
                    self.backhaul.transfer(src, dst, sizes[twin], tag,
                                           partial(self._landed, moving, k))
        if lost:
            assert self.failover is not None
            rates = [bandwidth[slots[twin]] * q[slots[twin]] for twin in lost]
            for ev in self.failover.restore(req.uav_id, lost,
                                            [moving.new_hosts[twin] for twin in lost], rates):
                moving.waiting += 1
                ev.callbacks.append(partial(self._restored, moving))
        if not moving.waiting:
            # nothing to wait for: end as the first step of a new process would, after the
            # urgent events already due at this instant
            self.env.process(_first_step(partial(self._moved, moving)))

    def _landed(self, moving: _Moving, k: int, result: TransferRecord | LiveMigration) -> None:
        """Transfer ``k`` of ``moving`` ended: delivered, or abandoned (``aborted``)."""
        if not result.aborted:  # its new host holds the twin from now on
            self.uav_states[moving.req.uav_id].hosts[moving.twins[k]] = result.dst
        else:
            moving.aborted += 1
        moving.results[k] = result
        moving.waiting -= 1
        if not moving.waiting:
            self._moved(moving)

    def _live_landed(self, moving: _Moving, k: int, event: simpy.Event) -> None:
        """Live migration ``k`` of ``moving`` ended (its process' value)."""
        self._landed(moving, k, event.value)

    def _restored(self, moving: _Moving, _event: simpy.Event) -> None:
        """A lost twin of ``moving`` was restored (or failed to be)."""
        moving.waiting -= 1
        if not moving.waiting:
            self._moved(moving)

    def _moved(self, moving: _Moving) -> None:
        """Every twin of ``moving`` has landed (or failed to): record the migration."""
        req = moving.req
        state = self.uav_states[req.uav_id]
        end = float(self.env.now)
        live = moving.live
        twins, results = moving.twins, moving.results
        if moving.aborted:
            twins = [twin for twin, r in zip(twins, results, strict=True) if not r.aborted]
            results = [r for r in results if not r.aborted]
        migrations = results if live else []
        records = [transfer_record(m) for m in migrations] if live else results
        ids: range = range(0)
        if records:
            first = self._next_transfer_id
            self._next_transfer_id += len(records)
            ids = range(first, first + len(records))
            rid, uid = req.request_id, req.uav_id
            self._transfer_rows([
                (tid, rid, uid, twin, r.src, r.dst, len(r.path) - 1, r.size_bytes, r.t_start,
                 r.t_end) for tid, twin, r in zip(ids, twins, records)])  # noqa: B905 (_HOT)
            self._hop_rows([(tid, hop, rsu) for tid, r in zip(ids, records)  # noqa: B905 (_HOT)
                            for hop, rsu in enumerate(r.path)])
        started, decision_s = moving.started, moving.decision_s
        interruption = end - started
        if live:  # the service runs during live rounds: decision time + the twins' pauses
            assert self.live is not None
            paused = 0.0
            if migrations:
                record_live(self.recorder, list(ids), self.live.params.mode, migrations)
                _, resumed, paused = paused_time_s(migrations)
                end = max(resumed, started + decision_s)
            interruption = decision_s + paused
        self._service_row(req.request_id, req.uav_id, req.t_s, started, end, interruption,
                          moving.bought, moving.rate, moving.immersion)
        state.migrating = False
        # The UAV may have left a new host's cell while its twins were in transit, or a
        # failure kept some twins from their new host.
        now_hosts = state.hosts.tolist()
        if not set(now_hosts) <= state.covering or now_hosts != moving.new_hosts:
            self.request(state)


@dataclass(slots=True, eq=False)
class _Moving:
    """A migration whose twins are on their way (:meth:`Market._migrate`)."""

    req: Request
    new_hosts: list[int]
    started: float
    decision_s: float
    bought: float
    rate: float
    immersion: float
    live: bool
    twins: list[int] = field(default_factory=list)  # the twin of each transfer
    results: list[Any] = field(default_factory=list)  # its record (live: LiveMigration)
    waiting: int = 0  # transfers and restores still on their way
    aborted: int = 0  # transfers abandoned (their twin did not arrive)


def _pair_kernel() -> ModuleType:
    """The compiled pair arithmetic (numba takes ~1 s to import: loaded when a market is made,
    not by ``uavtwin --help`` or ``validate``)."""
    from simulator.world import pairkernel

    return pairkernel


def _first_step(action: Callable[[], None]) -> Generator[simpy.Event, Any, None]:
    """A process that only runs ``action``: ``env.process(_first_step(f))`` runs ``f`` as a new
    process's first step (after the urgent events already due at this instant)."""
    action()
    yield from ()


def _cost_total(revenue: list[float], rsu_utility: list[float]) -> list[float]:
    """``revenue - rsu_utility`` of a round's RSUs, float by float (NumPy's subtraction); the
    two lists have the round's length (not checked: _HOT)."""
    return [r - u for r, u in zip(revenue, rsu_utility)]  # noqa: B905 (_HOT)


def _mean(x: np.ndarray) -> float:
    """``float(np.mean(x))`` of a 1-D float array, bit for bit (the same sum divided by the
    count) without ``np.mean``'s dispatch, which costs more than the sum on a round's arrays."""
    return float(np.add.reduce(x) / x.size)


def primary_host(hosts: np.ndarray) -> int:
    """The RSU hosting most of a UAV's twins (the lowest id on a tie; -1 if all are lost):
    ``argmax(bincount(hosts))`` without numpy, for a UAV's few twins."""
    held = [h for h in hosts.tolist() if h >= 0]  # -1: lost with a failed RSU
    if not held:
        return -1
    if held.count(held[0]) == len(held):  # the usual case: all on one host
        return held[0]
    return min(held, key=lambda h: (-held.count(h), h))
