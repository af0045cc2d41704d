"""The backhaul workloads compared between uavtwin's fluid model and ns-3's packet-level TCP,
and the fluid side of the comparison.

Each case is a backhaul graph (edge attributes ``capacity_bps`` and ``latency_s``, as built by
:func:`simulator.world.topology.build_backhaul`) and a list of :class:`Transfer`. The fluid
completion times come from the simulator's own :class:`BackhaulNetwork` on a fresh SimPy
clock, so the code under test is the code that runs in a scenario.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np
import simpy

from simulator.world.backhaul import BackhaulNetwork, TcpCorrection
from simulator.world.topology import build_backhaul

__all__ = ["Case", "Transfer", "error_stats", "fluid_completions", "grid_burst_case",
           "standard_cases"]

MB = 1e6


@dataclass(frozen=True)
class Transfer:
    """One twin transfer: ``size_bytes`` from RSU ``src`` to RSU ``dst`` starting at ``start_s``."""

    src: int
    dst: int
    start_s: float
    size_bytes: float


@dataclass(frozen=True)
class Case:
    """A named workload: a backhaul graph and the transfers run on it."""

    name: str
    description: str
    graph: nx.Graph = field(repr=False)
    transfers: tuple[Transfer, ...]


def fluid_completions(graph: nx.Graph, transfers: Sequence[Transfer],
                      correction: TcpCorrection | None = None) -> list[float]:
    """Completion time (s) of each transfer under uavtwin's backhaul model.

    Runs :class:`BackhaulNetwork` (with ``correction`` if given) on a fresh SimPy clock,
    starting each transfer at its ``start_s``; the result is each
    :class:`~simulator.world.backhaul.TransferRecord`'s ``t_end``.
    """
    env = simpy.Environment()
    net = BackhaulNetwork(env, graph, correction=correction)
    out = [math.nan] * len(transfers)

    def one(i: int, t: Transfer):  # type: ignore[no-untyped-def]
        yield env.timeout(t.start_s)
        record = yield net.transfer(t.src, t.dst, t.size_bytes)
        out[i] = record.t_end

    for i, t in enumerate(transfers):
        env.process(one(i, t))
    env.run()
    return out


def _chain(caps_bps: Sequence[float], lats_s: Sequence[float]) -> nx.Graph:
    n = len(caps_bps) + 1
    edges = [(k, k + 1, c, lat) for k, (c, lat) in enumerate(zip(caps_bps, lats_s, strict=True))]
    return build_backhaul(np.zeros((n, 2)), topology="edges", capacity_bps=1.0, latency_s=1.0,
                          edges=edges)


def _sequential(src: int, dst: int, sizes: Sequence[float], gap_s: float) -> list[Transfer]:
    """Transfers one after the other, ``gap_s`` apart (each alone on the network)."""
    return [Transfer(src, dst, k * gap_s, s) for k, s in enumerate(sizes)]


def standard_cases(scale: float = 1.0) -> list[Case]:
    """The synthetic cases (one link; shared link; multi-hop paths of different latencies;
    staggered starts). ``scale`` multiplies every transfer size (tests use a small one)."""
    cases = []
    link = _chain([100e6], [0.002])
    sizes = [s * scale for s in (0.1 * MB, 1 * MB, 10 * MB, 50 * MB)]
    cases.append(Case(
        "single", "one transfer alone on one 100 Mbit/s, 2 ms link (0.1 to 50 MB)", link,
        tuple(_sequential(0, 1, sizes, gap_s=max(1.0, 20 * scale) + 1.0))))
    shared = [Transfer(0, 1, 0.0, 10 * MB * scale) for _ in range(4)]
    shared += [Transfer(0, 1, 0.0, s * MB * scale) for s in (2, 5, 20)]
    cases.append(Case(
        "shared", "7 transfers (2 to 20 MB) starting together on one 100 Mbit/s, 2 ms link",
        link, tuple(shared)))
    chain = _chain([200e6, 100e6, 200e6, 1000e6], [0.001, 0.005, 0.010, 0.002])
    multi = [Transfer(0, 4, 0.0, 20 * MB * scale), Transfer(1, 2, 0.0, 10 * MB * scale),
             Transfer(2, 4, 0.0, 15 * MB * scale), Transfer(0, 1, 0.0, 8 * MB * scale),
             Transfer(3, 4, 0.0, 5 * MB * scale)]
    cases.append(Case(
        "multihop", "5 transfers over a 5-RSU chain (200/100/200/1000 Mbit/s, 1/5/10/2 ms), "
        "1 to 4 hops", chain, tuple(multi)))
    stag = [Transfer(0, 1, k * 0.4 * max(scale, 0.05), 10 * MB * scale) for k in range(6)]
    cases.append(Case(
        "staggered", "6 transfers of 10 MB starting 0.4 s apart on one 100 Mbit/s, 2 ms link",
        link, tuple(stag)))
    return cases


def grid_burst_case(trace: str | Path, *, rows: int, cols: int, capacity_bps: float,
                    latency_s: float, window_s: float = 5.0, max_transfers: int = 40,
                    size_scale: float = 1.0) -> Case:
    """The busiest ``window_s`` of a run's twin transfers, replayed on its grid backhaul.

    Reads ``/migration/transfers`` of ``trace``, finds the window with the most transfer
    starts (ties: the earliest), keeps at most ``max_transfers`` of them (the first), shifts
    times so the first starts at 0, and multiplies sizes by ``size_scale``.
    """
    from simulator.trace.reader import TraceReader

    with TraceReader(trace) as tr:
        cols_ = tr.read("/migration/transfers")
    src = np.asarray(cols_["src_rsu_id"], dtype=int)
    dst = np.asarray(cols_["dst_rsu_id"], dtype=int)
    t0 = np.asarray(cols_["t_start_s"], dtype=float)
    size = np.asarray(cols_["size_bytes"], dtype=float)
    moving = src != dst
    src, dst, t0, size = src[moving], dst[moving], t0[moving], size[moving]
    order = np.argsort(t0, kind="stable")
    src, dst, t0, size = src[order], dst[order], t0[order], size[order]
    if t0.size == 0:
        raise ValueError(f"grid_burst_case: {trace} has no transfers between distinct RSUs")
    ends = np.searchsorted(t0, t0 + window_s, side="left")
    best = int(np.argmax(ends - np.arange(t0.size)))
    sel = slice(best, min(int(ends[best]), best + max_transfers))
    graph = build_backhaul(np.zeros((rows * cols, 2)), topology="grid", grid_shape=(rows, cols),
                           capacity_bps=capacity_bps, latency_s=latency_s)
    start = t0[sel][0]
    transfers = tuple(Transfer(int(a), int(b), float(t - start), float(s * size_scale))
                      for a, b, t, s in zip(src[sel], dst[sel], t0[sel], size[sel], strict=True))
    return Case("grid_burst", f"{len(transfers)} recorded twin transfers of the busiest "
                f"{window_s:g} s on the {rows}x{cols} grid backhaul", graph, transfers)


def error_stats(fluid: Sequence[float], packet: Sequence[float],
                starts: Sequence[float]) -> dict[str, float]:
    """Relative error of the fluid transfer durations against the packet-level ones:
    ``|fluid - packet| / packet`` on durations (completion minus start); median, 95th
    percentile, worst, and the mean signed error (negative: fluid is optimistic), over the
    transfers that completed in ns-3 (``unfinished`` counts the others)."""
    f = np.asarray(fluid, dtype=float) - np.asarray(starts, dtype=float)
    p = np.asarray(packet, dtype=float) - np.asarray(starts, dtype=float)
    done = np.isfinite(p)
    signed = (f[done] - p[done]) / p[done]
    err = np.abs(signed)
    if not err.size:
        return {"n": 0, "unfinished": int((~done).sum()), "median": math.nan,
                "p95": math.nan, "worst": math.nan, "mean_signed": math.nan}
    return {"n": int(err.size), "unfinished": int((~done).sum()),
            "median": float(np.median(err)), "p95": float(np.percentile(err, 95)),
            "worst": float(err.max()), "mean_signed": float(signed.mean())}
