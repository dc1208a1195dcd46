"""Plain-language rendering of any policy in English or German: one sentence per rule.

Used by ``allmende policy show FILE --lang de|en`` and the web UI. Operands this node cannot check are
rendered verbatim and marked as such, so the text never claims more than the evaluator enforces.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from allmende.clock import parse_datetime
from allmende.policy.compute import JOB_OPERANDS
from allmende.policy.durations import parse_duration
from allmende.policy.errors import PolicyError
from allmende.policy.model import Constraint, ConstraintNode, Duty, Permission, Policy, Prohibition
from allmende.policy.operands import country_code, default_registry
from allmende.policy.render_words import (
    ACTIONS,
    LABELS,
    LOGICAL_WORDS,
    MONTHS_DE,
    MONTHS_EN,
    OPERATOR_WORDS,
    PLACES,
    POLICY_TYPES,
    UNITS,
)
from allmende.policy.vocabulary import PURPOSES

Language = Literal["en", "de"]
_KNOWN_OPERANDS = default_registry().names() | JOB_OPERANDS  # job operands: checked per compute job


def _pick(pair: tuple[str, str], lang: Language) -> str:
    return pair[0] if lang == "en" else pair[1]


def _quote(text: object, lang: Language) -> str:
    return f"'{text}'" if lang == "en" else f"„{text}“"


def _join(items: list[str], lang: Language, last: str | None = None) -> str:
    word = last or ("and" if lang == "en" else "und")
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"


def _values(constraint: Constraint) -> list[object]:
    value = constraint.right_operand
    return list(value) if isinstance(value, tuple) else [value]


def _date(moment: datetime, lang: Language) -> str:
    day = f"{moment.day} {MONTHS_EN[moment.month - 1]} {moment.year}"
    if lang == "de":
        day = f"{moment.day}. {MONTHS_DE[moment.month - 1]} {moment.year}"
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return day
    return f"{day}, {moment:%H:%M} UTC" if lang == "en" else f"{day}, {moment:%H:%M} Uhr (UTC)"


def _duration(text: str, lang: Language) -> tuple[str, bool]:
    """The duration in words and whether it is a single unit of one (for verb agreement)."""
    parts = parse_duration(text).parts()
    words = []
    for unit, amount in parts:
        singular, plural = UNITS[unit][0 if lang == "en" else 1]
        words.append(f"{amount} {singular if amount == 1 else plural}")
    if not words:
        return ("no time" if lang == "en" else "keine Zeit"), True
    return _join(words, lang), len(parts) == 1 and parts[0][1] == 1


_DATE_PHRASES = {
    "lt": ("before {}", "vor dem {}"),
    "lteq": ("until {}", "bis {}"),
    "gt": ("after {}", "nach dem {}"),
    "gteq": ("from {}", "ab {}"),
    "eq": ("{only}at {}", "{only}am {}"),
    "neq": ("not at {}", "nicht am {}"),
}
_ELAPSED_PHRASES = {
    "lt": ("for less than {} after the agreement", "weniger als {} ab Vertragsschluss"),
    "lteq": ("for {} after the agreement", "für {} ab Vertragsschluss"),
    "eq": ("exactly {} after the agreement", "genau {} nach Vertragsschluss"),
    "neq": ("not exactly {} after the agreement", "nicht genau {} nach Vertragsschluss"),
}
_COUNT_PHRASES = {
    "lt": ("fewer than {} times", "weniger als {}-mal"),
    "lteq": ("at most {} times", "höchstens {}-mal"),
    "eq": ("exactly {} times", "genau {}-mal"),
    "gt": ("only after more than {} uses", "erst nach mehr als {} Nutzungen"),
    "gteq": ("only from use number {} on", "erst ab der {}. Nutzung"),
}
_JOB_PHRASES = {  # the compute action's conditions on each job's result
    "groupSize": {
        "gteq": ("if every group in a result counts at least {} records",
                 "wenn jede Gruppe eines Ergebnisses mindestens {} Datensätze umfasst"),
        "gt": ("if every group in a result counts more than {} records",
               "wenn jede Gruppe eines Ergebnisses mehr als {} Datensätze umfasst"),
    },
    "outputSize": {
        "lteq": ("if a result has at most {} bytes", "wenn ein Ergebnis höchstens {} Bytes hat"),
        "lt": ("if a result has fewer than {} bytes", "wenn ein Ergebnis weniger als {} Bytes hat"),
    },
    "epsilon": {
        "lteq": ("within a privacy budget of ε = {} in all",
                 "innerhalb eines Privatsphäre-Budgets von insgesamt ε = {}"),
        "lt": ("within a privacy budget below ε = {} in all",
               "innerhalb eines Privatsphäre-Budgets unter insgesamt ε = {}"),
    },
}  # fmt: skip
_SUBJECT_PHRASES = {  # operand: (positive, negative) phrase pairs; {} = the values, {only} = "only "
    "purpose": (
        ("{only}for the purpose {}", "{only}zum Zweck {}"),
        ("not for the purpose {}", "nicht zum Zweck {}"),
    ),
    "spatial": (("{only}in {}", "{only}in {}"), ("not in {}", "nicht in {}")),
    "assignee": (("{only}for {}", "{only}für {}"), ("not for {}", "nicht für {}")),
    "party": (("{only}for {}", "{only}für {}"), ("not for {}", "nicht für {}")),
    "memberOf": (
        ("{only}for members of {}", "{only}für Mitglieder von {}"),
        ("not for members of {}", "nicht für Mitglieder von {}"),
    ),
}
_POSITIVE = {"eq", "isA", "isAnyOf", "isPartOf"}
_NEGATIVE = {"neq", "isNoneOf"}


def _purpose_label(value: object, lang: Language) -> str:
    if lang == "de" and isinstance(value, str) and value in PURPOSES:
        return f"{_quote(PURPOSES[value][1], lang)} ({value})"
    return _quote(value, lang)


def _special(constraint: Constraint, lang: Language) -> str | None:
    """Idiomatic phrases for the built-in operands, or None to fall back to the generic form."""
    operand, operator, values = constraint.left_operand, constraint.operator, _values(constraint)
    single = values[0] if len(values) == 1 else None
    if operand == "dateTime" and operator in _DATE_PHRASES and isinstance(single, str):
        return _pick(_DATE_PHRASES[operator], lang).format(_date(parse_datetime(single), lang), only="{only}")
    if operand == "elapsedTime" and isinstance(single, str):
        words, one = _duration(single, lang)
        if operator in ("gt", "gteq"):
            if lang == "en":
                return f"once {words} {'has' if one else 'have'} passed since the agreement"
            return f"sobald {words} seit Vertragsschluss vergangen {'ist' if one else 'sind'}"
        return _pick(_ELAPSED_PHRASES[operator], lang).format(words) if operator in _ELAPSED_PHRASES else None
    if operand in _JOB_PHRASES and operator in _JOB_PHRASES[operand] and single is not None:
        return _pick(_JOB_PHRASES[operand][operator], lang).format(single)
    if operand == "algorithm" and operator in ("eq", "isAnyOf") and values:
        listed = _join([_quote(value, lang) for value in values], lang, "or" if lang == "en" else "oder")
        return ("{only}with the algorithm " if lang == "en" else "{only}mit dem Algorithmus ") + listed
    if operand == "count" and operator in _COUNT_PHRASES and single is not None:
        return _pick(_COUNT_PHRASES[operator], lang).format(single)
    if operand in _SUBJECT_PHRASES and (operator in _POSITIVE or operator in _NEGATIVE):
        phrases = _SUBJECT_PHRASES[operand][0 if operator in _POSITIVE else 1]
        shown = [_purpose_label(value, lang) for value in values]
        if operand == "spatial":
            shown = [
                _pick(PLACES[code], lang) if (code := str(country_code(v))) in PLACES else code
                for v in values
            ]
        either = "or" if lang == "en" else "oder"
        joined = _join(shown, lang, either if operator in _POSITIVE else None)
        return _pick(phrases, lang).format(joined, only="{only}")
    return None


def _constraint_text(node: ConstraintNode, lang: Language, only: bool) -> str:
    """The constraint in words; ``only`` makes positive conditions restrictive ("only for ...")."""
    if not isinstance(node, Constraint):
        children = enumerate(node.constraints, 1)
        parts = [f"({index}) {_constraint_text(child, lang, only)}" for index, child in children]
        return f"{_pick(LOGICAL_WORDS[node.operator], lang)}: {'; '.join(parts)}"
    try:
        special = _special(node, lang)
    except (ValueError, PolicyError):
        special = None  # a malformed date or duration is shown verbatim below
    prefix = ("only " if lang == "en" else "nur ") if only else ""
    if special is not None:
        return special.replace("{only}", prefix)
    values = _join([_quote(value, lang) for value in _values(node)], lang)
    condition = _pick(OPERATOR_WORDS[node.operator], lang).format(values)
    text = f"{prefix}{'if' if lang == 'en' else 'wenn'} {_quote(node.left_operand, lang)} {condition}"
    if node.unit is not None:
        text += f" ({node.unit})"
    if node.left_operand not in _KNOWN_OPERANDS:
        text += f" ({_pick(LABELS['unchecked'], lang)})"
    return text


def _action_text(action: str, lang: Language) -> str:
    if action in ACTIONS:
        return _pick(ACTIONS[action], lang)
    return (
        f"perform the action {_quote(action, lang)}"
        if lang == "en"
        else f"die Handlung {_quote(action, lang)}"
    )


def _rule_lines(
    label: str, rule: Permission | Prohibition | Duty, lang: Language, indent: str = ""
) -> list[str]:
    sentence = f"{indent}{_pick(LABELS[label], lang)}: {_action_text(rule.action, lang)}"
    if rule.assignee is not None:
        sentence += f" ({_pick(LABELS['only_for'], lang)} {rule.assignee})"
    if rule.target is not None:
        sentence += f" ({_pick(LABELS['for_target'], lang)} {rule.target})"
    if rule.constraints:
        only = isinstance(rule, Permission)
        sentence += " — " + "; ".join(_constraint_text(node, lang, only) for node in rule.constraints)
    lines = [sentence + "."]
    nested = [("duty", getattr(rule, "duties", ())), ("remedy", getattr(rule, "remedies", ())),
              ("consequence", getattr(rule, "consequences", ()))]  # fmt: skip
    for nested_label, duties in nested:
        for duty in duties:
            lines.extend(_rule_lines(nested_label, duty, lang, indent + "  "))
    return lines


def render_policy(policy: Policy, lang: Language = "en", *, heading: bool = True) -> str:
    """Plain-language text of ``policy``: a heading line, then one sentence per rule (duties indented).

    Without ``heading`` the line naming the parties and the target (by their identifiers) is left out,
    for pages that show who and what in words next to the text.
    """
    if lang not in ("en", "de"):
        raise PolicyError("lang", f"unsupported language {lang!r}; expected 'en' or 'de'")
    title = _pick(POLICY_TYPES[policy.policy_type], lang)
    for key, value in (("from", policy.assigner), ("for_target", policy.target), ("to", policy.assignee)):
        if value is not None:
            title += f" {_pick(LABELS[key], lang)} {value}"
    lines = [title + ":"] if heading else []
    for permission in policy.permissions:
        lines.extend(_rule_lines("permission", permission, lang))
    for prohibition in policy.prohibitions:
        lines.extend(_rule_lines("prohibition", prohibition, lang))
    for obligation in policy.obligations:
        lines.extend(_rule_lines("duty", obligation, lang))
    if not policy.permissions:
        lines.append(_pick(LABELS["nothing"], lang))
    return "\n".join(lines)
