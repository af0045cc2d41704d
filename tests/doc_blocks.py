"""Collect the runnable code blocks of the Markdown documentation (README.md, docs/*.md).

A fenced block is *runnable* when its info string starts with ``sh``, ``bash``, ``shell``
(a script: every line runs, ``set -e``), ``console`` (only the ``$ `` lines run, the rest is
shown output) or ``python`` / ``py`` (a snippet; the snippets of one page share one
namespace, in page order, like a notebook). Any other language (``yaml``, ``json``,
``text``, ``toml``...) is shown, never run.

Markers are HTML comments on the lines right above the fence (blank lines between are
allowed; several markers may stack). A block that cannot run in a test at all (it needs a
cluster of machines, ns-3, or rewrites shipped files) opts out with::

    <!-- docs-test: skip (reason the block cannot run in the test) -->

The reason is required. A block that is long by nature and has no short form worth running
in the test suite runs only under ``make docs-test`` (``UAVTWIN_DOCS=1``)::

    <!-- docs-test: full-only (reason) -->

A page opts out whole with ``<!-- docs-test: skip-page (reason)
-->`` anywhere in the page. A block that is long by nature (a sweep of a hundred runs, a
benchmark) runs as written under ``make docs-test``, and in a *quick form* under ``make
test``, spelled out on the page as exact text replacements::

    <!-- docs-test: quick "--seeds 5 --duration 1200" -> "--seeds 1 --duration 120" -->

Several replacements are separated by ``;``; each old text must occur in the block (a stale
marker is an error), and every occurrence is replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMMAND_LIKE", "PYTHON_LANGS", "SHELL_LANGS", "Block", "collect_blocks",
           "command_lines", "parse_quick"]

SHELL_LANGS = frozenset({"sh", "bash", "shell", "console"})
PYTHON_LANGS = frozenset({"python", "py", "python3"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip(?![\w-])\s*(?P<reason>.*?)\s*-->")
_SKIP_PAGE = re.compile(r"<!--\s*docs-test:\s*skip-page\s*(?P<reason>.*?)\s*-->")
_FULL_ONLY = re.compile(r"<!--\s*docs-test:\s*full-only\s*(?P<reason>.*?)\s*-->")
_QUICK = re.compile(r"<!--\s*docs-test:\s*quick\b\s*(?P<spec>.*?)\s*-->")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:")
_PAIR = re.compile(r'\s*"(?P<old>[^"]+)"\s*->\s*"(?P<new>[^"]*)"\s*(;|$)')
#: Lines that look like a command a reader would paste (checked in unlabelled blocks).
COMMAND_LIKE = re.compile(r"^\s*(\$ |uavtwin |\.venv/|python3? |make |import |from \S+ import )")


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page.

    Attributes:
        path: The Markdown file.
        line: 1-based line of the opening fence.
        lang: First word of the info string, lower case ("" when unlabelled).
        code: The block's text (without the fences).
        skip: The opt-out reason, or ``None`` when the block runs.
        quick: The ``(old, new)`` text replacements of its quick form (empty: the quick
            form is the block as written).
        full_only: Why the block runs only as written, under ``make docs-test`` (``None``:
            it also runs, in its quick form, in ``make test``).
    """

    path: Path
    line: int
    lang: str
    code: str
    skip: str | None
    quick: tuple[tuple[str, str], ...] = ()
    full_only: str | None = None

    @property
    def kind(self) -> str:
        """``shell``, ``console``, ``python`` or ``text`` (never run)."""
        if self.lang == "console":
            return "console"
        if self.lang in SHELL_LANGS:
            return "shell"
        if self.lang in PYTHON_LANGS:
            return "python"
        return "text"

    def quick_code(self) -> str:
        """The block's text with its quick-form replacements applied."""
        code = self.code
        for old, new in self.quick:
            code = code.replace(old, new)
        return code

    @property
    def where(self) -> str:
        """``file:line`` of the opening fence."""
        return f"{self.path}:{self.line}"


def collect_blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown page, in page order.

    Args:
        path: The page.

    Returns:
        The blocks; a block under a skip marker (or in a skipped page) carries the reason.

    Raises:
        ValueError: An unclosed fence or a skip marker without a reason.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    page_skip = None
    for text in lines:
        m = _SKIP_PAGE.search(text)
        if m:
            page_skip = m.group("reason") or ""
            if not page_skip:
                raise ValueError(f"{path}: docs-test: skip-page needs a reason")
    blocks: list[Block] = []
    k = 0
    while k < len(lines):
        m = _FENCE.match(lines[k])
        if not m:
            k += 1
            continue
        fence, info = m.group("fence"), m.group("info").strip()
        start = k
        body: list[str] = []
        k += 1
        while k < len(lines) and not (lines[k].strip().startswith(fence[0] * len(fence))
                                      and not lines[k].strip().strip(fence[0])):
            body.append(lines[k])
            k += 1
        if k >= len(lines):
            raise ValueError(f"{path}:{start + 1}: unclosed code fence")
        k += 1
        skip = page_skip
        quick: tuple[tuple[str, str], ...] = ()
        full_only = None
        j = start - 1
        while j >= 0 and (not lines[j].strip() or _MARKER.match(lines[j])):
            sm, qm = _SKIP.search(lines[j]), _QUICK.search(lines[j])
            if _SKIP_PAGE.search(lines[j]):
                pass
            elif sm:
                if not sm.group("reason"):
                    raise ValueError(f"{path}:{j + 1}: docs-test: skip needs a reason")
                skip = sm.group("reason")
            elif qm:
                quick = parse_quick(qm.group("spec"), f"{path}:{j + 1}") + quick
            elif fm := _FULL_ONLY.search(lines[j]):
                if not fm.group("reason"):
                    raise ValueError(f"{path}:{j + 1}: docs-test: full-only needs a reason")
                full_only = fm.group("reason")
            elif lines[j].strip():
                raise ValueError(f"{path}:{j + 1}: unknown docs-test marker: {lines[j].strip()}")
            j -= 1
        lang = info.split()[0].lower() if info else ""
        indent = len(m.group("indent"))
        code = "\n".join(line[indent:] if line[:indent].isspace() else line for line in body)
        code += "\n"
        for old, _ in quick:
            if old not in code:
                raise ValueError(f"{path}:{start + 1}: docs-test: quick: {old!r} is not in "
                                 "the block")
        blocks.append(Block(path, start + 1, lang, code, skip, quick, full_only))
    return blocks


def parse_quick(spec: str, where: str) -> tuple[tuple[str, str], ...]:
    """The replacements of a ``docs-test: quick`` marker: ``"old" -> "new"; ...``.

    Args:
        spec: The marker's text after ``quick``.
        where: ``file:line`` of the marker, for the error message.

    Returns:
        The ``(old, new)`` pairs, in order.

    Raises:
        ValueError: The text is not a ``;``-separated list of ``"old" -> "new"`` pairs.
    """
    pairs: list[tuple[str, str]] = []
    pos = 0
    while pos < len(spec):
        m = _PAIR.match(spec, pos)
        if not m or m.end() == pos:
            raise ValueError(f'{where}: docs-test: quick: expected "old" -> "new" (pairs '
                             f"separated by ';'), got {spec[pos:]!r}")
        pairs.append((m.group("old"), m.group("new")))
        pos = m.end()
    if not pairs:
        raise ValueError(f'{where}: docs-test: quick: expected "old" -> "new", got nothing')
    return tuple(pairs)


def command_lines(block: Block, *, quick: bool = False) -> str:
    """The shell text to run for a shell or console block.

    A ``console`` block runs its ``$ `` lines (with ``\\`` continuations); a shell block runs
    as written.

    Args:
        block: A block of kind ``shell`` or ``console``.
        quick: Apply the block's quick-form replacements first.

    Returns:
        The script text.
    """
    code = block.quick_code() if quick else block.code
    if block.kind != "console":
        return code
    out: list[str] = []
    cont = False
    for line in code.splitlines():
        if line.startswith("$ "):
            out.append(line[2:])
            cont = line.rstrip().endswith("\\")
        elif cont:
            out.append(line)
            cont = line.rstrip().endswith("\\")
    return "\n".join(out) + "\n"
