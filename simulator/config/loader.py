"""Loading scenario files: YAML with line numbers, ``--set`` overrides, one-line errors.

A scenario author edits a YAML file; when it is wrong they should be told exactly where, in one
line: ``scenarios/x.yaml:14: rsus.grid.spacing_m: must be > 0, got -5``. To get there the file
is parsed with PyYAML's safe loader (``yaml.safe_load`` semantics, bounded against alias
bombs, deep nesting, bad encodings and duplicate keys by :mod:`simulator.config.yaml_source`)
while keeping the node graph, from which a map "key path -> line" is built. ``--set
key.path=value`` overrides are applied to the raw data (each checked against the model's key
names) before validation into the frozen models of :mod:`simulator.config.models`.
Validation errors are translated into plain sentences located by that map (or by the
override that introduced the value). A valid scenario whose estimated memory exceeds the
limit is refused (:mod:`simulator.config.limits`).
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator.config.fields import FIELD_ERROR_TYPE
from simulator.config.introspect import is_range, item_of, model_of, union_args, yaml_repr
from simulator.config.limits import (
    MEMORY_ENV,
    blame,
    check_scenario_limits,
    format_bytes,
    max_memory_bytes,
)
from simulator.config.models import Scenario
from simulator.config.yaml_source import parse_yaml, read_yaml_text
from simulator.errors import ScenarioError

__all__ = ["load_scenario", "parse_scenario", "scenario_json_schema"]

Loc = tuple[str | int, ...]
_PATH_FIELDS: tuple[Loc, ...] = (("uavs", "mobility", "trace_file"),
                              ("uavs", "mobility", "file"), ("pricing", "checkpoint"))
_TYPE_NAMES = {
    "float_type": "a number", "int_type": "an integer", "bool_type": "true or false",
    "string_type": "a string", "model_type": "a mapping", "dict_type": "a mapping",
    "model_attributes_type": "a mapping", "tuple_type": "a list", "list_type": "a list",
    "finite_number": "a finite number",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<",
           "less_than_equal": "<="}


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, override and validate a scenario file.

    Args:
        path: the YAML file. Relative paths inside it (mobility file, checkpoint) are resolved
            against its directory; ``simulation.name`` defaults to its stem.
        overrides: ``key.path=value`` strings (value parsed as YAML), applied in order.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: unreadable file, not UTF-8 text, YAML syntax error, alias bomb, too
            deep, duplicate key, bad override, invalid value or a run too large for the
            memory limit, as one line ``file:line: key.path: message`` (``(+N more)`` if
            there are several; the error's ``all_errors`` lists every one).
    """
    path = Path(path)
    text = read_yaml_text(path, "scenario", ScenarioError)
    return parse_scenario(text, source=str(path), overrides=overrides, base_dir=path.parent)


def parse_scenario(text: str, source: str = "<string>", overrides: Sequence[str] = (), *,
                   base_dir: str | Path | None = None) -> Scenario:
    """Validate scenario YAML text (see :func:`load_scenario`).

    Args:
        text: YAML text (empty = every default).
        source: name used in error messages; its stem is the default ``simulation.name``
            (``scenario`` when it is ``<...>``).
        overrides: ``key.path=value`` strings applied before validation.
        base_dir: directory that relative mobility file/checkpoint paths are resolved against
            (made absolute); None leaves them as written.

    Returns:
        The validated, frozen scenario.

    Raises:
        ScenarioError: as for :func:`load_scenario`.
    """
    data, lines = _compose(text, source)
    set_paths = [(_apply_override(data, item), item) for item in overrides]
    sim = data.get("simulation")
    if sim is None:
        sim = data["simulation"] = {}
    if isinstance(sim, dict) and "name" not in sim:
        stem = "scenario" if source.startswith("<") else Path(source).stem
        sim["name"] = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem) or "scenario"
    if base_dir is not None:
        _resolve_paths(data, Path(base_dir))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        found = sorted((_locate(loc, shown, related, lines, set_paths, source), n, msg)
                       for n, (loc, shown, msg, related) in enumerate(_explain_all(exc.errors())))
        (_, where), _, msg = found[0]
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        raise ScenarioError(f"{where}: {msg}{more}",
                            all_errors=[f"{w}: {m}" for (_, w), _, m in found]) from None
    _check_limits(scenario, lines, set_paths, source)
    return scenario


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a scenario file, with every field's description.

    Returns:
        The schema as a JSON-ready dict (committed as scenarios/schema.json).
    """
    schema = _strip_titles(Scenario.model_json_schema())
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "uavtwin scenario", **schema}


# --- YAML with line numbers -----------------------------------------------------------------

def _compose(text: str, source: str) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Parse YAML (bounded safe_load semantics) and map every key path to its 1-based line."""
    data, lines = parse_yaml(text, source, ScenarioError)
    if data is None:
        return {}, {(): 1}
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: expected a mapping of sections, got {yaml_repr(data)}")
    return data, lines


def _check_limits(scenario: Scenario, lines: dict[Loc, int], set_paths: list[tuple[Loc, str]],
                  source: str) -> None:
    """Refuse a scenario whose estimated memory exceeds the limit (see config.limits)."""
    try:
        limit = max_memory_bytes()
    except ValueError as err:
        raise ScenarioError(str(err)) from None
    over = check_scenario_limits(scenario, limit)
    if over is None:
        return
    need, total = over
    key = blame(scenario, need)
    _, where = _locate(key, key, (), lines, set_paths, source)
    raise ScenarioError(
        f"{where}: the run would need about {format_bytes(total)} of memory, more than the "
        f"limit {format_bytes(limit)} ({need.count:.3g} {need.what}, {need.formula}, alone "
        f"take {format_bytes(need.bytes)}); reduce it, or raise the limit with "
        f"--max-memory SIZE (or {MEMORY_ENV})")


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for loc in _PATH_FIELDS:
        parent: Any = data
        for key in loc[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        value = parent.get(loc[-1]) if isinstance(parent, dict) else None
        if isinstance(value, str) and value and not Path(value).is_absolute():
            parent[loc[-1]] = str((base / value).resolve())


# --- --set overrides ------------------------------------------------------------------------

_SEGMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)")


def _apply_override(data: dict[str, Any], item: str) -> Loc:
    """Apply one ``key.path=value`` to the raw data; return the key path it set."""
    def fail(message: str) -> ScenarioError:
        return ScenarioError(f"--set {item}: {message}")

    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise fail("expected key.path=value")
    loc: list[str | int] = []
    for part in key.strip().split("."):
        match = _SEGMENT.fullmatch(part)
        if match is None:
            raise fail(f"bad key path segment '{part}' (expected name or name[index])")
        loc.append(match.group(1))
        loc.extend(int(i) for i in re.findall(r"\d+", match.group(2)))
    try:
        value, _ = parse_yaml(raw, "value", ScenarioError)
    except ScenarioError as exc:
        why = re.sub(r"^value(:\d+)?: (YAML syntax error: )?", "", str(exc))
        raise fail(f"cannot parse value as YAML: {why}") from None
    node: Any = data
    ann: Any = Scenario
    for n, seg in enumerate(loc):
        here = _dotted(tuple(loc[:n]))
        if isinstance(seg, str):
            model = model_of(ann)
            if model is None:
                raise fail(f"{here} is a value, not a section: cannot set '{seg}' in it")
            if seg not in model.model_fields:
                raise fail(f"unknown key '{seg}'{_suggest(seg, list(model.model_fields))}")
            ann = model.model_fields[seg].annotation
        else:
            item_ann = item_of(ann)
            if item_ann is None or not isinstance(node, list):
                raise fail(f"{here} is not a list: cannot index it with [{seg}]")
            if seg >= len(node):
                raise fail(f"index [{seg}] out of range: {here} has {len(node)} items")
            ann = item_ann
        if n == len(loc) - 1:
            node[seg] = value
        else:
            if isinstance(seg, str) and node.get(seg) is None:
                node[seg] = [] if isinstance(loc[n + 1], int) else {}
            node = node[seg]
            if not isinstance(node, dict | list):
                raise fail(f"{_dotted(tuple(loc[:n + 1]))} is {yaml_repr(node)} in the file, "
                           "not a section")
    return tuple(loc)


def _field_at(loc: Loc) -> Any:
    """Annotation of the field at a key path (None if the path leaves the models)."""
    ann: Any = Scenario
    for seg in loc:
        if isinstance(seg, int):
            ann = item_of(ann)
        else:
            model = model_of(ann)
            field = model.model_fields.get(seg) if model else None
            ann = field.annotation if field else None
        if ann is None:
            return None
    return ann


# --- error messages -------------------------------------------------------------------------

def _explain_all(errors: Sequence[Any]) -> list[tuple[Loc, Loc, str, tuple[Loc, ...]]]:
    """Every pydantic error explained, less those that only echo another one.

    * ``too_short`` on a list whose items failed: pydantic counts only the items that
      validated, so a list of one bad item reads "expected at least 1 items, got 0"; the
      items' own errors say what is wrong.
    * ``missing`` beside an unknown key of the same mapping (a misspelt key): the unknown key
      is the error, named with its own line; the missing keys it does not already suggest
      are added to its message.
    """
    locs = [tuple(e["loc"]) for e in errors]
    unknown: dict[Loc, list[int]] = {}
    for n, e in enumerate(errors):
        if e["type"] == "extra_forbidden":
            unknown.setdefault(locs[n][:-1], []).append(n)
    dropped: set[int] = set()
    missing: dict[int, list[str]] = {}
    for n, e in enumerate(errors):
        loc = locs[n]
        if e["type"] == "too_short" and any(o[:len(loc)] == loc and len(o) > len(loc)
                                             for o in locs):
            dropped.add(n)
        elif e["type"] == "missing" and loc[:-1] in unknown:
            dropped.add(n)
            siblings = unknown[loc[:-1]]
            model = model_of(_field_at(loc[:-1]))
            names = list(model.model_fields) if model else []
            if not any(_suggest(str(locs[u][-1]), names) == f" (did you mean '{loc[-1]}'?)"
                       for u in siblings):
                missing.setdefault(siblings[0], []).append(str(loc[-1]))
    out = []
    for n, e in enumerate(errors):
        if n in dropped:
            continue
        loc, shown, msg, related = _explain(e)
        if n in missing:
            keys = ", ".join(f"'{k}'" for k in missing[n])
            msg += f"; missing required key{'s' if len(missing[n]) > 1 else ''} {keys}"
        out.append((loc, shown, msg, related))
    return out


def _explain(err: Any) -> tuple[Loc, Loc, str, tuple[Loc, ...]]:
    """(key path, key path shown, message, related key paths) of one pydantic error."""
    if err["type"] == FIELD_ERROR_TYPE:
        ctx, base = err["ctx"], tuple(err["loc"])
        related = tuple(base + tuple(r) for r in ctx.get("related", ()))
        return base + tuple(ctx["loc"]), base + tuple(ctx["loc"]), ctx["message"], related
    return (*_explain_type(err), ())


def _explain_type(err: Any) -> tuple[Loc, Loc, str]:
    """(key path, key path shown, message) of a pydantic type/constraint error."""
    kind, loc, given, ctx = err["type"], tuple(err["loc"]), err.get("input"), err.get("ctx", {})
    if loc and loc[-1] in ("lo", "hi") and is_range(_field_at(loc[:-1])):
        loc = loc[:-1] + (0 if loc[-1] == "lo" else 1,)  # the YAML list's item
    if kind == "extra_forbidden":
        model = model_of(_field_at(loc[:-1]))
        names = list(model.model_fields) if model else []
        return loc, loc[:-1], f"unknown key '{loc[-1]}'{_suggest(str(loc[-1]), names)}"
    if kind == "missing":
        return loc, loc[:-1], f"missing required key '{loc[-1]}'"
    if kind in _BOUNDS:
        bound = next(iter(ctx.values()))
        return loc, loc, f"must be {_BOUNDS[kind]} {yaml_repr(bound)}, got {yaml_repr(given)}"
    if kind == "literal_error":
        choices = [str(a) for a in typing.get_args(union_args(_field_at(loc))[0])]
        hint = _suggest(str(given), choices) if isinstance(given, str) else ""
        return loc, loc, f"expected one of {', '.join(choices)}; got {yaml_repr(given)}{hint}"
    if kind in _TYPE_NAMES:
        return loc, loc, f"expected {_TYPE_NAMES[kind]}, got {yaml_repr(given)}"
    if kind in ("too_short", "too_long"):
        return loc, loc, (f"expected {'at least' if kind == 'too_short' else 'at most'} "
                     f"{ctx.get('min_length', ctx.get('max_length'))} items, "
                     f"got {ctx.get('actual_length')}")
    if kind == "string_too_short":
        return loc, loc, "must not be empty"
    if kind == "string_pattern_mismatch":
        return loc, loc, f"expected only letters, digits, '.', '_' or '-', got {yaml_repr(given)}"
    if kind == "value_error":
        return loc, loc, str(ctx.get("error", err["msg"]))
    return loc, loc, f"{err['msg'][:1].lower()}{err['msg'][1:]}, got {yaml_repr(given)}"


def _locate(loc: Loc, shown: Loc, related: tuple[Loc, ...], lines: dict[Loc, int],
            set_paths: list[tuple[Loc, str]], source: str) -> tuple[int, str]:
    """(sort key, 'where: key.path') of an error at ``loc`` displayed as ``shown``.

    Blame goes to the last ``--set`` that wrote in or under ``loc`` (or a related key), else to
    the line of ``loc`` in the file, else of a related key, else of the nearest enclosing key.
    """
    for probe in (loc, *related):
        for path, item in reversed(set_paths):
            if probe[:len(path)] == path or path[:len(probe)] == probe:
                rest = _dotted(shown) if shown != path else ""
                return -1, f"--set {item}" + (f": {rest}" if rest else "")
    probe = next((p for p in (loc, *related) if p in lines), loc)
    while probe and probe not in lines:
        probe = probe[:-1]
    line = lines.get(probe, 1)
    return line, f"{source}:{line}" + (f": {_dotted(shown)}" if shown else "")


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _dotted(loc: Loc) -> str:
    out = ""
    for seg in loc:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def _strip_titles(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {k: _strip_titles(v) for k, v in schema.items()
                if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_strip_titles(v) for v in schema]
    return schema
