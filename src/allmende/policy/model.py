"""The ODRL 2.2 policy model: immutable values, no I/O.

Term names (actions, left operands, operators) are stored in their short ODRL form: ``odrl:use`` and
``http://www.w3.org/ns/odrl/2/use`` both become ``use``. Terms of other vocabularies are kept verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeAlias, get_args

from allmende.policy.errors import PolicyError
from allmende.policy.vocabulary import OPERATORS, short_term

LogicalOperator: TypeAlias = Literal["and", "or", "xone", "andSequence"]
PolicyType: TypeAlias = Literal["Offer", "Agreement", "Set", "Policy"]
POLICY_TYPES: tuple[str, ...] = get_args(PolicyType)


def _freeze(value: object) -> object:
    """Lists become tuples so that every model value is hashable and immutable."""
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _term(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(what, f"must be a non-empty string, got {value!r}")
    return short_term(value)


@dataclass(frozen=True)
class Constraint:
    """An atomic constraint ``left_operand operator right_operand``, e.g. ``purpose eq "maintenance"``.

    ``right_operand`` is a string, number, boolean or a tuple of those (lists are converted to tuples).
    ``data_type`` keeps an explicit ``@type`` of the right operand (e.g. ``xsd:dateTime``).
    """

    left_operand: str
    operator: str
    right_operand: object
    unit: str | None = None
    data_type: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "left_operand", _term(self.left_operand, "leftOperand"))
        operator = _term(self.operator, "operator")
        if operator not in OPERATORS:
            expected = ", ".join(sorted(OPERATORS))
            raise PolicyError("operator", f"unknown operator {self.operator!r}; expected one of {expected}")
        object.__setattr__(self, "operator", operator)
        object.__setattr__(self, "right_operand", _freeze(self.right_operand))
        if self.right_operand is None or isinstance(self.right_operand, dict):
            got = repr(self.right_operand)
            raise PolicyError("rightOperand", f"must be a value or a list of values, got {got}")


@dataclass(frozen=True)
class LogicalConstraint:
    """A logical combination of constraints: ``and``, ``or``, ``xone`` (exactly one) or ``andSequence``."""

    operator: LogicalOperator
    constraints: tuple[ConstraintNode, ...]

    def __post_init__(self) -> None:
        if self.operator not in ("and", "or", "xone", "andSequence"):
            raise PolicyError("operator", f"unknown logical operator {self.operator!r}")
        object.__setattr__(self, "constraints", tuple(self.constraints))
        if not self.constraints:
            raise PolicyError(self.operator, "a logical constraint needs at least one constraint")


ConstraintNode: TypeAlias = Constraint | LogicalConstraint


@dataclass(frozen=True)
class Duty:
    """An obligation to perform ``action`` (e.g. ``delete``), optionally constrained (e.g. when it is due).

    ``consequences`` are further duties that arise when this one is not fulfilled.
    """

    action: str
    constraints: tuple[ConstraintNode, ...] = ()
    consequences: tuple[Duty, ...] = ()
    target: str | None = None
    assignee: str | None = None
    assigner: str | None = None
    uid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", _term(self.action, "action"))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        object.__setattr__(self, "consequences", tuple(self.consequences))


@dataclass(frozen=True)
class Permission:
    """The assignee may perform ``action`` when all ``constraints`` hold, taking on ``duties``."""

    action: str
    constraints: tuple[ConstraintNode, ...] = ()
    duties: tuple[Duty, ...] = ()
    target: str | None = None
    assignee: str | None = None
    assigner: str | None = None
    uid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", _term(self.action, "action"))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        object.__setattr__(self, "duties", tuple(self.duties))


@dataclass(frozen=True)
class Prohibition:
    """The assignee must not perform ``action`` while all ``constraints`` hold; else ``remedies`` apply."""

    action: str
    constraints: tuple[ConstraintNode, ...] = ()
    remedies: tuple[Duty, ...] = ()
    target: str | None = None
    assignee: str | None = None
    assigner: str | None = None
    uid: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action", _term(self.action, "action"))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        object.__setattr__(self, "remedies", tuple(self.remedies))


Rule: TypeAlias = Permission | Prohibition | Duty


@dataclass(frozen=True)
class Policy:
    """An ODRL policy: an Offer (catalog), an Agreement (negotiated contract), a Set or a plain Policy.

    ``target``, ``assigner`` and ``assignee`` at policy level apply to every rule that does not name its own.
    ``timestamp`` is the DSP agreement timestamp (aware UTC), if any.
    """

    uid: str | None
    policy_type: PolicyType
    target: str | None
    assigner: str | None
    assignee: str | None
    permissions: tuple[Permission, ...] = ()
    prohibitions: tuple[Prohibition, ...] = ()
    obligations: tuple[Duty, ...] = ()
    profile: tuple[str, ...] = ()
    timestamp: datetime | None = field(default=None)

    def __post_init__(self) -> None:
        if self.policy_type not in POLICY_TYPES:
            expected = ", ".join(POLICY_TYPES)
            raise PolicyError("@type", f"unknown policy type {self.policy_type!r}; expected {expected}")
        if self.timestamp is not None and self.timestamp.tzinfo is None:
            raise PolicyError("timestamp", "must be timezone-aware")
        for name in ("permissions", "prohibitions", "obligations", "profile"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def target_of(self, rule: Rule) -> str | None:
        """The rule's own target, else the policy's."""
        return rule.target if rule.target is not None else self.target

    def assignee_of(self, rule: Rule) -> str | None:
        """The rule's own assignee, else the policy's."""
        return rule.assignee if rule.assignee is not None else self.assignee
