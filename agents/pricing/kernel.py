"""Compiled best responses and Gauss-Seidel sweeps of the pricing game, UAV by UAV.

The pricing round splits into one ``J``-leader game per UAV (MODEL A3, see
:mod:`agents.pricing.game` for the follower water-filling and the leaders' candidate
prices), so one compiled loop solves all of them as a batch: every sweep visits each UAV
and lets its RSUs move in index order (Gauss-Seidel, exactly as the vectorised solver did).
Per UAV the kernel keeps the RSUs sorted by ``t_k = a_k q_k / p_k`` (the water-filling
order); when RSU ``j`` moves only ``j`` is put back in place, so nothing is re-sorted.  RSU
``j``'s rivals in that order give the prefix sums ``A_m`` (weights) and ``W_m`` (spending
``p / q``) of the candidate formulas.

Two exact ways to find RSU ``j``'s best candidate:

- dense (:func:`_dense`): score all ``3J + 1`` candidates by their exact revenue, each
  needing the follower multiplier ``nu = max(nu_rivals, max_m (a_j + A_m) / (R + W_m + p /
  q_j))`` over every prefix: ``O(J^2)``.  This is the reference, bit for bit the former
  numpy solver; small games use it (``agents.pricing.game.DENSE_MAX_RSUS``).
- scan (:func:`_scan`): the revenue ``(p - c) b_j(p)`` is concave where positive and, as
  ``p`` rises, passes through the binding regimes "``j`` and the first ``m`` rivals active"
  for increasing ``m`` and ends budget-slack or priced out.  Start in the regime at
  ``p = c`` and walk right until a regime's stationary point ``sqrt(q c a (R + W_m) / A_m)``
  comes before its right end (rival ``m + 1`` enters at ``q (n_m / t_(m+1) - d_m)``, or the
  budget stops binding at ``q (n_m - d_m)``); the optimum is that point, clipped to the
  regime and to ``[c, pbar]``.  Rivals whose ``t`` is at most ``nu_rivals`` never enter and
  are not summed, so the work is linear in the active RSUs.

Both evaluate the same candidate expressions, so they agree bit for bit unless two
candidates tie in revenue to rounding (tests compare them on random games).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["best_response_rows", "np_sum", "round_utilities", "solve_batch", "solve_game"]

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}


@njit(inline="always", **_JIT)
def _before(t1: float, k1: int, t2: float, k2: int) -> bool:
    """Water-filling order: ``t`` descending, NaN (non-viable pair) last, ties by index."""
    if t1 != t1:
        return t2 != t2 and k1 < k2
    if t2 != t2 or t1 > t2:
        return True
    return t1 == t2 and k1 < k2


@njit(inline="always", **_JIT)
def _load_row(i: int, prices: np.ndarray, a_v: np.ndarray, q_inf: np.ndarray,
              w: np.ndarray, t: np.ndarray) -> None:
    """Spending per MHz ``w = p / q`` and ratio ``t = a / w`` of UAV ``i``'s pairs."""
    for k in range(prices.shape[1]):
        w[k] = prices[i, k] / q_inf[i, k]
        t[k] = a_v[i, k] / w[k]


@njit(**_JIT)
def _sort_row(t: np.ndarray, order: np.ndarray) -> None:
    """``order`` = RSU indices sorted by :func:`_before` (insertion sort)."""
    for k in range(order.size):
        order[k] = k
    for k in range(1, order.size):
        key, h = order[k], k - 1
        while h >= 0 and _before(t[key], key, t[order[h]], order[h]):
            order[h + 1] = order[h]
            h -= 1
        order[h + 1] = key


@njit(inline="always", **_JIT)
def _reinsert(t: np.ndarray, order: np.ndarray, j: int) -> None:
    """Move RSU ``j`` to its place in ``order`` after ``t[j]`` changed."""
    pos, last, tj = 0, order.size - 1, t[j]
    while order[pos] != j:
        pos += 1
    while pos > 0 and _before(tj, j, t[order[pos - 1]], order[pos - 1]):
        order[pos] = order[pos - 1]
        pos -= 1
    while pos < last and _before(t[order[pos + 1]], order[pos + 1], tj, j):
        order[pos] = order[pos + 1]
        pos += 1
    order[pos] = j


@njit(inline="always", **_JIT)
def _clip(v: float, c: float, pbar: float) -> float:
    """``fmin(fmax(v, c), pbar)``: NaN becomes ``c``."""
    if v != v or v < c:
        v = c
    return pbar if v > pbar else v


@njit(inline="always", **_JIT)
def _revenue(p: float, c: float, a: float, iq: float, nu: float) -> float:
    """``(p - c) b`` with the follower's demand ``b = max(0, a / (p nu) - 1 / q)``."""
    b = a / (p * nu) - iq
    return (p - c) * (b if b > 0.0 else 0.0)


@njit(**_JIT)
def _monopoly(c: float, pbar: float, a: float, q: float, iq: float, r: float,
              slack: float) -> float:
    """Best response of a lone RSU: candidates ``c, pbar``, slack, ``q (a - R)``."""
    best_p, best_r = c, -np.inf
    for k in range(4):
        p = c if k == 0 else pbar if k == 1 else slack if k == 2 else q * (a - r)
        p = _clip(p, c, pbar)
        nu = a / (r + p / q)
        rev = _revenue(p, c, a, iq, nu if nu > 1.0 else 1.0)
        if rev > best_r:
            best_p, best_r = p, rev
    return best_p if best_r > 0.0 else c


@njit(inline="always", **_JIT)
def _prefixes(i: int, j: int, order: np.ndarray, w: np.ndarray, t: np.ndarray,
              a_v: np.ndarray, a: float, r: float, x0: float, n: np.ndarray,
              d: np.ndarray, cum_a: np.ndarray, t_o: np.ndarray) -> int:
    """Prefix sums of RSU ``j``'s rivals in water-filling order (all of them).

    Fills ``cum_a[m] = A_m``, ``d[m] = R + W_m``, ``n[m] = a_j + A_m`` (``m = 0..J-1``)
    and ``t_o[m]``, the ``t`` of rival ``m + 1``; returns ``J``, the number of prefixes.
    """
    n[0], d[0], cum_a[0] = a, r + 0.0, 0.0
    sa, sw, m = 0.0, 0.0, 0
    for h in range(order.shape[1]):
        k = order[i, h]
        if k == j:
            continue
        t_o[m] = t[k]
        sa, sw = sa + a_v[i, k], sw + w[k]
        m += 1
        cum_a[m], d[m], n[m] = sa, r + sw, a + sa
    t_o[m] = np.nan
    return m + 1


@njit(inline="always", **_JIT)
def _active_prefixes(i: int, j: int, order: np.ndarray, w: np.ndarray, t: np.ndarray,
                     a_v: np.ndarray, a: float, r: float, x0: float, n: np.ndarray,
                     d: np.ndarray, cum_a: np.ndarray,
                     t_o: np.ndarray) -> tuple[int, float, float, int]:
    """:func:`_prefixes` up to the last rival that can matter, and the two multipliers.

    Adding rival ``m + 1`` raises the rivals' ratio ``A_m / d_m`` iff its ``t`` exceeds
    that ratio (and likewise ``n_m / (d_m + x0)``), so both are unimodal in ``m``: the peaks
    are found without dividing, and the loop stops at the first rival with ``t`` at most
    ``max(1, A_m / d_m)``: it can neither enter nor raise ``nu_rivals``.  Returns the
    number of prefixes, ``nu_rivals``, ``env = max_m n_m / (d_m + x0)`` and its ``m``.
    """
    n[0], d[0], cum_a[0] = a, r + 0.0, 0.0
    sa, sw, m, m_env, env_rising = 0.0, 0.0, 0, 0, True
    for h in range(order.shape[1]):
        k = order[i, h]
        if k == j:
            continue
        tk = t[k]
        if not (tk > 1.0 and tk * d[m] > sa):
            break
        if env_rising:
            if tk * (d[m] + x0) > n[m]:
                m_env = m + 1
            else:
                env_rising = False
        t_o[m] = tk
        sa, sw = sa + a_v[i, k], sw + w[k]
        m += 1
        cum_a[m], d[m], n[m] = sa, r + sw, a + sa
    t_o[m] = np.nan
    nu_r = sa / d[m] if m > 0 else 1.0
    return m + 1, (nu_r if nu_r > 1.0 else 1.0), n[m_env] / (d[m_env] + x0), m_env


@njit(**_JIT)
def _candidate(k: int, n_p: int, c: float, pbar: float, q: float, qca: float,
               slack: float, n: np.ndarray, d: np.ndarray, cum_a: np.ndarray,
               t_o: np.ndarray) -> float:
    """Candidate ``k`` of :func:`_dense`, clipped to ``[c, pbar]``."""
    if k == 0:
        p = c
    elif k == 1:
        p = pbar
    elif k == 2:
        p = slack
    elif k < 3 + n_p:               # budget stops binding with m = k - 3 rivals
        m = k - 3
        p = q * (n[m] - d[m])
    elif k < 2 + 2 * n_p:           # binding stationary point, m >= 1 rivals (eq. 32)
        m = k - 2 - n_p
        p = np.sqrt(qca * d[m] / cum_a[m])
    else:                           # rival m + 1 enters
        m = k - 2 - 2 * n_p
        p = q * (n[m] / t_o[m] - d[m])
    return _clip(p, c, pbar)


@njit(**_JIT)
def _dense(n_p: int, c: float, pbar: float, a: float, q: float, iq: float, qca: float,
           slack: float, n: np.ndarray, d: np.ndarray, cum_a: np.ndarray,
           t_o: np.ndarray) -> float:
    """Best of all ``3 n_p + 1`` candidates by exact revenue (first of equal ones)."""
    nu_r = 1.0                                   # max(1, max_m A_m / d_m), NaN skipped
    for m in range(1, n_p):
        v = cum_a[m] / d[m]
        if v > nu_r:
            nu_r = v
    best_p, best_r = c, -np.inf
    for k in range(3 * n_p + 1):
        p = _candidate(k, n_p, c, pbar, q, qca, slack, n, d, cum_a, t_o)
        x, nu = p / q, -np.inf
        for m in range(n_p):
            v = n[m] / (d[m] + x)
            if v > nu:
                nu = v
        rev = _revenue(p, c, a, iq, nu_r if nu_r > nu else nu)
        if rev > best_r:
            best_p, best_r = p, rev
    return best_p if best_r > 0.0 else c


@njit(inline="always", **_JIT)
def _regime_end(m: int, n_p: int, q: float, nu_r: float, n: np.ndarray, d: np.ndarray,
                t_o: np.ndarray) -> float:
    """Right end (price) of binding regime ``m``: rival ``m + 1`` enters, else the budget
    stops binding (``nu_rivals = 1``), else ``inf`` (``j`` is priced out first)."""
    if m < n_p - 1 and t_o[m] > nu_r:
        return q * (n[m] / t_o[m] - d[m])
    if nu_r == 1.0:
        return q * (n[m] - d[m])
    return np.inf


@njit(inline="always", **_JIT)
def _scan(m0: int, n_p: int, c: float, pbar: float, q: float, qca: float, slack: float,
          nu_r: float, n: np.ndarray, d: np.ndarray, cum_a: np.ndarray,
          t_o: np.ndarray) -> float:
    """Regime search (module docstring) from the binding regime ``m0`` at ``p = c``.

    The optimum lies in the first regime ``m >= m0`` whose stationary point comes before
    its right end (revenue concave: the test is monotone in ``m``), found by bisection.
    """
    last = m0                                    # the last binding regime: no rival enters
    while last < n_p - 1 and t_o[last] > nu_r:
        last += 1
    lo, hi = m0, last + 1                        # first m in [lo, hi) that holds; hi: none
    while lo < hi:
        m = (lo + hi) // 2
        p_stat = np.sqrt(qca * d[m] / cum_a[m]) if m > 0 else np.inf
        if p_stat <= _regime_end(m, n_p, q, nu_r, n, d, t_o):
            hi = m
        else:
            lo = m + 1
    m = lo
    if m > last:                                 # past the binding regimes: budget slack
        p_right = _regime_end(last, n_p, q, nu_r, n, d, t_o)
        return _clip(slack if slack > p_right else p_right, c, pbar)
    p_stat = np.sqrt(qca * d[m] / cum_a[m]) if m > 0 else np.inf
    p_left = _regime_end(m - 1, n_p, q, nu_r, n, d, t_o) if m > m0 else c
    return _clip(p_stat if p_stat > p_left else p_left, c, pbar)


@njit(inline="always", **_JIT)
def _best_response(i: int, j: int, dense: bool, order: np.ndarray, w: np.ndarray,
                   t: np.ndarray, a_v: np.ndarray, q_j: np.ndarray, inv_qj: np.ndarray,
                   qca: np.ndarray, slack: np.ndarray, budget: np.ndarray, cost: np.ndarray,
                   cap: np.ndarray, n: np.ndarray, d: np.ndarray, cum_a: np.ndarray,
                   t_o: np.ndarray) -> float:
    """Best-response price of RSU ``j`` to UAV ``i`` (``w, t``: UAV ``i``'s row)."""
    c, pbar = cost[j], cap[j]
    a, q, iq, r = a_v[i, j], q_j[i, j], inv_qj[i, j], budget[i]
    if order.shape[1] == 1:
        return _monopoly(c, pbar, a, q, iq, r, slack[i, j])
    x0 = c / q
    if dense:
        n_p = _prefixes(i, j, order, w, t, a_v, a, r, x0, n, d, cum_a, t_o)
        return _dense(n_p, c, pbar, a, q, iq, qca[i, j], slack[i, j], n, d, cum_a, t_o)
    n_p, nu_r, env, m = _active_prefixes(i, j, order, w, t, a_v, a, r, x0, n, d, cum_a, t_o)
    if not a > 0.0 or a / (c * max(env, nu_r)) - iq <= 0.0:
        return c                                 # no sale at a profit, even at cost
    if env > nu_r:
        p = _scan(m, n_p, c, pbar, q, qca[i, j], slack[i, j], nu_r, n, d, cum_a, t_o)
    elif nu_r == 1.0:
        p = _clip(slack[i, j], c, pbar)          # budget slack from p = c on
    else:                                        # a tie to rounding: score every candidate
        n_p = _prefixes(i, j, order, w, t, a_v, a, r, x0, n, d, cum_a, t_o)
        return _dense(n_p, c, pbar, a, q, iq, qca[i, j], slack[i, j], n, d, cum_a, t_o)
    return p if p > c else c


@njit(**_JIT)
def solve_batch(prices: np.ndarray, a_v: np.ndarray, q_inf: np.ndarray, q_j: np.ndarray,
                inv_qj: np.ndarray, qca: np.ndarray, slack: np.ndarray, budget: np.ndarray,
                cost: np.ndarray, cap: np.ndarray, tol: float, max_iter: int,
                dense: bool) -> tuple[int, float]:
    """Gauss-Seidel sweeps of exact best responses over all UAVs, in place on ``prices``.

    ``[I, J]`` arrays: ``a_v`` weights (0 if not viable), ``q_inf`` spectral efficiencies
    (inf if not viable), ``q_j`` (1 if not viable), ``inv_qj = 1 / q_j``, ``qca = q_j c a_v``,
    ``slack = sqrt(a_v q_j c)``; ``budget [I]``, ``cost, cap [J]``; all float64, C order,
    writable (one compiled signature).  A sweep lets RSU ``0, 1, ..., J-1`` respond in turn
    to every UAV; stop when a sweep moves no price by more than ``tol`` (all UAVs together)
    or after ``max_iter``.

    Returns:
        ``(sweeps, residual)``: sweeps done and the largest price change of the last one.
    """
    n_i, n_j = prices.shape
    order = np.empty((n_i, n_j), dtype=np.int64)
    rows = np.empty((6, n_j))  # one allocation for the six work rows
    w, t, n, d, cum_a, t_o = rows[0], rows[1], rows[2], rows[3], rows[4], rows[5]
    for i in range(n_i):
        _load_row(i, prices, a_v, q_inf, w, t)
        _sort_row(t, order[i])
    residual, sweep = np.inf, 0
    while sweep < max_iter:
        sweep += 1
        residual = 0.0
        for i in range(n_i):
            _load_row(i, prices, a_v, q_inf, w, t)
            for j in range(n_j):
                p = _best_response(i, j, dense, order, w, t, a_v, q_j, inv_qj, qca, slack,
                                   budget, cost, cap, n, d, cum_a, t_o)
                change = abs(p - prices[i, j])
                if change > residual:
                    residual = change
                prices[i, j] = p
                w[j] = p / q_inf[i, j]
                t[j] = a_v[i, j] / w[j]
                _reinsert(t, order[i], j)
        if residual <= tol:
            break
        if n_j == 1 and sweep < max_iter:
            # a monopolist's best response ignores the prices: the next sweep repeats it
            sweep, residual = sweep + 1, 0.0
            break
    return sweep, residual


@njit(**_JIT)
def best_response_rows(prices: np.ndarray, j: int, a_v: np.ndarray, q_inf: np.ndarray,
                       q_j: np.ndarray, inv_qj: np.ndarray, qca: np.ndarray,
                       slack: np.ndarray, budget: np.ndarray, cost: np.ndarray,
                       cap: np.ndarray, dense: bool) -> np.ndarray:
    """``[I]`` best-response prices of RSU ``j`` to every UAV, the other prices fixed."""
    n_i, n_j = prices.shape
    order = np.empty((n_i, n_j), dtype=np.int64)
    w, t = np.empty(n_j), np.empty(n_j)
    n, d, cum_a, t_o = np.empty(n_j), np.empty(n_j), np.empty(n_j), np.empty(n_j)
    out = np.empty(n_i)
    for i in range(n_i):
        _load_row(i, prices, a_v, q_inf, w, t)
        _sort_row(t, order[i])
        out[i] = _best_response(i, j, dense, order, w, t, a_v, q_j, inv_qj, qca, slack,
                                budget, cost, cap, n, d, cum_a, t_o)
    return out


@njit(**_JIT)
def solve_game(weight: np.ndarray, viable: np.ndarray, q: np.ndarray, budget: np.ndarray,
               cost: np.ndarray, cap: np.ndarray, tol: float, max_iter: int, dense: bool
               ) -> tuple[np.ndarray, int, float]:
    """One whole game in one call: the solver's arrays, :func:`solve_batch` from the
    slack-budget prices, and the followers' demand at the result.

    Bit for bit what ``agents.pricing.game`` computes with numpy (its ``_context``, the
    sweeps, ``_demand``): the same operations in the same order, the water-filling order
    being ``argsort(-a q / p, kind="stable")`` (NaN last, ties by index, as :func:`_before`).
    For the simulator's many small rounds, where numpy's per-call cost dominated.

    Args: ``[I, J]`` ``weight`` ``a``, ``viable`` (bool), ``q`` spectral efficiency;
    ``budget [I]``, ``cost, cap [J]``, all C order and writable (one compiled signature);
    the sweep settings of :func:`solve_batch`.

    Returns:
        ``(out [3, I, J], sweeps, residual)``: ``out`` is the prices, the demand ``b`` and
        ``b q`` (one array returned, not three: each returned array costs a conversion; ``b q``
        is NumPy's ``demand * q``, one rounding each, for the caller's ``np.log1p``).
    """
    n_i, n_j = weight.shape
    work = np.empty((6, n_i, n_j))  # one allocation for the solver's six arrays
    a_v, q_inf, q_j, inv_qj, qca, slack = work[0], work[1], work[2], work[3], work[4], work[5]
    out = np.zeros((3, n_i, n_j))
    prices, demand, bq = out[0], out[1], out[2]
    for i in range(n_i):
        for j in range(n_j):
            v = viable[i, j]
            a_v[i, j] = weight[i, j] if v else 0.0
            q_inf[i, j] = q[i, j] if v else np.inf
            q_j[i, j] = q[i, j] if v else 1.0
            slack[i, j] = np.sqrt(a_v[i, j] * q_j[i, j] * cost[j])
            inv_qj[i, j] = 1.0 / q_j[i, j]
            qca[i, j] = q_j[i, j] * cost[j] * a_v[i, j]
            # np.minimum(np.maximum(slack, c), pbar) (slack is never NaN)
            x = slack[i, j] if slack[i, j] >= cost[j] else cost[j]
            prices[i, j] = x if x <= cap[j] else cap[j]
    sweep, residual = solve_batch(prices, a_v, q_inf, q_j, inv_qj, qca, slack, budget, cost,
                                  cap, tol, max_iter, dense)
    rows = np.empty((2, n_j))
    w, t = rows[0], rows[1]
    order = np.empty(n_j, dtype=np.int64)
    for i in range(n_i):
        _load_row(i, prices, a_v, q_inf, w, t)
        _sort_row(t, order)
        cum_a, cum_w, nu = 0.0, 0.0, 1.0
        for h in range(n_j):
            k = order[h]
            cum_a += a_v[i, k]
            cum_w += w[k]
            x = cum_a / (budget[i] + cum_w)
            if x > nu:  # np.fmax.reduce(..., initial=1.0): NaN skipped
                nu = x
        for k in range(n_j):
            b = a_v[i, k] / (prices[i, k] * nu) - 1.0 / q_inf[i, k]
            if viable[i, k] and b > 0:
                demand[i, k] = b
            bq[i, k] = demand[i, k] * q[i, k]
    return out, sweep, residual


@njit(inline="always", **_JIT)
def _pairwise_leaf(x: np.ndarray, lo: int, n: int) -> float:
    """NumPy's ``pairwise_sum`` of ``x[lo:lo + n]`` for ``n <= 128``: straight up to 7 terms,
    eight running sums above."""
    if n < 8:
        res = -0.0  # keeps a sum of -0.0 terms -0.0, as NumPy does
        for i in range(n):
            res += x[lo + i]
        return res
    r = np.empty(8)
    for k in range(8):
        r[k] = x[lo + k]
    i = 8
    while i < n - n % 8:
        for k in range(8):
            r[k] += x[lo + i + k]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += x[lo + i]
        i += 1
    return res


@njit(**_JIT)
def _pairwise_sum(x: np.ndarray, lo: int, n: int) -> float:
    """NumPy's pairwise summation of ``x[lo:lo + n]``, bit for bit: blocks of up to 128
    terms (:func:`_pairwise_leaf`), longer runs split in halves (multiples of 8) whose sums
    are added. The halving tree is walked with explicit stacks (numba's cache cannot load a
    recursive function)."""
    if n <= 128:
        return _pairwise_leaf(x, lo, n)
    task_lo, task_n = np.empty(192, np.int64), np.empty(192, np.int64)  # n = -1: combine
    values = np.empty(96)
    tasks, depth = 1, 0
    task_lo[0], task_n[0] = lo, n
    while tasks:
        tasks -= 1
        t_lo, t_n = task_lo[tasks], task_n[tasks]
        if t_n < 0:  # both halves done: add them, left + right
            depth -= 1
            values[depth - 1] = values[depth - 1] + values[depth]
        elif t_n <= 128:
            values[depth] = _pairwise_leaf(x, t_lo, t_n)
            depth += 1
        else:
            n2 = t_n // 2
            n2 -= n2 % 8
            task_n[tasks] = -1  # runs after both halves, the left one first
            task_lo[tasks + 1], task_n[tasks + 1] = t_lo + n2, t_n - n2
            task_lo[tasks + 2], task_n[tasks + 2] = t_lo, n2
            tasks += 3
    return values[0]


@njit(**_JIT)
def np_sum(x: np.ndarray) -> float:
    """``np.add.reduce(x)`` of a 1-D contiguous float array, bit for bit: NumPy's reduction
    starts from the identity 0.0 and adds the pairwise sum of the whole array."""
    return 0.0 + _pairwise_sum(x, 0, x.size)


@njit(**_JIT)
def round_utilities(game: np.ndarray, weight: np.ndarray, q: np.ndarray, cost: np.ndarray,
                    log_gain: np.ndarray) -> tuple[np.ndarray, float, float]:
    """A round's sums at the prices ``p = game[0]`` and demand ``b = game[1]`` (``[I, J]``
    each, as :func:`solve_game` returns them; further planes are not read): ``[J]`` RSU
    utilities and revenues, ``[I]`` UAV utilities, bandwidth bought, rate and immersion, one
    after the other in one ``[2 J + 4 I]`` array (one array returned, not six: each returned
    array costs a conversion), then the mean RSU and UAV utilities.

    Bit for bit the numpy formulas ``((p - c) b).sum(axis=0)``, ``(p b).sum(axis=0)``,
    ``(where(b > 0, a ln(1 + b q), 0) - p b).sum(axis=1)``, ``b.sum(axis=1)``,
    ``(b q).sum(axis=1)`` and ``(a ln(1 + b q)).sum(axis=1)``: the same operations, summed
    over UAVs in order and over RSUs as :func:`np_sum`. ``log_gain`` is
    ``np.log1p(b * q)``, computed by NumPy (its SIMD logarithm differs from the C library's
    in the last bit). The means are ``np.add.reduce(u) / u.size``, NumPy's ``mean``.
    """
    prices, demand = game[0], game[1]
    n_i, n_j = prices.shape
    sums = np.zeros(2 * n_j + 4 * n_i)  # NumPy's reductions start from 0.0
    rsu_u, revenue = sums[:n_j], sums[n_j:2 * n_j]
    uav_u, bought = sums[2 * n_j:2 * n_j + n_i], sums[2 * n_j + n_i:2 * n_j + 2 * n_i]
    rate, immersion = sums[2 * n_j + 2 * n_i:2 * n_j + 3 * n_i], sums[2 * n_j + 3 * n_i:]
    rows = np.empty((3, n_j))  # one allocation for the three work rows
    utility, bq, gain = rows[0], rows[1], rows[2]
    for i in range(n_i):
        for j in range(n_j):
            p, b = prices[i, j], demand[i, j]
            y = p * b
            rsu_u[j] += (p - cost[j]) * b
            revenue[j] += y
            gain[j] = weight[i, j] * log_gain[i, j]
            utility[j] = (gain[j] if b > 0 else 0.0) - y
            bq[j] = b * q[i, j]
        uav_u[i] = np_sum(utility)
        bought[i] = np_sum(demand[i])
        rate[i] = np_sum(bq)
        immersion[i] = np_sum(gain)
    return sums, np_sum(rsu_u) / n_j, np_sum(uav_u) / n_i
