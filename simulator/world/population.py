"""The entities of a run: RSUs, UAVs and their trajectories, drawn from a scenario.

Scenario values given as ranges (``[lo, hi]``) are drawn uniformly, once per entity, from the
generator of the subsystem that owns them (``placement`` for RSUs, ``uavs`` for follower
parameters and twins, ``mobility`` for trajectories); a fixed number is a range with
``lo == hi``. The results are frozen tables of numpy arrays indexed by entity id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config.world import AreaConfig, RsusConfig, UavsConfig
from simulator.errors import ScenarioError


@dataclass(frozen=True)
class RsuTable:
    """RSU parameters, one entry per RSU id."""

    positions: np.ndarray  # [J, 3] metres (antenna at height z)
    coverage_radius_m: np.ndarray  # [J]
    tx_power_dbm: np.ndarray  # [J]
    noise_dbm: np.ndarray  # [J]
    cost: np.ndarray  # [J] c_j, cost per MHz
    price_cap: np.ndarray  # [J] pbar_j, price cap per MHz
    grid_shape: tuple[int, int] | None = None  # (rows, cols) for grid placements

    @property
    def count(self) -> int:
        """Number of RSUs."""
        return len(self.cost)


@dataclass(frozen=True)
class UavTable:
    """Follower parameters and twins of every UAV."""

    delta: np.ndarray  # [I] immersion weight
    ssim_threshold: np.ndarray  # [I]
    budget: np.ndarray  # [I] R_i
    twin_size_bytes: np.ndarray  # [I, twins]

    @property
    def twin_count(self) -> int:
        """Twins per UAV."""
        return int(self.twin_size_bytes.shape[1])


def rsu_positions(rsus: RsusConfig, area: AreaConfig, rng: np.random.Generator
                  ) -> tuple[np.ndarray, tuple[int, int] | None]:
    """Horizontal RSU positions ``[J, 2]`` for the scenario's placement, and the grid shape."""
    sec = rsus
    width, height = area.width_m, area.height_m
    if sec.placement == "grid":
        g = sec.grid
        if g.origin_m is None:
            origin = np.array([(width - (g.cols - 1) * g.spacing_m) / 2,
                               (height - (g.rows - 1) * g.spacing_m) / 2])
        else:
            origin = np.asarray(g.origin_m, dtype=float)
        rows, cols = np.divmod(np.arange(g.rows * g.cols), g.cols)
        xy = origin + np.column_stack([cols, rows]) * g.spacing_m
        return xy, (g.rows, g.cols)
    if sec.placement == "random":
        n = sec.random.count
    elif sec.placement == "poisson":
        n = int(rng.poisson(sec.poisson.density_per_km2 * width * height / 1e6))
        if n == 0:
            raise ScenarioError(
                "rsus.poisson.density_per_km2: the Poisson draw placed no RSU in the area; "
                "raise the density or change the seed"
            )
    else:
        return np.array([[p.x_m, p.y_m] for p in sec.explicit], dtype=float), None
    return rng.uniform([0.0, 0.0], [width, height], size=(n, 2)), None


def draw_rsus(rsus: RsusConfig, area: AreaConfig, rng: np.random.Generator) -> RsuTable:
    """Place the RSUs and draw their radio and pricing parameters."""
    sec = rsus
    xy, shape = rsu_positions(rsus, area, rng)
    n = len(xy)
    positions = np.column_stack([xy, np.full(n, sec.height_m)])
    return RsuTable(
        positions=positions,
        coverage_radius_m=np.full(n, float(sec.coverage_radius_m)),
        tx_power_dbm=sec.tx_power_dbm.draw(rng, n),
        noise_dbm=sec.noise_dbm.draw(rng, n),
        cost=sec.cost.draw(rng, n),
        price_cap=sec.price_cap.draw(rng, n),
        grid_shape=shape,
    )


def draw_uavs(uavs: UavsConfig, rng: np.random.Generator) -> UavTable:
    """Draw every UAV's follower parameters and twin sizes."""
    sec = uavs
    n = sec.count
    follower = sec.follower
    return UavTable(
        delta=follower.delta.draw(rng, n),
        ssim_threshold=follower.ssim_threshold.draw(rng, n),
        budget=follower.budget.draw(rng, n),
        twin_size_bytes=sec.twins.size_mb.draw(rng, (n, sec.twins.count)) * 1e6,
    )
