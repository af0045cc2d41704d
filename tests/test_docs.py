"""Every shell command and Python snippet in README.md and docs/*.md runs.

The blocks are collected by :mod:`doc_blocks` (fenced ``sh``/``bash``/``shell``/``console``
and ``python`` blocks; see its docstring for the markers) and run by :mod:`docs_runner`:
each page in order, in a scratch directory that mirrors a fresh clone after ``make run``
(``docs/``, ``scenarios/`` and ``benchmarks/`` are copied, so commands that write figures or
benchmark results write them there, never into the repository; the code and ``.venv`` are
linked; ``out/default/trace.h5`` is made by ``uavtwin run scenarios/default.yaml``).
Relative paths such as ``out/default/trace.h5`` and ``.venv/bin/uavtwin`` mean what they
mean to a reader. Shell blocks run under ``bash -e`` with a PATH that does *not* contain the
virtual environment (a pasted bare ``uavtwin`` or ``python`` would fail for the reader too);
the Python snippets of a page share one interpreter (the venv's), like a notebook.

Two forms, the same blocks:

- ``make test`` runs every block in its *quick form*: the block as written, except where a
  ``<!-- docs-test: quick "old" -> "new" -->`` marker above it (in the page's source)
  replaces text, e.g. fewer sweep repetitions, fewer video frames, a shorter benchmark.
  The worked example of docs/examples.md runs this way (9 runs instead of 90 or more) and
  still writes the comparison figures and the paired/unpaired table. The pages run in a
  background thread from the end of collection, on the core the rest of the suite leaves
  idle; their tests come last and collect the results (conftest.py, docs_runner.py).
- ``make docs-test`` (``UAVTWIN_DOCS=1``, only this file) runs every block exactly as
  written, and the full-only blocks too (22 min on the shared 2-core machine at load 6-9:
  the worked example's 90-run sweep, ``reproduce all`` and the full-length videos lead).

Blocks marked ``<!-- docs-test: skip (reason) -->`` never run; they must be listed in
:data:`SKIPPED` below, so that skips stay few and visible (the session's summary counts
them).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import ROOT
from doc_blocks import COMMAND_LIKE, collect_blocks, command_lines
from docs_runner import (
    AS_WRITTEN,
    TIMEOUT_S,
    make_workdir,
    run_page,
    runnable,
    runner,
    skipped,
)

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Every block that does not run, by page and first line, with why. A new skip marker fails
#: :func:`test_skipped_blocks_are_few_and_listed` until it is added here.
SKIPPED = {
    "README.md: make run    # creates .venv, installs uavtwin, runs scenarios/default.yaml, "
    "prints a summary,": "make run = the run and report commands of the README, which run; "
                         "make test is this suite",
    "docs/reliability.md: nice -n 19 .venv/bin/python benchmarks/bench_soak.py --hours 1 24 "
    "--every 5": "soak benchmark, about 40 minutes",
    "docs/sweeps.md: $ dask scheduler                                   # prints "
    "tcp://10.0.0.5:8786": "needs other machines",
    "docs/tiny-madrl.md: .venv/bin/python benchmarks/bench_convergence.py --seeds 16 "
    "--eval-interval 2 --reuse \\": "a training study of tens of minutes",
    "docs/tiny-madrl.md: make agents                                   # the shipped "
    "checkpoints (uavtwin train, seed 7)": "rewrites the shipped checkpoints",
    "docs/validation.md: .venv/bin/python benchmarks/validate_ns3.py": "packet-level ns-3 "
                                                                       "runs, minutes",
}


#: Blocks that run only as written, under ``make docs-test``: long by nature, with no short
#: form worth its time in ``make test``.
FULL_ONLY = {
    "README.md: .venv/bin/uavtwin reproduce all --quick -o out/papers   # about a minute on "
    "2 cores": "about a minute even with --quick, two with full budgets; "
               "tests/test_reproduce.py runs reproduce() on small budgets",
}


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_command_and_snippet_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    """The page's blocks in order: as written (``UAVTWIN_DOCS=1``) or in their quick form.

    The session's background runner (tests/docs_runner.py) has usually run the page already;
    otherwise the page runs here, in a scratch directory of its own.
    """
    if not runnable(page):
        pytest.skip("no runnable block")
    background = runner()
    if background is not None and page in background.pages:
        result = background.result(page)
    else:
        work = make_workdir(tmp_path, TIMEOUT_S)
        result = run_page(page, work, as_written=AS_WRITTEN, timeout_s=TIMEOUT_S)
    assert result.error is None, result.error


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


def test_skipped_blocks_are_few_and_listed() -> None:
    """Every skipped block is in :data:`SKIPPED` (and every entry there is still a skip)."""
    found = skipped(PAGES)
    assert sorted(found) == sorted(SKIPPED), (
        f"{len(found)} blocks are skipped; list each in tests/test_docs.py SKIPPED (or make "
        "it run, in a quick form if long):\n" + "\n".join(f"{k}  {v}"
                                                          for k, v in sorted(found.items())))
    full = skipped(PAGES, full_only=True)
    assert sorted(full) == sorted(FULL_ONLY), (
        f"{len(full)} blocks run only under make docs-test; list each in tests/test_docs.py "
        "FULL_ONLY:\n" + "\n".join(f"{k}  {v}" for k, v in sorted(full.items())))


def test_quick_markers_replace_text_of_their_block(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('# t\n\n<!-- docs-test: quick "--seeds 5" -> "--seeds 1"; '
                    '"out/x" -> "out/x --quick" -->\n\n```sh\nbench --seeds 5 -o out/x\n'
                    'bench --seeds 5\n```\n\n```sh\nbench --seeds 5\n```\n')
    quick, plain = collect_blocks(page)
    assert quick.quick == (("--seeds 5", "--seeds 1"), ("out/x", "out/x --quick"))
    assert command_lines(quick, quick=True) == ("bench --seeds 1 -o out/x --quick\n"
                                                "bench --seeds 1\n")
    assert command_lines(quick) == quick.code == "bench --seeds 5 -o out/x\nbench --seeds 5\n"
    assert plain.quick == () and command_lines(plain, quick=True) == plain.code
    page.write_text('<!-- docs-test: quick "--seeds 9" -> "--seeds 1" -->\n```sh\nb --seeds 5\n'
                    '```\n')
    with pytest.raises(ValueError, match="'--seeds 9' is not in the block"):
        collect_blocks(page)
    page.write_text('<!-- docs-test: quick --seeds 1 -->\n```sh\nb --seeds 5\n```\n')
    with pytest.raises(ValueError, match='expected "old" -> "new"'):
        collect_blocks(page)
    page.write_text('<!-- docs-test: skipp (typo) -->\n```sh\nb\n```\n')
    with pytest.raises(ValueError, match="unknown docs-test marker"):
        collect_blocks(page)
    page.write_text('<!-- docs-test: full-only (an hour) -->\n```sh\nlong\n```\n\n```sh\nb\n```\n')
    assert [b.full_only for b in collect_blocks(page)] == ["(an hour)", None]
    assert [b.code for b in runnable(page, as_written=False)] == ["b\n"]
    assert [b.code for b in runnable(page, as_written=True)] == ["long\n", "b\n"]


def _ended(pid: int, cmdline: str, wait_s: float) -> bool:
    """Whether process ``pid`` running ``cmdline`` has ended within ``wait_s`` seconds."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            running = state not in "ZX" and Path(f"/proc/{pid}/cmdline").read_text() == cmdline
        except (FileNotFoundError, ProcessLookupError):
            return True
        if not running:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_runner_applies_quick_forms_stops_at_a_failure_and_ends_background_jobs(
        tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text('<!-- docs-test: quick "echo slow" -> "echo quick" -->\n```sh\n'
                    'echo slow > said.txt\nsleep 300 &\necho $! > bg.pid\n```\n\n'
                    '```python\nx = open("said.txt").read()\n```\n\n```python\n'
                    'assert x == "quick\\n", x\n```\n\n```sh\necho never > never.txt\n```\n')
    quick = run_page(page, tmp_path, as_written=False, timeout_s=60)
    assert quick.error is None and quick.blocks == 4
    assert (tmp_path / "never.txt").read_text() == "never\n"
    # the block's background job ended with it: gone, a zombie waiting to be reaped, or its
    # pid already reused by another program. The kill is delivered asynchronously, so a busy
    # machine may show it running for a moment: wait for the end (a bound, not a timing)
    assert _ended(int((tmp_path / "bg.pid").read_text()), "sleep\x00300\x00", wait_s=30)
    (tmp_path / "never.txt").unlink()
    written = run_page(page, tmp_path, as_written=True, timeout_s=60)
    assert written.blocks == 3 and written.error is not None
    assert "p.md:12: Python snippet failed" in written.error and "slow" in written.error
    assert not (tmp_path / "never.txt").exists()   # nothing runs after a failure
