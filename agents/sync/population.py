"""Agent-based sensing population: N UAVs choosing VSPs by pairwise proportional imitation.

Each UAV works for one VSP and earns ``u_m = P_m / n_m - c_m`` (the pool shared equally by
the ``n_m`` UAVs working for m).  A UAV revising its choice picks another UAV uniformly at
random and copies that UAV's VSP with probability proportional to the payoff gain
``(u_other - u_own)_+``.  With revision opportunities at rate ``delta * U`` and switching
probability ``gain / U`` (``U`` = current payoff spread, so the probability is <= 1), a UAV
switches from m to n at rate ``delta x_n (u_n - u_m)_+``, whose mean field is exactly the
replicator equation ``dx_m/dt = delta x_m (u_m - ubar)`` of MODEL B2: the agent-based shares
approach the ODE as N grows, with fluctuations of order ``1/sqrt(N)``.

One difference from the ODE: a VSP that nobody works for cannot be imitated, so it stays
empty (the ODE lets it re-enter, since ``x_m u_m = P_m/N > 0``).  Start from interior shares.
"""

from __future__ import annotations

import numpy as np

from agents.sync.dynamics import EtaFn, incentive_pool, twin_value_step
from agents.sync.params import SyncParams


def initial_strategies(params: SyncParams, rng: np.random.Generator) -> np.ndarray:
    """Assign each of the N UAVs a VSP so that the counts match ``x0`` (largest remainder).

    Args:
        params: the game (``N`` is rounded to an integer).
        rng: random generator (shuffles the assignment).

    Returns:
        VSP index per UAV, int array [N].
    """
    n = int(round(params.N))
    raw = params.x0 * n
    counts = np.floor(raw).astype(int)
    rest = n - counts.sum()
    counts[np.argsort(raw - counts)[::-1][:rest]] += 1
    return rng.permutation(np.repeat(np.arange(params.M), counts))


def imitation_step(params: SyncParams, strategies: np.ndarray, eta: np.ndarray, h: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Advance the population by ``h`` seconds of pairwise proportional imitation.

    The step is split internally so that a UAV revises with probability <= 0.02 per sub-step.

    Args:
        params: the game.
        strategies: VSP index per UAV [N] (not modified).
        eta: intensities [M], constant over the step.
        h: step length in seconds (>= 0).
        rng: random generator.

    Returns:
        New strategies [N].

    Raises:
        ValueError: if ``h`` is negative.
    """
    if h < 0:
        raise ValueError(f"imitation_step: negative step {h}")
    s = strategies.copy()
    n = s.size
    pool = incentive_pool(params, np.asarray(eta, dtype=float))
    left = float(h)
    while left > 1e-12:
        counts = np.bincount(s, minlength=params.M)
        occupied = counts > 0
        u = np.full(params.M, -np.inf)
        u[occupied] = pool[occupied] / counts[occupied] - params.c[occupied]
        spread = float(u[occupied].max() - u[occupied].min())
        if spread <= 0 or params.delta == 0:
            break
        dt = min(left, 0.02 / (params.delta * spread))
        revise = rng.random(n) < -np.expm1(-params.delta * spread * dt)
        idx = np.flatnonzero(revise)
        partner = rng.integers(0, n, size=idx.size)
        gain = u[s[partner]] - u[s[idx]]
        switch = rng.random(idx.size) < np.clip(gain / spread, 0.0, 1.0)
        s[idx[switch]] = s[partner[switch]]
        left -= dt
    return s


def simulate_population(params: SyncParams, eta: EtaFn, t_grid: np.ndarray,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Agent-based shares and twin values on a time grid.

    Intensities are held at their value at the start of each grid interval; twin values use
    the exact step of MODEL B2.

    Args:
        params: the game.
        eta: control, times [q] -> [M, q].
        t_grid: increasing times [n] starting at 0.
        rng: random generator.

    Returns:
        (shares [M, n], twin values [M, n]).
    """
    t_grid = np.asarray(t_grid, dtype=float)
    s = initial_strategies(params, rng)
    z = params.z0.copy()
    xs = np.empty((params.M, t_grid.size))
    zs = np.empty((params.M, t_grid.size))
    xs[:, 0] = np.bincount(s, minlength=params.M) / s.size
    zs[:, 0] = z
    for i in range(1, t_grid.size):
        h = float(t_grid[i] - t_grid[i - 1])
        e = np.maximum(eta(t_grid[i - 1:i])[:, 0], 0.0)
        s = imitation_step(params, s, e, h, rng)
        z = twin_value_step(params, z, e, h)
        xs[:, i] = np.bincount(s, minlength=params.M) / s.size
        zs[:, i] = z
    return xs, zs
