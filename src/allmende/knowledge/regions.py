"""Regions and company sizes as the knowledge hub compares them (pure).

Regions are codes: ISO 3166-2 for the German states (``DE-SN``), ISO 3166-1 for countries (``DE``) and
``EU``. A region lies inside its parents (``DE-SN`` in ``DE`` in ``EU``), so a programme for ``DE`` is
open to a company in ``DE-SN``. People write names in German or English; :func:`region_code` reads both.
"""

from __future__ import annotations

import re
import unicodedata

GERMAN_STATES: dict[str, tuple[str, ...]] = {
    "DE-BW": ("Baden-Württemberg",),
    "DE-BY": ("Bayern", "Bavaria"),
    "DE-BE": ("Berlin",),
    "DE-BB": ("Brandenburg",),
    "DE-HB": ("Bremen",),
    "DE-HH": ("Hamburg",),
    "DE-HE": ("Hessen", "Hesse"),
    "DE-MV": ("Mecklenburg-Vorpommern", "Mecklenburg-Western Pomerania"),
    "DE-NI": ("Niedersachsen", "Lower Saxony"),
    "DE-NW": ("Nordrhein-Westfalen", "North Rhine-Westphalia", "NRW"),
    "DE-RP": ("Rheinland-Pfalz", "Rhineland-Palatinate"),
    "DE-SL": ("Saarland",),
    "DE-SN": ("Sachsen", "Saxony"),
    "DE-ST": ("Sachsen-Anhalt", "Saxony-Anhalt"),
    "DE-SH": ("Schleswig-Holstein",),
    "DE-TH": ("Thüringen", "Thuringia"),
}
EU_COUNTRIES = frozenset(
    (
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    )
)
_COUNTRY_NAMES = {"germany": "DE", "deutschland": "DE", "austria": "AT", "österreich": "AT"}
_EU_NAMES = ("eu", "europe", "european union", "europa", "europäische union")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().casefold()
    return re.sub(r"[\s_]+", " ", text.replace("–", "-"))


_BY_NAME: dict[str, str] = {}
for _code, _names in GERMAN_STATES.items():
    for _name in (*_names, _code):
        _BY_NAME[_fold(_name)] = _code
for _name, _code in _COUNTRY_NAMES.items():
    _BY_NAME[_name] = _code
for _name in _EU_NAMES:
    _BY_NAME[_name] = "EU"


def region_code(text: str) -> str | None:
    """The code of a region name or code (German or English, any case); None when it is not known."""
    folded = _fold(text)
    if not folded:
        return None
    if folded in _BY_NAME:
        return _BY_NAME[folded]
    upper = folded.upper()
    if len(upper) == 2 and upper.isalpha():
        return upper
    return None


def parents(code: str) -> tuple[str, ...]:
    """The region and every region it lies in, innermost first (``DE-SN`` → DE-SN, DE, EU)."""
    chain = [code]
    if "-" in code:
        chain.append(code.split("-", 1)[0])
    if chain[-1] in EU_COUNTRIES:
        chain.append("EU")
    return tuple(chain)


def covers(area: str, region: str) -> bool:
    """Whether ``area`` (an item's region) includes ``region`` (a company's)."""
    return area in parents(region)


def region_label(code: str) -> str:
    """A readable name of a region code (German name for German states)."""
    if code in GERMAN_STATES:
        return GERMAN_STATES[code][0]
    return {"DE": "Deutschland", "EU": "EU"}.get(code, code)


SIZE_CLASSES = ("micro", "small", "medium", "large")
SIZE_LIMITS = {"micro": 9, "small": 49, "medium": 249}
"""The most employees of each class (EU SME definition, headcount only)."""


def size_class_of(employees: int) -> str:
    """The size class of a company with ``employees`` people."""
    for name, most in SIZE_LIMITS.items():
        if employees <= most:
            return name
    return "large"


def employee_range(size_class: str) -> tuple[int, int | None]:
    """(fewest, most) employees of a size class; most is None for ``large``."""
    fewest = 0
    for name, most in SIZE_LIMITS.items():
        if name == size_class:
            return fewest, most
        fewest = most + 1
    if size_class == "large":
        return fewest, None
    raise ValueError(f"unknown size class {size_class!r}: use one of {', '.join(SIZE_CLASSES)}")
