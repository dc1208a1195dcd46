"""Policies for reading: the plain-language text, the ODRL JSON, and the words for the key facts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from allmende.policy.errors import PolicyError
from allmende.policy.facts import PolicyFacts, policy_facts
from allmende.policy.jsonld import policy_from_json
from allmende.policy.render import render_policy
from allmende.policy.render_words import ACTIONS
from allmende.policy.vocabulary import PURPOSES
from allmende.web.i18n import text_language


@dataclass(frozen=True)
class PolicyText:
    """A policy as shown: plain-language text (or why it cannot be read), facts and the JSON itself."""

    text: str
    problem: str
    odrl: str
    facts: PolicyFacts | None


def policy_text(
    policy: Mapping[str, Any] | None, language: str, *, start: datetime | None = None
) -> PolicyText:
    """The policy in plain ``language``; ``problem`` holds the reader's (English) error when it fails."""
    odrl = json.dumps(policy, indent=2, ensure_ascii=False, sort_keys=True) if policy else ""
    if not policy:
        return PolicyText("", "", odrl, None)
    try:
        model = policy_from_json(policy)
        return PolicyText(
            render_policy(model, text_language(language), heading=False), "", odrl, policy_facts(model, start)
        )
    except PolicyError as exc:
        return PolicyText("", str(exc), odrl, None)


class TermWords:
    """Actions and purposes in the page's language (the policy vocabulary carries both languages)."""

    def __init__(self, language: str) -> None:
        self.index = 1 if text_language(language) == "de" else 0

    def action(self, action: str) -> str:
        words = ACTIONS.get(action)
        return words[self.index] if words else action

    def purpose(self, purpose: str) -> str:
        words = PURPOSES.get(purpose)
        return words[self.index] if words else purpose

    def purposes(self, purposes: tuple[str, ...]) -> str:
        return ", ".join(self.purpose(purpose) for purpose in purposes)
