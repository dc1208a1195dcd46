"""Policy templates for common SME situations, each with a plain-language title and summary in German
and English. ``build`` turns a template into an ``Offer`` for one asset.

Purposes are plain strings from a small vocabulary (``vocabulary.PURPOSES``); the consumer declares its
purpose when it requests data and the evaluator compares it with ``purpose`` constraints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from allmende.clock import isoformat, parse_datetime
from allmende.policy.durations import parse_duration
from allmende.policy.errors import PolicyError
from allmende.policy.model import Constraint, Duty, Permission, Policy, Prohibition


@dataclass(frozen=True)
class TemplateParameter:
    """A parameter of a template; ``default`` None means the parameter is optional without a default."""

    name: str
    description_en: str
    description_de: str
    default: str | None = None


@dataclass(frozen=True)
class PolicyTemplate:
    """A named policy pattern. ``auto_approve`` tells the negotiation it may agree without manual review."""

    name: str
    title_en: str
    title_de: str
    summary_en: str
    summary_de: str
    parameters: tuple[TemplateParameter, ...]
    rules: Callable[[Mapping[str, str]], tuple[tuple[Permission, ...], tuple[Prohibition, ...]]]
    auto_approve: bool = False

    def build(self, assigner: str, target: str, **params: str) -> Policy:
        """An Offer by ``assigner`` for asset ``target``; ``uid`` may be passed to fix the offer id."""
        for name, value in (("assigner", assigner), ("target", target)):
            if not isinstance(value, str) or not value.strip():
                raise PolicyError(name, f"must be a non-empty identifier, got {value!r}")
        uid = params.pop("uid", None)
        allowed = {parameter.name for parameter in self.parameters}
        unknown = sorted(set(params) - allowed)
        if unknown:
            names = ", ".join(sorted(allowed)) or "none"
            raise PolicyError(
                self.name, f"unknown parameter(s) {', '.join(unknown)}; this template takes: {names}"
            )
        values = {p.name: p.default for p in self.parameters if p.default is not None} | params
        permissions, prohibitions = self.rules(values)
        return Policy(uid, "Offer", target, assigner, None, permissions, prohibitions)


def _purpose(name: str) -> Constraint:
    return Constraint("purpose", "eq", name)


_NO_COMMERCIAL_USE: Final = Prohibition("use", (_purpose("commercial"),))


def _duration(params: Mapping[str, str], key: str) -> str:
    value = params[key]
    try:
        parse_duration(value)
    except ValueError as exc:
        raise PolicyError(key, str(exc)) from exc
    return value


def _open_use(params: Mapping[str, str]) -> tuple[tuple[Permission, ...], tuple[Prohibition, ...]]:
    return (Permission("use"),), ()


def _evaluation_only(params: Mapping[str, str]) -> tuple[tuple[Permission, ...], tuple[Prohibition, ...]]:
    return (Permission("use", (_purpose("evaluation"),)),), (Prohibition("distribute"), _NO_COMMERCIAL_USE)


def _research_only(params: Mapping[str, str]) -> tuple[tuple[Permission, ...], tuple[Prohibition, ...]]:
    return (Permission("use", (_purpose("research"),)),), (_NO_COMMERCIAL_USE,)


def _time_limited(params: Mapping[str, str]) -> tuple[tuple[Permission, ...], tuple[Prohibition, ...]]:
    if "until" in params:
        try:
            until = parse_datetime(params["until"])
        except ValueError as exc:
            raise PolicyError("until", f"{params['until']!r} is not an RFC 3339 dateTime") from exc
        limit = Constraint("dateTime", "lteq", isoformat(until), data_type="xsd:dateTime")
    else:
        limit = Constraint("elapsedTime", "lteq", _duration(params, "duration"), data_type="xsd:duration")
    return (Permission("use", (limit,)),), ()


def _machine_data(params: Mapping[str, str]) -> tuple[tuple[Permission, ...], tuple[Prohibition, ...]]:
    period = _duration(params, "duration")
    delete_at_end = Duty("delete", (Constraint("elapsedTime", "gteq", period, data_type="xsd:duration"),))
    permission = Permission(
        "use",
        (_purpose("maintenance"), Constraint("elapsedTime", "lteq", period, data_type="xsd:duration")),
        (delete_at_end,),
    )
    return (permission,), (Prohibition("sell"), Prohibition("distribute"))


def _members_only(params: Mapping[str, str]) -> tuple[tuple[Permission, ...], tuple[Prohibition, ...]]:
    community = params.get("community", "").strip()
    if not community.startswith("did:"):
        raise PolicyError("community", f"must be the DID of a community's directory, got {community!r}")
    return (Permission("use", (Constraint("memberOf", "eq", community),)),), ()


def _digests(text: str) -> tuple[str, ...]:
    digests = tuple(part.strip().lower() for part in text.replace("\n", ",").split(",") if part.strip())
    for digest in digests:
        hex_part = digest.removeprefix("sha-256:")
        if (
            not digest.startswith("sha-256:")
            or len(hex_part) != 64
            or set(hex_part) - set("0123456789abcdef")
        ):
            raise PolicyError("algorithms", f"expected sha-256:<64 hex digits>, got {digest!r}")
    return digests


def _positive(params: Mapping[str, str], name: str) -> int:
    text = params.get(name, "").strip()
    if not text.isdigit() or int(text) < 1:
        raise PolicyError(name, f"must be a whole number of at least 1, got {text!r}")
    return int(text)


def _compute_only(params: Mapping[str, str]) -> tuple[tuple[Permission, ...], tuple[Prohibition, ...]]:
    constraints: list[Constraint] = []
    digests = _digests(params.get("algorithms", ""))
    if digests:
        constraints.append(Constraint("algorithm", "isAnyOf", digests))
    constraints.append(Constraint("count", "lteq", _positive(params, "max_jobs")))
    constraints.append(Constraint("groupSize", "gteq", _positive(params, "min_group_size")))
    constraints.append(Constraint("outputSize", "lteq", _positive(params, "max_output_bytes")))
    epsilon = params.get("epsilon", "").strip()
    if epsilon:
        try:
            budget = float(epsilon)
        except ValueError:
            budget = -1.0
        if not 0 < budget <= 100:
            raise PolicyError("epsilon", f"must be a number above 0 and at most 100, got {epsilon!r}")
        constraints.append(Constraint("epsilon", "lteq", budget))
    return (Permission("compute", tuple(constraints)),), (Prohibition("distribute"),)


_DURATION_EN = "how long the data may be used after the agreement, ISO 8601 (P6M = 6 months)"
_DURATION_DE = "wie lange die Daten ab Vertragsschluss genutzt werden dürfen, ISO 8601 (P6M = 6 Monate)"

_ALL: Final = (
    PolicyTemplate(
        "open-use",
        "Open use",
        "Freie Nutzung",
        "Every participant whose identity checks out may see this offer and use the data. "
        "Agreements are concluded automatically, without manual review.",
        "Alle Teilnehmenden, deren Identität geprüft ist, sehen dieses Angebot und dürfen die Daten nutzen. "
        "Verträge kommen automatisch zustande, ohne manuelle Prüfung.",
        (),
        _open_use,
        auto_approve=True,
    ),
    PolicyTemplate(
        "evaluation-only",
        "Evaluation only",
        "Nur zur Evaluierung",
        "The data may be used only to evaluate it. It must not be passed on and not be used commercially.",
        "Die Daten dürfen nur zur Evaluierung genutzt werden. Sie dürfen nicht weitergegeben und nicht "
        "kommerziell genutzt werden.",
        (),
        _evaluation_only,
    ),
    PolicyTemplate(
        "research-only",
        "Research only",
        "Nur für die Forschung",
        "The data may be used only for research. Commercial use is not allowed.",
        "Die Daten dürfen nur für die Forschung genutzt werden. Eine kommerzielle Nutzung ist nicht erlaubt.",
        (),
        _research_only,
    ),
    PolicyTemplate(
        "time-limited",
        "Time-limited use",
        "Befristete Nutzung",
        "The data may be used for a limited time only: until a date, or for a period after the agreement "
        "(6 months unless stated otherwise).",
        "Die Daten dürfen nur befristet genutzt werden: bis zu einem Datum oder für einen Zeitraum ab "
        "Vertragsschluss (6 Monate, wenn nichts anderes angegeben ist).",
        (
            TemplateParameter("duration", _DURATION_EN, _DURATION_DE, "P6M"),
            TemplateParameter(
                "until",
                "last moment of use, RFC 3339 (replaces duration)",
                "letzter Nutzungszeitpunkt, RFC 3339 (ersetzt die Dauer)",
            ),
        ),
        _time_limited,
    ),
    PolicyTemplate(
        "machine-data-maintenance",
        "Machine data for maintenance",
        "Maschinendaten für die Wartung",
        "The manufacturer may use the operator's machine data only to maintain the machines, for 12 months "
        "after the agreement (or another agreed period). The data must not be sold or passed on, and it "
        "must be deleted at the end.",
        "Der Hersteller darf die Maschinendaten des Betreibers nur zur Wartung der Maschinen nutzen, für "
        "12 Monate ab Vertragsschluss (oder einen anderen vereinbarten Zeitraum). Die Daten dürfen weder "
        "verkauft noch weitergegeben werden und sind am Ende zu löschen.",
        (TemplateParameter("duration", _DURATION_EN, _DURATION_DE, "P12M"),),
        _machine_data,
    ),
    PolicyTemplate(
        "members-only",
        "Members only",
        "Nur für Mitglieder",
        "Only members of the community (given by its directory's DID) may see this offer and use the "
        "data; they prove it with the membership credential the directory issued. Agreements with members "
        "are concluded automatically.",
        "Nur Mitglieder der Gemeinschaft (angegeben durch die DID ihres Verzeichnisses) sehen dieses Angebot "
        "und dürfen die Daten nutzen; sie weisen das mit dem Mitgliedsnachweis des Verzeichnisses nach. "
        "Verträge mit Mitgliedern kommen automatisch zustande.",
        (
            TemplateParameter(
                "community",
                "the DID of the community's directory, e.g. did:web:verband.example",
                "die DID des Verzeichnisses der Gemeinschaft, z. B. did:web:verband.example",
            ),
        ),
        _members_only,
        auto_approve=True,
    ),
)

_COMPUTE_ONLY: Final = PolicyTemplate(
    "compute-only",
    "Algorithms to the data",
    "Algorithmen zu den Daten",
    "The data never leaves: the consumer runs approved algorithms (SQL or Python) on it here, and only "
    "results that pass the checks leave — every group of an aggregate counts at least the minimum "
    "number of records, results stay small, and the number of jobs is limited. The owner reviews the "
    "jobs of algorithms that are not pre-approved before their results are released.",
    "Die Daten bleiben hier: Die Nutzenden lassen freigegebene Algorithmen (SQL oder Python) hier auf "
    "ihnen laufen, und nur Ergebnisse, die die Prüfungen bestehen, gehen hinaus — jede Gruppe eines "
    "Aggregats umfasst mindestens die Mindestzahl an Datensätzen, Ergebnisse bleiben klein, und die "
    "Zahl der Aufträge ist begrenzt. Die Eigentümerin prüft Aufträge nicht vorab freigegebener "
    "Algorithmen, bevor deren Ergebnisse freigegeben werden.",
    (
        TemplateParameter(
            "algorithms",
            "allowed algorithms: sha-256 digests of their code bundles, comma-separated (empty: any, "
            "each job reviewed)",
            "erlaubte Algorithmen: SHA-256-Prüfsummen ihrer Code-Pakete, durch Kommas getrennt (leer: "
            "alle, jeder Auftrag wird geprüft)",
            "",
        ),
        TemplateParameter(
            "max_jobs", "how many jobs the consumer may run", "wie viele Aufträge erlaubt sind", "20"
        ),
        TemplateParameter(
            "min_group_size",
            "the fewest records any group of a released aggregate may count (k)",
            "die Mindestzahl an Datensätzen jeder Gruppe eines freigegebenen Aggregats (k)",
            "5",
        ),
        TemplateParameter(
            "max_output_bytes", "the largest result in bytes", "das größte Ergebnis in Bytes", "1048576"
        ),
        TemplateParameter(
            "epsilon",
            "optional: the consumer's differential-privacy budget in all (noise is added to numbers)",
            "optional: das gesamte Privatsphäre-Budget (Differential Privacy; Zahlen werden verrauscht)",
        ),
    ),
    _compute_only,
    auto_approve=True,  # the agreement grants only gated results; every job is still checked
)

TEMPLATES: Final[Mapping[str, PolicyTemplate]] = MappingProxyType(
    {template.name: template for template in (*_ALL, _COMPUTE_ONLY)}
)


def get_template(name: str) -> PolicyTemplate:
    """The template called ``name``; ``PolicyError`` lists the valid names otherwise."""
    template = TEMPLATES.get(name)
    if template is None:
        raise PolicyError("template", f"unknown template {name!r}; valid templates: {', '.join(TEMPLATES)}")
    return template
