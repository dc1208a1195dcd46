"""Constraint operators: how a resolved left-operand value is compared with a right operand.

The right operand is coerced to the kind of the left value: a dateTime (``xsd:date`` means midnight UTC),
an ISO 8601 duration for ``elapsedTime``, a decimal number, a boolean or text. Text is compared exactly
(after the operand's normaliser, e.g. country codes are upper-cased) and has no order. Set operators treat a
single value as a one-element set: ``hasPart`` (left contains all right values), ``isPartOf`` (every left
value is among the right values; an empty left never is), ``isAllOf`` (left and right are the same set),
``isAnyOf`` (they share a value), ``isNoneOf`` (they share none) and ``isA`` (the left value is one of the
right values; there is no class hierarchy). A comparison that makes no sense (``"abc" gt 5``) is *unknown*.
"""

from __future__ import annotations

import enum
import operator as op
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from allmende.clock import isoformat, parse_datetime
from allmende.policy.durations import Duration, parse_duration
from allmende.policy.model import Constraint
from allmende.policy.operands import ElapsedTime, ResolvedOperand


class Truth(enum.Enum):
    """Three-valued outcome: a constraint is satisfied, not satisfied, or cannot be decided (unknown)."""

    SATISFIED = "satisfied"
    NOT_SATISFIED = "not satisfied"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ConstraintOutcome:
    """The truth of one constraint with a plain-English reason."""

    truth: Truth
    reason: str


class ComparisonError(Exception):
    """The two operands cannot be compared; the message says why."""


_ORDER: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "eq": op.eq, "neq": op.ne, "gt": op.gt, "gteq": op.ge, "lt": op.lt, "lteq": op.le,
}  # fmt: skip


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                parsed = date.fromisoformat(text)
                return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
            return parse_datetime(text)
        except ValueError as exc:
            raise ComparisonError(f"{value!r} is not a date or dateTime") from exc
    raise ComparisonError(f"{value!r} is not a date or dateTime")


def _as_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ComparisonError(f"{value!r} is a boolean, not a number")
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation as exc:
            raise ComparisonError(f"{value!r} is not a number") from exc
    raise ComparisonError(f"{value!r} is not a number")


def _as_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ComparisonError(f"{value!r} is not a boolean")


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    raise ComparisonError(f"{value!r} is not text")


def _scalar_coercer(left: object) -> Callable[[object], object]:
    """How to read right-operand values so that they compare with this left value."""
    if isinstance(left, datetime | date):
        return _as_datetime
    if isinstance(left, ElapsedTime):
        return _as_duration
    if isinstance(left, bool):
        return _as_bool
    if isinstance(left, int | float | Decimal):
        return _as_decimal
    if isinstance(left, str):
        return _as_text
    raise ComparisonError(f"values of type {type(left).__name__} cannot be compared")


def _as_duration(value: object) -> Duration:
    try:
        return parse_duration(_as_text(value))
    except ValueError as exc:
        raise ComparisonError(str(exc)) from exc


def _items(value: object) -> tuple[object, ...]:
    if isinstance(value, tuple | list | set | frozenset):
        return tuple(value)
    return (value,)


def describe_value(value: object) -> str:
    """A short human-readable rendering of an operand value for reasons."""
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, ElapsedTime):
        return f"{value.span} since {isoformat(value.start)}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple | list | set | frozenset):
        return "[" + ", ".join(describe_value(item) for item in sorted(value, key=str)) + "]"
    return str(value)


class _Comparison:
    """One constraint compared against one resolved value."""

    def __init__(self, constraint: Constraint, resolved: ResolvedOperand) -> None:
        definition = resolved.definition
        self.constraint = constraint
        self.normalise: Callable[[object], object] = (
            definition.normalise if definition and definition.normalise else lambda value: value
        )
        self.expand = definition.expand if definition else None
        self.set_valued = bool(definition and definition.set_valued)
        self.left_items = tuple(self.normalise(item) for item in _items(resolved.value))
        if not self.left_items:
            self.coerce: Callable[[object], object] = lambda value: value
        else:
            self.coerce = _scalar_coercer(self.left_items[0])
        self.right_items = tuple(self._right(item) for item in _items(constraint.right_operand))

    def _right(self, item: object) -> object:
        try:
            return self.normalise(self.coerce(self.normalise(item)))
        except ComparisonError as exc:
            left = describe_value(self.left_items[0])
            raise ComparisonError(f"{left} cannot be compared with {describe_value(item)} ({exc})") from exc

    def expanded_right(self) -> frozenset[object]:
        if self.expand is None:
            return frozenset(self.right_items)
        return frozenset().union(*(self.expand(item) for item in self.right_items))

    def decide(self) -> bool:
        name = self.constraint.operator
        if name in _ORDER:
            return self._ordered(name)
        left = frozenset(self._hashable(self.left_items))
        if name == "hasPart":
            return left >= frozenset(self._hashable(self.right_items))
        if name == "isAllOf":
            return left == frozenset(self._hashable(self.right_items))
        right = self.expanded_right()
        if name == "isPartOf":
            return bool(left) and left <= right
        if name == "isAnyOf":
            return bool(left & right)
        if name == "isNoneOf":
            return not left & right
        if name == "isA":
            return len(self.left_items) == 1 and left <= right
        raise ComparisonError(f"operator {name!r} is not supported")

    def _hashable(self, values: Iterable[object]) -> Iterable[object]:
        for value in values:
            if isinstance(value, ElapsedTime | Duration):
                raise ComparisonError("durations cannot be used with set operators")
            yield value

    def _ordered(self, name: str) -> bool:
        if self.set_valued and name in ("eq", "neq"):
            if len(self.right_items) != 1:
                raise ComparisonError(f"operator {name} needs a single right operand; use isAnyOf for a list")
            member = self.right_items[0] in frozenset(self._hashable(self.left_items))
            return member if name == "eq" else not member
        if len(self.left_items) != 1:
            if name in ("eq", "neq"):
                left_set = frozenset(self._hashable(self.left_items))
                same = left_set == frozenset(self._hashable(self.right_items))
                return same if name == "eq" else not same
            raise ComparisonError(f"a set of values has no order for operator {name}")
        if len(self.right_items) != 1:
            raise ComparisonError(f"operator {name} needs a single right operand; use isAnyOf for a list")
        right = self.right_items[0]
        left = self.left_items[0]
        if isinstance(left, ElapsedTime):
            if not isinstance(right, Duration):
                raise ComparisonError(f"{right!r} is not a duration")
            right = right.end_after(left.start)
            left = left.now
        elif isinstance(left, int | float | Decimal) and not isinstance(left, bool):
            left = _as_decimal(left)
        elif isinstance(left, str | bool) and name not in ("eq", "neq"):
            raise ComparisonError(f"{describe_value(left)} has no order, so {name} cannot apply")
        return _ORDER[name](left, right)


def compare(constraint: Constraint, resolved: ResolvedOperand) -> ConstraintOutcome:
    """Decide one atomic constraint for a resolved left operand; never raises."""
    right = describe_value(constraint.right_operand)
    shown = f"constraint {constraint.left_operand} {constraint.operator} {right}"
    if resolved.reason is not None or resolved.value is None:
        return ConstraintOutcome(Truth.UNKNOWN, f"{shown} cannot be decided: {resolved.reason}")
    try:
        met = _Comparison(constraint, resolved).decide()
    except (ComparisonError, TypeError, ValueError, ArithmeticError) as exc:
        return ConstraintOutcome(Truth.UNKNOWN, f"{shown} cannot be decided: {exc}")
    actual = f"{constraint.left_operand} is {describe_value(resolved.value)}"
    if met:
        return ConstraintOutcome(Truth.SATISFIED, f"{shown} met: {actual}")
    return ConstraintOutcome(Truth.NOT_SATISFIED, f"{shown} not met: {actual}")
