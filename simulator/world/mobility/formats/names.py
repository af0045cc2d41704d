"""The names of the mobility file formats, as pure data.

The scenario schema (``uavs.mobility.format``) needs the names without loading any reader, so
they live here; :mod:`simulator.world.mobility.formats.registry` registers one reader per
name, in this order, and a test holds the two equal.
"""

from __future__ import annotations

__all__ = ["FORMAT_NAMES"]

FORMAT_NAMES: tuple[str, ...] = ("ns2", "bonnmotion", "sumo-fcd", "gpx", "csv")
"""Every readable mobility format, by registry name."""
