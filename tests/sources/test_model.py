"""Parsing, storing and describing source configurations; the conservative SELECT check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from allmende.sources.errors import SourceConfigError
from allmende.sources.model import (
    FileSource,
    FolderSource,
    HttpApiSource,
    SqlQuerySource,
    describe,
    parse_source,
    source_to_dict,
)
from allmende.sources.secrets import SecretRef

HTTP: dict[str, Any] = {
    "kind": "http_api",
    "url": "https://erp.example.com/api/stock.json",
    "method": "GET",
    "headers": {"Accept": "application/json", "X-Tenant": "42"},
    "auth_header_name": "Authorization",
    "auth_secret": "secret:erp.token",
    "timeout": 12.5,
}
SQL: dict[str, Any] = {
    "kind": "sql_query",
    "database_url_secret": "secret:erp-db",
    "query": "SELECT id, name FROM parts",
    "format": "csv",
}


def test_valid_sources_parse_and_round_trip() -> None:
    cases: list[dict[str, Any]] = [
        {"kind": "file", "path": "/data/a.csv"},
        {"kind": "folder", "path": "/data/dir", "mode": "files"},
        HTTP,
        SQL,
    ]
    for data in cases:
        assert source_to_dict(parse_source(data)) == data
    assert parse_source(cases[0]) == FileSource(Path("/data/a.csv"))
    http = parse_source(HTTP)
    assert isinstance(http, HttpApiSource)
    assert http.auth_secret == SecretRef("erp.token")
    assert parse_source(SQL) == SqlQuerySource(SecretRef("erp-db"), "SELECT id, name FROM parts", "csv")


def test_defaults() -> None:
    assert parse_source({"kind": "folder", "path": "/d"}) == FolderSource(Path("/d"), "tar")
    http = parse_source({"kind": "http_api", "url": "http://localhost:8080/x"})
    assert http == HttpApiSource("http://localhost:8080/x")
    assert isinstance(http, HttpApiSource) and http.timeout == 30.0 and http.method == "GET"
    sql = parse_source({"kind": "sql_query", "database_url_secret": "secret:d", "query": "select 1;"})
    assert sql == SqlQuerySource(SecretRef("d"), "select 1", "csv")


def test_describe_shows_references_and_header_names_only() -> None:
    shown = describe(parse_source(HTTP))
    assert shown["auth_secret"] == "secret:erp.token"
    assert shown["headers"] == ["Accept", "X-Tenant"]
    assert "42" not in repr(shown)
    assert describe(parse_source(SQL))["database_url_secret"] == "secret:erp-db"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "ftp"}, "'kind' must be one of"),
        ({"path": "/x"}, "'kind' must be one of"),
        ({"kind": "file", "path": "relative/x"}, "absolute path"),
        ({"kind": "file", "path": "/x", "extra": 1}, "unknown field"),
        ({"kind": "folder", "path": "/x", "mode": "zip"}, "'mode' must be one of"),
        ({**HTTP, "url": "ftp://host/x"}, "http or https"),
        ({**HTTP, "url": "https://user:pw@host/x"}, "must not hold credentials"),
        ({**HTTP, "method": "DELETE"}, "'method' must be one of"),
        ({**HTTP, "auth_secret": None}, "both"),
        ({**HTTP, "auth_header_name": None}, "both"),
        ({**HTTP, "auth_header_name": "Bad Name"}, "HTTP token"),
        ({**HTTP, "headers": {"Host": "x"}}, "set by the proxy"),
        ({**HTTP, "headers": {"authorization": "x"}}, "both the auth header and a plain header"),
        ({**HTTP, "headers": {"X-A": "a\r\nX-B: b"}}, "one-line"),
        ({**HTTP, "timeout": 0}, "above 0"),
        ({**HTTP, "timeout": True}, "number of seconds"),
        ({**SQL, "database_url_secret": "postgresql://u:hunter2@db/x"}, "secret:NAME"),
        ({**SQL, "format": "xlsx"}, "'format' must be one of"),
        ({**SQL, "query": 5}, "must be a string"),
    ],
)
def test_invalid_sources_are_refused_clearly(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SourceConfigError, match=message) as caught:
        parse_source(data)
    assert "hunter2" not in str(caught.value)


def test_a_token_pasted_as_auth_secret_is_refused_unshown() -> None:
    with pytest.raises(SourceConfigError) as caught:
        parse_source({**HTTP, "auth_secret": "Bearer eyJtoken"})
    assert "eyJtoken" not in str(caught.value)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1",
        "  select * from t  ;  ",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "SELECT\n  a,\n  b\nFROM t WHERE name = 'x'",
        "select(1)",
    ],
)
def test_single_selects_pass(query: str) -> None:
    parse_source({**SQL, "query": query})


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT 1; DROP TABLE x", "single statement"),
        ("SELECT 1;;", "single statement"),
        ("SELECT 'a;b'", "single statement"),
        ("DELETE FROM t", "must be a SELECT"),
        ("INSERT INTO t VALUES (1)", "must be a SELECT"),
        ("DROP TABLE t", "must be a SELECT"),
        ("SELECTED", "must be a SELECT"),
        ("/* x */ DELETE FROM t", "comments"),
        ("SELECT 1 -- ; DROP", "single statement"),
        ("SELECT 1 -- hidden", "comments"),
        ("   ", "empty"),
        (";", "empty"),
    ],
)
def test_anything_but_a_single_select_is_refused(query: str, message: str) -> None:
    with pytest.raises(SourceConfigError, match=message):
        parse_source({**SQL, "query": query})
