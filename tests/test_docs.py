"""Every shell command and Python snippet in README.md and docs/*.md runs as written.

The blocks are collected by :mod:`doc_blocks` (fenced ``sh``/``bash``/``shell``/``console``
and ``python`` blocks; see its docstring for the opt-out marker
``<!-- docs-test: skip (reason) -->``). Each page runs in order, in one scratch directory per
test session that mirrors the repository (links to ``scenarios/``, ``docs/``, ``.venv`` ...),
so relative paths such as ``out/default/trace.h5`` and ``.venv/bin/uavtwin`` mean what they
mean to a reader in a fresh clone after ``make run``; nothing is written into the
repository. The page test runs only with ``UAVTWIN_DOCS=1`` (``make docs-test``): the worked
examples run sweeps of about a hundred runs, minutes on two cores. Shell blocks run under
``bash -e`` with a PATH that does *not* contain the virtual environment (a pasted bare
``uavtwin`` or ``python`` would fail for the reader too);
the Python snippets of a page share one interpreter (the venv's), like a notebook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from doc_blocks import COMMAND_LIKE, Block, collect_blocks, command_lines

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Top-level entries of the repository linked into the scratch directory.
LINKED = ("scenarios", "docs", "benchmarks", "simulator", "agents", "analysis", "tests",
          "setup.cfg", "pyproject.toml", "constraints.txt", "Makefile", "README.md")
TIMEOUT_S = 900

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


def _runnable(path: Path) -> list[Block]:
    return [b for b in collect_blocks(path) if b.kind != "text" and b.skip is None]


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    """A scratch directory that looks like a clone after ``make run``."""
    work = tmp_path_factory.mktemp("docs")
    for name in LINKED:
        (work / name).symlink_to(ROOT / name)
    (work / ".venv").symlink_to(Path(sys.prefix))
    env = _env()
    subprocess.run([".venv/bin/uavtwin", "run", "scenarios/default.yaml", "-q", "-o",
                    "out/default/trace.h5"], cwd=work, env=env, check=True,
                   capture_output=True, timeout=TIMEOUT_S)
    subprocess.run([".venv/bin/uavtwin", "report", "out/default/trace.h5", "--figures",
                    "out/default/figures"], cwd=work, env=env, check=True,
                   capture_output=True, timeout=TIMEOUT_S)
    return work


def _env() -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != Path(venv_bin).resolve())
    env.pop("VIRTUAL_ENV", None)
    # The code under test, also when the venv's editable install points at another checkout.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("UAVTWIN_DOCS") != "1",
                    reason="set UAVTWIN_DOCS=1 to run every documented command (long: the "
                           "worked examples run sweeps)")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_command_and_snippet_of_the_page_runs(page: Path, workdir: Path) -> None:
    blocks = _runnable(page)
    if not blocks:
        pytest.skip("no runnable block")
    env = _env()
    python = None
    try:
        for block in blocks:
            if block.kind == "python":
                if python is None:
                    python = subprocess.Popen(
                        [str(Path(sys.prefix) / "bin" / "python"), "-c", _DRIVER],
                        cwd=workdir, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True)
                python.stdin.write(json.dumps({"code": block.code, "where": block.where})
                                   + "\n")
                python.stdin.flush()
                output = []
                for line in python.stdout:
                    if line.startswith("@@DOCS-TEST@@"):
                        result = json.loads(line.removeprefix("@@DOCS-TEST@@"))
                        break
                    output.append(line)
                else:
                    pytest.fail(f"{block.where}: the Python snippet ended the interpreter:\n"
                                + "".join(output[-30:]))
                assert result["ok"], (f"{block.where}: Python snippet failed:\n"
                                      f"{result['error']}\n{''.join(output[-20:])}")
            else:
                script = command_lines(block)
                proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script],
                                      cwd=workdir, env=env, capture_output=True, text=True,
                                      timeout=TIMEOUT_S)
                assert proc.returncode == 0, (
                    f"{block.where}: command block failed (exit {proc.returncode}):\n{script}\n"
                    f"stdout:\n{proc.stdout[-2000:]}\nstderr:\n{proc.stderr[-3000:]}")
    finally:
        if python is not None:
            python.stdin.close()
            python.wait(timeout=60)


def test_unlabelled_blocks_hold_no_commands() -> None:
    """A command in an unlabelled (or ``text``) fence would never be tested: label it."""
    bad = [f"{b.where}: {line.strip()}" for page in PAGES for b in collect_blocks(page)
           if b.lang == "" for line in b.code.splitlines()
           if COMMAND_LIKE.match(line) and not line.strip().startswith(("uavtwin: error",))]
    assert bad == [], ("label these blocks `sh`/`console`/`python` so the docs test runs them "
                       "(or `text` for a synopsis that is not a command):\n" + "\n".join(bad))


def test_skips_give_reasons_and_the_collector_reads_console_blocks(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# t\n\n```console\n$ echo a \\\n  b\nprinted\n```\n\n"
                    "<!-- docs-test: skip (needs a cluster) -->\n```sh\ndask scheduler\n```\n"
                    "\n```python\nx = 1\n```\n")
    blocks = collect_blocks(page)
    assert [(b.kind, b.skip, b.line) for b in blocks] == [
        ("console", None, 3), ("shell", "(needs a cluster)", 10), ("python", None, 14)]
    assert command_lines(blocks[0]) == "echo a \\\n  b\n"
    page.write_text("<!-- docs-test: skip -->\n```sh\nx\n```\n")
    with pytest.raises(ValueError, match="skip needs a reason"):
        collect_blocks(page)
