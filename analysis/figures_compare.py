"""Figures that compare configurations (pricing solvers, parameter values) across runs.

They read tables, not traces: :func:`~analysis.sweep.summarise_sweep` output (a metric against
a swept parameter, with its confidence intervals, one line per solver),
:func:`~analysis.sweep.paired_differences` output (each configuration minus the baseline,
paired interval next to the unpaired one from the same runs) and pooled samples of a per-event
quantity (overlaid empirical CDFs). Every function takes ``ax=`` and returns the axes; lines
differ by colour *and* line style and marker (:func:`~analysis.figures_style.line_style`),
and points whose interval rests on fewer than five runs are drawn hollow and listed in the
legend.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from analysis import metrics
from analysis.figures_style import axes_for, colour, line_style
from analysis.loaders import Trace
from analysis.stats import MIN_RUNS_FOR_CI

__all__ = ["QUANTITIES", "plot_cdf_comparison", "plot_metric_vs_parameter",
           "plot_paired_differences", "pooled_samples"]

#: Per-event quantities that :func:`pooled_samples` collects: name -> axis label.
QUANTITIES: dict[str, str] = {
    "migration_time": "migration time per twin (s)",
    "interruption": "service interruption per request (s)",
    "price": "price paid per MHz (price/MHz, pairs that bought)",
}


def pooled_samples(traces: Mapping[str, list[Trace]], quantity: str) -> dict[str, np.ndarray]:
    """One quantity's values from every trace of every configuration, pooled per label.

    Args:
        traces: label -> the traces of that configuration (e.g. its repetitions).
        quantity: A key of :data:`QUANTITIES`.

    Returns:
        label -> 1-D array of the pooled finite values.

    Raises:
        ValueError: Unknown quantity.
    """
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity {quantity!r}: expected one of {list(QUANTITIES)}")
    out = {}
    for label, runs in traces.items():
        parts = []
        for trace in runs:
            if quantity == "migration_time":
                parts.append(metrics.migration_times(trace.table(
                    "/migration/transfers", columns=["t_start_s", "t_end_s"])))
            elif quantity == "interruption":
                parts.append(metrics.interruptions(trace.table(
                    "/migration/service", columns=["interruption_s"])))
            else:
                offers = trace.table("/pricing/offers", columns=["price", "bandwidth_mhz"])
                parts.append(offers["price"].to_numpy(float)[
                    offers["bandwidth_mhz"].to_numpy(float) > 0])
        out[label] = np.concatenate(parts) if parts else np.zeros(0)
    return out


def plot_cdf_comparison(samples: Mapping[str, np.ndarray], quantity: str,
                        ax: Axes | None = None) -> Axes:
    """Overlaid empirical CDFs, one per configuration.

    Args:
        samples: label -> values (see :func:`pooled_samples`).
        quantity: A key of :data:`QUANTITIES` (for the axis label) or any text.
        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: one step line per label, labelled ``"<label> (n=<count>)"``, whose data
        are :func:`metrics.ecdf` of the values.
    """
    label_x = QUANTITIES.get(quantity, quantity)
    (ax,) = axes_for(ax, f"Distribution of the {label_x.split(' (')[0]} by configuration")
    for k, (label, values) in enumerate(samples.items()):
        x, p = metrics.ecdf(values)
        style = line_style(k)
        ax.step(x, p, where="post", color=style["color"], linestyle=style["linestyle"],
                label=f"{label} (n={x.size})")
    ax.set_xlabel(label_x)
    ax.set_ylabel("fraction <= value (empirical CDF)")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_metric_vs_parameter(summary: pd.DataFrame, x: str, metric: str, *,
                             line: str | None = None, ax: Axes | None = None,
                             xlabel: str | None = None, ylabel: str | None = None) -> Axes:
    """A metric's mean against a parameter with its confidence intervals, one line per value
    of ``line`` (e.g. per solver).

    Args:
        summary: :func:`~analysis.sweep.summarise_sweep` output grouped by ``x`` (and
            ``line``), with ``M_mean``, ``M_ci95_low``, ``M_ci95_high``, ``M_low_n``.
        x: The parameter on the x axis (numeric or categorical).
        metric: The metric ``M``.
        line: The column whose values get one line each (``None``: one line).
        ax: Axes to draw on (default: a new figure).
        xlabel: Axis label (default: ``x``).
        ylabel: Axis label (default: ``metric``).

    Returns:
        The axes: one errorbar line per ``line`` value (label = the value, plus
        ``" (hollow: n < 5)"`` when a point rests on fewer than five runs) with the means as
        data and the interval as error bars.

    Raises:
        ValueError: Missing columns.
    """
    need = [x, f"{metric}_mean", f"{metric}_ci95_low", f"{metric}_ci95_high"]
    if line is not None:
        need.append(line)
    missing = [c for c in need if c not in summary.columns]
    if missing:
        raise ValueError(f"plot_metric_vs_parameter: no column(s) {missing} in the summary")
    (ax,) = axes_for(ax, f"{metric} vs {x} (mean and 95% interval)")
    groups = summary.groupby(line, sort=True) if line is not None else [("all runs", summary)]
    categorical = not pd.api.types.is_numeric_dtype(summary[x])
    cats = list(dict.fromkeys(summary[x].tolist())) if categorical else []
    n_lines = summary[line].nunique() if line is not None else 1
    for k, (value, g) in enumerate(groups):
        g = g.sort_values(x) if not categorical else g
        xs = (np.array([cats.index(v) for v in g[x]], dtype=float) if categorical
              else g[x].to_numpy(float))
        if categorical and n_lines > 1:  # dodge the lines so their bars do not overlap
            xs = xs + (k - (n_lines - 1) / 2) * 0.12
        mean = g[f"{metric}_mean"].to_numpy(float)
        err = np.vstack([mean - g[f"{metric}_ci95_low"].to_numpy(float),
                         g[f"{metric}_ci95_high"].to_numpy(float) - mean])
        low = (g[f"{metric}_low_n"].to_numpy(bool) if f"{metric}_low_n" in g
               else np.zeros(len(g), dtype=bool))
        style = line_style(k)
        label = str(value) + (" (hollow: n < 5)" if low.any() else "")
        ax.errorbar(xs, mean, yerr=err, color=style["color"], linestyle=style["linestyle"]
                    if not categorical else "none", marker=style["marker"], capsize=3,
                    markersize=5, label=label)
        if low.any():
            ax.plot(xs[low], mean[low], linestyle="none", marker=style["marker"],
                    markersize=5, markerfacecolor="white", markeredgecolor=style["color"])
    if categorical:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats])
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or metric)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_paired_differences(diffs: pd.DataFrame, metric: str, compare: str, *,
                            relative: bool = True, ax: Axes | None = None) -> Axes:
    """Each configuration minus the baseline: the paired interval and, for contrast, the
    unpaired interval computed from the same runs.

    Args:
        diffs: :func:`~analysis.sweep.paired_differences` output.
        metric: Metric to show (rows with ``metric == metric``).
        compare: The compared column (its values label the rows).
        relative: Show ``rel`` (percent of the baseline's mean) instead of ``diff``.
        ax: Axes to draw on (default: a new figure).

    Returns:
        The axes: per row ``k`` (top to bottom) a thick capped line (gid ``"paired-<k>"``)
        over the paired interval with a hollow marker at the mean difference, a thin line
        (gid ``"unpaired-<k>"``) over the unpaired one, each interval's numbers written
        beside it (gids ``"paired-text-<k>"``, ``"unpaired-text-<k>"``); a vertical line at
        0.

    Raises:
        ValueError: No row for ``metric``.
    """
    rows = diffs[diffs["metric"] == metric].reset_index(drop=True)
    if rows.empty:
        raise ValueError(f"plot_paired_differences: no difference of {metric!r}")
    others = [c for c in rows.columns[:list(rows.columns).index(compare)]]
    (ax,) = axes_for(ax, f"{metric}: difference to {rows['baseline'].iloc[0]} "
                         "(95% intervals)")
    scale = 100.0 if relative else 1.0
    unpaired_lo = rows["unpaired_low"].to_numpy(float)
    unpaired_hi = rows["unpaired_high"].to_numpy(float)
    if relative:  # the unpaired interval of the relative difference, to first order
        base = rows["baseline_mean"].to_numpy(float)
        unpaired_lo, unpaired_hi = unpaired_lo / base, unpaired_hi / base
    centre = rows["rel" if relative else "diff"].to_numpy(float) * scale
    lo = rows["rel_low" if relative else "diff_low"].to_numpy(float) * scale
    hi = rows["rel_high" if relative else "diff_high"].to_numpy(float) * scale
    labels = []
    unit = "%" if relative else ""
    for k, row in rows.iterrows():
        y = len(rows) - 1 - k
        ax.plot([unpaired_lo[k] * scale, unpaired_hi[k] * scale], [y + 0.22, y + 0.22],
                color="#888888", linewidth=1.2, gid=f"unpaired-{k}",
                label="unpaired interval (same runs)" if k == 0 else None)
        ax.annotate(f"unpaired [{unpaired_lo[k] * scale:+.3g}, {unpaired_hi[k] * scale:+.3g}]"
                    f"{unit}", (unpaired_hi[k] * scale, y + 0.22), xytext=(0, 3),
                    textcoords="offset points", ha="right", va="bottom", fontsize="x-small",
                    color="#666666", gid=f"unpaired-text-{k}")
        # A paired interval is often a few pixels wide next to the unpaired one: caps mark
        # its ends, the mean is a small hollow marker inside it, and the numbers are written
        # below it, so it stays readable at any width.
        ax.plot([lo[k], hi[k]], [y, y], color=colour(0), linewidth=3.5, solid_capstyle="butt",
                gid=f"paired-{k}", label="paired interval" if k == 0 else None)
        ax.plot([lo[k], hi[k]], [y, y], linestyle="none", marker="|", markersize=16,
                markeredgewidth=2.0, color=colour(0))
        ax.plot([centre[k]], [y], marker="o", markersize=4, markerfacecolor="white",
                markeredgecolor=colour(3), markeredgewidth=1.2, linestyle="none",
                label="mean difference" if k == 0 else None)
        ax.annotate(f"paired {centre[k]:+.3g}{unit} [{lo[k]:+.3g}, {hi[k]:+.3g}]",
                    (centre[k], y), xytext=(0, -9), textcoords="offset points", ha="center",
                    va="top", fontsize="small", fontweight="bold", color=colour(0),
                    gid=f"paired-text-{k}")
        flag = f", n={int(row['n'])}" + (" < 5!" if row["n"] < MIN_RUNS_FOR_CI else "")
        extra = ", ".join(f"{c}={row[c]}" for c in others)
        labels.append(f"{row[compare]}{' (' + extra + ')' if extra else ''}{flag}")
    ax.set_yticks(range(len(rows)), labels[::-1])
    ax.axvline(0.0, color="#777777", linestyle=":", linewidth=1.0)
    base = rows["baseline"].iloc[0]
    ax.set_xlabel(f"{metric}: minus {base} " + ("(% of its mean)" if relative else ""))
    ax.set_ylim(-0.7, len(rows) - 0.2)
    ax.legend(loc="best", fontsize="small")
    return ax
