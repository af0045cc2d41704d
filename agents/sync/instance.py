"""JSON parameter files for the synchronisation game (backs ``uavtwin sync solve``).

A parameter file is one JSON object with the scalars ``N, b, delta, rho, T, g0, g1``, the
weights ``w`` (4 numbers, or 4 lists of M numbers for per-VSP weights) and the per-VSP lists
``theta, d, alpha, k, v, c, x0, z0`` (length M each); optionally ``intensity`` (M numbers,
for ``--mode constant``) and ``leaders`` (1-based VSP numbers, as in the paper: VSP 3 is
``[3]``).  :func:`solve_sync` returns a JSON-ready dict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.sync.game import MODES, solve
from agents.sync.params import SyncParams

__all__ = ["MAX_MAGNITUDE", "MAX_NODES", "MAX_RATE_HORIZON", "load_sync_params",
           "parse_leaders", "solve_sync", "sync_memory_bytes"]

_SCALARS = ("N", "b", "delta", "rho", "T", "g0", "g1")
_VECTORS = ("theta", "d", "alpha", "k", "v", "c", "x0", "z0")
_OPTIONAL = ("intensity", "leaders")


MAX_MAGNITUDE = 1e12
"""Largest absolute value of any parameter (beyond it the ODEs overflow or never end)."""
MAX_RATE_HORIZON = 1e6
"""Largest T x (fastest rate among delta, theta, rho): the ODE steps the horizon needs."""
MAX_NODES = 20_000
"""Collocation mesh limit of the open-loop solvers (agents.sync.nash)."""


def _number(path: str, key: str, val: Any) -> float:
    if isinstance(val, bool) or not isinstance(val, int | float):
        raise ValueError(f"{path}: {key}: expected a number, got {_short(val)}")
    if not (isinstance(val, int) or math.isfinite(val)) or abs(val) > MAX_MAGNITUDE:
        raise ValueError(f"{path}: {key}: {_short(val)} is outside the supported range "
                         f"|x| <= {MAX_MAGNITUDE:g}")
    return float(val)


def _short(val: Any) -> str:
    if isinstance(val, int) and abs(val) >= 10**30:
        return f"an integer of {len(str(abs(val)))} digits"
    text = repr(val)
    return text if len(text) <= 60 else text[:57] + "..."


def sync_memory_bytes(params: SyncParams, mode: str) -> float:
    """Estimated peak memory of :func:`solve_sync` (bytes, generous).

    The open-loop solvers (nash, stackelberg) collocate ``4 M`` states and costates on up to
    :data:`MAX_NODES` mesh nodes with dense ``(4 M)^2`` Jacobian blocks per node; static and
    constant only integrate ``2 M`` states.
    """
    k = 4 * params.M
    if mode in ("nash", "stackelberg"):
        return 4.0 * MAX_NODES * k * k * 8
    return 64.0 * 1024 * k


def _numbers(path: str, key: str, val: Any, size: int | None) -> list[float]:
    if not isinstance(val, list):
        raise ValueError(f"{path}: {key}: expected a list of numbers, got {val!r}")
    if size is not None and len(val) != size:
        raise ValueError(f"{path}: {key}: expected {size} values (M from theta), "
                         f"got {len(val)}")
    return [_number(path, f"{key}[{i}]", v) for i, v in enumerate(val)]


def load_sync_params(path: str | Path) -> SyncParams:
    """Read and validate a synchronisation-game parameter file.

    Args:
        path: JSON file.

    Returns:
        The validated :class:`SyncParams` (leaders converted to 0-based).

    Raises:
        ValueError: ``"<path>: <key>: expected ..., got ..."`` for unreadable or invalid
            input (missing key, wrong type, length mismatch, shares not summing to 1,
            negative rates, ...).
    """
    src = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"{src}: cannot read file: {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{src}: invalid JSON at line {err.lineno}: {err.msg}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{src}: not UTF-8 text: byte 0x{err.object[err.start]:02x} at byte "
                         f"offset {err.start}") from None
    except (ValueError, RecursionError) as err:  # e.g. an integer of more than 4,300 digits
        raise ValueError(f"{src}: invalid JSON: {' '.join(str(err).split())[:120]}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{src}: expected a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_SCALARS) - set(_VECTORS) - set(_OPTIONAL) - {"w"})
    if unknown:
        raise ValueError(f"{src}: {unknown[0]}: unknown key (expected one of "
                         f"{', '.join(_SCALARS + ('w',) + _VECTORS + _OPTIONAL)})")
    for key in _SCALARS + ("w",) + _VECTORS:
        if key not in data:
            raise ValueError(f"{src}: {key}: expected a value, got nothing (missing key)")
    vals: dict[str, Any] = {k: _number(src, k, data[k]) for k in _SCALARS}
    theta = _numbers(src, "theta", data["theta"], None)
    if not theta:
        raise ValueError(f"{src}: theta: expected at least one VSP, got []")
    m = len(theta)
    for key in _VECTORS:
        vals[key] = np.array(_numbers(src, key, data[key], m))
    w = data["w"]
    if isinstance(w, list) and w and all(isinstance(r, list) for r in w):
        if len(w) != 4:
            raise ValueError(f"{src}: w: expected 4 rows of per-VSP weights, got {len(w)}")
        vals["w"] = np.array([_numbers(src, f"w[{i}]", r, m) for i, r in enumerate(w)])
    else:
        vals["w"] = np.array(_numbers(src, "w", w, 4))
    if data.get("intensity") is not None:
        vals["intensity"] = np.array(_numbers(src, "intensity", data["intensity"], m))
    if data.get("leaders") is not None:
        vals["leaders"] = parse_leaders(data["leaders"], m, f"{src}: leaders")
    try:
        params = SyncParams(**vals)
    except ValueError as err:
        msg = str(err).removeprefix("SyncParams.")
        raise ValueError(f"{src}: {msg}") from None
    rates = {"delta": params.delta, "rho": params.rho, "theta": float(np.max(params.theta))}
    name, rate = max(rates.items(), key=lambda kv: kv[1])
    if params.T * rate > MAX_RATE_HORIZON:
        raise ValueError(f"{src}: T: horizon {params.T:g} x rate {name} {rate:g} = "
                         f"{params.T * rate:.3g} time constants, more than the solvers can step "
                         f"through ({MAX_RATE_HORIZON:g}); shorten T or slow the rates")
    return params


def parse_leaders(value: Any, m: int, where: str = "leaders") -> tuple[int, ...]:
    """Turn 1-based VSP numbers (list, int, or ``"1,3"`` string) into 0-based indices.

    Args:
        value: the leaders as given by the user.
        m: number of VSPs.
        where: prefix for error messages.

    Returns:
        0-based indices.

    Raises:
        ValueError: for non-integers, numbers outside 1..M, or no follower left.
    """
    if isinstance(value, str):
        items: Sequence[Any] = [s.strip() for s in value.split(",") if s.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(f"{where}: expected 1-based VSP numbers, got {value!r}")
    out = []
    for item in items:
        try:
            num = int(item)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: expected integer VSP numbers, got {item!r}") from None
        if isinstance(item, float | bool) or not 1 <= num <= m:
            raise ValueError(f"{where}: expected VSP numbers in 1..{m}, got {item!r}")
        out.append(num - 1)
    if len(set(out)) >= m:
        raise ValueError(f"{where}: at least one follower needed, got leaders {value!r}")
    return tuple(sorted(set(out)))


def solve_sync(params: SyncParams, mode: str, *, leaders: Sequence[int] | None = None,
               points: int = 301) -> dict[str, Any]:
    """Solve with one controller and return a JSON-ready dict.

    Args:
        params: the game.
        mode: ``nash``, ``stackelberg``, ``static`` or ``constant``.
        leaders: 0-based leader indices (``stackelberg``; default ``params.leaders``).
        points: number of output times.

    Returns:
        ``{"mode", "t" [n], "x" [M][n], "z" [M][n], "eta" [M][n], "payoff" [M],
        "converged", "message", "leaders" (1-based)}``.

    Raises:
        ValueError: for an unknown mode or missing mode inputs.
    """
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {', '.join(MODES)}, got {mode!r}")
    sol = solve(params, mode, leaders=leaders, points=points)
    tr = sol.trajectory
    return {
        "mode": mode,
        "t": tr.t.tolist(),
        "x": tr.x.tolist(),
        "z": tr.z.tolist(),
        "eta": tr.eta.tolist(),
        "payoff": tr.payoff.tolist(),
        "converged": bool(sol.converged),
        "message": sol.message,
        "leaders": [i + 1 for i in sol.leaders],
    }
