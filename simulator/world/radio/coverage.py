"""Coverage defined by the radio: an RSU covers a UAV where the mean SNR reaches a threshold.

MODEL.md D3. RSU ``j`` covers a point where ``P_tx,j - PL_j(point) - N_j >= snr_min_db``, i.e.
where the mean path loss is at most ``L_j = P_tx,j - N_j - snr_min_db``. With an
altitude-aware model (Al-Hourani, 3GPP aerial) the cell is no longer a cylinder: its radius
depends on the UAV's height, and a UAV that climbs or descends can enter or leave a cell
without moving horizontally.

Crossing times stay exact. Along a straight segment the margin ``g(t) = L_j - PL_j(p(t))`` is a
smooth function of time; its sign changes are bracketed by sampling the stretch of the segment
that comes within the RSU's horizontal *reach* (at most ``sample_spacing_m`` apart, plus the
points of closest horizontal and 3-D approach, where the distance turns), and each root is
then solved to 1e-9 s by SciPy's vectorised bracketing solver (Chandrupatla's method, the
elementwise counterpart of ``brentq``). A cell entered and left again between two samples
(a stay shorter than one spacing) is not seen; tests compare with dense sampling.

Only nearby RSUs are tested: the reach of RSU ``j`` is the largest horizontal distance at
which ``g >= 0`` at any altitude the UAVs fly (from a grid over altitude and a geometric grid
over distance, padded), and a k-d tree over the RSUs gives each segment its candidates.

The events follow :class:`simulator.world.coverage.CrossingEvents`: an ``enter`` at the start
for every RSU covering the start point, then alternating ``enter``/``leave`` per RSU; the
state at a segment joint is the same for both segments (the margin is evaluated at the
bit-identical joint point), and zero-length stays are removed.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence

import numpy as np
from scipy.optimize.elementwise import find_root
from scipy.spatial import cKDTree

from simulator.world.coverage import (
    CellCoverage,
    CrossingEvents,
    SegmentBatch,
    drop_zero_stays,
    events_by_owner,
)
from simulator.world.mobility.trajectory import Trajectory
from simulator.world.radio.registry import PathLoss

__all__ = ["RadioCoverage"]

log = logging.getLogger(__name__)

#: Absolute tolerance of the crossing times (s).
TIME_TOLERANCE_S = 1e-9
_N_ALTITUDES = 121
_R_GROWTH = 1.004  # geometric step of the reach grid


class RadioCoverage(CellCoverage):
    """RSU cells where the mean SNR is at least a threshold, with exact crossing times.

    Args:
        positions: ``[J, 3]`` RSU antenna positions (m).
        max_path_loss_db: ``[J]`` largest mean path loss ``L_j`` that still covers (dB).
        path_loss: the radio model.
        altitude_range_m: ``(lo, hi)`` UAV altitudes (m above ground) the reach must cover.
        sample_spacing_m: largest distance between two bracketing samples on a segment (m).

    Raises:
        ValueError: bad shapes or values; a 3GPP model whose reach exceeds its validity range.
    """

    chunk_segments = 2000

    def __init__(self, positions: np.ndarray, max_path_loss_db: np.ndarray, path_loss: PathLoss,
                 altitude_range_m: tuple[float, float], sample_spacing_m: float = 10.0) -> None:
        pos = np.asarray(positions, dtype=float)
        if pos.ndim != 2 or pos.shape[1] != 3 or not np.isfinite(pos).all():
            raise ValueError(f"RadioCoverage: positions must be finite [J, 3], got {pos.shape}")
        n = pos.shape[0]
        budget = np.broadcast_to(np.asarray(max_path_loss_db, dtype=float), (n,)).copy()
        if not np.isfinite(budget).all():
            raise ValueError("RadioCoverage: max_path_loss_db must be finite")
        lo, hi = float(altitude_range_m[0]), float(altitude_range_m[1])
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise ValueError(f"RadioCoverage: altitude_range_m must be lo <= hi, got "
                             f"{altitude_range_m}")
        if not sample_spacing_m > 0:
            raise ValueError(f"RadioCoverage: sample_spacing_m must be > 0, got "
                             f"{sample_spacing_m}")
        path_loss.check_validity(np.array([lo, hi]), 0.0)
        self.positions = pos
        self.centres = np.ascontiguousarray(pos[:, :2])
        self.max_path_loss_db = budget
        self.path_loss = path_loss
        self.sample_spacing_m = float(sample_spacing_m)
        self.reach = self._reach(lo, hi)
        path_loss.check_validity(hi, float(self.reach.max()) if n else 0.0)
        self._rmax = float(self.reach.max()) if n else 0.0
        self._tree = cKDTree(self.centres) if n else None

    @property
    def n_rsus(self) -> int:
        """Number of RSUs ``J``."""
        return int(self.positions.shape[0])

    def margin_db(self, points: np.ndarray, rsu: np.ndarray | None = None) -> np.ndarray:
        """``L_j - PL_j(point)`` (dB): ``>= 0`` where covered.

        Args:
            points: ``[..., 3]`` positions; with ``rsu`` None, every RSU (``[..., J]`` out).
            rsu: RSU ids broadcast against ``points[..., 0]`` (pairwise).
        """
        p = np.asarray(points, dtype=float)
        if rsu is None:
            return self.max_path_loss_db - self.path_loss.mean_path_loss_db(
                p[..., None, :], self.positions)
        return self.max_path_loss_db[rsu] - self.path_loss.mean_path_loss_db(
            p, self.positions[rsu])

    def covering(self, points: np.ndarray) -> np.ndarray:
        """Which RSUs cover each point: ``[..., 3] -> [..., J]`` bool."""
        return self.margin_db(points) >= 0.0

    def footprint_radius(self, altitudes_m: np.ndarray, tolerance_m: float = 1e-3) -> np.ndarray:
        """Horizontal radius of each RSU's cell at each altitude: the farthest covered point.

        The margin is sampled on 2,049 radii from the antenna out to the RSU's reach, and the
        last sign change is then bisected to ``tolerance_m``. Every registered model loses
        more the farther the UAV at a fixed altitude, so the cell at an altitude is this disc
        (0 where nothing is covered).

        Args:
            altitudes_m: ``[A]`` UAV altitudes, m.
            tolerance_m: Precision of the radius, m.

        Returns:
            ``[J, A]`` radii, m.
        """
        alts = np.asarray(altitudes_m, dtype=float).reshape(-1)
        n = self.n_rsus
        out = np.zeros((n, alts.size))
        frac = np.linspace(0.0, 1.0, 2049)
        for j in range(n):
            if self.reach[j] <= 0:
                continue
            radii = frac * self.reach[j]
            pts = np.stack(np.broadcast_arrays(self.positions[j, 0] + radii[None, :],
                                               self.positions[j, 1], alts[:, None]), axis=-1)
            ok = self.margin_db(pts, np.full(radii.size, j)) >= 0.0          # [A, R]
            has = ok.any(axis=1)
            last = np.where(has, radii.size - 1 - np.argmax(ok[:, ::-1], axis=1), 0)
            lo = radii[last]
            hi = radii[np.minimum(last + 1, radii.size - 1)]
            while np.any(hi - lo > tolerance_m):
                mid = 0.5 * (lo + hi)
                p = np.stack([self.positions[j, 0] + mid, np.full_like(mid, self.positions[j, 1]),
                              alts], axis=-1)
                inside = self.margin_db(p, np.full(mid.size, j)) >= 0.0
                lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
            out[j] = np.where(has, lo, 0.0)
        return out

    def _reach(self, lo: float, hi: float) -> np.ndarray:
        """Per RSU, a horizontal distance beyond which no altitude in ``[lo, hi]`` is covered."""
        n = self.positions.shape[0]
        reach = np.zeros(n)
        if n == 0:
            return reach
        alts = np.linspace(lo, hi, _N_ALTITUDES)
        for z in np.unique(self.positions[:, 2]):
            rows = np.flatnonzero(self.positions[:, 2] == z)
            top = float(self.max_path_loss_db[rows].max())
            r_max = 1.0
            while True:  # grow the grid until its far end is uncovered at every altitude
                radii = np.concatenate([[0.0], np.geomspace(0.5, r_max, max(
                    8, int(np.log(r_max / 0.5) / np.log(_R_GROWTH)) + 1))])
                pl = self.path_loss.mean_path_loss_db(
                    np.stack(np.broadcast_arrays(radii[None, :], 0.0, alts[:, None]), axis=-1),
                    np.array([0.0, 0.0, z]))                                 # [alts, radii]
                best = pl.min(axis=0)                                        # per radius
                if best[-1] > top + 1.0 and r_max > 4 * hi:
                    break
                r_max *= 4.0
                if r_max > 1e8:
                    raise ValueError(f"RadioCoverage: the cells have no finite reach (budget "
                                     f"{top:g} dB)")
            for j in rows:
                ok = np.flatnonzero(best <= self.max_path_loss_db[j])
                # pad by one grid step and 2 %: the altitude grid may miss the exact optimum
                reach[j] = radii[min(ok[-1] + 1, radii.size - 1)] * 1.02 if ok.size else 0.0
        return reach

    # -- crossings ----------------------------------------------------------------------
    def crossings_chunk(self, trajs: Sequence[Trajectory]) -> list[CrossingEvents]:
        """The events of each trajectory (see the module docstring).

        Raises:
            ValueError: a UAV outside the model's validity range.
        """
        if not trajs:
            return []
        b = SegmentBatch.of(trajs)
        self.path_loss.check_validity(np.concatenate([b.p0[:, 2], b.p1[:, 2]]), 0.0)
        return events_by_owner(len(trajs), *self._events(b.t0, b.t1, b.p0, b.p1, b.owner,
                                                         b.first))

    def _candidates(self, p0: np.ndarray, p1: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(segment, rsu, s_lo, s_hi): pairs whose segment comes within the RSU's reach, and
        the stretch ``[s_lo, s_hi]`` of the segment parameter inside that reach."""
        assert self._tree is not None
        a, b = p0[:, :2], p1[:, :2]
        length = np.hypot(*(b - a).T)
        mid = 0.5 * (a + b)
        hits = self._tree.query_ball_point(mid, 0.5 * length + self._rmax * (1 + 1e-9) + 1e-9,
                                           return_sorted=False)
        lens = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
        rsu = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64,
                          count=int(lens.sum()))
        seg = np.repeat(np.arange(len(hits)), lens)
        d = (b - a)[seg]
        f = a[seg] - self.centres[rsu]
        qa = (d * d).sum(axis=1)
        qb = 2.0 * (d * f).sum(axis=1)
        qc = (f * f).sum(axis=1) - self.reach[rsu] ** 2
        disc = qb * qb - 4.0 * qa * qc
        with np.errstate(divide="ignore", invalid="ignore"):
            sq = np.sqrt(np.maximum(disc, 0.0))
            s_lo = np.where(qa > 0, (-qb - sq) / (2 * qa), 0.0)
            s_hi = np.where(qa > 0, (-qb + sq) / (2 * qa), 1.0)
        hover_in = (qa == 0) & (qc <= 0)
        moving_in = (qa > 0) & (disc >= 0) & (s_hi >= 0) & (s_lo <= 1)
        keep = hover_in | moving_in
        return (seg[keep], rsu[keep], np.clip(s_lo[keep], 0.0, 1.0),
                np.clip(s_hi[keep], 0.0, 1.0))

    def _events(self, t0: np.ndarray, t1: np.ndarray, p0: np.ndarray, p1: np.ndarray,
                owner: np.ndarray, first: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        e_i = np.zeros(0, dtype=np.int64)
        if self._tree is None:
            return e_i, np.zeros(0), e_i, np.zeros(0, dtype=bool)
        seg, rsu, s_lo, s_hi = self._candidates(p0, p1)
        span = (t1 - t0)[seg]
        d3 = p1[seg] - p0[seg]
        vel = d3 / span[:, None]
        seg_len = np.linalg.norm(d3, axis=1)
        # samples, in increasing order: the stretch within reach, at most sample_spacing_m
        # apart, split at the closest horizontal approach (where the distance turns)
        with np.errstate(divide="ignore", invalid="ignore"):
            f2 = (p0[seg] - self.positions[rsu])[:, :2]
            s_h = -(d3[:, :2] * f2).sum(axis=1) / (d3[:, :2] ** 2).sum(axis=1)
        s_mid = np.clip(np.nan_to_num(s_h, nan=0.0), s_lo, s_hi)
        n1 = np.where(s_mid > s_lo, np.maximum(
            1, np.ceil((s_mid - s_lo) * seg_len / self.sample_spacing_m)), 0).astype(np.int64)
        n2 = np.maximum(1, np.ceil((s_hi - s_mid) * seg_len / self.sample_spacing_m)
                        ).astype(np.int64)
        n_pts = n1 + n2 + 1
        pair = np.repeat(np.arange(seg.size), n_pts)
        k = np.arange(pair.size) - (np.cumsum(n_pts) - n_pts)[pair]
        n1p, n2p = n1[pair], n2[pair]
        s = np.where(k < n1p, s_lo[pair] + (s_mid - s_lo)[pair] * k / np.maximum(n1p, 1),
                     s_mid[pair] + (s_hi - s_mid)[pair] * (k - n1p) / n2p)
        last = k == n1p + n2p
        s = np.where(last, s_hi[pair], s)
        end = last & (s_hi[pair] == 1.0)
        u = np.where(end, span[pair], s * span[pair])
        g = self._margin_along(u, pair, seg, rsu, p0, p1, vel, end)
        inside = g >= 0.0
        # initial enters: the first segment of a trajectory, covered at its start
        at_start = first[seg[pair]] & (u == 0.0) & inside
        # sign changes between consecutive samples of one pair
        flip = (pair[1:] == pair[:-1]) & (inside[1:] != inside[:-1])
        i_a = np.flatnonzero(flip)
        i_b = i_a + 1
        bp = pair[i_a]
        u_root = self._roots(u[i_a], u[i_b], g[i_a], g[i_b], bp, seg, rsu, p0, p1, vel, span)
        root = np.minimum(t0[seg[bp]] + u_root, t1[seg[bp]])
        n0 = int(at_start.sum())
        ev_seg = np.concatenate([seg[pair[at_start]], seg[bp]])
        ev_rsu = np.concatenate([rsu[pair[at_start]], rsu[bp]])
        ev_t = np.concatenate([t0[seg[pair[at_start]]], root])
        ev_enter = np.concatenate([np.ones(n0, dtype=bool), ~inside[i_a]])
        ev_u = np.concatenate([np.full(n0, -1.0), u[i_a]])
        ev_owner = owner[ev_seg]
        order = np.lexsort((ev_u, ev_seg, ev_rsu, ev_owner))
        ev_owner, ev_rsu, ev_t, ev_enter = (ev_owner[order], ev_rsu[order], ev_t[order],
                                            ev_enter[order])
        keep = drop_zero_stays(ev_owner, ev_rsu, ev_t)
        log.debug("radio crossings: %d segments, %d candidate pairs, %d samples, %d events",
                  t0.size, seg.size, pair.size, int(keep.sum()))
        return ev_owner[keep], ev_t[keep], ev_rsu[keep], ev_enter[keep]

    def _margin_along(self, u: np.ndarray, pair: np.ndarray, seg: np.ndarray,
                      rsu: np.ndarray, p0: np.ndarray, p1: np.ndarray, vel: np.ndarray,
                      end: np.ndarray | None = None) -> np.ndarray:
        """Margin at time ``u`` after the start of candidate pair ``pair``'s segment; the
        segment's exact end point where ``end`` (so a joint is evaluated identically from
        both of its segments)."""
        pts = p0[seg][pair]
        pts += u[:, None] * vel[pair]
        if end is not None:
            at_end = np.flatnonzero(end)
            pts[at_end] = p1[seg[pair[at_end]]]
        return self.margin_db(pts, rsu[pair])

    def _roots(self, ua: np.ndarray, ub: np.ndarray, ga: np.ndarray, gb: np.ndarray,
               bp: np.ndarray, seg: np.ndarray, rsu: np.ndarray, p0: np.ndarray,
               p1: np.ndarray, vel: np.ndarray, span: np.ndarray) -> np.ndarray:
        """Roots (time since the segment start) of the margin in ``[ua, ub]``, to 1e-9 s.

        The ends have opposite signs (or one is exactly 0, then it is the root).
        """
        root = np.where(ga == 0.0, ua, ub)
        todo = np.flatnonzero((ga != 0.0) & (gb != 0.0))
        if todo.size == 0:
            return root
        pairs = bp[todo]

        def margin(x: np.ndarray, index: np.ndarray) -> np.ndarray:
            i = pairs[index.astype(np.int64)]
            return self._margin_along(x.ravel(), i.ravel(), seg, rsu, p0, p1, vel
                                      ).reshape(x.shape)

        res = find_root(margin, (ua[todo], ub[todo]), args=(np.arange(todo.size),),
                        tolerances={"xatol": TIME_TOLERANCE_S, "xrtol": 0.0})
        x = np.clip(res.x, ua[todo], ub[todo])
        # an end sampled as the segment's exact end point can differ from the formula by an
        # ulp, and a margin of ~1e-13 dB can then change sign: that end is the root
        invalid = res.status == -1
        x[invalid] = np.where(np.abs(ga[todo][invalid]) <= np.abs(gb[todo][invalid]),
                              ua[todo][invalid], ub[todo][invalid])
        failed = ~(res.success | invalid)
        if failed.any():
            b = int(np.flatnonzero(failed)[0])
            raise RuntimeError(f"RadioCoverage: root finding failed on [{ua[todo][b]}, "
                               f"{ub[todo][b]}] s (status {int(res.status[b])})")
        root[todo] = x
        return root
