"""A sweep on a real dask cluster started from the command line, surviving a lost worker.

The path a user with a cluster takes (docs/sweeps.md): ``dask scheduler`` and two ``dask
worker`` processes (the distributed package's command-line tools), ``uavtwin sweep
--scheduler tcp://127.0.0.1:PORT``.  One worker is killed while it runs a sweep run; the
scheduler hands its runs to the other worker, and the sweep still ends with every run
complete exactly once and traces identical to the same runs made in this process.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import h5py
import pytest
from dask.distributed import Client

from simulator.app.cluster import CliCluster, cli_cluster
from simulator.app.sweep import load_sweep, plan_runs, run_point
from simulator.trace.schema import WALL_CLOCK_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RUNS = 4

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[CliCluster]:
    """A scheduler and two single-thread workers (no nanny: a killed worker stays dead)."""
    with cli_cluster(2, tmp_path / "cluster") as running:
        yield running


def completed(out: Path) -> int:
    """Runs the sweep's index lists as complete so far (0 before it exists)."""
    try:
        with (out / "index.csv").open(newline="") as f:
            return sum(row["status"] == "complete" for row in csv.DictReader(f))
    except FileNotFoundError:
        return 0


def trace_bytes(path: Path) -> dict[str, bytes]:
    wall = {c.lstrip("/") for c in WALL_CLOCK_COLUMNS}
    out: dict[str, bytes] = {}
    with h5py.File(path, "r") as f:
        def visit(name: str, obj: object) -> None:
            if isinstance(obj, h5py.Dataset) and name not in wall:
                out[name] = obj[()].tobytes()
        f.visititems(visit)
    return out


def test_sweep_on_cli_cluster_survives_a_killed_worker(tmp_path: Path,
                                                      cluster: CliCluster) -> None:
    address, workers = cluster.address, cluster.workers
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(f"base: {ROOT / 'scenarios' / 'default.yaml'}\nseed: 5\n"
                     f"repetitions: {RUNS}\nparameters:\n  pricing.solver: [equilibrium]\n"
                     "overrides:\n  - simulation.duration_s=30\n  - uavs.count=3\n",
                     encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([BIN / "uavtwin", "sweep", str(sweep), "-o", str(out),
                             "--scheduler", address, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    victim = None
    try:
        with Client(address, timeout=60) as client:
            names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
            deadline = time.monotonic() + 300
            while victim is None and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
                if completed(out) < 1:
                    continue
                # mid-sweep: kill worker-0 while it holds a run (lost mid-run, redone)
                running = {names.get(a): tasks for a, tasks in client.processing().items()}
                if running.get("worker-0"):
                    victim = running["worker-0"]
                    workers[0].kill()
                    workers[0].wait()
        stdout, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert victim, "worker-0 never ran a sweep run"
    assert workers[0].returncode != 0 and workers[1].poll() is None
    assert proc.returncode == 0, stdout
    assert f"sweep: {RUNS} complete, 0 failed, 0 skipped" in stdout
    with (out / "index.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    specs = plan_runs(load_sweep(sweep), tmp_path / "local")
    assert [r["run_id"] for r in rows] == [s.run_id for s in specs]   # each exactly once
    assert all(r["status"] == "complete" for r in rows)
    assert sorted(p.name for p in (out / "runs").iterdir()) == [f"{s.run_id}.h5"
                                                                 for s in specs]
    for spec, row in zip(specs, rows, strict=True):
        assert run_point(spec)["status"] == "complete"
        assert trace_bytes(out / row["trace"]) == trace_bytes(spec.trace)
