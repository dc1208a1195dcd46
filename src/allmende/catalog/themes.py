"""The EU Publications Office data-theme vocabulary that DCAT-AP recommends for ``dcat:theme``.

DCAT-AP requires every ``skos:Concept`` to carry a ``skos:prefLabel``, so a theme is only accepted if its
label is known; the entries below are the complete authority table
(http://publications.europa.eu/resource/authority/data-theme), with their English labels.
"""

from __future__ import annotations

DATA_THEME_BASE = "http://publications.europa.eu/resource/authority/data-theme/"
DATA_THEME_SCHEME = "http://publications.europa.eu/resource/authority/data-theme"

DATA_THEME_LABELS: dict[str, str] = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "OP_DATPRO": "Provisional data",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}


class UnknownDataTheme(ValueError):
    """A theme that is neither a code nor an IRI of the EU data-theme table."""


def data_theme(theme: str) -> tuple[str, str]:
    """Return ``(IRI, English label)`` for a data-theme code (``"TECH"``) or IRI."""
    code = theme.removeprefix(DATA_THEME_BASE)
    label = DATA_THEME_LABELS.get(code)
    if label is None:
        raise UnknownDataTheme(
            f"unknown data theme {theme!r}: use a code of the EU data-theme table "
            f"({', '.join(DATA_THEME_LABELS)}) or its IRI under {DATA_THEME_BASE}"
        )
    return DATA_THEME_BASE + code, label
