"""Geographic input (longitude, latitude in WGS 84) to local metres.

Positions are projected with pyproj onto a transverse Mercator plane tangent at an origin:
the one the scenario gives, or else the centroid of the data. Near the origin (a few tens of
kilometres, the size of any UAV scenario) the projection's scale error is below 10 ppm, so
metres on the plane are metres on the ground. ``x`` points east, ``y`` north, in metres from
the origin. The PROJ string is kept with the data so a trace records how it was made.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LocalProjection"]


@dataclass(frozen=True)
class LocalProjection:
    """Transverse Mercator projection centred on ``(lat0, lon0)`` (degrees).

    Attributes:
        lat0: origin latitude (deg).
        lon0: origin longitude (deg).
    """

    lat0: float
    lon0: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat0) and -90 < self.lat0 < 90):
            raise ValueError(f"origin latitude: expected -90 < lat < 90, got {self.lat0}")
        if not (math.isfinite(self.lon0) and -180 <= self.lon0 <= 180):
            raise ValueError(f"origin longitude: expected -180 <= lon <= 180, got {self.lon0}")

    @property
    def proj(self) -> str:
        """PROJ definition of the local plane."""
        return (f"+proj=tmerc +lat_0={self.lat0!r} +lon_0={self.lon0!r} +k=1 +x_0=0 +y_0=0 "
                "+ellps=WGS84 +units=m +no_defs")

    def to_local(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Project longitudes/latitudes (degrees) to ``(x, y)`` metres east/north of the
        origin.

        Raises:
            ValueError: a latitude outside [-90, 90] or a longitude outside [-180, 180].
        """
        from pyproj import Transformer  # heavy import: only when geographic data is read

        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        if lat.size and (np.abs(lat).max() > 90 or np.abs(lon).max() > 180):
            raise ValueError("coordinates are not longitude/latitude degrees")
        tr = _transformer(self.proj, Transformer)
        x, y = tr.transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


_CACHE: dict[str, object] = {}


def _transformer(proj: str, transformer_cls: type) -> object:
    tr = _CACHE.get(proj)
    if tr is None:
        tr = transformer_cls.from_crs("EPSG:4326", proj, always_xy=True)
        _CACHE[proj] = tr
    return tr
