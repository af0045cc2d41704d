"""Exact statistics of a long column read in bounded slices.

The run summary of a long run must not hold whole tables in memory (issue 14: the end of a
24-hour run of 1,000 UAVs would otherwise need memory that grows with the trace). The
functions here read a column as a stream of slices, more than once, and reproduce *bit for
bit* what NumPy computes on the whole column:

- :class:`PairwiseSum` adds the values with the same summation tree as ``np.add.reduce`` on
  one array (NumPy's pairwise summation halves a block of ``n > 128`` values at
  ``n // 2`` rounded down to a multiple of 8; every sub-block of at most ``leaf`` values is
  summed by NumPy itself), so a mean equals ``values.mean()``;
- :func:`order_statistics` finds the k-th smallest values exactly: four passes, each a
  65,536-bucket histogram of the next 16 bits of an order-preserving 64-bit key of the
  floats (radix selection), so no pass holds more than one slice and the histograms;
- :func:`stream_summary` is :func:`analysis.metrics.summary_stats` of the stream: the mean
  as above, the median and the 95th percentile from the order statistics with NumPy's
  ``linear`` interpolation (``np.median``, ``np.percentile``), the max.

Memory: one slice plus a few 65,536-entry histograms, whatever the length of the column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np

__all__ = ["PairwiseSum", "order_statistics", "pairwise_blocks", "stream_summary"]

_BLOCK = 128  # NumPy's PW_BLOCKSIZE: blocks of at most this size are not split
_SIGN = np.uint64(1 << 63)
_DIGIT = 16  # bits resolved per selection pass
_MASK = np.uint64((1 << _DIGIT) - 1)

Stream = Callable[[], Iterable[np.ndarray]]
"""A function that returns a fresh iterator of 1-D float64 slices (called once per pass)."""


def pairwise_blocks(n: int, leaf: int) -> list[int]:
    """Sizes, in order, of the blocks of at most ``leaf`` values into which NumPy's pairwise
    summation of ``n`` values splits (each block is one subtree of its summation tree).

    Args:
        n: number of values (>= 0).
        leaf: largest block (>= 128, so every split is one NumPy makes too).
    """
    if leaf < _BLOCK:
        raise ValueError(f"leaf {leaf}: expected >= {_BLOCK}")
    if n <= leaf:
        return [n]
    half = n // 2
    half -= half % 8
    return pairwise_blocks(half, leaf) + pairwise_blocks(n - half, leaf)


class PairwiseSum:
    """``np.add.reduce`` of ``n`` float64 values fed in slices of any sizes, bit for bit.

    Feed the values in order with :meth:`add`; :meth:`result` needs exactly ``n`` of them.
    At most ``leaf`` plus one slice of values are held at a time.
    """

    def __init__(self, n: int, leaf: int = 1 << 16) -> None:
        self.n, self._leaf = int(n), int(leaf)
        self._sizes = iter(pairwise_blocks(self.n, self._leaf))
        self._want = next(self._sizes)
        self._pending: list[np.ndarray] = []
        self._held = 0
        self._sums: list[float] = []
        self._seen = 0

    def add(self, values: np.ndarray) -> None:
        """Feed the next values (1-D float64)."""
        values = np.asarray(values, dtype=np.float64)
        self._seen += values.size
        if self._seen > self.n:
            raise ValueError(f"more than the {self.n} values announced")
        self._pending.append(values)
        self._held += values.size
        while self._want and self._held >= self._want:
            block = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
            self._sums.append(float(np.add.reduce(block[:self._want])))
            rest = block[self._want:]
            self._pending, self._held = ([rest] if rest.size else []), rest.size
            self._want = next(self._sizes, 0)

    def result(self) -> float:
        """The sum (0.0 for no values)."""
        if self._seen != self.n:
            raise ValueError(f"{self._seen} values fed, {self.n} announced")
        if self.n == 0:
            return 0.0
        sums = iter(self._sums)

        def tree(n: int) -> float:
            if n <= self._leaf:
                return next(sums)
            half = n // 2
            half -= half % 8
            return tree(half) + tree(n - half)

        return tree(self.n)


def _keys(values: np.ndarray) -> np.ndarray:
    """Order-preserving uint64 keys of float64 values (negative floats: all bits flipped)."""
    u = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    return np.where(u >= _SIGN, ~u, u | _SIGN)


def _value(key: int) -> float:
    k = np.uint64(key)
    u = k & ~_SIGN if k >= _SIGN else ~k
    return float(np.array([u], dtype=np.uint64).view(np.float64)[0])


def order_statistics(stream: Stream, ranks: Iterable[int]) -> dict[int, float]:
    """The ``r``-th smallest value (0-based) of the stream for every ``r`` in ``ranks``.

    Four passes over the stream (radix selection on 16 bits at a time); NaN must not occur.

    Raises:
        ValueError: a rank outside ``[0, n)``.
    """
    wanted = sorted(set(int(r) for r in ranks))
    # per rank: key prefix found so far and the number of values below that prefix
    prefix = {r: 0 for r in wanted}
    below = {r: 0 for r in wanted}
    for level in range(64 // _DIGIT):
        shift = np.uint64(64 - _DIGIT * (level + 1))
        groups = sorted(set(prefix.values()))
        hist = {p: np.zeros(1 << _DIGIT, dtype=np.int64) for p in groups}
        for chunk in stream():
            keys = _keys(chunk)
            for p in groups:
                sel = keys if level == 0 else keys[(keys >> (shift + np.uint64(_DIGIT)))
                                                   == np.uint64(p)]
                hist[p] += np.bincount(((sel >> shift) & _MASK).astype(np.int64),
                                       minlength=1 << _DIGIT)
        for r in wanted:
            cum = np.cumsum(hist[prefix[r]])
            if level == 0 and not 0 <= r < int(cum[-1]):
                raise ValueError(f"rank {r} outside [0, {int(cum[-1])})")
            digit = int(np.searchsorted(cum, r - below[r], side="right"))
            below[r] += int(cum[digit - 1]) if digit else 0
            prefix[r] = (prefix[r] << _DIGIT) | digit
    return {r: _value(prefix[r]) for r in wanted}


def _percentile(stats: dict[int, float], n: int, q: float) -> float:
    """``np.percentile(values, q)`` (method ``linear``) from the order statistics."""
    virtual = (n - 1) * (q / 100)
    lo = math.floor(virtual)
    a, b = stats[lo], stats[min(lo + 1, n - 1)]
    gamma = virtual - lo
    diff = b - a
    return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma


def _percentile_ranks(n: int, q: float) -> tuple[int, int]:
    lo = math.floor((n - 1) * (q / 100))
    return lo, min(lo + 1, n - 1)


def stream_summary(stream: Stream, leaf: int = 1 << 16) -> dict[str, float]:
    """:func:`analysis.metrics.summary_stats` of the finite values of a stream, exactly.

    Args:
        stream: returns a fresh iterator of float slices at every call (5 passes).
        leaf: largest block summed at once (see :class:`PairwiseSum`).

    Returns:
        ``{"n", "mean", "median", "p95", "max"}`` (NaN if no finite value).
    """
    def finite() -> Iterator[np.ndarray]:
        for chunk in stream():
            v = np.asarray(chunk, dtype=np.float64)
            yield v[np.isfinite(v)]

    n, top = 0, -math.inf
    for v in finite():
        n += v.size
        if v.size:
            top = max(top, float(v.max()))
    if n == 0:
        nan = float("nan")
        return {"n": 0, "mean": nan, "median": nan, "p95": nan, "max": nan}
    total = PairwiseSum(n, leaf)
    for v in finite():
        total.add(v)
    mid = [(n - 1) // 2, n // 2]
    stats = order_statistics(finite, [*mid, *_percentile_ranks(n, 95.0)])
    median = float(np.median(np.array([stats[k] for k in sorted(set(mid))]))) if n % 2 == 0 \
        else stats[n // 2]
    return {"n": n, "mean": float(np.float64(total.result()) / n), "median": median,
            "p95": float(_percentile(stats, n, 95.0)), "max": top}
