"""Run metrics as pure functions over trace tables (pandas DataFrames).

Each function takes the frames returned by :class:`analysis.loaders.Trace` (only the columns
it names are needed, so hand-built frames work too) and returns numbers, arrays or frames;
none reads files or keeps state. Definitions, with units:

- *handover*: a UAV leaving an RSU's coverage disc (a ``leave`` row of ``/coverage/events``),
  whether or not that RSU hosted its twins; the *handover rate* is cell exits per UAV per
  hour of flight (flight time from ``/mobility/segments``).
- *migration time*: duration of one twin transfer, ``t_end_s - t_start_s`` (s); unfinished
  transfers (NaN end) are left out. *Service interruption*: ``interruption_s`` of
  ``/migration/service`` (s), one per served request.
- *market*: per RSU, the prices it posted, the bandwidth it sold (MHz), the bandwidth-weighted
  mean price paid (price/MHz), its revenue, cost and profit (price units).
- *immersion*: MODEL A1 immersion of each served request, per UAV and binned over time.
- *steady state* of the sensing market: the time average of a VSP's share, intensity and
  twin value over the middle half of the recorded horizon, ``t0 + [1/4, 3/4] (t1 - t0)``;
  the open-loop equilibrium paths start with a transient from the initial state and
  collapse towards the end of the finite horizon (nothing is worth synchronising after it),
  so the end-of-horizon values are not representative; see :func:`sensing_steady_state`.
- *optimality ratio*: a solver's mean RSU utility divided by that of the exact equilibrium of
  the same games (recorded with every round); see :func:`optimality_gap`.
- *availability* (runs with faults): a twin lost with a failed RSU is unavailable from the
  failure until it is restored (``/faults/twin_losses``); *twin availability* is one minus the
  unavailable twin-time over all twin-time. A UAV's service is *interrupted* while one of its
  migrations is in progress or one of its twins is lost; see :func:`interrupted_fraction`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulator.trace.schema import SOLVER_CODES

__all__ = [
    "agent_rewards",
    "ecdf",
    "fleet_handover_rate",
    "flight_spans",
    "handover_rate",
    "handovers_from_counts",
    "handovers_per_uav",
    "immersion_over_time",
    "immersion_per_uav",
    "interrupted_fraction",
    "interruptions",
    "leave_counts",
    "market_per_round",
    "market_per_rsu",
    "migration_times",
    "optimality_gap",
    "positions_at",
    "reward_path_curve",
    "sensing_steady_state",
    "sensing_trajectory",
    "solver_labels",
    "summary_stats",
    "training_curves",
    "twin_availability",
]

SECONDS_PER_HOUR = 3600.0


def ecdf(values: np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF of the finite values.

    Args:
        values: Samples (NaN and infinities are dropped).

    Returns:
        ``(x, p)``: the sorted samples and ``p[k] = (k + 1) / n``, the fraction of samples
        ``<= x[k]`` (both empty when there are no finite samples).
    """
    v = np.asarray(values, dtype=float)
    x = np.sort(v[np.isfinite(v)])
    return x, np.arange(1, x.size + 1, dtype=float) / max(x.size, 1)


def summary_stats(values: np.ndarray | pd.Series) -> dict[str, float]:
    """Count, mean, median, 95th percentile and max of the finite values (NaN if none).

    Args:
        values: Samples.

    Returns:
        ``{"n", "mean", "median", "p95", "max"}``.
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        nan = float("nan")
        return {"n": 0, "mean": nan, "median": nan, "p95": nan, "max": nan}
    return {"n": int(v.size), "mean": float(v.mean()), "median": float(np.median(v)),
            "p95": float(np.percentile(v, 95)), "max": float(v.max())}


def leave_counts(events: pd.DataFrame) -> pd.Series:
    """Cell exits per UAV (``leave`` rows of ``/coverage/events``), indexed by ``uav_id``.

    Args:
        events: ``uav_id`` and ``kind`` (categorical, or the code 0 = leave).

    Returns:
        int64 counts of the UAVs with at least one exit, in ``uav_id`` order.
    """
    kind = events["kind"]
    is_leave = (kind == "leave") if isinstance(kind.dtype, pd.CategoricalDtype) else (kind == 0)
    leaves = events[is_leave.to_numpy(dtype=bool)]
    return leaves.groupby("uav_id", observed=True).size()


def flight_spans(segments: pd.DataFrame) -> pd.DataFrame:
    """First segment start ``t0`` and last segment end ``t1`` (s) of every UAV.

    Args:
        segments: ``uav_id``, ``t_start_s``, ``t_end_s``.

    Returns:
        Indexed by ``uav_id`` in order.
    """
    return segments.groupby("uav_id").agg(t0=("t_start_s", "min"), t1=("t_end_s", "max"))


def handovers_from_counts(counts: pd.Series, span: pd.DataFrame) -> pd.DataFrame:
    """:func:`handovers_per_uav` from :func:`leave_counts` and :func:`flight_spans` (which
    can be combined over slices of the tables: sums of counts, min of ``t0``, max of ``t1``)."""
    hours = (span["t1"] - span["t0"]) / SECONDS_PER_HOUR
    index = counts.index.union(hours.index)
    out = pd.DataFrame({
        "handovers": counts.reindex(index, fill_value=0).astype(np.int64),
        "flight_time_h": hours.reindex(index, fill_value=0.0).astype(float),
    })
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = out["handovers"].to_numpy(float) / out["flight_time_h"].to_numpy(float)
    out["rate_per_h"] = np.where(out["flight_time_h"] > 0, rate, np.nan)
    out.index.name = "uav_id"
    out.attrs["units"] = {"handovers": "1", "flight_time_h": "h", "rate_per_h": "1/h"}
    return out


def handovers_per_uav(events: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Cell exits and flight time of every UAV.

    Args:
        events: ``/coverage/events`` (``uav_id``, ``kind``; kind categorical or code 0=leave).
        segments: ``/mobility/segments`` (``uav_id``, ``t_start_s``, ``t_end_s``).

    Returns:
        One row per UAV seen in either table, indexed by ``uav_id``: ``handovers`` (count),
        ``flight_time_h`` (last segment end - first segment start, hours) and ``rate_per_h``
        (handovers / flight_time_h; NaN for zero flight time).
    """
    return handovers_from_counts(leave_counts(events), flight_spans(segments))


def fleet_handover_rate(per: pd.DataFrame) -> float:
    """Total handovers / total flight hours of a :func:`handovers_per_uav` frame (NaN if no
    UAV flew)."""
    hours = float(per["flight_time_h"].sum())
    return float(per["handovers"].sum()) / hours if hours > 0 else float("nan")


def handover_rate(events: pd.DataFrame, segments: pd.DataFrame) -> float:
    """Cell exits per UAV per hour over the whole fleet.

    Args:
        events: ``/coverage/events``.
        segments: ``/mobility/segments``.

    Returns:
        Total handovers / total flight hours (1/h); NaN if no UAV flew.
    """
    return fleet_handover_rate(handovers_per_uav(events, segments))


def migration_times(transfers: pd.DataFrame) -> np.ndarray:
    """Durations of the finished twin transfers, s (``t_end_s - t_start_s``, NaN ends dropped).

    Args:
        transfers: ``/migration/transfers``.

    Returns:
        1-D float array in table order.
    """
    d = transfers["t_end_s"].to_numpy(float) - transfers["t_start_s"].to_numpy(float)
    return d[np.isfinite(d)]


def interruptions(service: pd.DataFrame) -> np.ndarray:
    """Service interruptions of the served requests, s (NaN = never resumed, dropped).

    Args:
        service: ``/migration/service``.

    Returns:
        1-D float array in table order.
    """
    v = service["interruption_s"].to_numpy(float)
    return v[np.isfinite(v)]


def market_per_rsu(offers: pd.DataFrame, revenue: pd.DataFrame) -> pd.DataFrame:
    """Prices, bandwidth sold and money of every RSU that took part in a round.

    Args:
        offers: ``/pricing/offers`` (``round_id``, ``rsu_id``, ``price``, ``bandwidth_mhz``).
        revenue: ``/pricing/revenue`` (``round_id``, ``rsu_id``, ``revenue``, ``cost_total``).

    Returns:
        Indexed by ``rsu_id``: ``rounds`` (rounds played), ``mean_price`` (mean posted price,
        price/MHz), ``paid_price`` (bandwidth-weighted mean price of what was sold, NaN if
        nothing), ``bandwidth_mhz`` (total sold, MHz), ``revenue``, ``cost``, ``profit``
        (revenue - cost, price units).
    """
    o = offers.assign(_spend=offers["price"].to_numpy(float)
                      * offers["bandwidth_mhz"].to_numpy(float))
    by = o.groupby("rsu_id")
    posted = by["price"].mean()
    sold = by["bandwidth_mhz"].sum()
    spend = by["_spend"].sum()
    money = revenue.groupby("rsu_id").agg(
        rounds=("round_id", "nunique"), revenue=("revenue", "sum"), cost=("cost_total", "sum"))
    index = posted.index.union(money.index)
    out = pd.DataFrame({
        "rounds": money["rounds"].reindex(index, fill_value=0).astype(np.int64),
        "mean_price": posted.reindex(index).astype(float),
        "bandwidth_mhz": sold.reindex(index, fill_value=0.0).astype(float),
        "revenue": money["revenue"].reindex(index, fill_value=0.0).astype(float),
        "cost": money["cost"].reindex(index, fill_value=0.0).astype(float),
    })
    sp = spend.reindex(index, fill_value=0.0).to_numpy(float)
    bw = out["bandwidth_mhz"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out.insert(2, "paid_price", np.where(bw > 0, sp / bw, np.nan))
    out["profit"] = out["revenue"] - out["cost"]
    out.index.name = "rsu_id"
    out.attrs["units"] = {"rounds": "1", "mean_price": "price/MHz", "paid_price": "price/MHz",
                          "bandwidth_mhz": "MHz", "revenue": "price", "cost": "price",
                          "profit": "price"}
    return out


def market_per_round(offers: pd.DataFrame, rounds: pd.DataFrame) -> pd.DataFrame:
    """Mean posted price and total bandwidth bought in every round, with the round time.

    Args:
        offers: ``/pricing/offers``.
        rounds: ``/pricing/rounds`` (``round_id``, ``t_s``).

    Returns:
        Indexed by ``round_id`` in time order: ``t_s`` (s), ``mean_price`` (price/MHz),
        ``bandwidth_mhz`` (MHz, summed over pairs), ``pairs`` (offers in the round).
    """
    agg = offers.groupby("round_id").agg(mean_price=("price", "mean"),
                                         bandwidth_mhz=("bandwidth_mhz", "sum"),
                                         pairs=("price", "size"))
    t = rounds.set_index("round_id")["t_s"]
    out = agg.join(t, how="left")[["t_s", "mean_price", "bandwidth_mhz", "pairs"]]
    return out.sort_values(["t_s"], kind="stable")


def immersion_per_uav(service: pd.DataFrame) -> pd.DataFrame:
    """Immersion and bought bandwidth of every UAV over its served requests.

    Args:
        service: ``/migration/service``.

    Returns:
        Indexed by ``uav_id``: ``migrations`` (served requests), ``mean_immersion``,
        ``total_immersion`` (dimensionless), ``mean_bandwidth_mhz`` (MHz), ``mean_rate_mbps``
        (Mbit/s), ``total_interruption_s`` (s).
    """
    out = service.groupby("uav_id").agg(
        migrations=("request_id", "size"), mean_immersion=("immersion", "mean"),
        total_immersion=("immersion", "sum"), mean_bandwidth_mhz=("bandwidth_mhz", "mean"),
        mean_rate_mbps=("rate_mbps", "mean"), total_interruption_s=("interruption_s", "sum"))
    out.attrs["units"] = {"migrations": "1", "mean_immersion": "1", "total_immersion": "1",
                          "mean_bandwidth_mhz": "MHz", "mean_rate_mbps": "Mbit/s",
                          "total_interruption_s": "s"}
    return out


def immersion_over_time(service: pd.DataFrame, *, bins: int = 20,
                        t_end_s: float | None = None) -> pd.DataFrame:
    """Mean immersion of the requests made in each of ``bins`` equal time bins.

    Args:
        service: ``/migration/service`` (``t_request_s``, ``immersion``).
        bins: Number of bins over [0, t_end_s] (>= 1).
        t_end_s: End of the time axis (default: the last request time).

    Returns:
        One row per non-empty bin: ``t_s`` (bin centre, s), ``mean_immersion``, ``count``.

    Raises:
        ValueError: If ``bins < 1``.
    """
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    t = service["t_request_s"].to_numpy(float)
    v = service["immersion"].to_numpy(float)
    if t.size == 0:
        return pd.DataFrame({"t_s": [], "mean_immersion": [], "count": []})
    end = float(t.max()) if t_end_s is None else float(t_end_s)
    edges = np.linspace(0.0, end if end > 0 else 1.0, bins + 1)
    k = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, bins - 1)
    count = np.bincount(k, minlength=bins)
    total = np.bincount(k, weights=v, minlength=bins)
    keep = count > 0
    centres = 0.5 * (edges[:-1] + edges[1:])
    return pd.DataFrame({"t_s": centres[keep], "mean_immersion": total[keep] / count[keep],
                         "count": count[keep]})


def positions_at(segments: pd.DataFrame, uav_id: np.ndarray | pd.Series,
                 t_s: np.ndarray | pd.Series) -> pd.DataFrame:
    """Positions of UAVs at given times, interpolated on their exact trajectory segments.

    Args:
        segments: ``/mobility/segments``.
        uav_id: UAV of each query.
        t_s: Time of each query (s); clamped to the UAV's segments.

    Returns:
        ``x_m``, ``y_m``, ``z_m`` per query, in query order (NaN for a UAV with no segment).
    """
    q = pd.DataFrame({"uav_id": np.asarray(uav_id, dtype=np.int64),
                      "t_s": np.asarray(t_s, dtype=float)})
    q["_order"] = np.arange(len(q))
    seg = segments.assign(uav_id=segments["uav_id"].astype(np.int64)).sort_values("t_start_s")
    m = pd.merge_asof(q.sort_values("t_s"), seg, left_on="t_s", right_on="t_start_s",
                      by="uav_id", direction="backward")
    first = seg.groupby("uav_id").head(1).set_index("uav_id")  # before the first segment
    miss = m["t_start_s"].isna().to_numpy()
    if miss.any():
        fill = first.reindex(m.loc[miss, "uav_id"])
        for c in seg.columns.drop("uav_id"):
            m.loc[miss, c] = fill[c].to_numpy()
    m = m.sort_values("_order")
    t0, t1 = m["t_start_s"].to_numpy(float), m["t_end_s"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip(np.where(t1 > t0, (m["t_s"].to_numpy(float) - t0) / (t1 - t0), 0.0), 0, 1)
    out = {}
    for axis in "xyz":
        a, b = m[f"{axis}0_m"].to_numpy(float), m[f"{axis}1_m"].to_numpy(float)
        out[f"{axis}_m"] = a + frac * (b - a)
    return pd.DataFrame(out)


def sensing_trajectory(state: pd.DataFrame, value: str = "share") -> pd.DataFrame:
    """One sensing quantity over time, one column per VSP.

    Args:
        state: ``/sensing/state``.
        value: ``share``, ``twin_value``, ``intensity``, ``payoff_rate`` or
            ``cumulative_payoff``.

    Returns:
        Wide frame indexed by ``t_s`` with one column per ``vsp_id``.

    Raises:
        ValueError: If ``value`` is not a column of ``state``.
    """
    if value not in state.columns or value in ("t_s", "vsp_id"):
        raise ValueError(f"sensing value {value!r}: expected one of "
                         f"{[c for c in state.columns if c not in ('t_s', 'vsp_id')]}")
    return state.pivot_table(index="t_s", columns="vsp_id", values=value, aggfunc="mean",
                             observed=True)


STEADY_WINDOW: tuple[float, float] = (0.25, 0.75)
"""Fractions of the recorded sensing horizon averaged as its steady state."""


def sensing_steady_state(state: pd.DataFrame,
                         window: tuple[float, float] = STEADY_WINDOW) -> pd.DataFrame:
    """Time-averaged sensing state of every VSP over the middle of the horizon.

    Args:
        state: ``/sensing/state`` (``t_s``, ``vsp_id`` and value columns).
        window: ``(a, b)`` fractions of the recorded span ``[t0, t1]``; samples with
            ``t0 + a (t1 - t0) <= t_s <= t0 + b (t1 - t0)`` are averaged (equally spaced
            samples, so the mean is the time average).

    Returns:
        Indexed by ``vsp_id``: the mean ``share``, ``intensity`` (1/s), ``twin_value`` and
        ``payoff_rate`` (price/s) over the window; ``attrs["t_from_s"]`` and
        ``attrs["t_to_s"]`` give the window. Empty without samples.

    Raises:
        ValueError: ``window`` not within [0, 1] with a < b.
    """
    a, b = window
    if not 0.0 <= a < b <= 1.0:
        raise ValueError(f"window must satisfy 0 <= a < b <= 1, got {window}")
    cols = [c for c in ("share", "intensity", "twin_value", "payoff_rate") if c in state]
    t = state["t_s"].to_numpy(float)
    if t.size == 0:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="vsp_id"))
    t0, t1 = float(t.min()), float(t.max())
    lo, hi = t0 + a * (t1 - t0), t0 + b * (t1 - t0)
    inside = state[(t >= lo - 1e-9) & (t <= hi + 1e-9)]
    out = inside.groupby("vsp_id", observed=True)[cols].mean()
    out.attrs.update(t_from_s=lo, t_to_s=hi)
    return out


def optimality_gap(rounds: pd.DataFrame, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each solver's mean RSU (and UAV) utility against the exact Stackelberg equilibrium's.

    Every round of a trace written with ``pricing.reference`` on (the default) carries the
    mean RSU and UAV utilities of the exact equilibrium *of the same game*
    (``reference_rsu_utility``, ``reference_uav_utility``). The *optimality ratio* of a
    solver is then the mean over its rounds of ``mean_rsu_utility`` divided by the mean over
    the same rounds of ``reference_rsu_utility`` (a ratio of means, so rounds with a tiny
    equilibrium utility do not dominate); ``uav_ratio`` is the same for the UAVs; the *gap*
    is ``1 - ratio`` (0: as good as the equilibrium for the RSUs, > 0: worse, < 0: the RSUs
    earn more than at equilibrium, e.g. by tacit collusion).

    Traces without the reference columns (older traces, or ``pricing.reference: false``)
    fall back to comparing averages over the run: the denominator is the mean
    ``mean_rsu_utility`` of the *equilibrium* rounds of ``reference`` (e.g. the rounds of a
    run of the same scenario and seed solved exactly) or, by default, of ``rounds`` itself.

    Args:
        rounds: ``/pricing/rounds`` (``solver``, ``mean_rsu_utility``; optionally
            ``mean_uav_utility``, ``reference_rsu_utility``, ``reference_uav_utility``).
        reference: ``/pricing/rounds`` holding equilibrium rounds, used only for rounds
            without a recorded reference.

    Returns:
        Indexed by solver label: ``rounds``, ``mean_rsu_utility`` (price),
        ``equilibrium_utility`` (price; NaN without a reference), ``ratio``, ``gap``,
        ``mean_uav_utility``, ``equilibrium_uav_utility``, ``uav_ratio`` (NaN without the
        UAV columns) and ``reference`` (``"same rounds"`` or ``"equilibrium rounds"``).
    """
    labels = solver_labels(rounds)
    has_ref = ("reference_rsu_utility" in rounds.columns
               and np.isfinite(rounds["reference_rsu_utility"].to_numpy(float)).any())
    rows = {}
    for solver in sorted(set(labels)):
        mine = rounds[labels == solver]
        row = {"rounds": len(mine), "mean_rsu_utility": float(mine["mean_rsu_utility"].mean()),
               "mean_uav_utility": (float(mine["mean_uav_utility"].mean())
                                    if "mean_uav_utility" in mine else np.nan)}
        if has_ref:
            ok = np.isfinite(mine["reference_rsu_utility"].to_numpy(float))
            sub = mine[ok]
            row["mean_rsu_utility"] = float(sub["mean_rsu_utility"].mean())
            row["equilibrium_utility"] = float(sub["reference_rsu_utility"].mean())
            if "mean_uav_utility" in sub and "reference_uav_utility" in sub:
                row["mean_uav_utility"] = float(sub["mean_uav_utility"].mean())
                row["equilibrium_uav_utility"] = float(sub["reference_uav_utility"].mean())
            row["reference"] = "same rounds"
        else:
            ref = rounds if reference is None else reference
            eq = ref[solver_labels(ref) == "equilibrium"]["mean_rsu_utility"].to_numpy(float)
            row["equilibrium_utility"] = float(eq.mean()) if eq.size else np.nan
            row["reference"] = "equilibrium rounds"
        rows[solver] = row
    out = pd.DataFrame.from_dict(rows, orient="index", columns=[
        "rounds", "mean_rsu_utility", "equilibrium_utility", "mean_uav_utility",
        "equilibrium_uav_utility", "reference"])
    out.index.name = "solver"
    with np.errstate(divide="ignore", invalid="ignore"):
        eq = out["equilibrium_utility"].to_numpy(float)
        out["ratio"] = np.where(eq != 0, out["mean_rsu_utility"].to_numpy(float) / eq, np.nan)
        equ = out["equilibrium_uav_utility"].to_numpy(float)
        out["uav_ratio"] = np.where(equ != 0, out["mean_uav_utility"].to_numpy(float) / equ,
                                    np.nan)
    out["gap"] = 1.0 - out["ratio"]
    out["rounds"] = out["rounds"].astype(np.int64)
    return out[["rounds", "mean_rsu_utility", "equilibrium_utility", "ratio", "gap",
                "mean_uav_utility", "equilibrium_uav_utility", "uav_ratio", "reference"]]


def solver_labels(rounds: pd.DataFrame) -> np.ndarray:
    """The solver name of every row of ``/pricing/rounds`` (categorical or coded column)."""
    s = rounds["solver"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype(object).to_numpy()
    return np.array([SOLVER_CODES.get(int(c), str(c)) for c in s.to_numpy()], dtype=object)


def reward_path_curve(paths: pd.DataFrame) -> pd.DataFrame:
    """Mean RSU utility against solver iteration, averaged over rounds.

    Args:
        paths: ``/pricing/paths`` (``round_id``, ``iteration``, ``mean_rsu_utility``).

    Returns:
        Indexed by ``iteration``: ``mean`` and ``std`` over the rounds that reached that
        iteration (price), ``rounds`` (how many did).
    """
    out = paths.groupby("iteration").agg(mean=("mean_rsu_utility", "mean"),
                                         std=("mean_rsu_utility", "std"),
                                         rounds=("round_id", "nunique"))
    out["std"] = out["std"].fillna(0.0)
    return out


def training_curves(iterations: pd.DataFrame) -> pd.DataFrame:
    """Training updates in iteration order (the ``/training/iterations`` columns).

    Args:
        iterations: ``/training/iterations``.

    Returns:
        The same rows indexed by ``iteration``, sorted.
    """
    return iterations.sort_values("iteration", kind="stable").set_index("iteration")


def agent_rewards(agents: pd.DataFrame) -> pd.DataFrame:
    """Per-agent reward of each update, one column per agent.

    Args:
        agents: ``/training/agents``.

    Returns:
        Wide frame indexed by ``iteration`` with one column per ``agent``.
    """
    return agents.pivot_table(index="iteration", columns="agent", values="reward",
                              aggfunc="mean")


def twin_availability(losses: pd.DataFrame, n_twins: int, duration_s: float) -> dict[str, float]:
    """How long twins lost with failed RSUs stayed unavailable, from ``/faults/twin_losses``.

    A lost twin is unavailable from ``t_lost_s`` until ``t_restored_s`` (the end of the run
    if it was never restored).

    Args:
        losses: ``/faults/twin_losses`` (``t_lost_s``, ``t_restored_s``).
        n_twins: twins in the run (the sum of ``/uavs/twin_count``).
        duration_s: simulated time (s).

    Returns:
        ``twins_lost``, ``never_restored``, ``mean_restore_s`` and ``p95_restore_s`` (over the
        restored twins; NaN if none), ``unavailable_twin_s`` (total twin-seconds lost) and
        ``availability`` (1 - unavailable / (n_twins * duration)).
    """
    if n_twins < 1 or not duration_s > 0:
        raise ValueError(f"twin_availability: need n_twins >= 1 and duration_s > 0, got "
                         f"{n_twins} and {duration_s}")
    lost = losses["t_lost_s"].to_numpy(dtype=float)
    restored = losses["t_restored_s"].to_numpy(dtype=float)
    done = np.isfinite(restored)
    until = np.where(done, np.minimum(restored, duration_s), duration_s)
    down = np.clip(until - lost, 0.0, None)
    wait = restored[done] - lost[done]
    return {
        "twins_lost": float(len(lost)),
        "never_restored": float(np.sum(~done)),
        "mean_restore_s": float(np.mean(wait)) if wait.size else float("nan"),
        "p95_restore_s": float(np.percentile(wait, 95)) if wait.size else float("nan"),
        "unavailable_twin_s": float(down.sum()),
        "availability": float(1.0 - down.sum() / (n_twins * duration_s)),
    }


def interrupted_fraction(service: pd.DataFrame, losses: pd.DataFrame, n_uavs: int,
                         duration_s: float) -> float:
    """Fraction of UAV-time with the service interrupted, by migrations or by failures.

    A UAV's service is interrupted while one of its requests is being served (``/migration/
    service`` from ``t_interrupt_start_s`` to ``t_interrupt_end_s``) or while one of its twins
    is lost (``/faults/twin_losses`` from ``t_lost_s`` to ``t_restored_s``). Overlaps count
    once; open intervals (NaN end) run to the end of the run.

    Args:
        service: ``/migration/service`` (``uav_id``, ``t_interrupt_start_s``,
            ``t_interrupt_end_s``).
        losses: ``/faults/twin_losses`` (``uav_id``, ``t_lost_s``, ``t_restored_s``); may be
            empty.
        n_uavs: UAVs in the run.
        duration_s: simulated time (s).

    Returns:
        The interrupted UAV-seconds divided by ``n_uavs * duration_s``.
    """
    if n_uavs < 1 or not duration_s > 0:
        raise ValueError(f"interrupted_fraction: need n_uavs >= 1 and duration_s > 0, got "
                         f"{n_uavs} and {duration_s}")
    uav = np.concatenate([service["uav_id"].to_numpy(dtype=np.int64),
                          losses["uav_id"].to_numpy(dtype=np.int64)])
    start = np.concatenate([service["t_interrupt_start_s"].to_numpy(dtype=float),
                            losses["t_lost_s"].to_numpy(dtype=float)])
    end = np.concatenate([service["t_interrupt_end_s"].to_numpy(dtype=float),
                          losses["t_restored_s"].to_numpy(dtype=float)])
    end = np.minimum(np.where(np.isfinite(end), end, duration_s), duration_s)
    total = 0.0
    order = np.lexsort((start, uav))
    current_uav, run_start, run_end = -1, 0.0, 0.0
    for u, s, e in zip(uav[order].tolist(), start[order].tolist(), end[order].tolist(),
                       strict=True):
        if e <= s:
            continue
        if u != current_uav or s > run_end:
            total += run_end - run_start
            current_uav, run_start, run_end = u, s, e
        else:
            run_end = max(run_end, e)
    total += run_end - run_start
    return total / (n_uavs * duration_s)
