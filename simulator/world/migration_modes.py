"""The registry of twin-migration modes and the pre-copy rule, as pure functions (MODEL D4).

``stop_and_copy`` (today's model) pauses the service and copies the whole twin;
``pre_copy`` (Clark et al., NSDI 2005) copies while the service runs and re-copies what was
dirtied; ``post_copy`` pauses only for a minimal state and fetches the rest afterwards. This
module holds their names (the scenario's choices), their parameters, the pre-copy stopping
rule and its closed form with constant rates; :mod:`simulator.world.live_migration` runs
them on the SimPy clock over the fluid backhaul.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MIGRATION_MODES",
    "LiveParams",
    "precopy_stop_reason",
    "precopy_volumes",
]

#: The registry of migration modes: name -> one-line description (the scenario's choices).
MIGRATION_MODES: dict[str, str] = {
    "stop_and_copy": "pause the service, copy the whole twin, resume",
    "pre_copy": "copy while the service runs, re-copy what was dirtied, pause for the rest "
                "(Clark et al. 2005)",
    "post_copy": "pause for a minimal state, switch, fetch the rest while degraded",
}


@dataclass(frozen=True)
class LiveParams:
    """Parameters of a migration mode.

    Attributes:
        mode: a key of :data:`MIGRATION_MODES`.
        stop_bytes: pre-copy stops when at most this much is dirty (``V_stop``), bytes.
        max_rounds: pre-copy's largest number of live rounds (``k_max``).
        state_bytes: post-copy's minimal state copied while paused (``S``), bytes.
    """

    mode: str = "stop_and_copy"
    stop_bytes: float = 0.0
    max_rounds: int = 30
    state_bytes: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in MIGRATION_MODES:
            raise ValueError(f"LiveParams: mode must be one of {', '.join(MIGRATION_MODES)}, "
                             f"got {self.mode!r}")
        if not (self.stop_bytes >= 0 and self.state_bytes >= 0 and self.max_rounds >= 0):
            raise ValueError(f"LiveParams: stop_bytes, state_bytes and max_rounds must be "
                             f">= 0, got {self.stop_bytes}, {self.state_bytes}, {self.max_rounds}")


def precopy_stop_reason(rounds_done: int, previous: float, dirty: float,
                        params: LiveParams) -> str | None:
    """The pre-copy rule after a live round: why to stop, or None to go on.

    Args:
        rounds_done: live rounds completed so far (``k + 1`` after round ``k``).
        previous: bytes the last live round sent (``V_k``).
        dirty: bytes dirtied meanwhile (``V_{k+1}``, already capped at the twin size).
        params: the stop threshold and round limit.
    """
    if dirty <= params.stop_bytes:
        return "threshold"
    if rounds_done >= params.max_rounds:
        return "round_limit"
    if dirty >= previous:
        return "no_convergence"
    return None


def precopy_volumes(size: float, dirty_rate: float, bandwidth: float,
                    params: LiveParams) -> tuple[list[float], str]:
    """Pre-copy with constant rates, in closed form: the bytes of every round.

    Args:
        size: twin size ``M`` (bytes).
        dirty_rate: ``D`` (bytes/s).
        bandwidth: ``B`` (bytes/s, > 0).
        params: threshold and round limit.

    Returns:
        ``([V_0, ..., V_n], reason)``: ``V_0..V_{n-1}`` are the live rounds and ``V_n`` the
        stop-and-copy remainder (``V_k = min(M, M rho^k)``).
    """
    if not bandwidth > 0:
        raise ValueError(f"precopy_volumes: bandwidth must be > 0, got {bandwidth}")
    if size <= params.stop_bytes or params.max_rounds == 0:
        return [float(size)], "threshold" if size <= params.stop_bytes else "round_limit"
    volumes = [float(size)]
    while True:
        dirty = min(float(size), dirty_rate * volumes[-1] / bandwidth)
        reason = precopy_stop_reason(len(volumes), volumes[-1], dirty, params)
        volumes.append(dirty)
        if reason is not None:
            return volumes, reason

