"""Collect the runnable code blocks of the Markdown documentation (README.md, docs/*.md).

A fenced block is *runnable* when its info string starts with ``sh``, ``bash``, ``shell``
(a script: every line runs, ``set -e``), ``console`` (only the ``$ `` lines run, the rest is
shown output) or ``python`` / ``py`` (a snippet; the snippets of one page share one
namespace, in page order, like a notebook). Any other language (``yaml``, ``json``,
``text``, ``toml``...) is shown, never run.

A page opts a block out with an HTML comment on the line right above the fence (blank lines
between are allowed)::

    <!-- docs-test: skip (reason the block cannot run in the test) -->

The reason is required. Pages opt out whole files with ``<!-- docs-test: skip-page (reason)
-->`` anywhere in the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COMMAND_LIKE", "PYTHON_LANGS", "SHELL_LANGS", "Block", "collect_blocks",
           "command_lines"]

SHELL_LANGS = frozenset({"sh", "bash", "shell", "console"})
PYTHON_LANGS = frozenset({"python", "py", "python3"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*(?P<reason>.*?)\s*-->")
_SKIP_PAGE = re.compile(r"<!--\s*docs-test:\s*skip-page\s*(?P<reason>.*?)\s*-->")
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
    """

    path: Path
    line: int
    lang: str
    code: str
    skip: str | None

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
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0:
            sm = _SKIP.search(lines[j])
            if sm:
                if not sm.group("reason"):
                    raise ValueError(f"{path}:{j + 1}: docs-test: skip needs a reason")
                skip = sm.group("reason")
        lang = info.split()[0].lower() if info else ""
        indent = len(m.group("indent"))
        code = "\n".join(line[indent:] if line[:indent].isspace() else line for line in body)
        blocks.append(Block(path, start + 1, lang, code + "\n", skip))
    return blocks


def command_lines(block: Block) -> str:
    """The shell text to run for a shell or console block.

    A ``console`` block runs its ``$ `` lines (with ``\\`` continuations); a shell block runs
    as written.

    Args:
        block: A block of kind ``shell`` or ``console``.

    Returns:
        The script text.
    """
    if block.kind != "console":
        return block.code
    out: list[str] = []
    cont = False
    for line in block.code.splitlines():
        if line.startswith("$ "):
            out.append(line[2:])
            cont = line.rstrip().endswith("\\")
        elif cont:
            out.append(line)
            cont = line.rstrip().endswith("\\")
    return "\n".join(out) + "\n"
