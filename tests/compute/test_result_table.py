"""Result tables: reading what a Python job wrote, and the released CSV."""

from __future__ import annotations

import datetime as dt

import pytest

from allmende.compute.result import (
    Column,
    ResultFormatError,
    ResultTable,
    read_csv_result,
    read_json_result,
    to_csv,
)


def test_csv_kinds_are_inferred_per_column() -> None:
    data = (
        b"shift,n,load,day,at,ok,code\r\n"
        b"early,12,0.5,2026-01-05,2026-01-05T06:00:00,true,007\r\n"
        b"late,9,1e3,2026-01-06,2026-01-06 14:00,false,x1\r\n"
        b"night,,,,,,\r\n"
    )
    table = read_csv_result(data)
    assert [(c.name, c.kind) for c in table.columns] == [
        ("shift", "string"),
        ("n", "integer"),
        ("load", "number"),
        ("day", "date"),
        ("at", "timestamp"),
        ("ok", "boolean"),
        ("code", "string"),
    ]
    assert table.rows[0] == ("early", 12, 0.5, dt.date(2026, 1, 5), dt.datetime(2026, 1, 5, 6), True, "007")
    assert table.rows[2] == ("night", None, None, None, None, None, None)


def test_csv_round_trip() -> None:
    table = ResultTable(
        (Column("a", "string"), Column("b", "number"), Column("c", "date")),
        (("x, y", 1.5, dt.date(2026, 2, 1)), ('q"uote', None, None)),
    )
    assert to_csv(table) == b'a,b,c\r\n"x, y",1.5,2026-02-01\r\n"q""uote",,\r\n'
    assert read_csv_result(to_csv(table)).rows == table.rows


def test_not_a_number_stays_a_string() -> None:
    table = read_csv_result(b"v\nnan\ninf\n1\n")
    assert table.columns[0].kind == "string"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"a,a\n1,2\n", "two columns called 'a'"),
        (b"a,b\n1\n", "row 2 of the CSV result has 1 fields"),
        (b"a,\n1,2\n", "empty name"),
        (b"\xff\n", "not valid UTF-8"),
        (b'a\n"unterminated\n', "malformed"),
    ],
)
def test_bad_csv_results(data: bytes, message: str) -> None:
    with pytest.raises(ResultFormatError, match=message):
        read_csv_result(data)


def test_json_results() -> None:
    table = read_json_result(
        b'[{"g": "a", "n": 5, "m": 1.5, "d": "2026-01-01", "l": [1]},'
        b' {"g": "b", "n": 7, "m": 2, "d": null, "l": null}]'
    )
    assert [(c.name, c.kind) for c in table.columns] == [
        ("g", "string"),
        ("n", "integer"),
        ("m", "number"),
        ("d", "date"),
        ("l", "other"),
    ]
    assert table.rows[1] == ("b", 7, 2.0, None, None)
    assert table.rows[0][4] == "[1]"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{}", "array of objects"),
        (b"[1, 2]", "array of objects"),
        (b"[]", "no rows"),
        (b'[{"a": 1}, {"b": 2}]', "other keys"),
        (b"[{", "malformed"),
    ],
)
def test_bad_json_results(data: bytes, message: str) -> None:
    with pytest.raises(ResultFormatError, match=message):
        read_json_result(data)
