"""Figures of the physical side of a run: where UAVs flew, when they changed cells, how long
their twins took to follow, and the immersion they got.

Each ``plot_*`` function takes an :class:`analysis.loaders.Trace` and optionally ``ax=`` (the
Axes to draw on; default: a new figure in the current style), reads only the tables it needs
and returns the Axes, whose artists hold exactly the values of the corresponding
:mod:`analysis.metrics` function (the tests check this).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Circle
from matplotlib.ticker import MaxNLocator

from analysis import metrics
from analysis.figures_style import axes_for, colour, current_style, marker_area, run_label
from analysis.loaders import Trace

__all__ = ["plot_immersion", "plot_map", "plot_migration_cdfs", "plot_timeline"]


def _leave_events(trace: Trace):  # -> pd.DataFrame
    events = trace.table("/coverage/events")
    return events[(events["kind"] == "leave").to_numpy(dtype=bool)]


def plot_map(trace: Trace, ax: Axes | None = None) -> Axes:
    """RSU coverage discs, UAV tracks (exact segments) and handover points.

    Args:
        trace: The run (needs ``/rsus`` and ``/mobility/segments``; ``/coverage/events``
            adds the handover points).

        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: one circle patch per RSU cell, RSU markers labelled with their ids (text
        ``"RSU <id>"``; just ``"<id>"`` in the paper style), one line per UAV track (gid
        ``"track-<uav_id>"``), and a scatter of handover positions (gid ``"handovers"``).
    """
    rsus = trace.table("/rsus")
    seg = trace.table("/mobility/segments").sort_values(["uav_id", "t_start_s"], kind="stable")
    (ax,) = axes_for(ax, f"RSU cells and UAV tracks ({run_label(trace)})")
    for x, y, r in zip(rsus["x_m"], rsus["y_m"], rsus["coverage_radius_m"], strict=True):
        ax.add_patch(Circle((x, y), r, facecolor=colour(5), alpha=0.12, edgecolor=colour(0),
                            linewidth=0.8))
    ax.scatter(rsus["x_m"], rsus["y_m"], marker="^", s=marker_area(60), color=colour(0), zorder=3,
               label="RSU", gid="rsus")
    for rsu, x, y in zip(rsus["rsu_id"], rsus["x_m"], rsus["y_m"], strict=True):
        text = f"RSU {int(rsu)}" if current_style().titles else f"{int(rsu)}"  # small: ids
        ax.annotate(text, (x, y), xytext=(4, 4), textcoords="offset points",
                    fontsize="small", color=colour(0), zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.7})
    for k, (uav, s) in enumerate(seg.groupby("uav_id", sort=True)):
        x = np.append(s["x0_m"].to_numpy(), s["x1_m"].to_numpy()[-1])
        y = np.append(s["y0_m"].to_numpy(), s["y1_m"].to_numpy()[-1])
        ax.plot(x, y, color=colour(1 + k % 6), linewidth=1.0, alpha=0.8, gid=f"track-{uav}")
    leaves = _leave_events(trace) if trace.n_rows("/coverage/events") else None
    handles = [Line2D([], [], color=colour(0), marker="^", linestyle="", label="RSU"),
               Circle((0, 0), 1, facecolor=colour(5), alpha=0.3, edgecolor=colour(0),
                      label="coverage disc"),
               Line2D([], [], color=colour(1), label="UAV track")]
    if leaves is not None and len(leaves):
        pos = metrics.positions_at(seg, leaves["uav_id"], leaves["t_s"])
        ax.scatter(pos["x_m"], pos["y_m"], marker="x", s=marker_area(30), color=colour(3), zorder=4,
                   gid="handovers")
        handles.append(Line2D([], [], color=colour(3), marker="x", linestyle="",
                              label="handover (cell exit)"))
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    if current_style().titles:
        ax.legend(handles=handles, loc="upper right", fontsize="small")
    else:  # a small figure: the legend goes beside the map, not over it
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                  fontsize="small", borderaxespad=0.0)
    return ax


def plot_timeline(trace: Trace, ax: Axes | None = None) -> Axes:
    """Per-UAV timeline of cell exits and twin transfers.

    Args:
        trace: The run (``/coverage/events``; ``/migration/transfers`` if any).

        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: a scatter of cell exits at ``(t_s, uav_id)`` (gid ``"handovers"``) and
        one horizontal segment per finished transfer from ``t_start_s`` to ``t_end_s`` at
        height ``uav_id`` (a LineCollection, gid ``"transfers"``).
    """
    (ax,) = axes_for(ax, f"Handovers and twin migrations ({run_label(trace)})")
    leaves = _leave_events(trace)
    ax.scatter(leaves["t_s"], leaves["uav_id"], marker="x", s=marker_area(25), color=colour(3),
               zorder=4,
               label="handover (cell exit)", gid="handovers")
    if trace.n_rows("/migration/transfers"):
        tr = trace.table("/migration/transfers")
        done = np.isfinite(tr["t_end_s"].to_numpy(float))
        tr = tr[done]
        segs = np.stack([
            np.column_stack([tr["t_start_s"], tr["uav_id"]]),
            np.column_stack([tr["t_end_s"], tr["uav_id"]]),
        ], axis=1).astype(float)
        ax.add_collection(LineCollection(segs, colors=colour(0), linewidths=4, alpha=0.6,
                                         label="twin transfer", gid="transfers"))
        ax.autoscale_view()
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    n_uavs = trace.n_rows("/uavs")
    if n_uavs:
        ax.set_ylim(-0.5, n_uavs - 0.5)
    if trace.duration_s:
        ax.set_xlim(0.0, trace.duration_s)
    ax.set_xlabel("simulation time (s)")
    ax.set_ylabel("UAV id")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_migration_cdfs(trace: Trace, ax: Axes | None = None) -> Axes:
    """Empirical CDFs of twin migration time and of service interruption.

    Args:
        trace: The run (``/migration/transfers`` and/or ``/migration/service``).

        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: step lines labelled ``"migration time (per twin)"`` and
        ``"service interruption (per request)"`` whose data are :func:`metrics.ecdf` of
        :func:`metrics.migration_times` and :func:`metrics.interruptions`.
    """
    (ax,) = axes_for(ax, f"Migration time and service interruption ({run_label(trace)})")
    curves = []
    if trace.n_rows("/migration/transfers"):
        curves.append(("migration time (per twin)",
                       metrics.migration_times(trace.table("/migration/transfers"))))
    if trace.n_rows("/migration/service"):
        curves.append(("service interruption (per request)",
                       metrics.interruptions(trace.table("/migration/service"))))
    for k, (label, values) in enumerate(curves):
        x, p = metrics.ecdf(values)
        ax.step(x, p, where="post", color=colour(k), linestyle="-" if k == 0 else "--",
                label=f"{label}, n={x.size}")
    ax.set_xlabel("duration (s)")
    ax.set_ylabel("fraction of transfers or requests <= duration")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_immersion(trace: Trace, ax: Axes | None = None, *, bins: int = 20) -> Axes:
    """Immersion of every served request over time, with the binned mean.

    Args:
        trace: The run (``/migration/service``).
        ax: Axes to draw on (default: a new figure).
        bins: Time bins of the mean line.

    Returns:
        The axes: a scatter of ``(t_request_s, immersion)`` (gid ``"requests"``) and a
        line (label ``"mean per bin"``) equal to :func:`metrics.immersion_over_time`.
    """
    service = trace.table("/migration/service")
    (ax,) = axes_for(ax, f"Immersion of served migrations ({run_label(trace)})")
    ax.scatter(service["t_request_s"], service["immersion"], s=marker_area(12), alpha=0.5,
               color=colour(0),
               label="request", gid="requests")
    curve = metrics.immersion_over_time(service, bins=bins, t_end_s=trace.duration_s)
    ax.plot(curve["t_s"], curve["mean_immersion"], color=colour(3), marker="o", markersize=3,
            linewidth=1.6, label="mean per bin")
    ax.set_xlabel("request time (s)")
    ax.set_ylabel("immersion (dimensionless)")
    ax.legend(loc="best", fontsize="small")
    return ax
