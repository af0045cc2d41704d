"""scipy's RK45 integrator, bit for bit, without its wrappers' per-call costs.

The game's integrations (:func:`agents.sync.dynamics.simulate`, the Nash solver's sweeps, the
simulator's sensing process) take a few hundred to a few thousand Dormand-Prince steps on a
state of a few numbers, so scipy's ``OdeSolver`` machinery (``step`` and ``_step_impl``
bookkeeping, the wrapped right-hand side, ``np.linalg.norm``'s argument handling, the dense
output's ``np.tile``/``np.cumprod``) costs more than the arithmetic.  :class:`LeanRK45` starts
from a real ``scipy.integrate.RK45`` (so the first step size is scipy's own) and then repeats
scipy's step and dense output operation for operation, in the same order. The products of
the stage matrix stay NumPy's (BLAS) matrix-vector products on the same arrays; the state
lives in a list of floats, so the elementwise operations around them are the same IEEE
operations done on floats, and a right-hand side may take and return lists (``lists=True``,
the game's float paths), saving NumPy's per-call costs on arrays of a few numbers:

- a stage: ``np.dot(K[:s].T, A[s, :s]) * h`` then ``fun(t + C[s] h, y + dy)``; the step
  ``y + h np.dot(K[:-1].T, B)``; the error ``np.dot(K.T, E) * h / scale`` with
  ``scale = atol + max(|y|, |y_new|) rtol`` (NaN propagating, as ``np.maximum``) and its RMS
  norm ``sqrt(e . e) / sqrt(n)`` (``np.linalg.norm``'s dot product of a vector);
- the step-size controller (safety 0.9, factors 0.2 to 10, exponent -1/5, the minimum step
  ``10 |nextafter(t) - t|``), step-size arithmetic in floats (the same IEEE operations), the
  power ``error_norm ** exponent`` on NumPy's float64 as in scipy;
- the dense output ``y_old + h np.dot(Q, p)`` with ``Q = K.T P`` and ``p = (x, x^2, x^3,
  x^4)`` multiplied up left to right (``np.cumprod``); one time gives NumPy's matrix-vector
  product, a vector of times the matrix-matrix one, exactly as scipy (the two may differ in
  the last bit, so neither is swapped for the other).

:func:`solve_ivp_rk45` is ``solve_ivp(method="RK45", t_eval=...)`` on this stepper.
``tests/test_sync_rk45.py`` checks steps, dense outputs and whole solves with ``==`` against
the installed scipy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import RK45

__all__ = ["LeanRK45", "OdeResult", "solve_ivp_rk45"]

#: The step-size controller of scipy's explicit Runge-Kutta methods (scipy/integrate/_ivp/rk.py).
SAFETY, MIN_FACTOR, MAX_FACTOR = 0.9, 0.2, 10

_TOO_SMALL_STEP = "Required step size is less than spacing between numbers."


class LeanRK45:
    """Dormand-Prince 5(4) steps and dense output exactly as ``scipy.integrate.RK45``.

    The state lives in a list of floats: the stages' and the error's NumPy products come back
    as lists, and the elementwise operations around them (``y + dy``, the error's scale and
    ratio) are the same IEEE operations on floats, without a NumPy call per operation.

    Attributes:
        t: current time.
        y_list: current state [n] as floats (a new list after every step).
        t_old: time before the last step (None before the first step).
        t_bound: end of the integration.
        status: ``running``, ``finished`` or ``failed`` (as ``OdeSolver.status``).
        message: the failure's message, else None.
    """

    __slots__ = ("_B", "_C", "_E", "_KT", "_KbT", "_P", "_Q", "_atol", "_direction",
                 "_exponent", "_f", "_fun", "_h", "_h_abs", "_k", "_max_step", "_rtol",
                 "_sqrt_n", "_stages", "_y_old", "message", "status", "t", "t_bound", "t_old",
                 "y_list")

    def __init__(self, fun: Callable[[float, Any], Any], t0: float, y0: np.ndarray,
                 t_bound: float, *, rtol: float = 1e-3, atol: float = 1e-6,
                 max_step: float = np.inf, lists: bool = False) -> None:
        """Start as ``RK45(fun, t0, y0, t_bound, rtol=rtol, atol=atol, max_step=max_step)``.

        Args:
            fun: right-hand side ``fun(t, y) -> dy/dt``: on an array ``y`` [n] (its result
                goes through ``np.asarray(..., dtype=float)`` as in scipy), or with ``lists``
                on a list of floats, returning floats [n].
            t0, y0: initial time and state [n] (real).
            t_bound: end of the integration (before ``t0`` integrates backwards).
            rtol, atol, max_step: as for scipy's RK45 (scalar ``rtol``).
            lists: whether ``fun`` takes and returns lists of floats.
        """
        if lists:
            point = fun

            def on_arrays(t: float, y: np.ndarray) -> np.ndarray:
                return np.asarray(point(t, y.tolist()), dtype=float)
            ref = RK45(on_arrays, t0, y0, t_bound, rtol=rtol, atol=atol, max_step=max_step)
        else:
            def point(t: float, y: list[float]) -> list[float]:
                return np.asarray(fun(t, np.array(y)), dtype=float).tolist()
            ref = RK45(fun, t0, y0, t_bound, rtol=rtol, atol=atol, max_step=max_step)
        if np.ndim(ref.rtol) != 0:
            raise ValueError("LeanRK45: rtol must be a scalar")
        self._fun = point
        self.t, self.y_list, self._f = float(ref.t), ref.y.tolist(), ref.f.tolist()
        self.t_bound, self.t_old = float(ref.t_bound), None
        self._direction = float(ref.direction)
        self._h_abs, self._max_step = float(ref.h_abs), float(ref.max_step)
        self._rtol = float(ref.rtol)
        self._atol: list[float] = np.broadcast_to(ref.atol, (ref.n,)).tolist()
        self._exponent = ref.error_exponent
        self._sqrt_n = ref.n ** 0.5
        self._B, self._E, self._P = ref.B, ref.E, ref.P
        self._C = [float(c) for c in ref.C]
        # K is filled in place, so these views always show the current stages
        k = self._k = ref.K
        self._KT, self._KbT = k.T, k[:-1].T
        self._stages = [(s, k[:s].T, ref.A[s, :s], self._C[s]) for s in range(1, ref.n_stages)]
        self._Q: np.ndarray | None = None
        self._y_old: list[float] = self.y_list
        self._h = math.nan
        self.status: str = ref.status
        self.message: str | None = None

    @property
    def y(self) -> np.ndarray:
        """Current state [n] (a new array)."""
        return np.array(self.y_list)

    def step(self) -> None:
        """One accepted step (``OdeSolver.step``): sets ``status`` to ``finished`` at
        ``t_bound`` and to ``failed`` (with ``message``) if the step size underflows.

        Raises:
            RuntimeError: if the solver is not running.
        """
        if self.status != "running":
            raise RuntimeError("Attempt to step on a failed or finished solver.")
        if not self.y_list or self.t == self.t_bound:
            self.t_old = self.t
            self.t = self.t_bound
            self._Q = None
            self.status = "finished"
            return
        fun, direction, t_bound = self._fun, self._direction, self.t_bound
        t, y, f, k = self.t, self.y_list, self._f, self._k
        rtol, atol = self._rtol, self._atol
        min_step = 10 * abs(math.nextafter(t, direction * math.inf) - t)
        h_abs = self._h_abs
        if h_abs > self._max_step:
            h_abs = self._max_step
        elif h_abs < min_step:
            h_abs = min_step
        rejected = False
        while True:
            if h_abs < min_step:
                self.status, self.message = "failed", _TOO_SMALL_STEP
                return
            t_new = t + h_abs * direction
            if direction * (t_new - t_bound) > 0:
                t_new = t_bound
            h = t_new - t
            h_abs = abs(h)
            # rk_step: dy = (K[:s].T A[s, :s]) * h, the stage at y + dy
            k[0] = f
            for s, kt, a, c in self._stages:
                k[s] = fun(t + c * h, [yi + di * h for yi, di
                                       in zip(y, kt.dot(a).tolist(), strict=True)])
            y_new = [yi + h * di for yi, di
                     in zip(y, self._KbT.dot(self._B).tolist(), strict=True)]
            f_new = fun(t + h, y_new)
            k[-1] = f_new
            # the error (K.T E) * h / scale, scale = atol + max(|y|, |y_new|) * rtol (NaN
            # propagating as np.maximum), and its RMS norm as np.linalg.norm computes it
            err = np.array([ei * h / (at + (ay if (ay > an or ay != ay) else an) * rtol)
                            for ei, at, ay, an in zip(self._KT.dot(self._E).tolist(), atol,
                                                      map(abs, y), map(abs, y_new),
                                                      strict=True)])
            error_norm = np.sqrt(err.dot(err)) / self._sqrt_n
            if error_norm < 1:
                if error_norm == 0:
                    factor = MAX_FACTOR
                else:
                    factor = min(MAX_FACTOR, SAFETY * error_norm ** self._exponent)
                if rejected:
                    factor = min(1, factor)
                h_abs = float(h_abs * factor)
                break
            h_abs = float(h_abs * max(MIN_FACTOR, SAFETY * error_norm ** self._exponent))
            rejected = True
        self._y_old, self._Q, self._h = y, None, h
        self.t_old, self.t, self.y_list, self._f, self._h_abs = t, t_new, y_new, f_new, h_abs
        if direction * (t_new - t_bound) >= 0:
            self.status = "finished"

    def _coefficients(self) -> np.ndarray:
        if self.t_old is None:
            raise RuntimeError("Dense output is available after a successful step was made.")
        q = self._Q
        if q is None:
            q = self._Q = self._KT.dot(self._P)
        return q

    def at_list(self, t: float) -> list[float]:
        """The last step's dense output at one time, ``solver.dense_output()(t)`` bit for bit,
        as floats: ``h d_i + y_old_i`` with ``d = Q p`` from NumPy (a matrix-vector product)
        and ``p = (x, x^2, x^3, x^4)``, ``x = (t - t_old) / h``, multiplied up left to right.

        Args:
            t: a time (normally within the last step).

        Returns:
            The state [n] (a new list).
        """
        q = self._coefficients()
        if self.t == self.t_old:  # scipy's ConstantDenseOutput
            return list(self.y_list)
        h = self._h
        x = (t - self.t_old) / h
        x2 = x * x
        x3 = x2 * x
        return [h * d + yo for d, yo in zip(q.dot(np.array([x, x2, x3, x3 * x])).tolist(),
                                            self._y_old, strict=True)]

    def at(self, t: float) -> np.ndarray:
        """:meth:`at_list` as a new array."""
        return np.array(self.at_list(t))

    def at_times(self, t: np.ndarray) -> np.ndarray:
        """The last step's dense output at several times [q] (a new [n, q] array), as
        ``solver.dense_output()(t)`` (matrix-matrix product)."""
        q = self._coefficients()
        if self.t == self.t_old:
            out = np.empty((len(self.y_list), t.shape[0]))
            out[:] = np.array(self.y_list)[:, None]
            return out
        x = (t - self.t_old) / self._h
        p = np.cumprod(np.tile(x, (q.shape[1], 1)), axis=0)
        y = self._h * np.dot(q, p)
        y += np.array(self._y_old)[:, None]
        return y


@dataclass(frozen=True)
class OdeResult:
    """What :func:`solve_ivp_rk45` returns (the fields of scipy's ``OdeResult`` it fills).

    Attributes:
        t: output times [q].
        y: states [n, q].
        status: 0 (reached the end) or -1 (step size underflow).
        message: scipy's message.
        success: ``status >= 0``.
    """

    t: np.ndarray
    y: np.ndarray
    status: int
    message: str
    success: bool


def solve_ivp_rk45(fun: Callable[[float, Any], Any], t_span: tuple[float, float],
                   y0: np.ndarray, t_eval: np.ndarray, *, rtol: float = 1e-3,
                   atol: float = 1e-6, max_step: float = np.inf,
                   lists: bool = False) -> OdeResult:
    """``scipy.integrate.solve_ivp(fun, t_span, y0, t_eval=t_eval, rtol=rtol, atol=atol,
    max_step=max_step)`` (method RK45), bit for bit, on :class:`LeanRK45`.

    Args:
        fun: right-hand side ``fun(t, y) -> dy/dt`` (see :class:`LeanRK45`).
        t_span: ``(t0, tf)``; ``tf < t0`` integrates backwards.
        y0: initial state [n].
        t_eval: output times [q], sorted in the direction of integration, within ``t_span``.
        rtol, atol, max_step: integrator settings.
        lists: whether ``fun`` takes and returns lists of floats.

    Returns:
        The :class:`OdeResult`.

    Raises:
        ValueError: if ``t_eval`` is not 1-D, leaves ``t_span`` or is not sorted.
    """
    t0, tf = map(float, t_span)
    t_eval = np.asarray(t_eval)
    if t_eval.ndim != 1:
        raise ValueError("`t_eval` must be 1-dimensional.")
    if np.any(t_eval < min(t0, tf)) or np.any(t_eval > max(t0, tf)):
        raise ValueError("Values in `t_eval` are not within `t_span`.")
    d = np.diff(t_eval)
    if tf > t0 and np.any(d <= 0) or tf < t0 and np.any(d >= 0):
        raise ValueError("Values in `t_eval` are not properly sorted.")
    if tf > t0:
        t_eval_i = 0
    else:  # decreasing order for np.searchsorted
        t_eval = t_eval[::-1]
        t_eval_i = t_eval.shape[0]
    solver = LeanRK45(fun, t0, y0, tf, rtol=rtol, atol=atol, max_step=max_step, lists=lists)
    forward = tf >= t0  # scipy's direction: +1 for an empty interval
    ts: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    status = None
    while status is None:
        solver.step()
        if solver.status == "finished":
            status = 0
        elif solver.status == "failed":
            status = -1
            break
        t = solver.t
        if forward:
            t_eval_i_new = int(np.searchsorted(t_eval, t, side="right"))
            t_eval_step = t_eval[t_eval_i:t_eval_i_new]
        else:
            t_eval_i_new = int(np.searchsorted(t_eval, t, side="left"))
            t_eval_step = t_eval[t_eval_i_new:t_eval_i][::-1]
        if t_eval_step.size > 0:
            ts.append(t_eval_step)
            ys.append(solver.at_times(t_eval_step))
            t_eval_i = t_eval_i_new
    message = ("The solver successfully reached the end of the integration interval."
               if status == 0 else solver.message or "")
    if ts:
        t_out, y_out = np.hstack(ts), np.hstack(ys)
    else:
        t_out, y_out = np.array([]), np.empty((np.asarray(y0).size, 0))
    return OdeResult(t=t_out, y=y_out, status=status, message=message, success=status >= 0)
