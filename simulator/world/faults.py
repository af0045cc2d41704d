"""Faults inside the simulated network: when RSUs and backhaul links fail, as pure functions.

A fault is an *outage* of one network element, an RSU or an undirected backhaul link,
over a time interval ``[t_start, t_end)``. Outages come from two sources that a scenario
may mix (the ``faults`` section, docs/faults.md):

- *scheduled*: an element fails at ``at_s`` for ``for_s`` seconds;
- *random*: each element alternates up and down periods (an alternating renewal process).
  Up periods have mean MTBF, down periods mean MTTR, both exponential or both Weibull with
  a given shape (the scale is chosen so that the mean is MTBF or MTTR:
  ``scale = mean / Gamma(1 + 1 / shape)``). An element starts up at t = 0.

Random draws come from the run's own ``faults`` generator (a subsystem stream of its own, so
fault draws never shift mobility, radio or market draws), split once more into one stream
for RSUs and one for links, then one per element: adding an RSU's or a link's failures never
shifts another element's outage times.

The overlapping outages of one element are merged into disjoint intervals, and every
element's outages are turned into one time-ordered list of *fault events* (down, up) that
the SimPy side (:mod:`simulator.world.failover`) applies. The helpers at the end give the
time a restore takes (radio upload, checkpoint download), the staleness of a periodic
checkpoint and the back-off before retrying an aborted transfer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from simulator.trace.schema import FAULT_ELEMENT, code_of

__all__ = [
    "DISTRIBUTIONS",
    "DOWN",
    "ELEMENT_LINK",
    "ELEMENT_RSU",
    "UP",
    "FaultEvents",
    "backoff_delay",
    "checkpoint_staleness",
    "draw_durations",
    "element_outages",
    "fault_events",
    "merge_intervals",
    "renewal_outages",
    "transfer_time",
    "weibull_scale",
]

DISTRIBUTIONS = ("exponential", "weibull")
"""Families of up and down durations of random faults."""

#: Kinds of network element (codes of ``/faults/outages/element``).
ELEMENT_RSU = code_of(FAULT_ELEMENT, "rsu")
ELEMENT_LINK = code_of(FAULT_ELEMENT, "link")
#: Fault event kinds: the element goes down, or comes back up.
DOWN, UP = 0, 1


def weibull_scale(mean: float, shape: float) -> float:
    """Scale ``lambda`` of the Weibull distribution with shape ``k`` and the given mean.

    The Weibull mean is ``lambda * Gamma(1 + 1/k)``.

    Args:
        mean: the wanted mean (> 0).
        shape: the shape ``k`` (> 0); 1 gives the exponential distribution.

    Returns:
        ``mean / Gamma(1 + 1 / shape)``.

    Raises:
        ValueError: a non-positive or non-finite mean or shape.
    """
    if not (mean > 0 and math.isfinite(mean)):
        raise ValueError(f"weibull_scale: mean must be a positive finite number, got {mean}")
    if not (shape > 0 and math.isfinite(shape)):
        raise ValueError(f"weibull_scale: shape must be a positive finite number, got {shape}")
    return mean / math.gamma(1.0 + 1.0 / shape)


def draw_durations(rng: np.random.Generator, n: int, mean: float, distribution: str,
                   shape: float = 1.0) -> np.ndarray:
    """``n`` independent durations with the given mean.

    Args:
        rng: the generator to draw from.
        n: how many (>= 0).
        mean: their mean (s, > 0).
        distribution: ``"exponential"`` or ``"weibull"``.
        shape: the Weibull shape (ignored for exponential).

    Returns:
        ``[n]`` positive durations (s).

    Raises:
        ValueError: an unknown distribution or bad parameters.
    """
    if distribution == "exponential":
        if not (mean > 0 and math.isfinite(mean)):
            raise ValueError(f"draw_durations: mean must be a positive finite number, got {mean}")
        return rng.exponential(mean, size=n)
    if distribution == "weibull":
        return weibull_scale(mean, shape) * rng.weibull(shape, size=n)
    raise ValueError(f"draw_durations: unknown distribution {distribution!r}; expected one of "
                     f"{', '.join(DISTRIBUTIONS)}")


def renewal_outages(rng: np.random.Generator, horizon_s: float, mtbf_s: float, mttr_s: float,
                    distribution: str = "exponential", shape: float = 1.0) -> np.ndarray:
    """Down intervals of one element that alternates up (mean MTBF) and down (mean MTTR).

    The element is up at t = 0. Durations are drawn in blocks of pairs (up, down) until the
    cumulative time passes the horizon, so the draws depend only on the arguments.

    Args:
        rng: the element's own generator.
        horizon_s: only outages starting before this time are returned (> 0).
        mtbf_s: mean time between failures (mean up period, s).
        mttr_s: mean time to repair (mean down period, s).
        distribution: ``"exponential"`` or ``"weibull"`` (both periods).
        shape: the Weibull shape of both periods.

    Returns:
        ``[k, 2]`` rows ``(t_start, t_end)``, sorted and disjoint; ``t_end`` may pass the
        horizon (the element is still down when the run ends).
    """
    if not (horizon_s >= 0 and math.isfinite(horizon_s)):
        raise ValueError(f"renewal_outages: horizon_s must be >= 0 and finite, got {horizon_s}")
    block = max(8, int(math.ceil(1.25 * horizon_s / (mtbf_s + mttr_s))) + 1)
    out: list[np.ndarray] = []
    t = 0.0
    while t < horizon_s:
        ups = draw_durations(rng, block, mtbf_s, distribution, shape)
        downs = draw_durations(rng, block, mttr_s, distribution, shape)
        steps = np.empty(2 * block)
        steps[0::2], steps[1::2] = ups, downs
        ends = t + np.cumsum(steps)
        starts = ends[0::2]  # failure instants
        stops = ends[1::2]  # repair instants
        keep = starts < horizon_s
        out.append(np.column_stack([starts[keep], stops[keep]]))
        t = float(ends[-1])
        if not keep.all():
            break
    return np.concatenate(out) if out else np.empty((0, 2))


def merge_intervals(intervals: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """The union of intervals ``[t_start, t_end)`` as sorted disjoint intervals.

    Intervals that overlap or touch (one ends where the next starts) are joined; empty ones
    (``t_end <= t_start``) are dropped.

    Args:
        intervals: ``[k, 2]`` rows ``(t_start, t_end)``.

    Returns:
        ``[m, 2]`` sorted, disjoint, non-touching intervals with the same union.
    """
    arr = np.asarray(intervals, dtype=float).reshape(-1, 2)
    arr = arr[arr[:, 1] > arr[:, 0]]
    if len(arr) == 0:
        return np.empty((0, 2))
    arr = arr[np.lexsort((arr[:, 1], arr[:, 0]))]
    merged = [list(arr[0])]
    for start, end in arr[1:].tolist():
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return np.array(merged, dtype=float)


def element_outages(rng: np.random.Generator, n_elements: int, horizon_s: float,
                    mtbf_s: float, mttr_s: float, distribution: str = "exponential",
                    shape: float = 1.0) -> list[np.ndarray]:
    """Random outages of ``n_elements`` elements, each from its own child generator.

    Args:
        rng: the stream of this element family (RSUs or links).
        n_elements: how many elements.
        horizon_s, mtbf_s, mttr_s, distribution, shape: as in :func:`renewal_outages`.

    Returns:
        One ``[k, 2]`` array of ``(t_start, t_end)`` per element, in element order.
    """
    children = rng.spawn(n_elements)
    return [renewal_outages(child, horizon_s, mtbf_s, mttr_s, distribution, shape)
            for child in children]


@dataclass(frozen=True)
class FaultEvents:
    """A time-ordered list of fault events (one row per element going down or up).

    Attributes:
        t: ``[n]`` event times (s), ascending.
        kind: ``[n]`` :data:`DOWN` or :data:`UP`.
        element: ``[n]`` :data:`ELEMENT_RSU` or :data:`ELEMENT_LINK`.
        index: ``[n]`` the element's index (RSU id, or position in the link list).
        outage: ``[n]`` id of the outage the event opens or closes (0.., in the order of
            the outages' start times).
    """

    t: np.ndarray
    kind: np.ndarray
    element: np.ndarray
    index: np.ndarray
    outage: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def fault_events(rsu_outages: Sequence[np.ndarray], link_outages: Sequence[np.ndarray],
                 horizon_s: float) -> tuple[FaultEvents, np.ndarray]:
    """Every outage as a down and an up event, in time order.

    Outages are numbered by start time (ties: RSUs before links, then by index). Events at
    equal times are applied repairs first, then failures, RSUs before links, by index. Up
    events at or after the horizon are left out (the element stays down to the end).

    Args:
        rsu_outages: per RSU, disjoint ``[k, 2]`` intervals (:func:`merge_intervals`).
        link_outages: per link, likewise.
        horizon_s: the run's duration (s).

    Returns:
        ``(events, outages)``: the events, and an ``[m, 5]`` table of outages with rows
        ``(t_start, t_end, element, index, outage_id)`` (``t_end`` as drawn or scheduled).
    """
    rows = [(s, e, ELEMENT_RSU, j) for j, iv in enumerate(rsu_outages) for s, e in iv.tolist()]
    rows += [(s, e, ELEMENT_LINK, k) for k, iv in enumerate(link_outages) for s, e in iv.tolist()]
    rows = [r for r in rows if r[0] < horizon_s]
    rows.sort(key=lambda r: (r[0], r[2], r[3]))
    table = np.array([(*r, n) for n, r in enumerate(rows)], dtype=float).reshape(-1, 5)
    ev = [(s, DOWN, el, j, n) for s, _e, el, j, n in table.tolist()]
    ev += [(e, UP, el, j, n) for _s, e, el, j, n in table.tolist() if e < horizon_s]
    ev.sort(key=lambda r: (r[0], -r[1], r[2], r[3]))
    arr = np.array(ev, dtype=float).reshape(-1, 5)
    events = FaultEvents(t=arr[:, 0], kind=arr[:, 1].astype(np.int64),
                         element=arr[:, 2].astype(np.int64), index=arr[:, 3].astype(np.int64),
                         outage=arr[:, 4].astype(np.int64))
    return events, table


def checkpoint_staleness(t_s: float, interval_s: float) -> float:
    """Age of the newest periodic checkpoint at time ``t_s``.

    Checkpoints of every twin are taken at ``0, interval_s, 2 interval_s, ...``.

    Args:
        t_s: the time of the failure (>= 0).
        interval_s: the checkpoint period (> 0).

    Returns:
        ``t_s - interval_s * floor(t_s / interval_s)``, in ``[0, interval_s)``.
    """
    if not (interval_s > 0 and math.isfinite(interval_s)):
        raise ValueError(f"checkpoint_staleness: interval_s must be > 0, got {interval_s}")
    if not (t_s >= 0 and math.isfinite(t_s)):
        raise ValueError(f"checkpoint_staleness: t_s must be >= 0, got {t_s}")
    age = t_s - interval_s * math.floor(t_s / interval_s)
    return min(max(age, 0.0), math.nextafter(interval_s, 0.0))


def transfer_time(size_bytes: float, rate_mbps: float, latency_s: float = 0.0) -> float:
    """Seconds to move ``size_bytes`` at a constant ``rate_mbps`` plus a fixed latency.

    Raises:
        ValueError: a negative size, a non-positive rate or a negative latency.
    """
    if not (size_bytes >= 0 and math.isfinite(size_bytes)):
        raise ValueError(f"transfer_time: size_bytes must be >= 0, got {size_bytes}")
    if not (rate_mbps > 0 and math.isfinite(rate_mbps)):
        raise ValueError(f"transfer_time: rate_mbps must be > 0, got {rate_mbps}")
    if not (latency_s >= 0 and math.isfinite(latency_s)):
        raise ValueError(f"transfer_time: latency_s must be >= 0, got {latency_s}")
    return 8.0 * size_bytes / (rate_mbps * 1e6) + latency_s


def backoff_delay(attempt: int, base_s: float, factor: float, max_s: float) -> float:
    """Wait before retry number ``attempt`` of an aborted transfer (exponential back-off).

    Args:
        attempt: 1 for the first retry, 2 for the second, ...
        base_s: the first wait (s, > 0).
        factor: growth per retry (>= 1).
        max_s: the cap (s, >= base_s).

    Returns:
        ``min(max_s, base_s * factor ** (attempt - 1))``.
    """
    if attempt < 1:
        raise ValueError(f"backoff_delay: attempt must be >= 1, got {attempt}")
    exponent = min(attempt - 1, 1074)  # factor ** exponent overflows to inf, capped below
    try:
        wait = base_s * factor ** exponent
    except OverflowError:
        wait = math.inf
    return float(min(max_s, wait))
