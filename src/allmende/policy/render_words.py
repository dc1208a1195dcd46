"""Word tables for the plain-language rendering (English and German)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

ACTIONS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "use": ("use the data", "die Daten nutzen"),
        "transfer": ("transfer the data to someone else as their own", "die Daten an andere übertragen"),
        "read": ("read the data", "die Daten lesen"),
        "display": ("display the data", "die Daten anzeigen"),
        "play": ("play the data", "die Daten abspielen"),
        "print": ("print the data", "die Daten drucken"),
        "distribute": ("pass the data on to others", "die Daten an Dritte weitergeben"),
        "sell": ("sell the data", "die Daten verkaufen"),
        "give": ("give the data away", "die Daten verschenken"),
        "delete": ("delete the data", "die Daten löschen"),
        "modify": ("change the data", "die Daten verändern"),
        "write": ("change the data", "die Daten verändern"),
        "reproduce": ("copy the data", "die Daten vervielfältigen"),
        "derive": ("derive new data from it", "neue Daten daraus ableiten"),
        "aggregate": ("combine the data with other data", "die Daten mit anderen Daten zusammenführen"),
        "anonymize": ("anonymise the data", "die Daten anonymisieren"),
        "archive": ("archive the data", "die Daten archivieren"),
        "execute": ("run the software", "die Software ausführen"),
        "compute": (
            "run approved algorithms on the data where it lies and receive only their released results",
            "freigegebene Algorithmen auf den Daten dort ausführen, wo sie liegen, und nur deren "
            "freigegebene Ergebnisse erhalten",
        ),
        "index": ("index the data", "die Daten indexieren"),
        "transform": ("convert the data", "die Daten umwandeln"),
        "translate": ("translate the data", "die Daten übersetzen"),
        "compensate": ("pay the agreed compensation", "die vereinbarte Vergütung zahlen"),
        "attribute": ("name the source", "die Quelle nennen"),
        "inform": ("inform the provider", "den Anbieter informieren"),
        "obtainConsent": ("obtain consent first", "vorher die Zustimmung einholen"),
        "commercialize": ("use the data commercially", "die Daten kommerziell verwerten"),
    }
)

POLICY_TYPES: Final = MappingProxyType(
    {"Offer": ("Offer", "Angebot"), "Agreement": ("Agreement", "Vereinbarung"),
     "Set": ("Policy", "Richtlinie"), "Policy": ("Policy", "Richtlinie")}
)  # fmt: skip

MONTHS_EN: Final = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                    "October", "November", "December")  # fmt: skip
MONTHS_DE: Final = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
                    "Oktober", "November", "Dezember")  # fmt: skip

UNITS: Final[Mapping[str, tuple[tuple[str, str], tuple[str, str]]]] = MappingProxyType(
    {  # unit: ((en singular, en plural), (de singular, de plural))
        "years": (("year", "years"), ("Jahr", "Jahre")),
        "months": (("month", "months"), ("Monat", "Monate")),
        "days": (("day", "days"), ("Tag", "Tage")),
        "hours": (("hour", "hours"), ("Stunde", "Stunden")),
        "minutes": (("minute", "minutes"), ("Minute", "Minuten")),
        "seconds": (("second", "seconds"), ("Sekunde", "Sekunden")),
    }
)

PLACES: Final = MappingProxyType(
    {"DE": ("Germany", "Deutschland"), "AT": ("Austria", "Österreich"), "CH": ("Switzerland", "der Schweiz"),
     "EU": ("the European Union", "der Europäischen Union"), "EEA": ("the European Economic Area",
     "dem Europäischen Wirtschaftsraum")}
)  # fmt: skip

OPERATOR_WORDS: Final = MappingProxyType(
    {
        "eq": ("is {}", "gleich {} ist"),
        "neq": ("is not {}", "ungleich {} ist"),
        "gt": ("is greater than {}", "größer als {} ist"),
        "gteq": ("is at least {}", "mindestens {} ist"),
        "lt": ("is less than {}", "kleiner als {} ist"),
        "lteq": ("is at most {}", "höchstens {} ist"),
        "isA": ("is a {}", "ein {} ist"),
        "hasPart": ("includes {}", "{} enthält"),
        "isPartOf": ("is part of {}", "Teil von {} ist"),
        "isAllOf": ("is all of {}", "genau {} ist"),
        "isAnyOf": ("is one of {}", "eines von {} ist"),
        "isNoneOf": ("is none of {}", "keines von {} ist"),
    }
)

LOGICAL_WORDS: Final = MappingProxyType(
    {
        "and": ("all of the following", "alle folgenden Bedingungen"),
        "andSequence": (
            "all of the following, in this order",
            "alle folgenden Bedingungen, in dieser Reihenfolge",
        ),
        "or": ("at least one of the following", "mindestens eine der folgenden Bedingungen"),
        "xone": ("exactly one of the following", "genau eine der folgenden Bedingungen"),
    }
)

LABELS: Final = MappingProxyType(
    {
        "permission": ("Permitted", "Erlaubt"),
        "prohibition": ("Not allowed", "Nicht erlaubt"),
        "duty": ("Duty", "Pflicht"),
        "remedy": ("If violated", "Bei Verstoß"),
        "consequence": ("If not fulfilled", "Wenn nicht erfüllt"),
        "nothing": ("This policy permits nothing.", "Diese Richtlinie erlaubt nichts."),
        "from": ("from", "von"),
        "for_target": ("for", "für"),
        "to": ("to", "an"),
        "only_for": ("only for", "nur für"),
        "unchecked": ("a condition this node cannot check; in doubt, access is denied",
                      "eine Bedingung, die dieser Knoten nicht prüfen kann; "
                      "im Zweifel wird der Zugriff verweigert"),
    }
)  # fmt: skip
