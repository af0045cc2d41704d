"""Introspection of the scenario models, shared by the loader's messages and the docs.

Pydantic annotations are unions, ``Annotated`` wrappers, tuples and section models; the loader
needs to know which model sits behind a key path (to suggest keys and to name ranges) and the
docs generator walks the same structure to document every field. Both use these helpers, and
both show values the way a scenario author writes them in YAML (:func:`yaml_repr`).
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from simulator.config.fields import RangeBase

__all__ = ["is_range", "item_of", "model_of", "union_args", "yaml_repr"]


def model_of(ann: Any) -> type[BaseModel] | None:
    """The section model behind an annotation (None for values, Ranges and lists)."""
    for arg in union_args(ann):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and not issubclass(
                arg, RangeBase):
            return arg
    return None


def is_range(ann: Any) -> bool:
    return any(isinstance(a, type) and issubclass(a, RangeBase) for a in union_args(ann))


def item_of(ann: Any) -> Any:
    """Element annotation of a list-valued field (None if the field is not a list)."""
    for arg in union_args(ann):
        if typing.get_origin(arg) is tuple:
            args = typing.get_args(arg)
            return args[0] if len(args) == 2 and args[1] is Ellipsis else typing.Any
    return None


def union_args(ann: Any) -> tuple[Any, ...]:
    """The non-null members of an (optional) annotation, Annotated wrappers removed."""
    def bare(a: Any) -> Any:
        return typing.get_args(a)[0] if typing.get_origin(a) is typing.Annotated else a

    ann = bare(ann)
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return tuple(bare(a) for a in typing.get_args(ann) if a is not type(None))
    return (ann,)


def yaml_repr(value: Any) -> str:
    """A value as the author would write it in YAML (short)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        text = "[" + ", ".join(yaml_repr(v) for v in value) + "]"
        return text if len(text) <= 60 else f"a list of {len(value)} items"
    return str(value)
