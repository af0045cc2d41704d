"""A dask cluster on this machine, started with distributed's own command-line tools.

``uavtwin sweep --scheduler ADDRESS`` runs on any dask.distributed cluster; on a real one the
scheduler and the workers are started by hand or by a job system (docs/sweeps.md).
:func:`cli_cluster` starts the very same programs, ``dask scheduler`` and ``dask worker``,
as subprocesses listening on 127.0.0.1 and stops them through their own process handles
(never by name), so the cluster test and ``benchmarks/bench_sweep.py`` exercise exactly the
path a cluster user takes.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CliCluster", "cli_cluster", "free_port"]


@dataclass(frozen=True)
class CliCluster:
    """A running scheduler and its workers.

    Attributes:
        address: the scheduler's address, ``tcp://127.0.0.1:PORT``.
        scheduler: the ``dask scheduler`` process.
        workers: the ``dask worker`` processes (named ``worker-0``, ``worker-1``, ...).
        log_path: file receiving every process's stdout and stderr.
    """

    address: str
    scheduler: subprocess.Popen
    workers: tuple[subprocess.Popen, ...]
    log_path: Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(procs: list[subprocess.Popen], address: str, timeout_s: float) -> None:
    """Stop the cluster: ask its scheduler to shut down, then terminate what still runs.

    ``Client.shutdown`` closes the workers and then the scheduler within seconds; a worker
    started without a nanny, when merely sent SIGTERM, can take half a minute to exit.
    Whatever still runs afterwards (the scheduler was already gone, say) is terminated by
    its handle, and killed after ``timeout_s``.
    """
    from dask.distributed import Client

    if procs[0].poll() is None:
        try:
            with Client(address, timeout=10) as client:
                client.shutdown()
        except (OSError, TimeoutError):  # no scheduler to talk to: terminate below
            pass
        for p in procs:
            try:
                p.wait(timeout=15.0)
            except subprocess.TimeoutExpired:
                break
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@contextmanager
def cli_cluster(n_workers: int, directory: Path, *, nanny: bool = False,
                timeout_s: float = 120.0) -> Iterator[CliCluster]:
    """Start ``dask scheduler`` and ``n_workers`` single-thread ``dask worker`` processes.

    Args:
        n_workers: worker processes (one thread each: a run is single-threaded Python).
        directory: where the workers keep their files and the log ``cluster.log`` goes.
        nanny: keep distributed's nanny (it restarts a worker that dies); without it a
            killed worker stays dead, as a lost machine would.
        timeout_s: how long to wait for the workers to register.

    Yields:
        The cluster, once every worker has registered with the scheduler; all its processes
        are stopped on exit.

    Raises:
        TimeoutError: the workers did not register in time.
    """
    from dask.distributed import Client

    dask = Path(sys.executable).with_name("dask")      # the venv's distributed CLI
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    log_path = directory / "cluster.log"
    with log_path.open("w", encoding="utf-8") as log:
        procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port",
                                   str(port), "--no-dashboard"],
                                  stdout=log, stderr=subprocess.STDOUT)]
        try:
            for k in range(n_workers):
                procs.append(subprocess.Popen(
                    [dask, "worker", address, "--name", f"worker-{k}", "--nthreads", "1",
                     "--nanny" if nanny else "--no-nanny", "--no-dashboard",
                     "--memory-limit", "0", "--local-directory", str(directory / f"worker-{k}")],
                    stdout=log, stderr=subprocess.STDOUT))
            with Client(address, timeout=timeout_s) as client:
                client.wait_for_workers(n_workers, timeout=timeout_s)
            yield CliCluster(address, procs[0], tuple(procs[1:]), log_path)
        finally:
            _stop(procs, address, timeout_s=30.0)
