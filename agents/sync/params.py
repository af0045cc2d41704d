"""Parameters of the twin-synchronisation game (MODEL.md Part B), in one frozen object.

A population of ``N`` sensing UAVs chooses among ``M`` virtual service providers (VSPs).
VSP ``m`` owns ``d_m`` digital twins whose value ``z_m`` decays at rate ``theta_m`` unless it
synchronises them at intensity ``eta_m``; the incentive pool it offers the UAVs is
``eta_m d_m g(theta_m)`` with ``g(theta) = g0 + g1 theta``.  The VSP's payoff rate (paper
eqs. 7-8) is weighted by ``w = (w1, w2, w3, w4)``; ``w`` may be one 4-vector shared by every
VSP or a ``[4, M]`` array of per-VSP weights (the paper's Fig. 12 varies ``w3`` of VSP 1 only).

:class:`SyncParams` validates everything once; the solvers never re-check.
:meth:`SyncParams.paper_defaults` holds the project's calibrated values for the paper's
lost Table II (see docs/sync-games.md for the reasoning).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

_PER_VSP = ("theta", "d", "alpha", "k", "v", "c", "x0", "z0")
_SCALARS = ("N", "b", "delta", "rho", "T", "g0", "g1")

#: Calibrated defaults shared by the 2- and 4-VSP settings (docs/sync-games.md).
DEFAULT_SCALARS: dict[str, float] = {
    "N": 500.0,
    "b": 0.2,
    "delta": 0.05,
    "rho": 1.0,
    "T": 300.0,
    "g0": 2.2,
    "g1": 10.0,
}
DEFAULT_WEIGHTS: tuple[float, float, float, float] = (1.0, 0.01, 0.02, 1e-3)
DEFAULT_VSP: dict[str, float] = {
    "d": 80.0,
    "alpha": 0.5,
    "k": 0.3,
    "v": 60.0,
    "c": 0.01,
    "z0": 40.0,
}
DEFAULT_THETA: dict[int, tuple[float, ...]] = {2: (0.05, 0.1), 4: (0.05, 0.1, 0.15, 0.2)}


def _as_vector(name: str, value: Any, size: int | None) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim != 1:
        raise ValueError(f"SyncParams.{name}: expected a 1-D array, got shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(
            f"SyncParams.{name}: expected length M={size} (from theta), got {arr.shape[0]}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"SyncParams.{name}: expected finite values, got {arr.tolist()}")
    arr = arr.copy()
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class SyncParams:
    """One instance of the synchronisation game (MODEL.md B1-B3).

    Attributes:
        N: number of sensing UAVs (> 0).
        b: data a UAV delivers per unit time (> 0).
        delta: revision (learning) rate of the UAV population (>= 0).
        rho: VSPs' discount rate (>= 0).
        T: horizon in seconds (> 0).
        g0, g1: incentive weight ``g(theta) = g0 + g1 theta`` (g(theta_m) must be > 0).
        w: payoff weights ``(w1, w2, w3, w4)``, shape [4] or [4, M]; stored as [4, M].
        theta: twin value decay rates [M] (> 0).
        d: number of twins per VSP [M] (> 0).
        alpha: unit data price [M] (>= 0).
        k: data needed per synchronisation [M] (> 0).
        v: desired twin value [M].
        c: UAV energy cost of working for each VSP [M] (>= 0).
        x0: initial shares [M] (>= 0, summing to 1 within 1e-6).
        z0: initial twin values [M] (>= 0).
        leaders: 0-based indices of the Stackelberg leaders (may be empty).
        intensity: constant intensities [M] for the ``constant`` controller, or None.
    """

    N: float
    b: float
    delta: float
    rho: float
    T: float
    g0: float
    g1: float
    w: np.ndarray
    theta: np.ndarray
    d: np.ndarray
    alpha: np.ndarray
    k: np.ndarray
    v: np.ndarray
    c: np.ndarray
    x0: np.ndarray
    z0: np.ndarray
    leaders: tuple[int, ...] = ()
    intensity: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        for name in _SCALARS:
            val = getattr(self, name)
            try:
                fval = float(val)
            except (TypeError, ValueError):
                raise ValueError(f"SyncParams.{name}: expected a number, got {val!r}") from None
            if not np.isfinite(fval):
                raise ValueError(f"SyncParams.{name}: expected a finite number, got {val!r}")
            object.__setattr__(self, name, fval)
        for name in ("N", "b", "T"):
            if getattr(self, name) <= 0:
                raise ValueError(f"SyncParams.{name}: expected > 0, got {getattr(self, name)}")
        for name in ("delta", "rho"):
            if getattr(self, name) < 0:
                raise ValueError(f"SyncParams.{name}: expected >= 0, got {getattr(self, name)}")
        theta = _as_vector("theta", self.theta, None)
        m = theta.shape[0]
        if m < 1:
            raise ValueError("SyncParams.theta: expected at least one VSP, got an empty array")
        object.__setattr__(self, "theta", theta)
        for name in _PER_VSP[1:]:
            object.__setattr__(self, name, _as_vector(name, getattr(self, name), m))
        for name in ("theta", "d", "k"):
            arr = getattr(self, name)
            if np.any(arr <= 0):
                raise ValueError(f"SyncParams.{name}: expected all > 0, got {arr.tolist()}")
        for name in ("alpha", "c", "x0", "z0"):
            arr = getattr(self, name)
            if np.any(arr < 0):
                raise ValueError(f"SyncParams.{name}: expected all >= 0, got {arr.tolist()}")
        if abs(self.x0.sum() - 1.0) > 1e-6:
            raise ValueError(
                f"SyncParams.x0: expected shares summing to 1 (within 1e-6), "
                f"got {self.x0.tolist()} (sum {self.x0.sum():.9g})"
            )
        w = np.asarray(self.w, dtype=float)
        if w.shape == (4,):
            w = np.repeat(w[:, None], m, axis=1)
        if w.shape != (4, m):
            raise ValueError(f"SyncParams.w: expected shape [4] or [4, {m}], got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"SyncParams.w: expected finite values >= 0, got {w.tolist()}")
        if np.any(w[3] <= 0):
            raise ValueError(
                f"SyncParams.w: w4 must be > 0 (it makes the Hamiltonian strictly concave "
                f"in eta), got {w[3].tolist()}"
            )
        w.flags.writeable = False
        object.__setattr__(self, "w", w)
        g = self.g0 + self.g1 * theta
        if np.any(g <= 0):
            raise ValueError(
                f"SyncParams.g0/g1: g(theta) = g0 + g1 theta must be > 0, got {g.tolist()}"
            )
        leaders = tuple(int(i) for i in self.leaders)
        for i in leaders:
            if not 0 <= i < m:
                raise ValueError(f"SyncParams.leaders: index {i} outside 0..{m - 1}")
        if len(set(leaders)) != len(leaders):
            raise ValueError(f"SyncParams.leaders: repeated index in {list(leaders)}")
        if len(leaders) == m:
            raise ValueError(f"SyncParams.leaders: at least one follower needed, got {leaders}")
        object.__setattr__(self, "leaders", leaders)
        if self.intensity is not None:
            inten = _as_vector("intensity", self.intensity, m)
            if np.any(inten < 0):
                raise ValueError(
                    f"SyncParams.intensity: expected all >= 0, got {inten.tolist()}"
                )
            object.__setattr__(self, "intensity", inten)

    # ---------------------------------------------------------------- derived values
    @property
    def M(self) -> int:
        """Number of VSPs."""
        return int(self.theta.shape[0])

    @property
    def g(self) -> np.ndarray:
        """Incentive weight ``g(theta_m) = g0 + g1 theta_m`` [M]."""
        return self.g0 + self.g1 * self.theta

    @property
    def beta(self) -> np.ndarray:
        """Unit value of twin value ``beta_m = exp(10 theta_m)`` [M] (paper eq. 8)."""
        return np.exp(10.0 * self.theta)

    @property
    def followers(self) -> tuple[int, ...]:
        """0-based indices of the VSPs that are not leaders."""
        return tuple(i for i in range(self.M) if i not in self.leaders)

    def with_changes(self, **changes: Any) -> SyncParams:
        """Return a copy with some fields replaced (validated again).

        Args:
            **changes: field names and new values.

        Returns:
            A new :class:`SyncParams`.

        Raises:
            ValueError: if the changed parameters are invalid.
        """
        return replace(self, **changes)

    def with_vsp_value(self, name: str, index: int, value: float) -> SyncParams:
        """Return a copy with one VSP's per-VSP parameter (or weight ``w1..w4``) changed.

        Args:
            name: a per-VSP field (``theta``, ``alpha``, ...) or ``w1``..``w4``.
            index: 0-based VSP index.
            value: new value.

        Returns:
            A new :class:`SyncParams`.

        Raises:
            ValueError: for an unknown name or invalid value.
        """
        if name in ("w1", "w2", "w3", "w4"):
            w = np.array(self.w)
            w[int(name[1]) - 1, index] = value
            return replace(self, w=w)
        if name not in _PER_VSP:
            raise ValueError(f"SyncParams.with_vsp_value: unknown per-VSP field {name!r}")
        arr = np.array(getattr(self, name))
        arr[index] = value
        return replace(self, **{name: arr})

    @classmethod
    def paper_defaults(cls, M: int = 2, **overrides: Any) -> SyncParams:
        """The calibrated default instance for 2 or 4 VSPs (paper Section VII).

        Args:
            M: 2 (theta = 0.05, 0.1) or 4 (theta = 0.05, 0.1, 0.15, 0.2).
            **overrides: any field to replace.

        Returns:
            The validated :class:`SyncParams`.

        Raises:
            ValueError: for M not in (2, 4) or invalid overrides.
        """
        if M not in DEFAULT_THETA:
            raise ValueError(f"SyncParams.paper_defaults: M must be 2 or 4, got {M}")
        vals: dict[str, Any] = dict(DEFAULT_SCALARS)
        vals["w"] = np.array(DEFAULT_WEIGHTS)
        vals["theta"] = np.array(DEFAULT_THETA[M])
        for name, val in DEFAULT_VSP.items():
            vals[name] = np.full(M, val)
        vals["x0"] = np.full(M, 1.0 / M)
        vals.update(overrides)
        return cls(**vals)

    def subset(self, indices: Sequence[int]) -> SyncParams:
        """Return the game restricted to some VSPs (shares renormalised, leaders dropped).

        Args:
            indices: 0-based VSP indices to keep.

        Returns:
            A new :class:`SyncParams` with ``len(indices)`` VSPs.
        """
        idx = np.asarray(list(indices), dtype=int)
        x0 = self.x0[idx]
        x0 = x0 / x0.sum() if x0.sum() > 0 else np.full(idx.size, 1.0 / idx.size)
        vals: dict[str, Any] = {n: getattr(self, n)[idx] for n in _PER_VSP}
        vals["x0"] = x0
        inten = None if self.intensity is None else self.intensity[idx]
        return replace(self, w=self.w[:, idx], leaders=(), intensity=inten, **vals)
