"""The file name offered with data: any name gives a valid header."""

from __future__ import annotations

from allmende.dataplane.disposition import attachment


def test_plain_names_are_quoted() -> None:
    assert attachment("spindle.csv") == 'attachment; filename="spindle.csv"'


def test_other_names_get_an_ascii_fallback_and_their_utf8_form() -> None:
    header = attachment("Schwingung März €.csv")
    assert header == (
        'attachment; filename="Schwingung M_rz _.csv"; '
        "filename*=UTF-8''Schwingung%20M%C3%A4rz%20%E2%82%AC.csv"
    )
    header.encode("latin-1")  # fits an HTTP header


def test_quotes_and_control_characters_cannot_break_the_header() -> None:
    assert attachment('a"b\\c\r\nd.csv') == 'attachment; filename="a_b_c__d.csv"'
    assert attachment("") == 'attachment; filename="data"'
