"""Reading YAML that people (or attackers) wrote: bounded, strict, with line numbers.

Scenario and sweep files are YAML read with ``yaml.safe_load`` semantics (no tags execute),
but "safe" in PyYAML's sense still lets a 700-byte file ask for unbounded work:

* *alias bombs* ("billion laughs"): ``&a [x, x]``, ``&b [*a, *a]``, ... are shared in
  memory but expand exponentially for anything that walks the tree (the key -> line map,
  validation, ``to_yaml``). Here every alias is counted while composing, and the size of the
  document *as expanded* is computed on the node graph (memoised, so linear in the file)
  before anything walks it; beyond :data:`MAX_EXPANDED_NODES` nodes the file is refused;
* *deep nesting* (``[[[[...]]]]`` 5,000 deep) overflows PyYAML's recursive composer; the
  depth is tracked while composing and refused beyond :data:`MAX_DEPTH`;
* *encodings*: a UTF-16 file, a Latin-1 file or a binary one is named with the byte offset
  of the first bad byte instead of a ``UnicodeDecodeError``;
* *duplicate keys* at any level are errors naming both lines (PyYAML silently keeps the
  last one).

Every problem is one :class:`~simulator.errors.UavtwinError` line ``file:line: message``.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import UavtwinError

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_EXPANDED_NODES", "MAX_FILE_BYTES", "Loc",
           "decode_yaml", "parse_yaml", "read_yaml", "read_yaml_text"]

Loc = tuple[str | int, ...]

MAX_FILE_BYTES = 16 * 2**20
"""Largest YAML file read (bytes); scenario and sweep files are a few kB."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted."""
MAX_ALIASES = 10_000
"""Most alias references (``*name``) accepted in one document."""
MAX_EXPANDED_NODES = 200_000
"""Most nodes the document may have once every alias is expanded."""

_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))

ErrorType = Callable[[str], UavtwinError]


def read_yaml_text(path: str | Path, what: str, error: ErrorType) -> str:
    """The text of a YAML file, refused if unreadable, too large or not UTF-8 text.

    Args:
        path: the file.
        what: what the file is, for messages ("scenario", "sweep file").
        error: the exception type raised (one line ``file: message``).

    Returns:
        The decoded text (a UTF-8 byte-order mark removed).

    Raises:
        UavtwinError: (of type ``error``) as described.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise error(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise error(f"{path}: {what} is larger than {MAX_FILE_BYTES // 2**20} MiB; "
                    "is it the right file?")
    return decode_yaml(raw, str(path), what, error)


def read_yaml(path: str | Path, what: str, error: ErrorType,
              ) -> tuple[Any, dict[Loc, int]]:
    """Read a YAML file into plain data and a map "key path -> 1-based line".

    Args:
        path: the file.
        what: what the file is, for messages ("scenario", "sweep file").
        error: the exception type raised (one line ``file[:line]: message``).

    Returns:
        ``(data, lines)``; ``data`` is None for an empty document.

    Raises:
        UavtwinError: (of type ``error``) unreadable, too large, not UTF-8 text, not YAML, too
            deep, alias bomb or duplicate key.
    """
    return parse_yaml(read_yaml_text(path, what, error), str(Path(path)), error)


def decode_yaml(raw: bytes, source: str, what: str, error: ErrorType) -> str:
    """UTF-8 text of a YAML file (a UTF-8 byte-order mark is allowed and dropped).

    Raises:
        UavtwinError: (of type ``error``) naming the byte offset of the first byte that is not
            UTF-8 text (a NUL byte means a binary file; a UTF-16/32 byte-order mark is named).
    """
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise error(f"{source}: {what} is {name} text (byte-order mark at byte 0); "
                        "save it as UTF-8")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    nul = raw.find(b"\x00")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if 0 <= nul < exc.start:
            exc.start = nul
        else:
            raise error(f"{source}: {what} is not UTF-8 text: byte 0x{raw[exc.start]:02x} at "
                        f"byte offset {exc.start} (line {_line_of(raw, exc.start)})") from None
    if nul >= 0:
        raise error(f"{source}: {what} is a binary file, not YAML text: NUL byte at byte "
                    f"offset {nul} (line {_line_of(raw, nul)})")
    return text


def _line_of(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases and bounds nesting while composing."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise _Refused(mark.line + 1, f"more than {MAX_ALIASES} aliases (*name)")
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _Refused(mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def parse_yaml(text: str, source: str, error: ErrorType) -> tuple[Any, dict[Loc, int]]:
    """Parse YAML text (safe_load semantics, bounded) and map key paths to lines.

    Args:
        text: the YAML text.
        source: name used in messages (a path, ``--set x=...``).
        error: the exception type raised.

    Returns:
        ``(data, lines)`` as for :func:`read_yaml`.

    Raises:
        UavtwinError: (of type ``error``) syntax error, too deep, alias bomb, duplicate key.
    """
    loader = None
    try:
        loader = _BoundedLoader(text)
        node = loader.get_single_node()
        lines: dict[Loc, int] = {(): 1}
        data = None
        if node is not None:
            _check_expansion(node)
            _walk(node, (), lines, source, error)  # before construction flattens merges
            data = loader.construct_document(node)
    except _Refused as exc:
        raise error(f"{source}:{exc.line}: {exc.message}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise error(f"{source}{line}: YAML syntax error: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:
        raise error(f"{source}: character #x{exc.character:04x} at character {exc.position} is not "
                    "allowed in YAML") from None
    except yaml.YAMLError as exc:
        raise error(f"{source}: YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:  # belt and braces: MAX_DEPTH keeps the composer far from it
        raise error(f"{source}: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, lines


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose alias-expanded size exceeds :data:`MAX_EXPANDED_NODES`."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # iterative post-order over the node DAG, each node once
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if done or not children:
            total = 1 + sum(sizes.get(id(c), 0) for c in children)
            sizes[id(node)] = total
            order.append(node)
            if total > MAX_EXPANDED_NODES:
                raise _Refused(node.start_mark.line + 1,
                               f"aliases expand this document to more than "
                               f"{MAX_EXPANDED_NODES} nodes (an alias bomb?)")
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], source: str,
          error: ErrorType) -> None:
    """Fill ``lines``; duplicate keys (at any level) are errors naming both lines."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                where = f"{_dotted(loc)}: " if loc else ""
                raise error(f"{source}:{line}: {where}duplicate key '{key_node.value}' "
                            f"(first at line {seen[key_node.value]})")
            seen[key_node.value] = line
            lines[loc + (key_node.value,)] = line
            _walk(value_node, loc + (key_node.value,), lines, source, error)
    elif isinstance(node, yaml.SequenceNode):
        for n, item in enumerate(node.value):
            lines[loc + (n,)] = item.start_mark.line + 1
            _walk(item, loc + (n,), lines, source, error)


def _dotted(loc: Loc) -> str:
    out = ""
    for seg in loc:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out
