"""What a replay shows at time t, computed from a trace alone.

A :class:`Scene` holds, as flat NumPy arrays, everything the replay draws: the area, the RSUs
(position, coverage radius, backhaul links), every UAV's exact piecewise-linear track
(``/mobility/segments``), every twin transfer with its backhaul route and the price the UAV
paid the destination RSU, every pricing round with its candidate RSUs, the requests that
failed, the interruptions and the revenue. Its methods answer "what is true at time t"
vectorised over UAVs, so the video renderer and the HTML writer share one definition of the
picture:

- :meth:`Scene.positions` -- where each UAV is and whether it exists (its presence interval is
  its first segment's start to its last segment's end);
- :meth:`Scene.hosts` -- the RSU hosting each twin: a twin sits on the source of its first
  transfer until that transfer ends, then on its destination, and so on; a twin that never
  moves sits on the source RSU of its UAV's first request, or, if the UAV never asked, on the
  RSU nearest the UAV's first position (the simulator's initial placement rule);
- :meth:`Scene.states` -- ``absent`` outside the presence interval, ``migrating`` while one of
  its twins is in flight, ``waiting`` while no working RSU's cell covers it or its service is
  interrupted, ``served`` otherwise;
- :meth:`Scene.in_flight` -- each moving twin's point on its route, interpolated at the
  transfer's mean rate (size / duration, the only rate the trace records);
- :meth:`Scene.counters` -- completed migrations, mean interruption and revenue so far.

Only the trace reader is used, so any trace (including runs of imported mobility) replays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.trace.schema import REQUEST_OUTCOME, TRANSFER_EVENT

__all__ = ["OUTCOMES", "PRICED_OUT", "RETRY_ABORT", "RETRY_REQUEST", "STATES", "Scene",
           "group_offsets", "point_on_route"]

STATES: tuple[str, ...] = ("served", "migrating", "waiting", "absent")
"""UAV state codes returned by :meth:`Scene.states` (index = code)."""
PRICED_OUT: int = max(REQUEST_OUTCOME) + 1
"""Outcome code of a request whose round priced the UAV out (``served`` in the trace, but no
bandwidth bought, so the twins stayed and the UAV asks again later)."""
OUTCOMES: dict[int, str] = {**REQUEST_OUTCOME, PRICED_OUT: "priced_out"}
"""Labels of the ``fail_outcome`` codes."""
RETRY_REQUEST: int = 1
"""``tr_retry`` bit: the transfer serves a retry (the UAV's previous request failed)."""
RETRY_ABORT: int = 2
"""``tr_retry`` bit: the transfer was aborted by a fault and restarted after a back-off."""


def group_offsets(keys: np.ndarray, n: int) -> np.ndarray:
    """``[n + 1]`` start offsets of each key ``0..n-1`` in the sorted ``keys``."""
    return np.searchsorted(keys, np.arange(n + 1), side="left")


@dataclass(frozen=True)
class Scene:
    """Flat arrays of one run, ready to be sampled at any time (see the module docstring).

    Attributes:
        bounds: ``(xmin, ymin, xmax, ymax)`` of the area, m.
        t_start, t_end: Time span of the run, s.
        rsu_xy: ``[J, 2]`` RSU positions, m.
        rsu_radius: ``[J]`` coverage radii, m.
        edges: ``[E, 2]`` backhaul links (RSU id pairs).
        seg_uav, seg_t0, seg_t1, seg_p0, seg_p1: UAV track segments sorted by UAV then time.
        twin_count: ``[U]`` twins per UAV.
        tr_uav, tr_twin, tr_src, tr_dst, tr_t0, tr_t1, tr_price, tr_request: transfers sorted
            by start time; ``tr_t1`` is ``inf`` for unfinished ones, ``tr_price`` NaN if the
            trace has no matching offer.
        tr_path_off, tr_path: route of transfer k is ``tr_path[tr_path_off[k]:tr_path_off[k+1]]``.
        rd_t, rd_uav, rd_cand_off, rd_cand, rd_price: pricing rounds (one per request) and
            their candidate RSUs with the posted prices.
        fail_t, fail_uav, fail_outcome: requests that failed: an outcome other than
            ``served``, or :data:`PRICED_OUT` (codes of :data:`OUTCOMES`).
        sv_uav, sv_t0, sv_t1: service interruptions (``sv_t1`` inf if never resumed).
        rev_t, rev_rsu, rev_amount: revenue of each RSU in each round.
        sensing_t, sensing_share: ``[T]`` sample times and ``[T, M]`` VSP population shares.
        initial_host: ``[U, W]`` RSU hosting each twin at the start (-1: no such twin).
        hc_t, hc_uav, hc_twin, hc_host: every later change of a twin's host in time order:
            a transfer's arrival (its destination), a loss with a failed RSU (-1) and a
            restore (the new host).
        out_link, out_a, out_b, out_t0, out_t1: outages (``/faults/outages``): a link
            ``a``-``b`` or an RSU ``a`` down from ``t0`` to ``t1``.
        tev_t, tev_uav, tev_event: what faults did to transfers in flight
            (``/faults/transfer_events``, event codes of ``TRANSFER_EVENT``).
        scenario_name: The run's name (for titles).
        tr_retry: ``[K]`` bits per transfer: :data:`RETRY_REQUEST`, :data:`RETRY_ABORT`.
        rd_retry: Whether each pricing round's request is a retry of a failed one.
        fp_alt, fp_radius: The coverage footprint when the cells follow the radio
            (``radio.coverage: snr``): ``[A]`` altitudes, m, and ``[J, A]`` the horizontal
            radius of each RSU's cell at each of them, m; empty (A = 0) for discs of
            ``rsu_radius`` at every altitude.
    """

    bounds: tuple[float, float, float, float]
    t_start: float
    t_end: float
    rsu_xy: np.ndarray
    rsu_radius: np.ndarray
    edges: np.ndarray
    seg_uav: np.ndarray
    seg_t0: np.ndarray
    seg_t1: np.ndarray
    seg_p0: np.ndarray
    seg_p1: np.ndarray
    twin_count: np.ndarray
    tr_uav: np.ndarray
    tr_twin: np.ndarray
    tr_src: np.ndarray
    tr_dst: np.ndarray
    tr_t0: np.ndarray
    tr_t1: np.ndarray
    tr_price: np.ndarray
    tr_request: np.ndarray
    tr_path_off: np.ndarray
    tr_path: np.ndarray
    rd_t: np.ndarray
    rd_uav: np.ndarray
    rd_cand_off: np.ndarray
    rd_cand: np.ndarray
    rd_price: np.ndarray
    fail_t: np.ndarray
    fail_uav: np.ndarray
    fail_outcome: np.ndarray
    sv_uav: np.ndarray
    sv_t0: np.ndarray
    sv_t1: np.ndarray
    rev_t: np.ndarray
    rev_rsu: np.ndarray
    rev_amount: np.ndarray
    sensing_t: np.ndarray
    sensing_share: np.ndarray
    initial_host: np.ndarray
    hc_t: np.ndarray
    hc_uav: np.ndarray
    hc_twin: np.ndarray
    hc_host: np.ndarray
    out_link: np.ndarray
    out_a: np.ndarray
    out_b: np.ndarray
    out_t0: np.ndarray
    out_t1: np.ndarray
    tev_t: np.ndarray
    tev_uav: np.ndarray
    tev_event: np.ndarray
    scenario_name: str = "run"
    tr_retry: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    rd_retry: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    fp_alt: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fp_radius: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    _seg_off: np.ndarray = field(init=False, repr=False)
    _seg_key: np.ndarray = field(init=False, repr=False)
    _span: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.n_uavs
        object.__setattr__(self, "_seg_off", group_offsets(self.seg_uav, n))
        span = max(self.t_end - self.t_start, 1.0) * 4 + 1.0
        object.__setattr__(self, "_seg_key", self.seg_uav * span + (self.seg_t0 - self.t_start))
        object.__setattr__(self, "_span", span)

    # -- sizes -----------------------------------------------------------------------------
    @property
    def n_uavs(self) -> int:
        """Number of UAVs."""
        return int(self.twin_count.shape[0])

    @property
    def n_rsus(self) -> int:
        """Number of RSUs."""
        return int(self.rsu_xy.shape[0])

    @property
    def max_twins(self) -> int:
        """Largest twin count of any UAV."""
        return int(self.twin_count.max(initial=0))

    @property
    def presence(self) -> tuple[np.ndarray, np.ndarray]:
        """``([U], [U])`` first and last time each UAV exists (NaN for a UAV without track)."""
        lo, hi = self._seg_off[:-1], self._seg_off[1:]
        has = hi > lo
        first = np.full(self.n_uavs, np.nan)
        last = np.full(self.n_uavs, np.nan)
        first[has] = self.seg_t0[lo[has]]
        last[has] = self.seg_t1[hi[has] - 1]
        return first, last

    # -- state at time t -------------------------------------------------------------------
    def positions(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Positions of every UAV at time ``t``.

        Args:
            t: Simulation time, s.

        Returns:
            ``(xyz [U, 3], present [U])``; a UAV outside its presence interval is clamped to
            its nearest track end and flagged absent.
        """
        lo, hi = self._seg_off[:-1], self._seg_off[1:]
        has = hi > lo
        u = np.arange(self.n_uavs)
        key = u * self._span + (t - self.t_start)
        idx = np.searchsorted(self._seg_key, key, side="right") - 1
        idx = np.clip(idx, lo, np.maximum(hi - 1, lo))
        xyz = np.zeros((self.n_uavs, 3))
        if not has.any():
            return xyz, has
        i = idx[has]
        t0, t1 = self.seg_t0[i], self.seg_t1[i]
        dur = np.where(t1 > t0, t1 - t0, 1.0)
        f = np.clip((t - t0) / dur, 0.0, 1.0)[:, None]
        xyz[has] = self.seg_p0[i] + f * (self.seg_p1[i] - self.seg_p0[i])
        first, last = self.presence
        present = has & (t >= first) & (t <= last)
        return xyz, present

    def hosts(self, t: float) -> np.ndarray:
        """RSU hosting each twin at time ``t`` (a twin in flight is still on its source).

        Args:
            t: Simulation time, s.

        Returns:
            ``[U, W]`` RSU ids, ``-1`` for twin slots a UAV does not have and for twins
            lost with a failed RSU and not yet restored.
        """
        host = self.initial_host.copy()
        n = int(np.searchsorted(self.hc_t, t, side="right"))
        host[self.hc_uav[:n], self.hc_twin[:n]] = self.hc_host[:n]  # later rows win
        return host

    def outages(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """RSUs and links down at ``t``.

        Args:
            t: Simulation time, s.

        Returns:
            ``(rsu ids [K], links [L, 2])``.
        """
        down = (self.out_t0 <= t) & (t < self.out_t1)
        return (self.out_a[down & ~self.out_link],
                np.column_stack([self.out_a, self.out_b])[down & self.out_link])

    def disruptions_between(self, t0: float, t1: float) -> np.ndarray:
        """Fault events on transfers in ``(t0, t1]`` (indices into the ``tev_*`` arrays)."""
        return np.flatnonzero((self.tev_t > t0) & (self.tev_t <= t1))

    def in_flight(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """Transfers in flight at ``t`` and each twin's point on its backhaul route.

        Args:
            t: Simulation time, s.

        Returns:
            ``(indices [K], xy [K, 2])`` into the transfer arrays.
        """
        k = np.flatnonzero((self.tr_t0 <= t) & (t < self.tr_t1))
        xy = np.zeros((k.size, 2))
        for n, i in enumerate(k):
            route = self.rsu_xy[self.tr_path[self.tr_path_off[i]:self.tr_path_off[i + 1]]]
            end = self.tr_t1[i] if np.isfinite(self.tr_t1[i]) else self.t_end
            frac = 0.0 if end <= self.tr_t0[i] else (t - self.tr_t0[i]) / (end - self.tr_t0[i])
            xy[n] = point_on_route(route, min(max(frac, 0.0), 1.0))
        return k, xy

    def cell_radius(self, z: np.ndarray) -> np.ndarray:
        """Horizontal radius of every RSU's cell at each altitude.

        Args:
            z: ``[N]`` altitudes, m.

        Returns:
            ``[N, J]`` radii, m: the footprint interpolated linearly in altitude (clamped to
            the altitudes flown) when the cells follow the radio, else the disc radii.
        """
        z = np.asarray(z, dtype=float)
        if self.fp_alt.size == 0:
            return np.broadcast_to(self.rsu_radius[None, :], (z.size, self.n_rsus))
        return np.stack([np.interp(z, self.fp_alt, r) for r in self.fp_radius], axis=1)

    def cell_radius_range(self) -> tuple[np.ndarray, np.ndarray]:
        """``([J], [J])`` smallest and largest radius of each RSU's cell over the altitudes
        flown (both the disc radius for discs)."""
        if self.fp_alt.size == 0:
            return self.rsu_radius, self.rsu_radius
        return self.fp_radius.min(axis=1), self.fp_radius.max(axis=1)

    def covered(self, xyz: np.ndarray, t: float | None = None) -> np.ndarray:
        """Whether each position lies inside at least one RSU's cell.

        Args:
            xyz: ``[N, 3]`` positions, m (``[N, 2]``: horizontal only, discs).
            t: Simulation time, s: an RSU that is down then covers nothing (a failed RSU
                leaves every round); None: every RSU.

        Returns:
            ``[N]`` booleans.
        """
        d = np.linalg.norm(xyz[:, None, :2] - self.rsu_xy[None, :, :], axis=2)
        z = xyz[:, 2] if xyz.shape[1] > 2 else np.zeros(xyz.shape[0])
        inside = d <= self.cell_radius(z)
        if t is not None:
            inside[:, self.outages(t)[0]] = False
        return inside.any(axis=1)

    def states(self, t: float) -> np.ndarray:
        """State code of every UAV at ``t`` (an index into :data:`STATES`).

        Args:
            t: Simulation time, s.

        Returns:
            ``[U]`` codes.
        """
        xyz, present = self.positions(t)
        state = np.zeros(self.n_uavs, dtype=np.int8)
        interrupted = np.zeros(self.n_uavs, dtype=bool)
        live = (self.sv_t0 <= t) & (t < self.sv_t1)
        interrupted[self.sv_uav[live]] = True
        state[interrupted | ~self.covered(xyz, t)] = 2
        migrating = np.zeros(self.n_uavs, dtype=bool)
        migrating[self.tr_uav[(self.tr_t0 <= t) & (t < self.tr_t1)]] = True
        state[migrating] = 1
        state[~present] = 3
        return state

    def rounds_between(self, t0: float, t1: float) -> np.ndarray:
        """Pricing rounds played in ``(t0, t1]`` (indices into the ``rd_*`` arrays)."""
        return np.flatnonzero((self.rd_t > t0) & (self.rd_t <= t1))

    def candidates(self, rounds: np.ndarray) -> np.ndarray:
        """Distinct candidate RSUs of the given rounds."""
        if rounds.size == 0:
            return np.zeros(0, dtype=np.int64)
        parts = [self.rd_cand[self.rd_cand_off[r]:self.rd_cand_off[r + 1]] for r in rounds]
        return np.unique(np.concatenate(parts))

    def failures_between(self, t0: float, t1: float) -> np.ndarray:
        """Failed requests made in ``(t0, t1]`` (indices into the ``fail_*`` arrays)."""
        return np.flatnonzero((self.fail_t > t0) & (self.fail_t <= t1))

    def counters(self, t: float) -> dict[str, float]:
        """Running totals at ``t``.

        Args:
            t: Simulation time, s.

        Returns:
            ``migrations`` (interruptions that ended), ``mean_interruption_s`` over those
            (NaN before the first), ``revenue`` (sum over rounds played so far), ``in_flight``
            (twins moving now), ``failed`` (requests that failed so far) and ``lost`` (twins
            lost with a failed RSU and not restored yet).
        """
        ended = self.sv_t1 <= t
        n = int(ended.sum())
        mean = float(np.mean(self.sv_t1[ended] - self.sv_t0[ended])) if n else float("nan")
        return {
            "migrations": n,
            "mean_interruption_s": mean,
            "revenue": float(self.rev_amount[self.rev_t <= t].sum()),
            "in_flight": int(((self.tr_t0 <= t) & (t < self.tr_t1)).sum()),
            "failed": int((self.fail_t <= t).sum()),
            "lost": int((self.hosts(t)[self.initial_host >= 0] < 0).sum()),
        }

    def revenue_by_rsu(self, t: float) -> np.ndarray:
        """``[J]`` revenue each RSU earned up to ``t``."""
        sel = self.rev_t <= t
        return np.bincount(self.rev_rsu[sel], weights=self.rev_amount[sel], minlength=self.n_rsus)

    def last_price(self, t: float) -> np.ndarray:
        """``[U]`` price per MHz each UAV last paid by ``t`` (NaN if none yet)."""
        out = np.full(self.n_uavs, np.nan)
        sel = np.flatnonzero((self.tr_t0 <= t) & np.isfinite(self.tr_price))
        out[self.tr_uav[sel]] = self.tr_price[sel]  # sorted by start: the latest wins
        return out

    def events_of(self, uav: int, t: float, limit: int = 8) -> list[str]:
        """The last ``limit`` events of one UAV up to ``t``, as short lines (for ``--follow``).

        Args:
            uav: UAV id.
            t: Simulation time, s.
            limit: Most lines returned.

        Returns:
            Lines such as ``"t=23.9 s  round: RSU 4, 7 bid"``, oldest first.
        """
        ev: list[tuple[float, str]] = []
        for r in np.flatnonzero((self.rd_uav == uav) & (self.rd_t <= t)):
            cand = self.rd_cand[self.rd_cand_off[r]:self.rd_cand_off[r + 1]]
            ev.append((self.rd_t[r], "round: RSU " + ", ".join(str(c) for c in cand)))
        for k in np.flatnonzero((self.tr_uav == uav) & (self.tr_t0 <= t)):
            price = "" if not np.isfinite(self.tr_price[k]) else f" @ {self.tr_price[k]:.2f}"
            ev.append((self.tr_t0[k], f"twin {self.tr_twin[k]}: RSU {self.tr_src[k]} -> "
                                      f"{self.tr_dst[k]}{price}"))
            if self.tr_t1[k] <= t:
                ev.append((self.tr_t1[k],
                           f"twin {self.tr_twin[k]} arrived at RSU {self.tr_dst[k]}"))
        for k in np.flatnonzero((self.fail_uav == uav) & (self.fail_t <= t)):
            outcome = OUTCOMES[int(self.fail_outcome[k])]
            ev.append((self.fail_t[k], f"request failed: {outcome}"))
        for k in np.flatnonzero((self.hc_uav == uav) & (self.hc_host < 0) & (self.hc_t <= t)):
            ev.append((self.hc_t[k], f"twin {self.hc_twin[k]} lost with its failed RSU"))
        for k in np.flatnonzero((self.tev_uav == uav) & (self.tev_t <= t)):
            ev.append((self.tev_t[k], f"transfer {TRANSFER_EVENT[int(self.tev_event[k])]}"))
        ev.sort(key=lambda e: e[0])
        return [f"t={tt:7.1f} s  {text}" for tt, text in ev[-limit:]]



def point_on_route(route: np.ndarray, frac: float) -> np.ndarray:
    """The point a fraction ``frac`` of the way along a polyline.

    Args:
        route: ``[H, 2]`` vertices (one vertex: that point).
        frac: Fraction of the total length in ``[0, 1]``.

    Returns:
        ``[2]`` coordinates.
    """
    if route.shape[0] == 1:
        return route[0].astype(float)
    seg = np.linalg.norm(np.diff(route, axis=0), axis=1)
    total = seg.sum()
    if total <= 0:
        return route[0].astype(float)
    target = frac * total
    cum = np.concatenate(([0.0], np.cumsum(seg)))
    i = min(int(np.searchsorted(cum, target, side="right")) - 1, seg.size - 1)
    f = 0.0 if seg[i] <= 0 else (target - cum[i]) / seg[i]
    return route[i] + f * (route[i + 1] - route[i])
