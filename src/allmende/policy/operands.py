"""Left operands: the evaluation context and the pluggable registry that resolves operand values.

A resolver maps an ``EvaluationContext`` to the operand's current value, or ``None`` when the value is
not known (e.g. no purpose was declared). Built-in operands:

- ``dateTime``: ``ctx.now``.
- ``elapsedTime``: the time since ``ctx.agreement_start`` (zero when there is no agreement yet, i.e. at
  negotiation time); compared with ISO 8601 durations relative to the start, so ``P1M`` is a calendar month.
- ``purpose``: ``ctx.purpose``.
- ``assignee`` / ``party`` (alias): ``ctx.assignee``, the requesting party's DID.
- ``count``: ``ctx.use_count + 1``, the ordinal of the use being evaluated: ``count lteq 10`` allows the
  uses number 1 to 10, i.e. it holds while fewer than 10 uses were made before this one.
- ``spatial``: ``ctx.spatial``, an ISO 3166 country code; compared case-insensitively, IRIs are reduced
  to their last segment (``http://example.org/DE`` is ``DE``), and the regions ``EU`` and ``EEA`` stand for
  their member countries in the set operators (``isPartOf``, ``isAnyOf``, ``isNoneOf``, ``isA``).
- ``memberOf`` (IRI ``https://w3id.org/allmende/policy#memberOf``): ``ctx.party_collections``, the
  communities (directory DIDs) whose membership credentials the requester presented and this node
  verified. Set-valued: ``eq X`` holds when X is one of them, ``neq X`` when it is none, ``isAnyOf``
  when they share one.

Any other operand name is looked up in ``ctx.facts``; a name that is neither registered nor a fact is
unknown and makes its constraint unsatisfiable, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from allmende.policy.errors import PolicyError
from allmende.policy.vocabulary import short_term

_EU: Final = frozenset(
    {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
     "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
)  # fmt: skip
REGIONS: Final[Mapping[str, frozenset[str]]] = MappingProxyType({"EU": _EU, "EEA": _EU | {"IS", "LI", "NO"}})


@dataclass(frozen=True)
class EvaluationContext:
    """Everything the evaluator knows about one request to act on data.

    ``use_count`` is the number of uses completed before this request. ``party_collections`` and
    ``target_collections`` list the collections (e.g. a verified community membership, an asset
    collection) that the requesting party and the requested target belong to. ``target`` is the asset
    requested; ``None`` means the caller has already bound the policy to its asset. ``violated_duties``
    names duties (by uid or by action) known to be violated. ``facts`` supplies extra left-operand values by
    name for plug-in operands.
    """

    now: datetime
    assignee: str | None = None
    purpose: str | None = None
    agreement_start: datetime | None = None
    use_count: int = 0
    spatial: str | None = None
    action: str = "use"
    facts: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    target: str | None = None
    party_collections: frozenset[str] = frozenset()
    target_collections: frozenset[str] = frozenset()
    violated_duties: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("now", "agreement_start"):
            moment = getattr(self, name)
            if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
                raise PolicyError(name, f"must be a timezone-aware datetime, got {moment!r}")
        if isinstance(self.use_count, bool) or not isinstance(self.use_count, int) or self.use_count < 0:
            raise PolicyError("use_count", f"must be a non-negative integer, got {self.use_count!r}")
        object.__setattr__(self, "action", short_term(self.action))


@dataclass(frozen=True)
class ElapsedTime:
    """The value of ``elapsedTime``: the span from ``start`` to ``now``."""

    start: datetime
    now: datetime

    @property
    def span(self) -> timedelta:
        """The elapsed time as an exact time span."""
        return self.now - self.start


Resolver = Callable[[EvaluationContext], object | None]


@dataclass(frozen=True)
class OperandDefinition:
    """A registered left operand: its resolver, an optional normaliser applied to both sides before
    comparing, and an optional expansion of a right-operand value into a set (e.g. ``EU`` to countries)."""

    name: str
    resolver: Resolver
    normalise: Callable[[object], object] | None = None
    expand: Callable[[object], frozenset[object]] | None = None
    set_valued: bool = False


@dataclass(frozen=True)
class ResolvedOperand:
    """The outcome of resolving a left operand: a value, or ``None`` with the reason why not."""

    name: str
    value: object | None
    reason: str | None = None
    definition: OperandDefinition | None = None


class LeftOperandRegistry:
    """Maps left-operand names (short ODRL names or full IRIs of other vocabularies) to resolvers."""

    def __init__(self) -> None:
        self._definitions: dict[str, OperandDefinition] = {}

    def register(
        self,
        name: str,
        resolver: Resolver,
        *,
        normalise: Callable[[object], object] | None = None,
        expand: Callable[[object], frozenset[object]] | None = None,
        set_valued: bool = False,
    ) -> None:
        """Register (or replace) the resolver for ``name``.

        A ``set_valued`` operand's value is a set the requester belongs to: ``eq`` / ``neq`` then test
        whether the right value is (not) in it rather than whether the sets are equal.
        """
        if not isinstance(name, str) or not name.strip():
            raise PolicyError("leftOperand", f"an operand name must be a non-empty string, got {name!r}")
        if not callable(resolver):
            raise PolicyError(name, f"resolver must be callable, got {resolver!r}")
        key = short_term(name)
        self._definitions[key] = OperandDefinition(key, resolver, normalise, expand, set_valued)

    def names(self) -> frozenset[str]:
        """The registered operand names."""
        return frozenset(self._definitions)

    def copy(self) -> LeftOperandRegistry:
        """An independent registry with the same operands, to extend without touching this one."""
        clone = LeftOperandRegistry()
        clone._definitions.update(self._definitions)
        return clone

    def resolve(self, name: str, ctx: EvaluationContext) -> ResolvedOperand:
        """Resolve ``name`` against ``ctx``; never raises for unknown names or failing resolvers."""
        key = short_term(name)
        definition = self._definitions.get(key)
        if definition is None:
            if key in ctx.facts:
                return ResolvedOperand(key, ctx.facts[key])
            return ResolvedOperand(key, None, f"left operand '{key}' is not known to this node")
        try:
            value = definition.resolver(ctx)
        except Exception as exc:  # a plug-in failing must deny, not crash the request
            reason = f"left operand '{key}' could not be resolved: {exc}"
            return ResolvedOperand(key, None, reason, definition)
        if value is None:
            reason = f"no value for left operand '{key}' in this request"
            return ResolvedOperand(key, None, reason, definition)
        return ResolvedOperand(key, value, None, definition)


def country_code(value: object) -> object:
    """Reduce a country value to an upper-case code: ``de`` and ``http://example.org/DE`` give ``DE``."""
    if not isinstance(value, str):
        return value
    tail = value.strip()
    for separator in ("/", "#", ":"):
        tail = tail.rsplit(separator, 1)[-1]
    return tail.upper()


def expand_region(value: object) -> frozenset[object]:
    """A region code (``EU``, ``EEA``) stands for itself and its member countries; others for themselves."""
    code = country_code(value)
    if isinstance(code, str) and code in REGIONS:
        return frozenset({code, *REGIONS[code]})
    return frozenset({code})


def _elapsed(ctx: EvaluationContext) -> ElapsedTime:
    start = ctx.agreement_start if ctx.agreement_start is not None else ctx.now
    return ElapsedTime(start=start, now=ctx.now)


def default_registry() -> LeftOperandRegistry:
    """A fresh registry with the built-in operands (see the module docstring)."""
    registry = LeftOperandRegistry()
    registry.register("dateTime", lambda ctx: ctx.now)
    registry.register("elapsedTime", _elapsed)
    registry.register("purpose", lambda ctx: ctx.purpose)
    registry.register("assignee", lambda ctx: ctx.assignee)
    registry.register("party", lambda ctx: ctx.assignee)
    registry.register("count", lambda ctx: ctx.use_count + 1)
    registry.register("spatial", lambda ctx: ctx.spatial, normalise=country_code, expand=expand_region)
    registry.register("memberOf", lambda ctx: ctx.party_collections, set_valued=True)
    return registry
