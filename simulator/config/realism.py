"""Scenario sections of the realism models (MODEL.md Part D): live migration, decision time.

Both are options whose defaults keep today's world: twins move by stop-and-copy and pricing
decisions take no time. The radio models and coverage from the radio are keys of the
``radio`` section (:class:`simulator.config.world.RadioConfig`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from simulator.config.fields import FrozenModel
from simulator.world.migration_modes import MIGRATION_MODES

__all__ = ["DecisionTimeConfig", "LiveMigrationConfig", "MigrationMode"]

MigrationMode = Literal[tuple(MIGRATION_MODES)]  # type: ignore[valid-type]


class LiveMigrationConfig(FrozenModel):
    """How a twin moves between RSUs (MODEL.md D4): stop-and-copy, pre-copy or post-copy."""

    mode: MigrationMode = Field(
        "stop_and_copy", description="stop_and_copy: pause, copy, resume; pre_copy: copy while "
        "the service runs, re-copy what was dirtied, pause for the rest; post_copy: pause for "
        "state_mb, switch, fetch the rest.")
    stop_mb: float = Field(1.0, ge=0, description="pre_copy: pause once at most this much is "
                                                  "dirty, MB.")
    max_rounds: int = Field(30, ge=0, description="pre_copy: most live copy rounds.")
    state_mb: float = Field(1.0, ge=0, description="post_copy: minimal state copied while "
                                                   "paused, MB.")
    dirty_source: Literal["static", "sensing"] = Field(
        "static", description="static: dirty_rate_mb_s; sensing: bytes_per_update_mb x the "
        "synchronisation intensity eta_m(t) of VSP m = twin index mod the number of VSPs "
        "(needs sensing.enabled).")
    dirty_rate_mb_s: float = Field(10.0, ge=0, description="Dirty rate of every twin, MB/s "
                                                           "(dirty_source static).")
    bytes_per_update_mb: float = Field(1.0, ge=0, description="MB dirtied per unit of "
                                       "synchronisation intensity (dirty_source sensing).")


class DecisionTimeConfig(FrozenModel):
    """Time the pricing agents take to decide a round (MODEL.md D5)."""

    enabled: bool = Field(False, description="Prices take effect after the decision time; it "
                                             "counts as service interruption.")
    equilibrium_iteration_s: float = Field(
        1e-4, ge=0, description="Cost of one best-response sweep of the equilibrium solver, s.")
