"""Input validation of the pricing game: shapes, finiteness and ranges of its parameters.

A :class:`~agents.pricing.game.PricingGame` is built from arrays that come from scenarios,
JSON instances and random draws, and every solver relies on them being sane: SSIMs and
thresholds in ``(0, 1]``, non-negative weights, spectral efficiencies and budgets, positive
costs and caps no lower than the costs; posted prices must be finite and positive. The
checks run vectorised on the fast path (:func:`_ranges_ok`, one pass over all arrays) and
only on failure walk the fields one by one (:func:`_check`) to name the first bad field,
index and value in the ``ValueError``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["FIELDS", "GameArrays", "check_prices", "validated_fields"]


class GameArrays(Protocol):
    """What the checks read of a game: its parameter arrays (a ``PricingGame`` has them)."""

    delta: np.ndarray
    cost: np.ndarray
    available: np.ndarray | None

    @property
    def n_uavs(self) -> int: ...

    @property
    def n_rsus(self) -> int: ...


def _check(name: str, value: object, shape: tuple[int, ...], *, lo: float | None = None,
           lo_open: bool = False, hi: float | None = None) -> np.ndarray:
    """Coerce ``value`` to a read-only float array of ``shape`` and check its range."""
    arr = np.array(value, dtype=float)
    if arr.shape != shape:
        raise ValueError(f"PricingGame.{name}: expected shape {shape}, got {arr.shape}")
    bad = ~np.isfinite(arr)
    if lo is not None:
        bad |= (arr <= lo) if lo_open else (arr < lo)
    if hi is not None:
        bad |= arr > hi
    if bad.any():
        idx = tuple(int(k) for k in np.argwhere(bad)[0])
        rng = f"{'(' if lo_open else '['}{lo}, {hi}]"
        raise ValueError(f"PricingGame.{name}{list(idx)} = {float(arr[idx])!r} not finite "
                         f"in {rng}")
    arr.flags.writeable = False
    return arr


# (field, shape, lo, lo_open, hi) in validation order; shape "i" [I], "ij" [I, J], "j" [J]
FIELDS = (("delta", "i", 0.0, False, None), ("ssim", "ij", 0.0, True, 1.0),
           ("ssim_threshold", "i", 0.0, True, 1.0), ("spectral_efficiency", "ij", 0.0, False, None),
           ("budget", "i", 0.0, False, None), ("cost", "j", 0.0, True, None),
           ("price_cap", "j", 0.0, False, None))


def _ranges_ok(delta: np.ndarray, ssim: np.ndarray, th: np.ndarray, q: np.ndarray,
               budget: np.ndarray, cost: np.ndarray, cap: np.ndarray) -> bool:
    """All of :data:`FIELDS`' range checks and ``cap >= cost`` at once (NaN fails them)."""
    nonneg = np.concatenate((delta, q.ravel(), budget, cap))
    unit = np.concatenate((ssim.ravel(), th))
    return bool(nonneg.min() >= 0.0 and nonneg.max() < np.inf and unit.min() > 0.0
                and unit.max() <= 1.0 and cost.min() > 0.0 and (cap >= cost).all())


def validated_fields(game: GameArrays) -> tuple[list[np.ndarray], np.ndarray | None]:
    """A new game's parameters, checked: the :data:`FIELDS` as read-only float arrays (in
    that order) and ``available`` as a read-only bool array (None if not given).

    Raises:
        ValueError: naming the first field with a wrong shape or an out-of-range value
            (with its index and value), or ``price_cap < cost``.
    """
    n_i = int(np.size(game.delta)) if np.ndim(game.delta) == 1 else -1
    n_j = int(np.size(game.cost)) if np.ndim(game.cost) == 1 else -1
    if n_i < 1:
        raise ValueError(f"PricingGame.delta: expected a non-empty 1-D array, got "
                         f"shape {np.shape(game.delta)}")
    if n_j < 1:
        raise ValueError(f"PricingGame.cost: expected a non-empty 1-D array, got "
                         f"shape {np.shape(game.cost)}")
    arrs = [np.array(getattr(game, name), dtype=float) for name, *_ in FIELDS]
    shapes = {"i": (n_i,), "ij": (n_i, n_j), "j": (n_j,)}
    if (any(x.shape != shapes[spec[1]] for x, spec in zip(arrs, FIELDS, strict=True))
            or not _ranges_ok(*arrs)):
        # slow path, only to name the first bad field and value (same checks)
        for x, (name, shape, lo, lo_open, hi) in zip(arrs, FIELDS, strict=True):
            _check(name, x, shapes[shape], lo=lo, lo_open=lo_open, hi=hi)
        cost, cap = arrs[5], arrs[6]
        j = int(np.flatnonzero(cap < cost)[0])
        raise ValueError(f"PricingGame.price_cap[{j}] = {float(cap[j])!r} is "
                         f"below cost[{j}] = {float(cost[j])!r}")
    for x in arrs:
        x.flags.writeable = False
    avail = None
    if game.available is not None:
        avail = np.array(game.available)
        if avail.shape != (n_i, n_j) or avail.dtype != bool:
            raise ValueError(f"PricingGame.available: expected bool array of shape "
                             f"{(n_i, n_j)}, got {avail.dtype} {avail.shape}")
        avail.flags.writeable = False
    return arrs, avail


def check_prices(game: GameArrays, prices: np.ndarray) -> np.ndarray:
    """``prices`` as a float ``[I, J]`` array; ValueError unless every entry is finite > 0."""
    p = np.asarray(prices, dtype=float)
    if p.shape != (game.n_uavs, game.n_rsus):
        raise ValueError(f"prices: expected shape {(game.n_uavs, game.n_rsus)}, got {p.shape}")
    if not np.all(np.isfinite(p) & (p > 0)):
        raise ValueError(f"prices: every entry must be finite and > 0, got min {p.min()!r}")
    return p
