"""Building blocks of the scenario models: the frozen base model, Range values, list fields.

Many parameters of the pricing game are not one number but a distribution over entities:
paper Table II gives each RSU's cost, price cap, transmit power and noise, and each UAV's
immersion weight, SSIM threshold and budget as intervals from which every entity draws its own
value uniformly. A :class:`Range` captures that: in YAML it is a number (every entity gets that
value) or a 2-list ``[lo, hi]`` (uniform draw per entity); in Python it exposes ``.lo`` and
``.hi``. Bounded variants (``PositiveRange``, ``UnitRange``, ...) check both ends.

Scenario models are frozen and forbid unknown keys; list-valued fields are stored as tuples
(``TupleOf[...]`` accepts the YAML list and freezes it), so nothing inside a scenario mutates.
Validators raise :func:`field_error` to report a cross-field problem at a precise sub-key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "FrozenModel",
    "Range",
    "IntRange",
    "RangeBounds",
    "PositiveRange",
    "NonNegRange",
    "UnitRange",
    "PositiveIntRange",
    "TupleOf",
    "field_error",
    "fmt_number",
    "range_default",
    "FIELD_ERROR_TYPE",
]

FIELD_ERROR_TYPE = "scenario_field"


class FrozenModel(BaseModel):
    """Base of every scenario model: immutable, strict types, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False,
                              defer_build=True)


def field_error(loc: tuple[str | int, ...], message: str,
                related: tuple[tuple[str | int, ...], ...] = ()) -> PydanticCustomError:
    """An error for a validator to raise, located at ``loc`` below the validated model.

    Args:
        loc: key path relative to the model being validated, e.g. ``("edges", 2, "a")``.
        message: what is wrong, with the offending value.
        related: other key paths (same base) whose values take part in the rule; the loader
            blames a ``--set`` of one of them, or points at it when ``loc`` is not in the file.

    Returns:
        The error (raise it).
    """
    return PydanticCustomError(FIELD_ERROR_TYPE, "{message}",
                               {"message": message, "loc": loc, "related": related})


def fmt_number(x: float) -> str:
    """Format a number compactly, as an author would write it (300, not 300.0)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


class RangeBase(FrozenModel):
    """Shared parsing and checks of the number-or-[lo, hi] syntax."""

    lo: float
    hi: float

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if isinstance(data, bool):
            raise ValueError(f"expected a number or a list [lo, hi], got {str(data).lower()}")
        if isinstance(data, int | float):
            return {"lo": data, "hi": data}
        if isinstance(data, list | tuple):
            if len(data) != 2:
                raise ValueError(f"expected a number or a list [lo, hi], got a list of "
                                 f"{len(data)} items")
            return {"lo": data[0], "hi": data[1]}
        if isinstance(data, dict | RangeBase):
            return data
        raise ValueError(f"expected a number or a list [lo, hi], got {data!r}")

    @model_validator(mode="after")
    def _ordered(self) -> RangeBase:
        if self.lo > self.hi:
            raise ValueError(f"expected lo <= hi, got {self}")
        return self

    @model_serializer
    def _to_yaml(self) -> Any:
        return self.lo if self.lo == self.hi else [self.lo, self.hi]

    def __str__(self) -> str:
        if self.lo == self.hi:
            return fmt_number(self.lo)
        return f"[{fmt_number(self.lo)}, {fmt_number(self.hi)}]"

    @property
    def fixed(self) -> bool:
        """Whether every entity gets the same value (lo == hi)."""
        return self.lo == self.hi

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        return _range_schema(cls, RangeBounds())


class Range(RangeBase):
    """A real parameter drawn uniformly per entity from [lo, hi] (a number fixes it)."""

    lo: float = Field(description="Lower end.")
    hi: float = Field(description="Upper end.")

    def draw(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Uniform draws in [lo, hi].

        Args:
            rng: the subsystem's generator.
            size: output shape (e.g. the number of RSUs).

        Returns:
            float array of that shape (all equal to lo when the range is fixed).
        """
        return rng.uniform(self.lo, self.hi, size)


class IntRange(RangeBase):
    """An integer parameter drawn uniformly from {lo, ..., hi} (a number fixes it)."""

    lo: int = Field(description="Lower end (inclusive).")
    hi: int = Field(description="Upper end (inclusive).")

    def draw(self, rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
        """Uniform integer draws in {lo, ..., hi}.

        Args:
            rng: the subsystem's generator.
            size: output shape.

        Returns:
            int64 array of that shape.
        """
        return rng.integers(self.lo, self.hi, size, endpoint=True)


@dataclass(frozen=True)
class RangeBounds:
    """Bounds both ends of a Range must satisfy (None = unbounded); an AfterValidator."""

    gt: float | None = None
    ge: float | None = None
    le: float | None = None

    def __call__(self, value: RangeBase) -> RangeBase:
        for end in (value.lo, value.hi):
            for op, bound, ok in (("> ", self.gt, lambda e, b: e > b),
                                  (">= ", self.ge, lambda e, b: e >= b),
                                  ("<= ", self.le, lambda e, b: e <= b)):
                if bound is not None and not ok(end, bound):
                    where = "" if value.fixed else "both ends "
                    raise ValueError(f"{where}must be {op}{fmt_number(bound)}, got {value}")
        return value

    def describe(self) -> str:
        """Human-readable bounds, e.g. '> 0' or '(0, 1]'."""
        if self.gt is not None and self.le is not None:
            return f"({fmt_number(self.gt)}, {fmt_number(self.le)}]"
        parts = [f"{op} {fmt_number(b)}" for op, b in ((">", self.gt), (">=", self.ge),
                                                       ("<=", self.le)) if b is not None]
        return ", ".join(parts)


def _range_schema(kind: type[RangeBase], bounds: RangeBounds) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "integer" if kind is IntRange else "number"}
    if bounds.gt is not None:
        item["exclusiveMinimum"] = bounds.gt
    if bounds.ge is not None:
        item["minimum"] = bounds.ge
    if bounds.le is not None:
        item["maximum"] = bounds.le
    return {"anyOf": [item, {"type": "array", "items": item, "minItems": 2, "maxItems": 2,
                             "description": "[lo, hi], lo <= hi: drawn uniformly per entity"}]}


def _bounded(kind: type[RangeBase], bounds: RangeBounds) -> Any:
    return Annotated[kind, AfterValidator(bounds), WithJsonSchema(_range_schema(kind, bounds))]


PositiveRange = _bounded(Range, RangeBounds(gt=0))
NonNegRange = _bounded(Range, RangeBounds(ge=0))
UnitRange = _bounded(Range, RangeBounds(gt=0, le=1))
PositiveIntRange = _bounded(IntRange, RangeBounds(ge=1))


def range_default(lo: float, hi: float, description: str,
                  kind: type[RangeBase] = Range) -> Any:
    """A pydantic Field for a Range with default [lo, hi] and the given description."""
    return Field(default=kind(lo=lo, hi=hi), description=description)


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class TupleOf:
    """``TupleOf[X, ...]``: a tuple field that accepts a YAML list (stored frozen)."""

    def __class_getitem__(cls, params: Any) -> Any:
        params = params if isinstance(params, tuple) else (params,)
        return Annotated[tuple[params], BeforeValidator(_as_tuple)]
