"""Exact scalar evaluations of the synchronisation game at one time point (MODEL.md B2-B4).

The integrators of the game (RK45 inside :func:`agents.sync.dynamics.simulate`, the sensing
process and the Nash solver's sweeps) call their right-hand side thousands of times, each on
a state of a few numbers.  NumPy spends most of such a call on the calls themselves, so the
classes here redo the same formulas in plain Python floats, bit for bit:

- every ``+ - * /`` is the same IEEE operation in the same order as the NumPy expression it
  replaces (``a ** 2`` on an array is ``a * a``; no fused multiply-add);
- NumPy's sums over VSPs start from ``0.0`` and add left to right below 8 terms (its pairwise
  summation is a plain loop there), so the fast paths are used for at most
  :data:`MAX_VSPS` VSPs and callers keep the NumPy code beyond;
- ``np.maximum(e, 0.0)`` returns its second operand for equal values (so ``-0.0`` becomes
  ``0.0``) and propagates NaN;
- ``np.exp`` stays a NumPy call (its SIMD result may differ from ``math.exp`` in the last bit);
- :class:`InterpTable` reproduces ``np.interp`` (``arr_interp``): exact hits on a node return
  the node's value, otherwise ``slope * (t - xp[j]) + fp[j]`` with
  ``slope = (fp[j+1] - fp[j]) / (xp[j+1] - xp[j])``, the ends held, NaN fallbacks included.

``tests/test_sync_scalar.py`` checks every piece with ``==`` (and the sign of zeros) against
the NumPy code on random inputs.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from agents.sync.params import SyncParams

__all__ = ["MAX_VSPS", "InterpTable", "ScalarGame", "clip0"]

#: Largest number of VSPs whose NumPy sums are plain left-to-right loops from 0.0.
MAX_VSPS = 7


#: ``np.maximum(-0.0, 0.0)`` on this machine, as the callers' [M] columns get it (NumPy's SIMD
#: maximum returns its second operand on ties, a plain C loop may return the first).
_NEG_ZERO_MAX = float(np.maximum(np.full((2, 1), -0.0)[:, 0], 0.0)[0])


def clip0(values: Sequence[float]) -> list[float]:
    """``np.maximum(values, 0.0)`` as floats: NaN stays NaN, negatives give 0.0 and ``-0.0``
    gives what NumPy gives on this machine (0.0 where its maximum is SIMD)."""
    return [v if (v > 0.0 or v != v) else
            (_NEG_ZERO_MAX if v == 0.0 and math.copysign(1.0, v) < 0.0 else 0.0)
            for v in values]


class InterpTable:
    """``np.interp(t, xp, row)`` of every row of ``fp`` at one scalar ``t``, bit for bit.

    Attributes:
        usable: False if ``xp`` is not finite and strictly increasing (then :meth:`at`
            calls ``np.interp`` itself).
        rows: number of rows R.
    """

    __slots__ = ("_fp", "_fp_rows", "_last", "_slopes", "_xp", "_xp_arr", "rows", "usable")

    def __init__(self, xp: np.ndarray, fp: np.ndarray) -> None:
        """Tabulate the slopes once (the same division NumPy does per call).

        Args:
            xp: nodes [n] (n >= 2).
            fp: values [R, n].
        """
        xp_arr = np.asarray(xp, dtype=float)
        fp_arr = np.atleast_2d(np.asarray(fp, dtype=float))
        self._xp_arr, self._fp_rows = xp_arr, fp_arr
        self.rows = int(fp_arr.shape[0])
        self.usable = bool(xp_arr.ndim == 1 and xp_arr.size >= 2
                           and fp_arr.shape[1] == xp_arr.size
                           and np.all(np.isfinite(xp_arr)) and np.all(np.diff(xp_arr) > 0))
        self._xp: list[float] = xp_arr.tolist() if self.usable else []
        self._fp: list[list[float]] = fp_arr.T.tolist() if self.usable else []
        self._last = xp_arr.size - 1
        if self.usable:
            with np.errstate(all="ignore"):
                slopes = (fp_arr[:, 1:] - fp_arr[:, :-1]) / (xp_arr[1:] - xp_arr[:-1])
            self._slopes: list[list[float]] = slopes.T.tolist()
        else:
            self._slopes = []

    def at(self, t: float) -> list[float]:
        """Values of every row at ``t`` (a new list; the ends are held)."""
        t = float(t)
        if not self.usable or t != t:
            return [float(np.interp(t, self._xp_arr, row)) for row in self._fp_rows]
        xp = self._xp
        j = bisect_right(xp, t) - 1
        if j < 0:
            return list(self._fp[0])
        if j >= self._last:
            return list(self._fp[self._last])
        x0 = xp[j]
        if x0 == t:
            return list(self._fp[j])
        dt = t - x0
        out = [s * dt + f for s, f in zip(self._slopes[j], self._fp[j], strict=False)]
        total = sum(out)
        if total != total:  # a NaN (or inf - inf): arr_interp's fallbacks where NaN
            self._fallback(out, j, t)
        return out

    def _fallback(self, out: list[float], j: int, t: float) -> None:
        """``arr_interp``'s NaN fallbacks: from the right node, then a flat segment."""
        xp = self._xp
        for i, v in enumerate(out):
            if v != v:
                f0, f1, s = self._fp[j][i], self._fp[j + 1][i], self._slopes[j][i]
                v = s * (t - xp[j + 1]) + f1
                if v != v and f0 == f1:
                    v = f0
                out[i] = v


class ScalarGame:
    """The replicator, twin-value and payoff formulas of :mod:`agents.sync.dynamics` on
    float lists of M values (M <= :data:`MAX_VSPS`), bit for bit."""

    __slots__ = ("M", "_N", "_b", "_c", "_d", "_delta", "_k", "_rho", "_scale", "_theta",
                 "_v", "_wa", "_wb", "_w3", "_w4")

    def __init__(self, params: SyncParams) -> None:
        """Take the per-VSP constants from ``params`` as NumPy computes them.

        Raises:
            ValueError: if the game has more than :data:`MAX_VSPS` VSPs.
        """
        if params.M > MAX_VSPS:
            raise ValueError(f"ScalarGame: at most {MAX_VSPS} VSPs, got {params.M}")
        self.M = params.M
        self._N, self._b, self._delta, self._rho = params.N, params.b, params.delta, params.rho
        self._scale: list[float] = (params.d * params.g).tolist()  # incentive_pool's d g
        self._c: list[float] = params.c.tolist()
        self._theta: list[float] = params.theta.tolist()
        self._d: list[float] = params.d.tolist()
        self._k: list[float] = params.k.tolist()
        self._v: list[float] = params.v.tolist()
        w = params.w
        self._wa: list[float] = (w[0] * params.alpha).tolist()    # w1 alpha
        self._wb: list[float] = (w[1] * params.beta).tolist()     # w2 beta
        self._w3: list[float] = w[2].tolist()
        self._w4: list[float] = w[3].tolist()

    def replicator(self, x: Sequence[float], eta: Sequence[float]) -> list[float]:
        """:func:`agents.sync.dynamics.replicator_rhs` of 1-D ``x`` and ``eta``."""
        n = self._N
        pool = [e * s / n for e, s in zip(eta, self._scale, strict=True)]
        total = 0.0
        for p in pool:
            total += p
        xc = 0.0
        for xm, cm in zip(x, self._c, strict=True):
            xc += xm * cm
        delta = self._delta
        return [delta * (((p - xm * total) - cm * xm) + xm * xc)
                for p, xm, cm in zip(pool, x, self._c, strict=True)]

    def twin(self, z: Sequence[float], eta: Sequence[float]) -> list[float]:
        """:func:`agents.sync.dynamics.twin_value_rhs` of 1-D ``z`` and ``eta``."""
        return [e - th * zm for e, th, zm in zip(eta, self._theta, z, strict=True)]

    def payoff(self, x: Sequence[float], z: Sequence[float], eta: Sequence[float]
               ) -> list[float]:
        """:func:`agents.sync.dynamics.payoff_rate` of 1-D ``x``, ``z`` and ``eta``."""
        n, b = self._N, self._b
        out = []
        for i in range(self.M):
            supply = x[i] * n * b
            zm = z[i]
            dv = zm - self._v[i]
            gap = self._d[i] * eta[i] * self._k[i] - supply
            out.append(self._wa[i] * supply + self._wb[i] * zm * self._d[i]
                       - self._w3[i] * (dv * dv) - self._w4[i] * (gap * gap))
        return out

    def forward(self, t: float, y: Sequence[float], eta: Sequence[float]) -> list[float]:
        """Right-hand side of ``(x, z, discounted payoff)`` as in
        :func:`agents.sync.dynamics.simulate` (``eta`` already clipped at 0): the formulas of
        :meth:`replicator`, :meth:`twin` and ``exp(-rho t)`` times :meth:`payoff` in one pass."""
        m, n, b = self.M, self._N, self._b
        pool = [e * s / n for e, s in zip(eta, self._scale, strict=True)]
        total = 0.0
        xc = 0.0
        for i in range(m):
            total += pool[i]
            xc += y[i] * self._c[i]
        disc = float(np.exp(-self._rho * t))
        delta = self._delta
        dx, dz, dj = [], [], []
        for i in range(m):
            xm, zm, e, cm, d = y[i], y[m + i], eta[i], self._c[i], self._d[i]
            dx.append(delta * (((pool[i] - xm * total) - cm * xm) + xm * xc))
            dz.append(e - self._theta[i] * zm)
            supply = xm * n * b
            dv = zm - self._v[i]
            gap = d * e * self._k[i] - supply
            dj.append(disc * (self._wa[i] * supply + self._wb[i] * zm * d
                              - self._w3[i] * (dv * dv) - self._w4[i] * (gap * gap)))
        return dx + dz + dj
