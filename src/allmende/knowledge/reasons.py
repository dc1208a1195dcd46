"""Why a match matches, as text that can be shown in another language (pure).

A :class:`Reason` is its English text (a ``str``: the API and the CLI show it as it is) that also keeps
what it was made of: a code naming its English template and the values put into it. The web pages
translate the template by its code and fill in the values formatted for the page's language.
"""

from __future__ import annotations

from collections.abc import Mapping

TEMPLATES: dict[str, str] = {
    # what the need and the item share
    "mentions": "mentions %(words)s",
    "meaning": "similar in meaning to the need",
    "same_sector": "same sector (%(sector)s)",
    "same_size": "same size class (%(size)s)",
    "same_region": "same region (%(region)s)",
    "active_in": "active in %(regions)s",
    "for_sector": "for the sector %(sector)s",
    # a programme's conditions: met, failed, or to check
    "check": "check: %(reason)s",
    "not_eligible": "not eligible: %(reason)s",
    "status": "programme is %(status)s",
    "status_note": "programme is %(status)s (%(note)s)",
    "employees_unknown": "number of employees not given",
    "employees_above": "more than %(most)s employees",
    "employees_below": "fewer than %(least)s employees",
    "employees_exact": "employees must be %(span)s; give the exact number",
    "employees_within": "employees within %(span)s",
    "size_unknown": "size class not given",
    "size_met": "size class %(size)s",
    "size_failed": "size class %(size)s not among %(sizes)s",
    "region_unknown": "region not given (programme is for %(areas)s)",
    "region_met": "region %(region)s within %(areas)s",
    "region_failed": "region %(region)s outside %(areas)s",
    "sector_unknown": "sector not given",
    "sector_met": "sector %(sector)s",
    "sector_failed": "sector %(sector)s not among %(sectors)s",
    "age_unknown": "company age not given",
    "age_before_founding": "company too old (programme is for founders before founding)",
    "age_above": "company older than %(years)s years",
    "age_below": "company younger than %(years)s years",
    "age_met": "company age fits",
    "turnover_unknown": "turnover not given (at most EUR %(amount)s)",
    "turnover_above": "turnover above EUR %(amount)s",
    "turnover_met": "turnover at most EUR %(amount)s",
}


def english_value(value: object) -> str:
    """A value as the English text shows it: amounts with thousands separators, years as written."""
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 else f"{value:g}"
    return str(value)


class Reason(str):
    """One reason, equal to its English text; ``code`` names its template, ``values`` fill it in
    (numbers stay numbers, so a page formats them for its language; a value may be a reason itself)."""

    code: str
    values: Mapping[str, str | int | float | Reason]

    def __new__(cls, code: str, **values: str | int | float | Reason) -> Reason:
        template = TEMPLATES[code]  # an unknown code is a programming error: KeyError
        made = super().__new__(cls, template % {k: english_value(v) for k, v in values.items()})
        made.code = code
        made.values = dict(values)
        return made

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.code, dict(self.values)))


def _rebuild(code: str, values: dict[str, str | int | float | Reason]) -> Reason:
    return Reason(code, **values)
