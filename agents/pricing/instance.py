"""Pricing-game instances as JSON files: the input and output of ``uavtwin game solve``.

An instance file is one JSON object describing one pricing round (MODEL.md Part A):

``delta`` [I], ``ssim`` [I][J], ``ssim_threshold`` [I], ``spectral_efficiency`` [I][J],
``budget`` [I], ``cost`` [J], ``price_cap`` [J], and optionally ``available`` [I][J] (booleans).

:func:`load_instance` checks the file strictly (unknown or missing keys, ragged lists, wrong
lengths, non-numbers, NaN, out-of-range values) and raises one-line ``ValueError`` messages
``"<path>: <key>: expected ..., got ..."``.  :func:`solve_instance` runs a pricing policy on
the game and returns a JSON-ready dict (lists, floats, bools).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from agents.pricing.game import PricingGame
from agents.pricing.registry import make_policy

__all__ = ["MAX_MAGNITUDE", "MIN_MAGNITUDE", "load_instance", "non_finite_output",
           "solve_instance", "solve_memory_bytes"]

MAX_MAGNITUDE = 1e12
"""Largest absolute value of any number in an instance (beyond it products overflow)."""
MIN_MAGNITUDE = 1e-12
"""Smallest non-zero absolute value (below it quotients overflow and logs lose meaning)."""

_KEYS = ("delta", "ssim", "ssim_threshold", "spectral_efficiency", "budget", "cost",
         "price_cap")
_OPTIONAL = ("available",)


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _vector(src: str, key: str, value: Any, n: int | None, *, boolean: bool = False,
            what: str = "number") -> list[Any]:
    """Check a flat list of ``n`` numbers (or booleans) and return it."""
    if not isinstance(value, list):
        raise ValueError(f"{src}: {key}: expected a list, got {_short(value)}")
    if n is not None and len(value) != n:
        raise ValueError(f"{src}: {key}: expected {n} entries, got {len(value)}")
    for k, x in enumerate(value):
        ok = isinstance(x, bool) if boolean else (
            isinstance(x, int | float) and not isinstance(x, bool)
            and (isinstance(x, int) or math.isfinite(x)))
        if not ok:
            raise ValueError(f"{src}: {key}[{k}]: expected a finite {what}, got {_short(x)}")
        if not boolean and not (x == 0 or MIN_MAGNITUDE <= abs(x) <= MAX_MAGNITUDE):
            raise ValueError(f"{src}: {key}[{k}]: {_short(x)} is outside the supported "
                             f"magnitudes 0 or {MIN_MAGNITUDE:g} .. {MAX_MAGNITUDE:g} (the "
                             "solvers' arithmetic would overflow or underflow)")
    return value


def _matrix(src: str, key: str, value: Any, n_i: int, n_j: int, *,
            boolean: bool = False) -> list[list[Any]]:
    """Check an ``n_i`` x ``n_j`` list of lists and return it."""
    rows = value
    if not isinstance(rows, list):
        raise ValueError(f"{src}: {key}: expected a list of {n_i} rows, got {_short(value)}")
    if len(rows) != n_i:
        raise ValueError(f"{src}: {key}: expected {n_i} rows (one per UAV), got {len(rows)}")
    what = "boolean" if boolean else "number"
    for i, row in enumerate(rows):
        _vector(src, f"{key}[{i}]", row, n_j, boolean=boolean, what=what)
    return rows


def _range(src: str, key: str, arr: np.ndarray, ok: np.ndarray, expected: str) -> None:
    if not ok.all():
        idx = tuple(int(k) for k in np.argwhere(~ok)[0])
        where = "".join(f"[{k}]" for k in idx)
        raise ValueError(f"{src}: {key}{where}: expected {expected}, got {float(arr[idx])!r}")


def load_instance(path: str | Path) -> PricingGame:
    """Read a pricing-game instance from a JSON file.

    Args:
        path: the JSON file.

    Returns:
        The validated :class:`PricingGame`.

    Raises:
        ValueError: unreadable file, invalid JSON, or a bad key, as
            ``"<path>: <key>: expected ..., got ..."``.
    """
    src = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{src}: cannot read instance file: {err}") from err
    try:
        data = json.loads(text)
    except ValueError as err:  # JSONDecodeError, or an integer of more than 4,300 digits
        raise ValueError(f"{src}: not valid JSON: {' '.join(str(err).split())}") from None
    except RecursionError:
        raise ValueError(f"{src}: not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ValueError(f"{src}: expected a JSON object with keys {list(_KEYS)}, "
                         f"got {type(data).__name__}")
    unknown = sorted(set(data) - set(_KEYS) - set(_OPTIONAL))
    if unknown:
        raise ValueError(f"{src}: {unknown[0]}: unknown key; expected one of "
                         f"{list(_KEYS + _OPTIONAL)}")
    missing = [k for k in _KEYS if k not in data]
    if missing:
        raise ValueError(f"{src}: {missing[0]}: missing key")
    n_i = len(_vector(src, "delta", data["delta"], None))
    n_j = len(_vector(src, "cost", data["cost"], None))
    if n_i == 0 or n_j == 0:
        key = "delta" if n_i == 0 else "cost"
        raise ValueError(f"{src}: {key}: expected at least one entry, got []")
    arrays: dict[str, np.ndarray] = {}
    for key, n in (("delta", n_i), ("ssim_threshold", n_i), ("budget", n_i), ("cost", n_j),
                   ("price_cap", n_j)):
        arrays[key] = np.array(_vector(src, key, data[key], n), dtype=float)
    for key in ("ssim", "spectral_efficiency"):
        arrays[key] = np.array(_matrix(src, key, data[key], n_i, n_j), dtype=float)
    available = None
    if "available" in data:
        available = np.array(_matrix(src, "available", data["available"], n_i, n_j,
                                     boolean=True), dtype=bool)
    _range(src, "delta", arrays["delta"], arrays["delta"] >= 0, "a number >= 0")
    for key in ("ssim", "ssim_threshold"):
        a = arrays[key]
        _range(src, key, a, (a > 0) & (a <= 1), "a number in (0, 1]")
    for key in ("spectral_efficiency", "budget"):
        _range(src, key, arrays[key], arrays[key] >= 0, "a number >= 0")
    _range(src, "cost", arrays["cost"], arrays["cost"] > 0, "a number > 0")
    _range(src, "price_cap", arrays["price_cap"], arrays["price_cap"] >= arrays["cost"],
           "a number >= cost (the price cap cannot be below the cost)")
    try:
        return PricingGame(available=available, **arrays)
    except ValueError as err:   # defensive: PricingGame names the field
        raise ValueError(f"{src}: {err}") from err


def solve_memory_bytes(n_uavs: int, n_rsus: int, solver: str, iterations: int) -> float:
    """Estimated peak memory of solving one round with ``solver`` (bytes, generous).

    The exact equilibrium (compiled, :mod:`agents.pricing.kernel`) keeps about 16
    ``UAVs x RSUs`` float arrays (game, solver arrays, prices, demand, utilities); the
    repeated-game solvers keep price and demand paths over their ``iterations``
    (``iterations x UAVs x RSUs``, a few arrays).

    Args:
        n_uavs: followers ``I``.
        n_rsus: leaders ``J``.
        solver: policy name.
        iterations: ``K`` of the repeated-game solvers.

    Returns:
        Bytes.
    """
    if solver == "equilibrium":
        return 16 * 8.0 * n_uavs * n_rsus
    return 4 * 8.0 * float(iterations) * n_uavs * n_rsus + 64.0 * n_uavs * n_rsus


def non_finite_output(result: dict[str, Any]) -> str | None:
    """The first NaN or infinite number in a :func:`solve_instance` result, as ``key[i][j]``."""
    for key, value in result.items():
        arr = np.asarray(value, dtype=float) if isinstance(value, list | float) else None
        if arr is not None and arr.size and not np.isfinite(arr).all():
            idx = np.argwhere(~np.isfinite(np.atleast_1d(arr)))[0]
            return key + "".join(f"[{int(i)}]" for i in idx) if arr.ndim else key
    return None


def solve_instance(game: PricingGame, solver: str, *, seed: int = 0,
                   checkpoint: str | None = None, iterations: int = 50) -> dict[str, Any]:
    """Run pricing policy ``solver`` on ``game`` and return a JSON-ready result.

    Args:
        game: the pricing round.
        solver: a name from ``agents.pricing.policies.POLICY_NAMES``.
        seed: seed of the policy's random generator.
        checkpoint: model file for learned policies.
        iterations: repeated-game iterations ``K``.

    Returns:
        ``{"solver", "prices", "demand", "rsu_utility", "uav_utility", "converged",
        "iterations", "residual"}`` plus ``"reward_path"`` for repeated-game solvers;
        arrays become (nested) lists of floats; ``residual`` is None when undefined
        (a repeated game of one iteration).

    Raises:
        ValueError: unknown solver or bad ``iterations``.
    """
    policy = make_policy(solver, iterations=iterations, checkpoint=checkpoint)
    out = policy.run_round(game, np.random.default_rng(seed))
    result: dict[str, Any] = {
        "solver": solver,
        "prices": np.asarray(out.prices, dtype=float).tolist(),
        "demand": np.asarray(out.demand, dtype=float).tolist(),
        "rsu_utility": np.asarray(out.rsu_utility, dtype=float).tolist(),
        "uav_utility": np.asarray(out.uav_utility, dtype=float).tolist(),
        "converged": bool(out.converged),
        "iterations": int(out.iterations),
        "residual": float(out.residual) if math.isfinite(out.residual) else None,
    }
    if out.price_path is not None:
        result["reward_path"] = np.asarray(out.reward_path, dtype=float).tolist()
    return result
