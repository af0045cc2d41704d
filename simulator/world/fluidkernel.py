"""Compiled operations of the fluid data plane (:class:`simulator.world.fluid.FluidLinks`).

The flows and links live in arrays that :class:`~simulator.world.fluid.FluidLinks` owns and
passes to every call; one call does a whole change (add a flow; remove the flows that
complete now; remove one flow), re-rates the flows it affects and returns the next
completion, so a transfer costs two compiled calls. The arithmetic is the pure-Python
model's, operation for operation (no fastmath, no reassociation): a flow's bits left are
booked as ``left - rate * (now - since)`` clipped at 0, its rate is the smallest share
``capacity / users`` along its path taken in path order, its completion time
``now + left / rate``; the next completion is the smallest ``(time, flow id)``, a total
order, kept at the root of a tournament tree over the flow slots (each re-rated or removed
flow updates its leaf-to-root path: ``O(log S)``, no stale entries).

Layout (``S`` flow slots, ``P`` path links per flow at most, ``L`` links, ``K`` users per
link at most; :class:`~simulator.world.fluid.FluidLinks` grows ``S``, ``P`` and ``K``):

- ``fl [S, 5]`` float64: ``LEFT`` bits at ``SINCE``, ``RATE``, ``SIZE``, projected ``T``;
- ``fi [S, 3 + 2P]`` int64: ``FID``, ``PLEN`` (path length), ``STAMP`` (last re-rating pass
  that visited the flow), the path's link indices, then the flow's position in each of those
  links' user lists;
- ``lk [L, 2]`` float64: ``CAP``, ``SHARE``; ``lu [L, 1 + K]`` int64: user count, user slots;
- ``tr [2S]`` int64 (``S`` a power of 2): the tournament tree, ``tr[S + s]`` is ``s`` for a
  live flow and ``-1`` for a free slot, ``tr[i]`` the earlier of ``tr[2i]`` and
  ``tr[2i + 1]``; ``meta [1]`` int64: the re-rating pass counter;
- ``out [2, S]`` int64: the flows a :func:`complete` removed (ids, then slots).

They live in two flat buffers, so that a call passes two arrays (numba unboxes each array
argument, which costs more than a short kernel): ``fb`` float64 holds ``fl`` then ``lk``;
``ib`` int64 holds a header of :data:`HEAD` ints (``S``, ``3 + 2P``, ``L``, ``1 + K``, the
counter ``meta``), then ``fi``, ``lu``, ``tr`` and ``out``, each C-ordered
(:func:`views` takes them apart, :func:`pack` puts them together).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["HEAD", "add_flow", "complete", "pack", "peek", "rebuild", "remove_flow", "views"]

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}

LEFT, SINCE, RATE, SIZE, T = 0, 1, 2, 3, 4
FID, PLEN, STAMP, PATH = 0, 1, 2, 3
CAP, SHARE = 0, 1
#: Ints before ``fi`` in ``ib``: ``S``, ``3 + 2P``, ``L``, ``1 + K``, ``meta``, padding.
HEAD = 8


def pack(fl: np.ndarray, fi: np.ndarray, lk: np.ndarray, lu: np.ndarray, tr: np.ndarray,
         meta: int, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two buffers ``(fb, ib)`` holding copies of the arrays (plain NumPy: made when the
    arrays grow)."""
    (s, w), (n_links, kw) = fi.shape, lu.shape
    fb = np.concatenate([fl.reshape(-1), lk.reshape(-1)])
    head = np.array([s, w, n_links, kw, meta, 0, 0, 0], dtype=np.int64)
    ib = np.concatenate([head, fi.reshape(-1), lu.reshape(-1), tr, out.reshape(-1)])
    return fb, ib


@njit(inline="always", **_JIT)
def views(fb: np.ndarray, ib: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray]:
    """``(fl, fi, lk, lu, tr, meta, out)``: views of the two buffers (see the layout)."""
    s, w, n_links, kw = ib[0], ib[1], ib[2], ib[3]
    fl = fb[:5 * s].reshape((s, 5))
    lk = fb[5 * s:5 * s + 2 * n_links].reshape((n_links, 2))
    o = HEAD
    fi = ib[o:o + s * w].reshape((s, w))
    o += s * w
    lu = ib[o:o + n_links * kw].reshape((n_links, kw))
    o += n_links * kw
    tr = ib[o:o + 2 * s]
    o += 2 * s
    out = ib[o:o + 2 * s].reshape((2, s))
    return fl, fi, lk, lu, tr, ib[4:5], out


@njit(inline="always", **_JIT)
def _rerate(fl: np.ndarray, fi: np.ndarray, lk: np.ndarray, s: int, now: float) -> None:
    """Book flow ``s``'s bits drained up to ``now`` at its old rate, then give it its rate
    and projected completion time (the link shares are already current)."""
    left = fl[s, LEFT] - fl[s, RATE] * (now - fl[s, SINCE])
    left = left if left > 0.0 else 0.0
    fl[s, LEFT] = left
    fl[s, SINCE] = now
    rate = lk[fi[s, PATH], SHARE]
    for p in range(1, fi[s, PLEN]):
        share = lk[fi[s, PATH + p], SHARE]
        if share < rate:
            rate = share
    fl[s, RATE] = rate
    fl[s, T] = now + left / rate


@njit(inline="always", **_JIT)
def _earlier(fl: np.ndarray, fi: np.ndarray, a: int, b: int) -> int:
    """Whichever of slots ``a`` and ``b`` (``-1``: none) completes first: smaller time,
    then smaller flow id."""
    if a < 0:
        return b
    if b < 0:
        return a
    ta, tb = fl[a, T], fl[b, T]
    if ta < tb or (ta == tb and fi[a, FID] < fi[b, FID]):
        return a
    return b


@njit(inline="always", **_JIT)
def _update(fl: np.ndarray, fi: np.ndarray, tr: np.ndarray, s: int) -> None:
    """Replay the matches on the path from slot ``s``'s leaf to the root."""
    i = (tr.shape[0] // 2 + s) // 2
    while i >= 1:
        tr[i] = _earlier(fl, fi, tr[2 * i], tr[2 * i + 1])
        i //= 2


@njit(inline="always", **_JIT)
def _next(fl: np.ndarray, fi: np.ndarray, tr: np.ndarray) -> tuple[float, int, int]:
    """``(time, flow id, slot)`` of the earliest completion (smallest id on ties);
    ``(inf, -1, -1)`` without flows."""
    s = tr[1]
    if s < 0:
        return np.inf, -1, -1
    return fl[s, T], fi[s, FID], s


@njit(inline="always", **_JIT)
def _rerate_users(fl: np.ndarray, fi: np.ndarray, lk: np.ndarray, lu: np.ndarray,
                  tr: np.ndarray, s: int, stamp: int, now: float) -> None:
    """Re-rate every flow on a link of flow ``s``'s path not yet visited in pass ``stamp``."""
    for p in range(fi[s, PLEN]):
        link = fi[s, PATH + p]
        for k in range(1, lu[link, 0] + 1):
            u = lu[link, k]
            if fi[u, STAMP] != stamp:
                fi[u, STAMP] = stamp
                _rerate(fl, fi, lk, u, now)
                _update(fl, fi, tr, u)


@njit(inline="always", **_JIT)
def _off_links(fi: np.ndarray, lk: np.ndarray, lu: np.ndarray, s: int) -> None:
    """Take flow ``s`` off its links' user lists and update their shares."""
    npath = (fi.shape[1] - PATH) // 2  # P
    for p in range(fi[s, PLEN]):
        link = fi[s, PATH + p]
        pos = fi[s, PATH + npath + p]
        last = lu[link, lu[link, 0]]
        lu[link, 1 + pos] = last
        if last != s:
            for q in range(fi[last, PLEN]):
                if fi[last, PATH + q] == link:
                    fi[last, PATH + npath + q] = pos
                    break
        lu[link, 0] -= 1
        if lu[link, 0] > 0:
            lk[link, SHARE] = lk[link, CAP] / lu[link, 0]


@njit(inline="always", **_JIT)
def _off_tree(fl: np.ndarray, fi: np.ndarray, tr: np.ndarray, s: int) -> None:
    """Take flow ``s`` out of the tournament."""
    tr[tr.shape[0] // 2 + s] = -1
    _update(fl, fi, tr, s)


@njit(**_JIT)
def add_flow(fb: np.ndarray, ib: np.ndarray, slot: int, fid: int, path: np.ndarray,
             size: float, now: float) -> tuple[float, int]:
    """:func:`_add_flow` on the buffers."""
    fl, fi, lk, lu, tr, meta, _ = views(fb, ib)
    return _add_flow(fl, fi, lk, lu, tr, meta, slot, fid, path, size, now)


@njit(inline="always", **_JIT)
def _add_flow(fl: np.ndarray, fi: np.ndarray, lk: np.ndarray, lu: np.ndarray, tr: np.ndarray,
              meta: np.ndarray, slot: int, fid: int, path: np.ndarray, size: float,
              now: float) -> tuple[float, int]:
    """Start flow ``fid`` in the free ``slot`` over the distinct links ``path`` with ``size``
    bits at ``now``; re-rate the flows sharing a link with it. Returns the next completion
    ``(time, flow id)``, or ``(nan, -1)`` without touching anything if ``path`` is longer
    than ``P`` or one of its links has ``K`` users already (grow the arrays, call again)."""
    npath = (fi.shape[1] - PATH) // 2
    if path.shape[0] > npath:
        return np.nan, -1
    for p in range(path.shape[0]):
        if lu[path[p], 0] + 1 >= lu.shape[1]:
            return np.nan, -1
    fl[slot, LEFT] = size
    fl[slot, SINCE] = now
    fl[slot, RATE] = 0.0
    fl[slot, SIZE] = size
    fi[slot, FID] = fid
    fi[slot, PLEN] = path.shape[0]
    fi[slot, STAMP] = -1
    fl[slot, T] = np.inf
    tr[tr.shape[0] // 2 + slot] = slot
    for p in range(path.shape[0]):
        link = path[p]
        fi[slot, PATH + p] = link
        n = lu[link, 0] + 1
        lu[link, 0] = n
        lu[link, n] = slot
        fi[slot, PATH + npath + p] = n - 1
        lk[link, SHARE] = lk[link, CAP] / n
    meta[0] += 1
    _rerate_users(fl, fi, lk, lu, tr, slot, meta[0], now)
    t, f, _ = _next(fl, fi, tr)
    return t, f


@njit(**_JIT)
def complete(fb: np.ndarray, ib: np.ndarray, now: float, rel_tol: float
             ) -> tuple[int, float, int, int]:
    """:func:`_complete` on the buffers."""
    fl, fi, lk, lu, tr, meta, out = views(fb, ib)
    return _complete(fl, fi, lk, lu, tr, meta, out, now, rel_tol)


@njit(inline="always", **_JIT)
def _complete(fl: np.ndarray, fi: np.ndarray, lk: np.ndarray, lu: np.ndarray, tr: np.ndarray,
              meta: np.ndarray, out: np.ndarray, now: float, rel_tol: float
              ) -> tuple[int, float, int, int]:
    """Remove every flow that completes at ``now``: in ``(time, id)`` order, each flow due
    by ``now`` (to a relative ``1e-12`` of the clock) or with at most ``rel_tol * size`` bits
    left, until the first that is neither. Re-rates the flows that shared a link with them.

    Returns:
        ``(n, time, flow id, first)``: the ``n`` finished flow ids are ``out[0, :n]``
        (ascending; their slots ``out[1, :n]``, now free), then the next completion
        (``(inf, -1)`` without flows), then ``out[0, 0]`` (the one finished flow, usually;
        ``-1`` if none).
    """
    slack = now + 1e-12 * max(1.0, abs(now))
    n = 0
    while tr[1] >= 0 and n < out.shape[1]:  # (a flow at most once: bounded by the slots)
        t, f, s = _next(fl, fi, tr)
        if t > slack:
            left = fl[s, LEFT] - fl[s, RATE] * (now - fl[s, SINCE])
            if (left if left > 0.0 else 0.0) > rel_tol * fl[s, SIZE]:
                if n == 0:
                    return 0, t, f, -1  # nothing changed
                break
        _off_tree(fl, fi, tr, s)  # the next match skips it
        out[0, n] = f
        out[1, n] = s
        n += 1
    for i in range(1, n):  # ascending ids (insertion sort: usually one flow)
        f, s = out[0, i], out[1, i]
        j = i - 1
        while j >= 0 and out[0, j] > f:
            out[0, j + 1], out[1, j + 1] = out[0, j], out[1, j]
            j -= 1
        out[0, j + 1], out[1, j + 1] = f, s
    for i in range(n):
        _off_links(fi, lk, lu, out[1, i])
    meta[0] += 1
    for i in range(n):
        _rerate_users(fl, fi, lk, lu, tr, out[1, i], meta[0], now)
    t, f, _ = _next(fl, fi, tr)
    return n, t, f, (out[0, 0] if n else -1)


@njit(**_JIT)
def remove_flow(fb: np.ndarray, ib: np.ndarray, slot: int, now: float) -> float:
    """Stop the flow in ``slot`` at ``now`` (its slot is then free) and re-rate the flows
    that shared a link with it. Returns the bits it had left."""
    fl, fi, lk, lu, tr, meta, _ = views(fb, ib)
    left = fl[slot, LEFT] - fl[slot, RATE] * (now - fl[slot, SINCE])
    left = left if left > 0.0 else 0.0
    _off_links(fi, lk, lu, slot)
    _off_tree(fl, fi, tr, slot)
    meta[0] += 1
    _rerate_users(fl, fi, lk, lu, tr, slot, meta[0], now)
    return left


@njit(**_JIT)
def peek(fb: np.ndarray, ib: np.ndarray) -> tuple[float, int]:
    """The next completion ``(time, flow id)``; ``(inf, -1)`` without flows."""
    fl, fi, _, _, tr, _, _ = views(fb, ib)
    t, f, _ = _next(fl, fi, tr)
    return t, f


@njit(**_JIT)
def rebuild(fb: np.ndarray, ib: np.ndarray) -> None:
    """Play every match of the tournament from its leaves (after the slots grew)."""
    fl, fi, _, _, tr, _, _ = views(fb, ib)
    for i in range(tr.shape[0] // 2 - 1, 0, -1):
        tr[i] = _earlier(fl, fi, tr[2 * i], tr[2 * i + 1])
