"""RSU cells and the exact times UAVs cross their borders.

An RSU's cell is a vertical cylinder: a UAV at any altitude is covered when its horizontal
distance to the RSU is at most the RSU's radius (closed disc). Because trajectories are
straight segments (:mod:`simulator.world.mobility.trajectory`), the squared horizontal
distance along a segment
is a quadratic in the segment parameter ``s in [0, 1]``,
``q(s) = a s^2 + b s + c`` (``a = |D|^2``, ``b = 2 D.(P0 - C)``, ``c = |P0 - C|^2 - r^2``),
so border crossings are its roots: handovers become scheduled events, never polls.

Event rules (robust at borders and at segment joints):

* the UAV is *inside* on an open stretch of a segment where ``q < 0``; the state just after a
  segment's start and just before its end is decided from the exact sign of ``q`` there and,
  if ``q == 0``, the sign of its slope; events inside a segment are placed at the roots;
* at a joint between two segments an event is emitted when the state just before differs from
  the state just after (so a UAV that touches a border and turns back makes no event);
* the trajectory start gives an ``enter`` for every RSU whose closed disc holds the start
  point, followed, if the UAV leaves at once, by a ``leave`` at the same time;
* a stay of zero duration (an enter and a leave of the same RSU at the same time) is removed,
  so tangent touches and a start on a border heading out produce no events at all.

Candidates: a ``scipy.spatial.cKDTree`` over the RSU centres is queried once per segment
midpoint with radius ``half-length + max radius``, so each segment only tests nearby RSUs; the
quadratic is then solved for all candidate (segment, RSU) pairs at once.
"""

from __future__ import annotations

import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.spatial import cKDTree

from simulator.world.mobility.trajectory import Trajectory

__all__ = ["CellCoverage", "CoverageMap", "CrossingEvents", "SegmentBatch", "drop_zero_stays",
           "events_by_owner", "trajectory_chunks"]

log = logging.getLogger(__name__)

_Grid = tuple[np.ndarray, float, tuple[int, int], np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class CrossingEvents:
    """Cell-border crossings of one UAV, sorted by ``(t, leave before enter, rsu)``.

    Per RSU the events alternate ``enter``, ``leave``, ``enter``, ... starting with
    ``enter``; no two events of one RSU share a time.

    Attributes:
        t: ``[m]`` event times (s).
        rsu: ``[m]`` RSU ids (int64).
        enter: ``[m]`` True for entering the cell, False for leaving it.
    """

    t: np.ndarray
    rsu: np.ndarray
    enter: np.ndarray

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass(frozen=True, eq=False)
class SegmentBatch:
    """The segments of several trajectories, concatenated for one vectorised pass.

    Attributes:
        t0, t1: ``[n]`` segment start and end times (s).
        p0, p1: ``[n, 3]`` segment start and end points (m).
        owner: ``[n]`` index of the trajectory each segment belongs to.
        first, last: ``[n]`` True on each trajectory's first (last) segment.
    """

    t0: np.ndarray
    t1: np.ndarray
    p0: np.ndarray
    p1: np.ndarray
    owner: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, trajs: Sequence[Trajectory]) -> SegmentBatch:
        """Concatenate the segments of ``trajs`` (at least one trajectory)."""
        counts = np.array([tr.n_segments for tr in trajs])
        ends = np.cumsum(counts)
        first = np.zeros(int(ends[-1]), dtype=bool)
        first[ends - counts] = True
        last = np.zeros(int(ends[-1]), dtype=bool)
        last[ends - 1] = True
        return cls(t0=np.concatenate([tr.t0 for tr in trajs]),
                   t1=np.concatenate([tr.t1 for tr in trajs]),
                   p0=np.concatenate([tr.p0 for tr in trajs]),
                   p1=np.concatenate([tr.p1 for tr in trajs]),
                   owner=np.repeat(np.arange(len(trajs)), counts), first=first, last=last)


class CellCoverage(ABC):
    """The coverage interface the world uses: which RSUs cover a point, and the exact times
    UAVs cross the cells' borders.

    Two models implement it: :class:`CoverageMap` (discs of a fixed radius, the default) and
    :class:`simulator.world.radio.coverage.RadioCoverage` (where the mean SNR reaches a
    threshold). A model provides :attr:`n_rsus`, :meth:`covering` and :meth:`crossings_chunk`;
    the windowing and chunking of :meth:`crossings_many` are shared.
    """

    #: Segments handed to :meth:`crossings_chunk` at once (bounds its temporary arrays).
    chunk_segments: ClassVar[int]

    @property
    @abstractmethod
    def n_rsus(self) -> int:
        """Number of RSUs ``J``."""

    @abstractmethod
    def covering(self, points: np.ndarray) -> np.ndarray:
        """Which RSUs cover each point: ``[..., 2|3] -> [..., J]`` bool."""

    @abstractmethod
    def crossings_chunk(self, trajs: Sequence[Trajectory]) -> list[CrossingEvents]:
        """The events of each trajectory over its whole span (one vectorised pass)."""

    def covering_ids(self, point: np.ndarray) -> np.ndarray:
        """Sorted ids of the RSUs covering one point."""
        return np.flatnonzero(self.covering(np.asarray(point, dtype=float).reshape(-1)))

    def crossings(self, traj: Trajectory, t_from: float | None = None,
                  t_to: float | None = None) -> CrossingEvents:
        """Exact cell crossings of one trajectory within ``[t_from, t_to]``.

        The window is clamped to the trajectory's span; the initial ``enter`` events are at
        the window start. See the module docstring for the rules at borders.

        Args:
            traj: the UAV's trajectory.
            t_from: window start (s); ``None`` = trajectory start.
            t_to: window end (s); ``None`` = trajectory end.

        Returns:
            The events.

        Raises:
            ValueError: the window is empty (or the model refuses the trajectory, e.g. a UAV
                outside a radio model's validity range).
        """
        return self.crossings_many([traj], t_from, t_to)[0]

    def crossings_many(self, trajs: Sequence[Trajectory], t_from: float | None = None,
                       t_to: float | None = None) -> list[CrossingEvents]:
        """:meth:`crossings` for many trajectories, in vectorised chunks.

        Args:
            trajs: one trajectory per UAV.
            t_from: window start (s) for all; ``None`` = each trajectory's start.
            t_to: window end (s) for all; ``None`` = each trajectory's end.

        Returns:
            One :class:`CrossingEvents` per trajectory.

        Raises:
            ValueError: as :meth:`crossings`.
        """
        if t_from is not None or t_to is not None:
            trajs = [tr.clip(t_from, t_to) for tr in trajs]
        return [ev for chunk in trajectory_chunks(trajs, self.chunk_segments)
                for ev in self.crossings_chunk(chunk)]


class CoverageMap(CellCoverage):
    """RSU cells as vertical cylinders, with a spatial index over their centres.

    Args:
        centres: ``[J, 2]`` or ``[J, 3]`` RSU positions (m); only x, y matter.
        radii_m: ``[J]`` cell radii or one radius for all (m), ``> 0``.

    Raises:
        ValueError: bad shapes, non-finite values or non-positive radii.
    """

    #: Segments per vectorised pass of :meth:`crossings_many`. A pass's temporaries take about
    #: 10 kB per segment, and they set the peak resident memory of a large world's build
    #: (`benchmarks/bench_world.py --big`'s peak); 50,000 nearly doubled it at 10,000 UAVs
    #: without being faster. The events are the same bytes for any chunk size
    #: (tests/test_coverage.py compares batches with single trajectories).
    chunk_segments = 10_000

    def __init__(self, centres: np.ndarray, radii_m: np.ndarray | float) -> None:
        c = np.asarray(centres, dtype=float)
        if c.ndim != 2 or c.shape[1] not in (2, 3) or not np.isfinite(c).all():
            raise ValueError(f"CoverageMap: centres must be finite [J, 2|3], got shape {c.shape}")
        self.centres: np.ndarray = np.ascontiguousarray(c[:, :2])
        n = self.centres.shape[0]
        r = np.broadcast_to(np.asarray(radii_m, dtype=float), (n,)).copy() if np.ndim(
            radii_m) == 0 else np.asarray(radii_m, dtype=float)
        if r.shape != (n,):
            raise ValueError(f"CoverageMap: radii_m must be a scalar or [{n}], got {r.shape}")
        if not (np.isfinite(r).all() and (r > 0).all()):
            raise ValueError(f"CoverageMap: radii_m must be > 0, got {r.tolist()}")
        self.radii: np.ndarray = r
        self._r2 = r * r
        self._rmax = float(r.max()) if n else 0.0
        self._tree = cKDTree(self.centres) if n else None
        self._grid_cache: _Grid | None = None

    @property
    def n_rsus(self) -> int:
        """Number of RSUs ``J``."""
        return int(self.centres.shape[0])

    def covering(self, points: np.ndarray) -> np.ndarray:
        """Which RSUs cover each point (horizontal distance <= radius).

        Args:
            points: ``[..., 2|3]`` positions (m).

        Returns:
            ``[..., J]`` bool.
        """
        p = np.asarray(points, dtype=float)
        dx = p[..., None, 0] - self.centres[:, 0]
        dy = p[..., None, 1] - self.centres[:, 1]
        return dx * dx + dy * dy <= self._r2

    def crossings_chunk(self, trajs: Sequence[Trajectory]) -> list[CrossingEvents]:
        """The events of each trajectory (see the module docstring for the rules)."""
        if not trajs:
            return []
        b = SegmentBatch.of(trajs)
        return events_by_owner(len(trajs), *self._events(
            b.t0, b.t1, b.p0[:, :2], b.p1[:, :2], b.owner, b.first, b.last))

    def _grid(self) -> _Grid:
        """Uniform grid over the RSUs' borders, built once: per cell, the RSUs whose circle
        passes within ``margin`` of the cell (CSR arrays). Any segment no longer than
        ``margin`` that starts in a cell can only touch those circles.

        Returns:
            (origin, cell size = margin, shape, ptr, rsu ids).
        """
        if self._grid_cache is None:
            size = self._rmax / 8.0
            lo = self.centres.min(axis=0) - self._rmax - size
            hi = self.centres.max(axis=0) + self._rmax + size
            size = max(size, float((hi - lo).max()) / 2000.0)  # at most 4M cells
            shape = (max(1, int(np.ceil((hi[0] - lo[0]) / size))),
                     max(1, int(np.ceil((hi[1] - lo[1]) / size))))
            cells: list[np.ndarray] = []
            ids: list[np.ndarray] = []
            for j, (cx, cy) in enumerate(self.centres):
                r = float(self.radii[j])
                reach = r + 2.0 * size
                ix = np.arange(max(0, int((cx - reach - lo[0]) // size)),
                               min(shape[0], int((cx + reach - lo[0]) // size) + 1))
                iy = np.arange(max(0, int((cy - reach - lo[1]) // size)),
                               min(shape[1], int((cy + reach - lo[1]) // size) + 1))
                gx, gy = np.meshgrid(ix, iy, indexing="ij")
                # the cell dilated by one cell size on each side: [x0, x1] x [y0, y1]
                x0, x1 = lo[0] + (gx - 1) * size, lo[0] + (gx + 2) * size
                y0, y1 = lo[1] + (gy - 1) * size, lo[1] + (gy + 2) * size
                near = np.hypot(np.maximum(np.maximum(x0 - cx, cx - x1), 0.0),
                                np.maximum(np.maximum(y0 - cy, cy - y1), 0.0))
                far = np.hypot(np.maximum(cx - x0, x1 - cx), np.maximum(cy - y0, y1 - cy))
                hit = (near <= r * (1 + 1e-9) + 1e-9) & (far >= r * (1 - 1e-9) - 1e-9)
                cells.append(gx[hit] * shape[1] + gy[hit])
                ids.append(np.full(int(hit.sum()), j, dtype=np.int64))
            cell = np.concatenate(cells)
            rsu = np.concatenate(ids)
            order = np.lexsort((rsu, cell))
            ptr = np.searchsorted(cell[order], np.arange(shape[0] * shape[1] + 1))
            self._grid_cache = (lo, size, shape, ptr, rsu[order])
        return self._grid_cache

    def _candidates(self, a_xy: np.ndarray, b_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(segment, rsu) pairs whose circle may touch the segment (a superset).

        Short segments (at most one grid cell long) take the RSU list of the cell holding
        their start (vectorised); longer ones query the k-d tree with radius
        half-length + max radius around their midpoint.
        """
        assert self._tree is not None
        lo, size, shape, ptr, cell_rsu = self._grid()
        length = np.hypot(*(b_xy - a_xy).T)
        short = length <= size * (1 - 1e-9)
        ca = np.floor((a_xy - lo) / size).astype(np.int64)
        seg_g = np.flatnonzero(short & ((ca >= 0) & (ca < shape)).all(axis=1))
        cid = ca[seg_g, 0] * shape[1] + ca[seg_g, 1]
        start, count = ptr[cid], ptr[cid + 1] - ptr[cid]
        seg_1 = np.repeat(seg_g, count)
        offs = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        rsu_1 = cell_rsu[np.repeat(start, count) + offs]
        seg_t = np.flatnonzero(~short)
        mid = 0.5 * (a_xy[seg_t] + b_xy[seg_t])
        reach = (0.5 * length[seg_t] + self._rmax) * (1.0 + 1e-9) + 1e-9
        hits = self._tree.query_ball_point(mid, reach, return_sorted=False) if seg_t.size else []
        lens = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
        rsu_2 = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64,
                            count=int(lens.sum()))
        seg_2 = np.repeat(seg_t, lens)
        return np.concatenate([seg_1, seg_2]), np.concatenate([rsu_1, rsu_2])

    def _events(self, t0: np.ndarray, t1: np.ndarray, a_xy: np.ndarray, b_xy: np.ndarray,
                owner: np.ndarray, first: np.ndarray, last: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All events of all segments: (owner, t, rsu, enter), zero-length stays removed."""
        if self._tree is None:
            e_i = np.zeros(0, dtype=np.int64)
            return e_i, np.zeros(0), e_i, np.zeros(0, dtype=bool)
        seg, rsu = self._candidates(a_xy, b_xy)
        a, b, b_end, c, e = _quadratic(a_xy[seg], b_xy[seg], self.centres[rsu], self._r2[rsu])
        disc = b * b - 4.0 * a * c
        through = (c > 0) & (e > 0) & (disc > 0) & (a > 0) & (-b > 0) & (-b < 2 * a)
        # only pairs touching the circle can make events (the rest is all-in or all-out)
        touch = ~(((c < 0) & (e < 0)) | ((c > 0) & (e > 0) & ~through))
        seg, rsu, a, b, b_end, c, e, disc, through = (
            x[touch] for x in (seg, rsu, a, b, b_end, c, e, disc, through))
        in0 = (c < 0) | ((c == 0) & (b < 0))      # inside just after the segment start
        in1 = (e < 0) | ((e == 0) & (b_end > 0))  # inside just before the segment end
        sq = np.sqrt(np.maximum(disc, 0.0))
        qq = -0.5 * (b + np.copysign(sq, b))
        with np.errstate(divide="ignore", invalid="ignore"):
            r_a = np.where(qq != 0, qq / a, -b / (2 * a))
            r_b = np.where(qq != 0, c / qq, -b / (2 * a))
        s_lo = np.clip(np.nan_to_num(np.minimum(r_a, r_b)), 0.0, 1.0)
        s_hi = np.clip(np.nan_to_num(np.maximum(r_a, r_b)), 0.0, 1.0)
        ent = ((~in0) & in1) | through
        lea = (in0 & ~in1) | through
        # t0 + s * span is monotone in s; the min keeps it inside the segment (<= t1)
        span = t1[seg] - t0[seg]
        t_lo = np.minimum(t0[seg] + s_lo * span, t1[seg])
        t_hi = np.minimum(t0[seg] + s_hi * span, t1[seg])
        # joints: a flip needs the joint point on the circle, so both pairs are present
        n_r = np.int64(self.n_rsus)
        key = seg * n_r + rsu
        order = np.argsort(key)
        skey = key[order]
        nxt = key + n_r
        pos = np.minimum(np.searchsorted(skey, nxt), max(skey.size - 1, 0))
        partner = order[pos]
        has_next = (skey[pos] == nxt) & ~last[seg] if skey.size else np.zeros(0, bool)
        jflip = has_next & (in1 != in0[partner])
        j_idx = partner[jflip]
        # start: enter for every RSU covering the start point; leave at once if heading out
        starts = np.flatnonzero(first)
        init_seg, init_rsu = self._covering_pairs(a_xy[starts])
        init_seg = starts[init_seg]
        sflip = first[seg] & (c <= 0) & ~in0
        parts = [  # (segment, rsu, t, enter, phase, s): phase -1 start, 0 joint, 1 inside
            (init_seg, init_rsu, t0[init_seg], True, -1.0, 0.0),
            (seg[sflip], rsu[sflip], t0[seg[sflip]], False, 0.0, 0.0),
            (seg[j_idx], rsu[j_idx], t0[seg[j_idx]], in0[j_idx], 0.0, 0.0),
            (seg[ent], rsu[ent], t_lo[ent], True, 1.0, s_lo[ent]),
            (seg[lea], rsu[lea], t_hi[lea], False, 1.0, s_hi[lea]),
        ]
        cols = [np.concatenate([np.broadcast_to(np.asarray(p[i]), p[0].shape) for p in parts])
                for i in range(6)]
        ev_seg, ev_rsu, ev_t, ev_enter, ev_phase, ev_s = cols
        ev_owner = owner[ev_seg]
        # per (owner, rsu): the state-machine order; then drop zero-duration stays
        order = np.lexsort((ev_s, ev_phase, ev_seg, ev_rsu, ev_owner))
        ev_owner, ev_rsu, ev_t, ev_enter = (ev_owner[order], ev_rsu[order], ev_t[order],
                                            ev_enter[order].astype(bool))
        keep = drop_zero_stays(ev_owner, ev_rsu, ev_t)
        log.debug("crossings: %d segments, %d border pairs, %d events", t0.size, seg.size,
                  int(keep.sum()))
        return ev_owner[keep], ev_t[keep], ev_rsu[keep], ev_enter[keep]

    def _covering_pairs(self, points_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, rsu) for every RSU whose closed disc holds the point."""
        assert self._tree is not None
        hits = self._tree.query_ball_point(points_xy, self._rmax * (1.0 + 1e-9) + 1e-9,
                                           return_sorted=False)
        lens = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
        rsu = np.fromiter(itertools.chain.from_iterable(hits), dtype=np.int64,
                          count=int(lens.sum()))
        idx = np.repeat(np.arange(len(hits)), lens)
        f = points_xy[idx] - self.centres[rsu]
        ok = f[:, 0] * f[:, 0] + f[:, 1] * f[:, 1] <= self._r2[rsu]
        return idx[ok], rsu[ok]


def _quadratic(a_xy: np.ndarray, b_xy: np.ndarray, c_xy: np.ndarray, r2: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients of ``q(s) = |A + s D - C|^2 - r^2 = a s^2 + b s + c`` per pair, plus the
    slope ``q'(1)`` and the end value ``e = q(1)`` computed directly from ``B`` (so a joint's
    value is bit-identical for the two segments sharing it, and equal to covering()'s)."""
    d = b_xy - a_xy
    f0 = a_xy - c_xy
    f1 = b_xy - c_xy
    a = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]
    b = 2.0 * (d[:, 0] * f0[:, 0] + d[:, 1] * f0[:, 1])
    b_end = 2.0 * (d[:, 0] * f1[:, 0] + d[:, 1] * f1[:, 1])
    c = f0[:, 0] * f0[:, 0] + f0[:, 1] * f0[:, 1] - r2
    e = f1[:, 0] * f1[:, 0] + f1[:, 1] * f1[:, 1] - r2
    return a, b, b_end, c, e


def trajectory_chunks(trajs: Sequence[Trajectory], limit: int) -> Iterator[list[Trajectory]]:
    """Consecutive groups of trajectories of about ``limit`` segments each (the vectorised
    crossing searches keep their temporaries in cache this way); at least one, maybe empty."""
    chunk: list[Trajectory] = []
    n_seg = 0
    for tr in trajs:
        chunk.append(tr)
        n_seg += tr.n_segments
        if n_seg >= limit:
            yield chunk
            chunk, n_seg = [], 0
    yield chunk


def events_by_owner(n_owners: int, owner: np.ndarray, t: np.ndarray, rsu: np.ndarray,
                    enter: np.ndarray) -> list[CrossingEvents]:
    """Split events of ``n_owners`` trajectories into one :class:`CrossingEvents` each, sorted
    by ``(t, leave before enter, rsu)``."""
    order = np.lexsort((rsu, enter, t, owner))
    owner, t, rsu, enter = owner[order], t[order], rsu[order], enter[order]
    bounds = np.searchsorted(owner, np.arange(n_owners + 1))
    return [CrossingEvents(t[lo:hi], rsu[lo:hi], enter[lo:hi])
            for lo, hi in itertools.pairwise(bounds)]


def drop_zero_stays(owner: np.ndarray, rsu: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Mask keeping, in each run of equal (owner, rsu, t) events (alternating kinds), only the
    last event if the run is odd, nothing if even: the net state change at that instant."""
    m = t.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    new_run = np.ones(m, dtype=bool)
    new_run[1:] = (owner[1:] != owner[:-1]) | (rsu[1:] != rsu[:-1]) | (t[1:] != t[:-1])
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    lengths = np.diff(np.append(starts, m))
    pos = np.arange(m) - starts[run_id]
    run_len = lengths[run_id]
    return (run_len % 2 == 1) & (pos == run_len - 1)
