"""Analysis of uavtwin traces: pandas loaders, run metrics, figures and the run report.

``analysis`` reads trace files only; it imports the trace schema (``simulator.trace.schema``)
and the project's error classes but never the simulator itself, SimPy or torch, so a trace can
be analysed on any machine with NumPy, pandas, h5py and matplotlib.

    >>> from analysis import open_trace                      # doctest: +SKIP
    >>> trace = open_trace("traces/default-seed1.h5", names=True)
    >>> trace.migration_transfers.head()                     # a pandas DataFrame
    >>> from analysis.report import build_report
    >>> print(build_report("traces/default-seed1.h5", figures_dir="figs").text)

The figure and report modules (which import matplotlib) are loaded on first use of
:func:`build_report` / :class:`Report`.
"""

from __future__ import annotations

from typing import Any

from analysis import metrics
from analysis.loaders import ACCESSORS, Trace, open_trace
from simulator.trace.reader import PartialTraceWarning

__all__ = ["ACCESSORS", "PartialTraceWarning", "Report", "Trace", "build_report", "metrics",
           "open_sweep", "open_trace", "summarise_sweep"]


def __getattr__(name: str) -> Any:
    if name in ("build_report", "Report"):
        from analysis import report

        return getattr(report, name)
    if name in ("open_sweep", "summarise_sweep"):
        from analysis import sweep

        return getattr(sweep, name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
