"""The ``faults`` section of a scenario: RSU outages, backhaul link failures and failover.

Faults are off by default (no section, or an empty one, changes nothing in a run or its
trace). RSUs and links fail on a *schedule* (at ``at_s`` for ``for_s`` seconds) or at *random*
(alternating up and down periods with mean MTBF and MTTR, exponential or Weibull), or both.
When an RSU fails its twins are restored from the UAV's own copy or from a periodic
checkpoint store (``restore``); transfers over a failed link reroute or abort and retry
(``links.on_failure``). docs/faults.md describes the effects.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from simulator.config.fields import FrozenModel, TupleOf, field_error

__all__ = [
    "FaultsConfig",
    "LinkFailure",
    "LinkFaultsConfig",
    "RandomFaults",
    "RestoreConfig",
    "RsuFaultsConfig",
    "RsuOutage",
]


class RsuOutage(FrozenModel):
    """One scheduled RSU outage."""

    rsu_id: int = Field(ge=0, description="The RSU that fails.")
    at_s: float = Field(ge=0, description="When it fails, simulation s.")
    for_s: float = Field(gt=0, description="How long it stays down, s.")


class LinkFailure(FrozenModel):
    """One scheduled backhaul link failure (the link must exist in the backhaul graph)."""

    a: int = Field(ge=0, description="RSU id of one end.")
    b: int = Field(ge=0, description="RSU id of the other end.")
    at_s: float = Field(ge=0, description="When the link fails, simulation s.")
    for_s: float = Field(gt=0, description="How long it stays down, s.")

    @model_validator(mode="after")
    def _check(self) -> LinkFailure:
        if self.a == self.b:
            raise field_error(("b",), f"a link needs two RSUs, got a = b = {self.a}")
        return self


class RandomFaults(FrozenModel):
    """Random failures of every element of a kind: up periods of mean mtbf_s alternate with
    down periods of mean mttr_s; each element starts up and has its own random stream."""

    mtbf_s: float = Field(gt=0, description="Mean time between failures (mean up period), s.")
    mttr_s: float = Field(gt=0, description="Mean time to repair (mean down period), s.")
    distribution: Literal["exponential", "weibull"] = Field(
        "exponential", description="Family of the up and down periods.")
    shape: float = Field(1.0, gt=0, le=20, description="Weibull shape k of both periods (the "
                         "scale gives the stated means); ignored for exponential.")


class RsuFaultsConfig(FrozenModel):
    """RSU outages: a failed RSU leaves the market and loses the twins it hosts."""

    scheduled: TupleOf[RsuOutage, ...] = Field((), description="Outages at given times.")
    random: RandomFaults | None = Field(None, description="Random outages of every RSU; null = "
                                                          "none.")


class LinkFaultsConfig(FrozenModel):
    """Backhaul link failures and what the transfers crossing a failed link do."""

    scheduled: TupleOf[LinkFailure, ...] = Field((), description="Failures at given times.")
    random: RandomFaults | None = Field(None, description="Random failures of every link; "
                                                          "null = none.")
    on_failure: Literal["reroute", "abort"] = Field(
        "reroute", description="reroute: continue with the bits left on the best remaining "
        "route (stall while there is none); abort: drop the bits and restart after a back-off.")
    backoff_s: float = Field(1.0, gt=0, description="First wait before retrying an aborted "
                                                    "transfer, s.")
    backoff_factor: float = Field(2.0, ge=1, le=100, description="Growth of the wait per retry.")
    backoff_max_s: float = Field(60.0, gt=0, description="Longest wait between retries, s.")

    @model_validator(mode="after")
    def _check(self) -> LinkFaultsConfig:
        if self.backoff_max_s < self.backoff_s:
            raise field_error(("backoff_max_s",), f"must be >= backoff_s ({self.backoff_s}), "
                              f"got {self.backoff_max_s}", related=(("backoff_s",),))
        return self


class RestoreConfig(FrozenModel):
    """Where the state of a twin lost with a failed RSU comes from."""

    source: Literal["uav", "checkpoint"] = Field(
        "uav", description="uav: the UAV uploads its own (current) copy over the radio at the "
        "rate it bought from the new host; checkpoint: the new host downloads the newest "
        "periodic checkpoint from the store.")
    checkpoint_interval_s: float = Field(60.0, gt=0, description="Period of the checkpoints of "
                                         "every twin (taken at 0, interval, 2 interval, ...), s.")
    checkpoint_rate_mbps: float = Field(100.0, gt=0, description="Download rate from the "
                                        "checkpoint store per restore, Mbit/s.")
    checkpoint_latency_ms: float = Field(20.0, ge=0, description="Latency of the checkpoint "
                                         "store, ms.")


class FaultsConfig(FrozenModel):
    """Faults inside the simulated network (off unless an outage source is given)."""

    rsus: RsuFaultsConfig = Field(default_factory=RsuFaultsConfig, description="RSU outages.")
    links: LinkFaultsConfig = Field(default_factory=LinkFaultsConfig,
                                    description="Backhaul link failures.")
    restore: RestoreConfig = Field(default_factory=RestoreConfig,
                                   description="Restoring twins lost with a failed RSU.")

    @property
    def enabled(self) -> bool:
        """Whether any outage is scheduled or drawn."""
        return bool(self.rsus.scheduled or self.rsus.random is not None
                    or self.links.scheduled or self.links.random is not None)
