"""The "why this matches" reasons of matchmaking in the page's language: each reason's template
translated by its code, its numbers formatted for the language, a programme's status named in it."""

from __future__ import annotations

from allmende.knowledge.reasons import Reason
from allmende.web.templating import N_, Page

REASON_TEXTS = {
    "mentions": N_("mentions %(words)s"),
    "meaning": N_("similar in meaning to the need"),
    "same_sector": N_("same sector (%(sector)s)"),
    "same_size": N_("same size class (%(size)s)"),
    "same_region": N_("same region (%(region)s)"),
    "active_in": N_("active in %(regions)s"),
    "for_sector": N_("for the sector %(sector)s"),
    "check": N_("check: %(reason)s"),
    "not_eligible": N_("not eligible: %(reason)s"),
    "status": N_("programme is %(status)s"),
    "status_note": N_("programme is %(status)s (%(note)s)"),
    "employees_unknown": N_("number of employees not given"),
    "employees_above": N_("more than %(most)s employees"),
    "employees_below": N_("fewer than %(least)s employees"),
    "employees_exact": N_("employees must be %(span)s; give the exact number"),
    "employees_within": N_("employees within %(span)s"),
    "size_unknown": N_("size class not given"),
    "size_met": N_("size class %(size)s"),
    "size_failed": N_("size class %(size)s not among %(sizes)s"),
    "region_unknown": N_("region not given (programme is for %(areas)s)"),
    "region_met": N_("region %(region)s within %(areas)s"),
    "region_failed": N_("region %(region)s outside %(areas)s"),
    "sector_unknown": N_("sector not given"),
    "sector_met": N_("sector %(sector)s"),
    "sector_failed": N_("sector %(sector)s not among %(sectors)s"),
    "age_unknown": N_("company age not given"),
    "age_before_founding": N_("company too old (programme is for founders before founding)"),
    "age_above": N_("company older than %(years)s years"),
    "age_below": N_("company younger than %(years)s years"),
    "age_met": N_("company age fits"),
    "turnover_unknown": N_("turnover not given (at most EUR %(amount)s)"),
    "turnover_above": N_("turnover above EUR %(amount)s"),
    "turnover_met": N_("turnover at most EUR %(amount)s"),
}
"""The same templates as :data:`allmende.knowledge.reasons.TEMPLATES`, marked for translation here
(the message catalogue is read from the web package); a test keeps the two equal."""

STATUS_TEXTS = {"open": N_("open"), "closed": N_("closed"), "ended": N_("ended")}


def reason_text(page: Page, why: str) -> str:
    """A reason in the page's language (a plain text, from an older answer, as it is)."""
    if not isinstance(why, Reason) or why.code not in REASON_TEXTS:
        return str(why)
    values = {name: _value(page, name, value) for name, value in why.values.items()}
    return page.gettext(REASON_TEXTS[why.code]) % values


def _value(page: Page, name: str, value: str | int | float | Reason) -> str:
    if isinstance(value, Reason):
        return reason_text(page, value)
    if isinstance(value, int | float):
        return page.formats.number(value)
    if name == "status" and value in STATUS_TEXTS:
        return page.gettext(STATUS_TEXTS[value])
    return value
