"""Languages of the web interface: gettext catalogues, the browser's choice, locale-aware formatting.

The German catalogue is split by page group into ``locale/de/*.po`` files that are merged when
loaded; English is the source language. The catalogues are read from their ``.po`` text at start-up
(compiled in memory), so there is no compiled file that could go stale.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "de")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
DEFAULT_LANGUAGE = "en"


def catalogue_files(language: str) -> list[str]:
    """The names of the ``.po`` files of ``language`` (empty for the source language)."""
    folder = files("allmende.web").joinpath("locale", language)
    if not folder.is_dir():
        return []
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".po"))


def merged_catalogue(language: str) -> Catalog:
    """All ``.po`` files of ``language`` as one catalogue; a msgid translated two ways is an error."""
    merged = Catalog(locale=language)
    folder = files("allmende.web").joinpath("locale", language)
    for name in catalogue_files(language):
        with folder.joinpath(name).open("rb") as handle:
            part = read_po(handle, locale=language)
        for message in part:
            if not message.id:
                continue
            known = merged.get(message.id)
            if known is not None and known.string != message.string:
                raise ValueError(f"{language}/{name}: {message.id!r} is translated differently elsewhere")
            merged.add(message.id, message.string)
    return merged


@cache
def translations(language: str) -> NullTranslations:
    """gettext translations of ``language`` (the source language returns the msgids)."""
    if language == DEFAULT_LANGUAGE or language not in LANGUAGES:
        return NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, merged_catalogue(language))
    buffer.seek(0)
    return Translations(fp=buffer)


def text_language(language: str) -> Literal["en", "de"]:
    """The language of plain-language policy texts for a page language (the renderer speaks both)."""
    return "de" if language == "de" else "en"


def choose_language(
    cookie: str | None, user_language: str | None, accept_language: str | None, default: str
) -> str:
    """The language to show: the switch (cookie), the user's choice, the browser's, the node's default."""
    for candidate in (cookie, user_language):
        if candidate in LANGUAGES:
            return candidate
    for tag in _accepted(accept_language or ""):
        primary = tag.split("-")[0].lower()
        if primary in LANGUAGES:
            return primary
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def _accepted(header: str) -> list[str]:
    """Language tags of an Accept-Language header, best first (q=0 left out)."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]


class Formats:
    """Dates, numbers, sizes and money formatted for one language and time zone."""

    def __init__(self, language: str, time_zone: str) -> None:
        self.language = language
        self.locale = Locale.parse("de_DE" if language == "de" else "en_GB")
        self.zone = ZoneInfo(time_zone)

    def when(self, moment: datetime | None) -> str:
        """A moment as date and time in the node's time zone."""
        if moment is None:
            return ""
        return format_datetime(moment.astimezone(self.zone), "medium", locale=self.locale)

    def day(self, moment: datetime | date | None) -> str:
        """The (local) date of a moment, or a date."""
        if moment is None:
            return ""
        if isinstance(moment, datetime):
            moment = moment.astimezone(self.zone).date()
        return format_date(moment, "medium", locale=self.locale)

    def number(self, value: float | int | None) -> str:
        return "" if value is None else format_decimal(value, locale=self.locale)

    def money(self, value: float | int, currency: str = "EUR") -> str:
        return format_currency(value, currency, locale=self.locale)

    def bytes(self, value: int | None) -> str:
        """A size in bytes with a binary unit, e.g. ``1,5 MiB`` in German."""
        if value is None:
            return ""
        size = float(value)
        for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
            if size < 1024 or unit == "TiB":
                pattern = "#,##0" if unit == "B" else "#,##0.0"
                return f"{format_decimal(size, format=pattern, locale=self.locale)} {unit}"
            size /= 1024
        raise AssertionError("unreachable")
