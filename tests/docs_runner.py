"""Run the documentation's blocks page by page, in a background thread of the test session.

The test suite is one process on one core; a machine that runs it has two. The pages of
README.md and docs/*.md are mostly subprocesses (``.venv/bin/uavtwin ...``), so they run in a
thread that starts when collection ends (see ``pytest_collection_modifyitems`` in
conftest.py) and works on the second core while the rest of the suite runs; their tests,
``tests/test_docs.py::test_every_command_and_snippet_of_the_page_runs[PAGE]``, are moved to
the end of the session and only collect each page's result. When the runner was not started
(a test selected in an unusual way), a page test runs its page itself.

Each page runs its blocks in order (:func:`run_page`) in one scratch directory that mirrors a
fresh clone after ``make run`` (:func:`make_workdir`); the first failing block ends the page.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from doc_blocks import Block, collect_blocks, command_lines

__all__ = ["AS_WRITTEN", "COPIED", "LINKED", "TIMEOUT_S", "PageResult", "Runner",
           "make_workdir", "run_page", "runnable", "runner", "skipped", "start", "stop"]

ROOT = Path(__file__).resolve().parents[1]
#: Top-level entries of the repository copied into the scratch directory (commands write
#: figures, benchmark results and outputs there, never into the repository).
COPIED = ("scenarios", "docs", "benchmarks")
#: Top-level entries linked into it (read only).
LINKED = ("simulator", "agents", "analysis", "tests", "setup.cfg", "pyproject.toml",
          "constraints.txt", "Makefile", "README.md")
#: ``make docs-test`` (``UAVTWIN_DOCS=1``) runs the blocks as written; ``make test`` runs
#: their quick forms.
AS_WRITTEN = os.environ.get("UAVTWIN_DOCS") == "1"
#: Limit per block.
TIMEOUT_S = 1800 if AS_WRITTEN else 600

_DRIVER = r'''
import json, sys, traceback
namespace = {"__name__": "__main__"}
for line in sys.stdin:
    block = json.loads(line)
    try:
        exec(compile(block["code"], block["where"], "exec"), namespace)
        result = {"ok": True}
    except BaseException:
        result = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.write("\n@@DOCS-TEST@@" + json.dumps(result) + "\n")
    sys.stdout.flush()
'''


@dataclass
class PageResult:
    """What running one page gave.

    Attributes:
        page: The Markdown file.
        blocks: Blocks run (up to and including a failing one).
        seconds: Wall time of the page.
        error: The first failure (block, command, output), or ``None``.
        timings: ``(file:line, seconds)`` of each block run.
    """

    page: Path
    blocks: int = 0
    seconds: float = 0.0
    error: str | None = None
    timings: list[tuple[str, float]] = field(default_factory=list)


def runnable(path: Path, *, as_written: bool = AS_WRITTEN) -> list[Block]:
    """The page's blocks that run: shell, console and Python blocks without a skip (and,
    unless ``as_written``, without a full-only marker)."""
    return [b for b in collect_blocks(path) if b.kind != "text" and b.skip is None
            and (as_written or b.full_only is None)]


def skipped(pages: list[Path], *, full_only: bool = False) -> dict[str, str]:
    """Every block with a skip marker (or a full-only one), as ``"PAGE: first line" ->
    reason``."""
    found = {}
    for page in pages:
        for b in collect_blocks(page):
            reason = b.full_only if full_only else b.skip
            if b.kind != "text" and reason is not None and (full_only or b.skip is not None):
                first = next(line for line in b.code.splitlines() if line.strip())
                found[f"{page.relative_to(ROOT).as_posix()}: {first.rstrip()}"] = reason
    return found


def env_for_docs() -> dict[str, str]:
    """The environment of a reader: no venv on PATH, the code under test importable."""
    env = dict(os.environ)
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != Path(venv_bin).resolve())
    env.pop("VIRTUAL_ENV", None)
    # The code under test, also when the venv's editable install points at another checkout.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return env


def make_workdir(work: Path, timeout_s: float) -> Path:
    """Fill ``work`` like a clone after ``make run``: copies, links, ``out/default/trace.h5``.

    The trace is made by the reader's command, ``.venv/bin/uavtwin run
    scenarios/default.yaml -o out/default/trace.h5``.
    """
    for name in COPIED:
        shutil.copytree(ROOT / name, work / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    subprocess.run([".venv/bin/uavtwin", "run", "scenarios/default.yaml", "-q", "-o",
                    "out/default/trace.h5"], cwd=work, env=env_for_docs(), check=True,
                   capture_output=True, timeout=timeout_s)
    return work


def _run_script(script: str, work: Path, env: dict[str, str], timeout_s: float,
                procs: list[subprocess.Popen]) -> tuple[int, str, str]:
    """Run a shell block under ``bash -e`` in its own process group; return code and output.

    Output goes to files, not pipes, and the group is killed when the block ends, so a
    block that starts background programs (``dask scheduler &``) cannot hang the test.
    ``$UAVTWIN_DOCS_PORT`` is a TCP port free right now, for a quick form that must not
    take a fixed one (several test sessions may share the machine).
    """
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        env = dict(env, UAVTWIN_DOCS_PORT=str(sock.getsockname()[1]))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work,
                                env=env, stdout=out, stderr=err, text=True,
                                start_new_session=True)
        procs.append(proc)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = -1
            err.write(f"\n(timed out after {timeout_s:.0f} s)\n")
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the block's own group, by its id
            except ProcessLookupError:
                pass
            proc.wait()
            procs.remove(proc)
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read()


def run_page(page: Path, work: Path, *, as_written: bool, timeout_s: float,
             procs: list[subprocess.Popen] | None = None) -> PageResult:
    """Run the page's blocks in order in ``work``; stop at the first failure.

    Args:
        page: The Markdown file.
        work: The scratch directory (:func:`make_workdir`).
        as_written: Run the blocks as written, else in their quick forms.
        timeout_s: Limit per block.
        procs: Where running subprocesses are listed (so that :func:`stop` can end them).

    Returns:
        The page's result.
    """
    procs = [] if procs is None else procs
    result = PageResult(page)
    started = time.perf_counter()
    env = env_for_docs()
    python = None
    try:
        for block in runnable(page, as_written=as_written):
            result.blocks += 1
            block_started = time.perf_counter()
            if block.kind == "python":
                if python is None:
                    python = subprocess.Popen(
                        [str(Path(sys.prefix) / "bin" / "python"), "-c", _DRIVER], cwd=work,
                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True)
                    procs.append(python)
                code = block.code if as_written else block.quick_code()
                python.stdin.write(json.dumps({"code": code, "where": block.where}) + "\n")
                python.stdin.flush()
                output: list[str] = []
                ran = None
                for line in python.stdout:
                    if line.startswith("@@DOCS-TEST@@"):
                        ran = json.loads(line.removeprefix("@@DOCS-TEST@@"))
                        break
                    output.append(line)
                if ran is None:
                    result.error = (f"{block.where}: the Python snippet ended the "
                                    "interpreter:\n" + "".join(output[-30:]))
                    break
                if not ran["ok"]:
                    result.error = (f"{block.where}: Python snippet failed:\n{ran['error']}\n"
                                    + "".join(output[-20:]))
                    break
                result.timings.append((block.where, time.perf_counter() - block_started))
            else:
                script = command_lines(block, quick=not as_written)
                code, out, err = _run_script(script, work, env, timeout_s, procs)
                if code != 0:
                    result.error = (f"{block.where}: command block failed (exit {code}):\n"
                                    f"{script}\nstdout:\n{out[-2000:]}\nstderr:\n{err[-3000:]}")
                    break
                result.timings.append((block.where, time.perf_counter() - block_started))
    finally:
        if python is not None:
            python.stdin.close()
            try:
                python.wait(timeout=60)
            except subprocess.TimeoutExpired:
                python.kill()
                python.wait()
            procs.remove(python)
        result.seconds = time.perf_counter() - started
    return result


@dataclass
class Runner:
    """Pages run one after another in a daemon thread; results are waited for per page."""

    pages: list[Path]
    as_written: bool
    timeout_s: float
    results: dict[Path, PageResult] = field(default_factory=dict)
    setup_error: str | None = None
    started_at: float = field(default_factory=time.perf_counter)
    _done: dict[Path, threading.Event] = field(default_factory=dict)
    _procs: list[subprocess.Popen] = field(default_factory=list)
    _stopping: bool = False
    _work: Path | None = None

    def start(self) -> None:
        """Create the scratch directory and start the thread."""
        self._done = {p: threading.Event() for p in self.pages}
        self._work = Path(tempfile.mkdtemp(prefix="uavtwin-docs-"))
        threading.Thread(target=self._run, name="docs-runner", daemon=True).start()

    def _run(self) -> None:
        assert self._work is not None
        try:
            make_workdir(self._work, self.timeout_s)
        except (OSError, subprocess.SubprocessError) as exc:
            self.setup_error = f"preparing {self._work} failed: {exc}"
        try:
            for page in self.pages:
                if self._stopping or self.setup_error is not None:
                    break
                try:
                    self.results[page] = run_page(page, self._work,
                                                  as_written=self.as_written,
                                                  timeout_s=self.timeout_s, procs=self._procs)
                except (OSError, ValueError, subprocess.SubprocessError) as exc:
                    self.results[page] = PageResult(page, error=f"{page}: the runner failed: "
                                                    f"{type(exc).__name__}: {exc}")
                self._done[page].set()
        finally:  # never leave a page test waiting
            for event in self._done.values():
                event.set()

    def result(self, page: Path) -> PageResult:
        """Wait for the page (at most the per-block limit times its blocks, plus one)."""
        limit = self.timeout_s * (1 + sum(1 for _ in runnable(page)) + len(self.pages))
        if not self._done[page].wait(limit):
            raise TimeoutError(f"{page}: no result after {limit:.0f} s")
        if self.setup_error is not None:
            raise RuntimeError(self.setup_error)
        if page not in self.results:
            raise RuntimeError(f"{page}: the runner stopped before this page")
        return self.results[page]

    def stop(self) -> None:
        """End running subprocesses (by handle) and remove the scratch directory."""
        self._stopping = True
        for proc in list(self._procs):
            if proc.poll() is None:
                proc.kill()
        if self._work is not None:
            shutil.rmtree(self._work, ignore_errors=True)


_RUNNER: list[Runner] = []


def start(pages: list[Path]) -> Runner:
    """Start the session's runner on ``pages`` (in page order)."""
    run = Runner(pages, AS_WRITTEN, TIMEOUT_S)
    run.start()
    _RUNNER.append(run)
    return run


def runner() -> Runner | None:
    """The session's runner, if one was started."""
    return _RUNNER[-1] if _RUNNER else None


def stop() -> None:
    """Stop the session's runner, if any."""
    for run in _RUNNER:
        run.stop()
