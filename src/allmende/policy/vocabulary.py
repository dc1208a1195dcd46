"""ODRL 2.2 vocabulary used by the engine: term normalisation, operators and the action hierarchy.

Actions follow the ``includedIn`` relation of the ODRL 2.2 Common Vocabulary: ``use`` and ``transfer``
are the two top-level actions; ``give`` and ``sell`` are included in ``transfer``; ``play`` is included
in ``display``, ``textToSpeech`` in ``read``; every other common action is included in ``use``.
Two deprecated ODRL actions still met in practice are kept: ``write`` (included in ``modify``) and
``commercialize`` (included in ``use``). Allmende adds ``compute`` (IRI
``https://w3id.org/allmende/policy#compute``, included in ``use``): an approved algorithm runs on the
data on the provider's node and only its released result leaves (see :mod:`allmende.policy.compute`).
An action outside this table is included only in itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

ODRL_NS: Final = "http://www.w3.org/ns/odrl/2/"
ODRL_PREFIX: Final = "odrl:"
ALLMENDE_NS: Final = "https://w3id.org/allmende/policy#"
ALLMENDE_TERMS: Final = frozenset({"memberOf", "compute", "algorithm", "groupSize", "outputSize", "epsilon"})

OPERATORS: Final = frozenset(
    {"eq", "neq", "gt", "gteq", "lt", "lteq", "isA", "hasPart", "isPartOf", "isAllOf", "isAnyOf", "isNoneOf"}
)
LOGICAL_OPERATORS: Final = ("and", "or", "xone", "andSequence")

_PARENT: Final[dict[str, str]] = {
    "give": "transfer",
    "sell": "transfer",
    "play": "display",
    "textToSpeech": "read",
    "write": "modify",
    # Allmende's own: run an approved algorithm on the data where it lies; only a released result leaves
    "compute": "use",
    **{
        name: "use"
        for name in (
            "acceptTracking", "aggregate", "annotate", "anonymize", "archive", "attribute", "commercialize",
            "compensate", "concurrentUse", "delete", "derive", "digitize", "display", "distribute",
            "ensureExclusivity", "execute", "extract", "grantUse", "include", "index", "inform", "install",
            "modify", "move", "nextPolicy", "obtainConsent", "present", "print", "read", "reproduce",
            "reviewPolicy", "stream", "synchronize", "transform", "translate", "uninstall", "watermark",
        )
    },
}  # fmt: skip

KNOWN_ACTIONS: Final = frozenset(_PARENT) | {"use", "transfer"}


def short_term(term: str) -> str:
    """Return the short name of an ODRL term: ``odrl:use`` and the full IRI both become ``use``.

    Allmende's own operands (``https://w3id.org/allmende/policy#memberOf``) become their short name too;
    terms from other vocabularies (``ex:dayOfWeek``, ``https://example.org/...``) are returned unchanged.
    """
    text = term.strip()
    if text.startswith(ALLMENDE_NS) and text[len(ALLMENDE_NS) :] in ALLMENDE_TERMS:
        return text[len(ALLMENDE_NS) :]
    if text.startswith(ODRL_NS):
        return text[len(ODRL_NS) :]
    if text.startswith(ODRL_PREFIX):
        return text[len(ODRL_PREFIX) :]
    return text


def action_ancestry(action: str) -> tuple[str, ...]:
    """Return the action followed by every action that includes it, narrowest first."""
    chain = [action]
    while chain[-1] in _PARENT:
        chain.append(_PARENT[chain[-1]])
    return tuple(chain)


def action_includes(granted: str, requested: str) -> bool:
    """True when a rule on ``granted`` covers a request for ``requested`` (same action or a narrower one)."""
    return short_term(granted) in action_ancestry(short_term(requested))


PURPOSES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "evaluation": ("evaluation", "Evaluierung"),
        "research": ("research", "Forschung"),
        "maintenance": ("maintenance", "Wartung"),
        "commercial": ("commercial use", "kommerzielle Nutzung"),
        "development": ("product development", "Produktentwicklung"),
        "benchmarking": ("benchmarking with peers", "Vergleich mit anderen Unternehmen"),
    }
)
"""Purpose vocabulary: the purpose strings the templates use -> (English, German) label."""
