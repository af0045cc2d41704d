"""Open-loop Nash equilibrium of the synchronisation differential game (MODEL.md B4).

Each optimising VSP ``m`` has the current-value Hamiltonian ``H_m = J_m + lambda_m . f`` with
costates ``lx_m`` (one per share, M of them) and ``lz_m`` (its own twin value; the costates of
the other VSPs' twin values stay 0 because ``J_m`` ignores them and their dynamics do not
depend on ``z_m``).  ``H_m`` is strictly concave in ``eta_m`` (``w4 > 0``), so the maximum
principle gives ``eta_m`` in closed form (clipped at 0):

``eta_m = x_m N b/(d_m k_m) + [lz_m + s_m (lx_mm - sum_n lx_mn x_n)] / (2 w4 d_m^2 k_m^2)``,
``s_m = delta g(theta_m) d_m / N``.

States run forward from ``(x0, z0)``, costates backward from 0 at ``T``
(``dlambda/dt = rho lambda - dH/dy``).  The two-point boundary-value problem is solved by
``scipy.integrate.solve_bvp`` (collocation) from an initial guess built by a few damped
forward-backward sweeps, which is what makes it robust for the long horizons of the paper.
Some VSPs may be excluded from optimisation and follow a given control: that is the
followers' problem of the Stackelberg game (B5).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.integrate import solve_bvp

from agents.sync.dynamics import EtaFn, incentive_pool, replicator_rhs, twin_value_rhs
from agents.sync.params import SyncParams
from agents.sync.rk45 import solve_ivp_rk45
from agents.sync.scalar import InterpTable, ScalarGame

#: Largest number of VSPs for which :meth:`_Canonical.costate_point` reproduces NumPy's
#: ``einsum`` over VSPs (one group of 4 SIMD lanes, summed as ``(l0 + l2) + (l1 + l3)``).
MAX_POINT_VSPS = 4


@functools.cache
def einsum_sums_in_lanes() -> bool:
    """Whether this machine's ``einsum("pmn,mn->pn")`` (as :meth:`_Canonical.costate_rhs`
    calls it on one time point) sums the way :meth:`_Canonical.costate_point` does.

    The order is NumPy's SIMD kernel's (measured on an AVX-512 machine), so it is checked
    once per process on random products of wide range, laid out as in the sweeps; where it
    differs the sweeps keep the NumPy right-hand side.
    """
    rng = np.random.default_rng(2026)
    for m in range(1, MAX_POINT_VSPS + 1):
        for _ in range(12):
            lam = rng.standard_normal(2 * (m + 1)) * 10.0 ** rng.integers(-9, 9, 2 * (m + 1))
            lx = lam.reshape(2, m + 1, 1)[:, :m]
            x = np.array((rng.random(2 * m) * 10.0 ** rng.integers(-4, 4, 2 * m)).tolist()
                         )[:, None][:m]
            got = np.einsum("pmn,mn->pn", lx, x)
            for p in range(2):
                ln = [lx[p, j, 0] * x[j, 0] + 0.0 for j in range(m)] + [0.0] * (4 - m)
                if 0.0 + ((ln[0] + ln[2]) + (ln[1] + ln[3])) != got[p, 0]:
                    return False
    return True

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenLoopResult:
    """Raw solution of the canonical system.

    Attributes:
        t: mesh [n].
        y: states and costates on the mesh [K, n].
        eta_fn: the equilibrium control, times [q] -> [M, q] (all VSPs).
        converged: solve_bvp success and residual below tolerance.
        message: one-line diagnostics.
        max_residual: largest relative collocation residual.
        nodes: mesh size.
        sol: the continuous solution, times [q] -> states and costates [K, q].
    """

    t: np.ndarray
    y: np.ndarray
    eta_fn: EtaFn
    converged: bool
    message: str
    max_residual: float
    nodes: int
    sol: Callable[[np.ndarray], np.ndarray] | None = None


class _Canonical:
    """The canonical system (states + costates) for a set of optimising players."""

    def __init__(self, params: SyncParams, players: Sequence[int], fixed: EtaFn | None):
        self.p = params
        self.players = np.asarray(list(players), dtype=int)
        self.fixed = fixed
        m = params.M
        self.M = m
        self.P = self.players.size
        self.K = 2 * m + self.P * (m + 1)
        pl = self.players
        w = params.w[:, pl]
        self.nb = params.N * params.b
        self.myopic = self.nb / (params.d[pl] * params.k[pl])
        self.curv = 2.0 * w[3] * (params.d[pl] * params.k[pl]) ** 2
        self.s = params.delta * params.g[pl] * params.d[pl] / params.N
        self.lin_x = w[0] * params.alpha[pl] * self.nb          # dJ/dx_m without w4 part
        self.lin_z = w[1] * params.beta[pl] * params.d[pl]      # dJ/dz_m without w3 part
        self.w3, self.w4 = w[2], w[3]
        self.others = np.setdiff1d(np.arange(m), pl)
        # float constants of costate_point, computed as costate_rhs computes them
        self._scale: list[float] = (params.d * params.g).tolist()
        self._c: list[float] = params.c.tolist()
        self._rows = list(zip(
            pl.tolist(), params.d[pl].tolist(), params.k[pl].tolist(), self.lin_x.tolist(),
            (2.0 * self.w4 * self.nb).tolist(), (params.rho + params.theta[pl]).tolist(),
            self.lin_z.tolist(), (2.0 * self.w3).tolist(), params.v[pl].tolist(), strict=True))

    def split(self, y: np.ndarray) -> tuple[np.ndarray, ...]:
        m, p = self.M, self.P
        x, z = y[:m], y[m:2 * m]
        lam = y[2 * m:].reshape((p, m + 1) + y.shape[1:])
        return x, z, lam[:, :m], lam[:, m]

    def eta(self, t: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Intensities [M, n] on the mesh (players from the FOC, others fixed)."""
        x, z, lx, lz = self.split(y)
        pl = self.players
        eta = np.zeros_like(x)
        if self.others.size:
            eta[self.others] = self.fixed(np.atleast_1d(t))[self.others]
        own = lx[np.arange(self.P), pl]                         # lx_mm  [P, n]
        avg = np.einsum("pmn,mn->pn", lx, x)                    # sum_n lx_mn x_n
        val = (x[pl] * self.myopic[:, None]
               + (lz + self.s[:, None] * (own - avg)) / self.curv[:, None])
        eta[pl] = np.maximum(val, 0.0)
        return eta

    def costate_rhs(self, x: np.ndarray, z: np.ndarray, eta: np.ndarray, lx: np.ndarray,
                    lz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        prm = self.p
        pl = self.players
        rho, delta = prm.rho, prm.delta
        c = prm.c[:, None]
        s_pool = incentive_pool(prm, eta).sum(axis=0) / prm.N    # [n]
        xc = (x * c).sum(axis=0)                                 # [n]
        lxx = np.einsum("pmn,mn->pn", lx, x)                     # [P, n]
        # sum_n lx_pn d f_n / d x_j = delta(-lx_pj (S + c_j - xc) + c_j sum_n lx_pn x_n)
        dfx = delta * (-lx * (s_pool + c - xc)[None] + c[None] * lxx[:, None, :])
        gap = prm.d[pl, None] * eta[pl] * prm.k[pl, None] - x[pl] * self.nb
        dj = np.zeros_like(lx)
        dj[np.arange(self.P), pl] = self.lin_x[:, None] + 2.0 * self.w4[:, None] * self.nb * gap
        dlx = rho * lx - dj - dfx
        theta = prm.theta[pl, None]
        dlz = ((rho + theta) * lz - self.lin_z[:, None]
               + 2.0 * self.w3[:, None] * (z[pl] - prm.v[pl, None]))
        return dlx, dlz

    def costate_point(self, x: list[float], z: list[float], eta: list[float],
                      lam: list[float]) -> list[float]:
        """:meth:`costate_rhs` at one time point in float arithmetic, bit for bit.

        Args:
            x, z, eta: shares, twin values and intensities [M] (M <= :data:`MAX_POINT_VSPS`).
            lam: costates [P (M + 1)], player by player ``lx_p0..lx_pM-1, lz_p``.

        Returns:
            ``d lam / dt`` in the layout of ``lam``.
        """
        m, rho, delta, nb, c = self.M, self.p.rho, self.p.delta, self.nb, self._c
        s_pool = 0.0
        xc = 0.0
        for i in range(m):
            s_pool += eta[i] * self._scale[i]
            xc += x[i] * c[i]
        s_pool = s_pool / self.p.N
        u = [(s_pool + cm) - xc for cm in c]
        ln = [0.0, 0.0, 0.0, 0.0]
        out: list[float] = []
        base = 0
        for q, dp, kp, lin_x, gap_w, rho_theta, lin_z, w3x2, vp in self._rows:
            # einsum over VSPs: the products in SIMD lanes, then the lanes' pairwise sum
            for j in range(m):
                ln[j] = lam[base + j] * x[j] + 0.0
            lxx = 0.0 + ((ln[0] + ln[2]) + (ln[1] + ln[3]))
            dj = lin_x + gap_w * (dp * eta[q] * kp - x[q] * nb)
            for j in range(m):
                a = lam[base + j]
                # rho lx - dj - dfx, with dj = 0.0 off the diagonal (v - 0.0 == v)
                if j == q:
                    out.append((rho * a - dj) - delta * (-a * u[j] + c[j] * lxx))
                else:
                    out.append(rho * a - delta * (-a * u[j] + c[j] * lxx))
            out.append((rho_theta * lam[base + m] - lin_z) + w3x2 * (z[q] - vp))
            base += m + 1
        return out

    def rhs(self, t: np.ndarray, y: np.ndarray) -> np.ndarray:
        x, z, lx, lz = self.split(y)
        eta = self.eta(t, y)
        dlx, dlz = self.costate_rhs(x, z, eta, lx, lz)
        lam = np.concatenate([dlx, dlz[:, None]], axis=1).reshape((-1,) + y.shape[1:])
        return np.concatenate([replicator_rhs(self.p, x, eta), twin_value_rhs(self.p, z, eta),
                               lam])

    def bc(self, ya: np.ndarray, yb: np.ndarray) -> np.ndarray:
        m = self.M
        return np.concatenate([ya[:m] - self.p.x0, ya[m:2 * m] - self.p.z0, yb[2 * m:]])

    def _sweep_rhs(self, mesh: np.ndarray, eta: np.ndarray, st: np.ndarray | None
                   ) -> tuple[bool, Callable[[float, Any], Any], Callable[[float, Any], Any]]:
        """Right-hand sides of a sweep: states forward under ``eta`` and costates backward
        along the states ``st`` (both [.., mesh.size], interpolated linearly on ``mesh``).

        Up to :data:`MAX_POINT_VSPS` VSPs (and where :func:`einsum_sums_in_lanes`) they are
        evaluated in float arithmetic on lists of floats
        (:class:`agents.sync.scalar.InterpTable`, :meth:`costate_point`): the same numbers
        without NumPy's per-call costs.

        Returns:
            Whether the right-hand sides take and return lists of floats, and the two.
        """
        prm, m = self.p, self.M
        if m <= MAX_POINT_VSPS and einsum_sums_in_lanes():
            game = ScalarGame(prm)
            eta_tab = InterpTable(mesh, eta)
            both = InterpTable(mesh, np.concatenate([st, eta])) if st is not None else None

            def fwd_point(t: float, s: list[float]) -> list[float]:
                e = eta_tab.at(t)
                return game.replicator(s[:m], e) + game.twin(s[m:], e)

            def bwd_point(t: float, lam: list[float]) -> list[float]:
                assert both is not None
                v = both.at(t)
                return self.costate_point(v[:m], v[m:2 * m], v[2 * m:], lam)
            return True, fwd_point, bwd_point

        def fwd(t: float, s: np.ndarray) -> np.ndarray:
            e = np.array([np.interp(t, mesh, row) for row in eta])
            return np.concatenate([replicator_rhs(prm, s[:m], e),
                                   twin_value_rhs(prm, s[m:], e)])

        def bwd(t: float, lam: np.ndarray) -> np.ndarray:
            assert st is not None
            s = np.array([np.interp(t, mesh, row) for row in st])[:, None]
            e = np.array([np.interp(t, mesh, row) for row in eta])[:, None]
            lmat = lam.reshape(self.P, m + 1, 1)
            dlx, dlz = self.costate_rhs(s[:m], s[m:], e, lmat[:, :m], lmat[:, m])
            return np.concatenate([dlx, dlz[:, None]], axis=1).ravel()
        return False, fwd, bwd

    def sweep_guess(self, mesh: np.ndarray, sweeps: int, damping: float = 0.5) -> np.ndarray:
        """Initial guess by damped forward-backward sweeps on ``mesh``."""
        prm, m = self.p, self.M
        eta = np.zeros((m, mesh.size))
        if self.others.size:
            eta[self.others] = self.fixed(mesh)[self.others]
        eta[self.players] = (prm.x0[self.players] * self.myopic)[:, None]
        y = np.zeros((self.K, mesh.size))
        for _ in range(max(sweeps, 1)):
            lists, fwd, _ = self._sweep_rhs(mesh, eta, None)
            st = solve_ivp_rk45(fwd, (0.0, prm.T), np.concatenate([prm.x0, prm.z0]), mesh,
                                rtol=1e-6, atol=1e-8, lists=lists).y
            y[:2 * m] = st
            lists, _, bwd = self._sweep_rhs(mesh, eta, st)
            back = solve_ivp_rk45(bwd, (prm.T, 0.0), np.zeros(self.P * (m + 1)), mesh[::-1],
                                  rtol=1e-6, atol=1e-8, lists=lists).y[:, ::-1]
            y[2 * m:] = back
            new = self.eta(mesh, y)
            eta = (1.0 - damping) * eta + damping * new
        return y


def default_mesh(params: SyncParams, nodes: int = 200) -> np.ndarray:
    """A mesh on [0, T] that is dense near 0 (state transient) and near T (costate layer).

    Args:
        params: the game (uses T, rho, theta, delta).
        nodes: number of mesh points.

    Returns:
        Increasing times [nodes] from 0 to T.
    """
    u = np.linspace(0.0, 1.0, nodes)
    # smooth map concentrating points at both ends
    stretch = 0.5 * (1.0 - np.cos(np.pi * u))
    mesh = 0.5 * u + 0.5 * stretch
    return params.T * mesh


def solve_open_loop(
    params: SyncParams,
    players: Sequence[int] | None = None,
    fixed: EtaFn | None = None,
    *,
    tol: float = 1e-6,
    nodes: int = 200,
    max_nodes: int = 20000,
    sweeps: int = 4,
    guess: OpenLoopResult | None = None,
) -> OpenLoopResult:
    """Solve the open-loop Nash canonical system for the optimising ``players``.

    Args:
        params: the game.
        players: 0-based indices of the optimising VSPs (default: all).
        fixed: control of the non-players (times [q] -> [M, q]); required if some VSP is
            not a player.
        tol: solve_bvp tolerance on the relative collocation residual.
        nodes: initial mesh size.
        max_nodes: mesh size limit for solve_bvp.
        sweeps: forward-backward sweeps for the initial guess (retries use more).
        guess: a previous solution of the same system (same players) to warm-start from;
            if solve_bvp fails from it, the sweep guesses are tried.

    Returns:
        The :class:`OpenLoopResult`; ``converged`` False with a message if solve_bvp failed
        on every attempt (the best attempt is returned, never silently).

    Raises:
        ValueError: if some VSP is neither a player nor covered by ``fixed``.
    """
    players = list(range(params.M)) if players is None else sorted(int(i) for i in players)
    if len(players) < params.M and fixed is None:
        raise ValueError(f"solve_open_loop: players {players} need a fixed control for the rest")
    can = _Canonical(params, players, fixed)
    attempts: list[tuple[int, int]] = [(nodes, sweeps), (2 * nodes, 4 * sweeps + 4)]
    if guess is not None and guess.y.shape[0] == can.K:
        attempts = [(0, 0), (nodes, sweeps)]
    best: OpenLoopResult | None = None
    for n0, sw in attempts:
        if n0 == 0 and guess is not None:
            mesh, y0 = guess.t, guess.y
        else:
            mesh = default_mesh(params, n0)
            y0 = can.sweep_guess(mesh, sw)
        sol = solve_bvp(can.rhs, can.bc, mesh, y0, tol=tol, max_nodes=max_nodes)
        resid = float(np.max(sol.rms_residuals)) if sol.rms_residuals.size else np.inf
        ok = bool(sol.status == 0)
        msg = (f"solve_bvp: {sol.message} (nodes={sol.x.size}, max rms residual={resid:.2e}, "
               f"guess sweeps={sw})")
        solfun = sol.sol

        def eta_fn(t: np.ndarray, solfun=solfun) -> np.ndarray:  # noqa: B008
            tt = np.clip(np.atleast_1d(np.asarray(t, dtype=float)), 0.0, params.T)
            return can.eta(tt, solfun(tt))

        res = OpenLoopResult(t=sol.x, y=sol.y, eta_fn=eta_fn, converged=ok, message=msg,
                             max_residual=resid, nodes=int(sol.x.size), sol=solfun)
        if ok:
            return res
        log.info("open-loop attempt failed: %s", msg)
        if best is None or resid < best.max_residual:
            best = res
    assert best is not None
    return best
