"""Every text of the web interface has a German translation, and the catalogues agree with each other."""

from __future__ import annotations

from allmende.web.catalogue import extract_messages, untranslated
from allmende.web.i18n import catalogue_files, merged_catalogue, translations


def test_every_text_is_translated_to_german() -> None:
    missing = untranslated("de")
    assert not missing, (
        "texts without German translation (run python -m allmende.web.catalogue):\n"
        + "\n".join(f"{msgid!r} at {places[0]}" for msgid, places in missing.items())
    )


def test_the_catalogue_holds_no_texts_the_interface_no_longer_uses() -> None:
    used = set(extract_messages())
    stale = [message.id for message in merged_catalogue("de") if message.id and message.id not in used]
    assert not stale, f"translations of texts no longer used: {stale}"


def test_placeholders_survive_translation() -> None:
    catalogue = merged_catalogue("de")
    for message in catalogue:
        if not message.id:
            continue
        for placeholder in ("%(", "%s"):
            assert message.id.count(placeholder) == str(message.string).count(placeholder), message.id


def test_german_catalogue_is_split_by_page_group_and_loads() -> None:
    assert "frame.po" in catalogue_files("de")
    assert translations("de").gettext("Log in") == "Anmelden"
    assert translations("en").gettext("Log in") == "Log in"
