"""The worked examples in docs/examples/ stay runnable and correct."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from simulator.app.sweep_file import expand_points, load_sweep
from simulator.trace.reader import TraceReader

EXAMPLES = ROOT / "docs" / "examples"


def test_plain_h5py_example_needs_no_uavtwin(run_small) -> None:
    trace = run_small().trace_path
    code = (
        "import runpy, sys, json\n"
        f"sys.argv = ['x', {str(trace)!r}]\n"
        f"mod = runpy.run_path({str(EXAMPLES / 'read_plain_h5py.py')!r})\n"
        f"means = mod['describe']({str(trace)!r})\n"
        "ours = [m for m in sys.modules\n"
        "        if m.split('.')[0] in ('simulator', 'analysis', 'agents')]\n"
        "print(json.dumps({'means': means, 'ours': ours}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=str(EXAMPLES))
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ours"] == []
    with TraceReader(trace) as r:
        tr = r.read("/migration/transfers")
    duration = tr["t_end_s"] - tr["t_start_s"]
    for hops in np.unique(tr["n_hops"]):
        assert out["means"][f"{int(hops)} hops"] == pytest.approx(
            duration[tr["n_hops"] == hops].mean())


@pytest.mark.parametrize("name, runs", [("compare-solvers.yaml", 90), ("rsu-density.yaml", 12)])
def test_example_sweeps_are_valid(name: str, runs: int) -> None:
    sweep = load_sweep(EXAMPLES / name)
    assert len(expand_points(sweep)) * sweep.repetitions == runs
