"""JSON parameter files for the synchronisation game (backs ``uavtwin sync solve``).

A parameter file is one JSON object using the names of the scenario's ``sensing`` section:
the scalars ``population, data_per_uav, revision_rate, discount, horizon_s, g0, g1``, the
``weights`` (4 numbers, or 4 lists of M numbers for per-VSP weights) and the per-VSP lists
``theta, twins, alpha, k, v, c, x0, z0`` (length M each); optionally ``intensity`` (M
numbers, for ``--mode constant``) and ``leaders`` (0-based VSP indices, as everywhere in
uavtwin: the paper's VSP 3 is ``[2]``). :func:`solve_sync` returns a JSON-ready dict.

The paper's short names (``N, b, delta, rho, T, w, d``) are still read, with a
``FutureWarning`` naming the new key; a file written with them keeps its old meaning of
``leaders`` (1-based paper numbers), also with a warning.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.sync.game import MODES, solve
from agents.sync.params import SyncParams

__all__ = ["DEPRECATED_KEYS", "MAX_MAGNITUDE", "MAX_NODES", "MAX_RATE_HORIZON",
           "load_sync_params", "parse_leaders", "solve_sync", "sync_memory_bytes"]

#: File key -> SyncParams field (the file uses the scenario's sensing names).
_SCALARS = {"population": "N", "data_per_uav": "b", "revision_rate": "delta",
            "discount": "rho", "horizon_s": "T", "g0": "g0", "g1": "g1"}
_VECTORS = {"theta": "theta", "twins": "d", "alpha": "alpha", "k": "k", "v": "v", "c": "c",
            "x0": "x0", "z0": "z0"}
_OPTIONAL = ("intensity", "leaders")
#: Deprecated key (the paper's symbol) -> its current name.
DEPRECATED_KEYS = {"N": "population", "b": "data_per_uav", "delta": "revision_rate",
                   "rho": "discount", "T": "horizon_s", "w": "weights", "d": "twins"}


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
    legacy = [k for k in data if k in DEPRECATED_KEYS]
    for old in legacy:
        new = DEPRECATED_KEYS[old]
        if new in data:
            raise ValueError(f"{src}: {old}: given twice, as {old!r} and as {new!r}")
        warnings.warn(f"{src}: key {old!r} is deprecated, use {new!r} (the scenario's "
                      "sensing name)", FutureWarning, stacklevel=2)
        data[new] = data.pop(old)
    known = (*_SCALARS, "weights", *_VECTORS, *_OPTIONAL)
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{src}: {unknown[0]}: unknown key (expected one of "
                         f"{', '.join(known)})")
    for key in (*_SCALARS, "weights", *_VECTORS):
        if key not in data:
            raise ValueError(f"{src}: {key}: expected a value, got nothing (missing key)")
    vals: dict[str, Any] = {f: _number(src, k, data[k]) for k, f in _SCALARS.items()}
    theta = _numbers(src, "theta", data["theta"], None)
    if not theta:
        raise ValueError(f"{src}: theta: expected at least one VSP, got []")
    m = len(theta)
    for key, f in _VECTORS.items():
        vals[f] = np.array(_numbers(src, key, data[key], m))
    w = data["weights"]
    if isinstance(w, list) and w and all(isinstance(r, list) for r in w):
        if len(w) != 4:
            raise ValueError(f"{src}: weights: expected 4 rows of per-VSP weights, got "
                             f"{len(w)}")
        vals["w"] = np.array([_numbers(src, f"weights[{i}]", r, m) for i, r in enumerate(w)])
    else:
        vals["w"] = np.array(_numbers(src, "weights", w, 4))
    if data.get("intensity") is not None:
        vals["intensity"] = np.array(_numbers(src, "intensity", data["intensity"], m))
    if data.get("leaders") is not None:
        one_based = bool(legacy)
        if one_based:
            warnings.warn(f"{src}: leaders: read as 1-based paper numbers because the file "
                          "uses the deprecated key names; with the current names they are "
                          "0-based VSP indices", FutureWarning, stacklevel=2)
        vals["leaders"] = parse_leaders(data["leaders"], m, f"{src}: leaders",
                                        one_based=one_based)
    try:
        params = SyncParams(**vals)
    except ValueError as err:
        msg = str(err).removeprefix("SyncParams.")
        for key, field in (*_SCALARS.items(), *_VECTORS.items(), ("weights", "w")):
            if msg.startswith(f"{field}:") and key != field:
                msg = key + msg[len(field):]
                break
        raise ValueError(f"{src}: {msg}") from None
    rates = {"delta": params.delta, "rho": params.rho, "theta": float(np.max(params.theta))}
    name, rate = max(rates.items(), key=lambda kv: kv[1])
    if params.T * rate > MAX_RATE_HORIZON:
        raise ValueError(f"{src}: T: horizon {params.T:g} x rate {name} {rate:g} = "
                         f"{params.T * rate:.3g} time constants, more than the solvers can step "
                         f"through ({MAX_RATE_HORIZON:g}); shorten T or slow the rates")
    return params


def parse_leaders(value: Any, m: int, where: str = "leaders", *,
                  one_based: bool = False) -> tuple[int, ...]:
    """Turn leader VSPs (list, int, or ``"0,2"`` string) into sorted 0-based indices.

    Args:
        value: the leaders as given by the user: 0-based VSP indices (the paper's VSP 3 is
            2), as in the scenario's ``sensing.leaders`` and the trace's ``vsp_id``.
        m: number of VSPs.
        where: prefix for error messages.
        one_based: read ``value`` as the paper's 1-based numbers (deprecated files only).

    Returns:
        0-based indices.

    Raises:
        ValueError: for non-integers, indices outside 0..M-1, or no follower left.
    """
    first = 1 if one_based else 0
    kind = "1-based VSP numbers" if one_based else "0-based VSP indices"
    if isinstance(value, str):
        items: Sequence[Any] = [s.strip() for s in value.split(",") if s.strip()]
    elif isinstance(value, int) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise ValueError(f"{where}: expected {kind}, got {value!r}")
    out = []
    for item in items:
        try:
            num = int(item)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: expected integer {kind}, got {item!r}") from None
        if isinstance(item, float | bool) or not first <= num <= m - 1 + first:
            raise ValueError(f"{where}: expected {kind} in {first}..{m - 1 + first}, "
                             f"got {item!r}")
        out.append(num - first)
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
        "converged", "message", "leaders" (0-based VSP indices)}``.

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
        "leaders": list(sol.leaders),
    }
