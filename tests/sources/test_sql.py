"""SQL query sources: streamed CSV in constant memory, read-only enforcement, errors without secrets."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
import threading
import tracemalloc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from allmende.sources.encoders import load_pyarrow
from allmende.sources.errors import SourceError
from allmende.sources.model import SqlQuerySource, parse_source
from allmende.sources.secrets import SecretRef, SecretStore
from allmende.sources.sql import open_sql_query
from allmende.sources.streams import open_stream
from tests.sources.streaming import read_all

pytestmark = pytest.mark.anyio

ROWS = 100_000
PAD = "x" * 150


def _line(i: int) -> str:
    return f"{i},name-{i:08d}-{PAD},{i / 4}\r\n"


def _query(text: str, fmt: str = "csv") -> SqlQuerySource:
    source = parse_source(
        {"kind": "sql_query", "database_url_secret": "secret:db", "query": text, "format": fmt}
    )
    assert isinstance(source, SqlQuerySource)
    return source


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "owner db.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE parts (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        connection.executemany(
            "INSERT INTO parts VALUES (?, ?, ?)", ((i, f"name-{i:08d}-{PAD}", i / 4) for i in range(ROWS))
        )
        connection.execute("CREATE TABLE odd (t TEXT, b BLOB, d TEXT, n INTEGER)")
        connection.execute(
            "INSERT INTO odd VALUES (?, ?, ?, NULL)",
            ('a,"b"\nc', b"\x00\xff", datetime(2024, 5, 1, 12, 30).isoformat()),
        )
    connection.close()
    return path


@pytest.fixture
def secrets(tmp_path: Path, database: Path) -> SecretStore:
    store = SecretStore.create(tmp_path / "store")
    store.put("db", f"sqlite:///{database}")
    return store


def _count(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        return int(connection.execute("SELECT count(*) FROM parts").fetchone()[0])
    finally:
        connection.close()


async def test_100k_rows_stream_as_csv_in_constant_memory(secrets: SecretStore) -> None:
    expected = hashlib.sha256(b"id,name,price\r\n")
    size = 0
    for i in range(ROWS):
        line = _line(i).encode()
        expected.update(line)
        size += len(line)
    got = hashlib.sha256()
    tracemalloc.start()
    try:
        stream = await open_stream(_query("SELECT id, name, price FROM parts ORDER BY id"), secrets)
        async for chunk in stream.chunks():
            got.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (stream.media_type, stream.size, stream.filename) == (
        "text/csv; charset=utf-8",
        None,
        "result.csv",
    )
    assert got.hexdigest() == expected.hexdigest()
    print(f"\nSQLite CSV: {size / 1e6:.1f} MB streamed, tracemalloc peak {peak / 1e6:.2f} MB")
    assert size > 15_000_000
    assert peak < size / 5


async def test_values_are_encoded_as_csv_should(secrets: SecretStore) -> None:
    data = await read_all(await open_stream(_query("SELECT t, b, d, n FROM odd"), secrets))
    assert list(csv.reader(io.StringIO(data.decode()))) == [
        ["t", "b", "d", "n"],
        ['a,"b"\nc', "00ff", "2024-05-01T12:30:00", ""],
    ]


async def test_an_empty_result_is_the_header_only(secrets: SecretStore) -> None:
    data = await read_all(await open_stream(_query("SELECT id, name FROM parts WHERE id < 0"), secrets))
    assert data == b"id,name\r\n"


@pytest.mark.parametrize(
    "query",
    [
        "WITH x AS (SELECT 1 AS a) INSERT INTO parts (id, name, price) SELECT a + 1000000, 'n', 0 FROM x",
        "WITH x AS (SELECT 1) DELETE FROM parts",
    ],
)
async def test_a_write_disguised_behind_with_fails(secrets: SecretStore, database: Path, query: str) -> None:
    with pytest.raises(SourceError, match="refused the query") as caught:
        await open_stream(_query(query), secrets)
    assert caught.value.status == 502
    assert "readonly" in (caught.value.detail or "")
    assert _count(database) == ROWS


async def test_a_failing_query_names_the_problem_for_the_owner(secrets: SecretStore) -> None:
    with pytest.raises(SourceError) as caught:
        await open_stream(_query("SELECT * FROM nope"), secrets)
    assert caught.value.status == 502
    assert "no such table" in (caught.value.detail or "")


async def test_database_errors_never_show_the_url_or_password(tmp_path: Path) -> None:
    store = SecretStore.create(tmp_path / "s")
    store.put("db", "postgresql+psycopg://owner:hunter2pw@127.0.0.1:1/erp")
    with pytest.raises(SourceError) as caught:
        await open_stream(_query("SELECT 1"), store)
    assert caught.value.status == 502
    for text in (str(caught.value), caught.value.reason, caught.value.detail or "", repr(caught.value)):
        assert "hunter2pw" not in text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:hunter2pw@h/db", "not supported"),
        ("sqlite://", "in-memory"),
        ("not a url hunter2pw", "not a SQLAlchemy URL"),
    ],
)
async def test_unusable_database_urls_are_refused(tmp_path: Path, url: str, message: str) -> None:
    store = SecretStore.create(tmp_path / "s")
    store.put("db", url)
    with pytest.raises(SourceError, match=message) as caught:
        await open_stream(_query("SELECT 1"), store)
    assert caught.value.status == 500
    assert "hunter2pw" not in str(caught.value) + (caught.value.detail or "")


async def test_a_missing_url_secret_is_500(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="not available") as caught:
        await open_stream(_query("SELECT 1"), SecretStore.create(tmp_path / "s"))
    assert caught.value.status == 500


async def test_closing_early_ends_the_query_worker(secrets: SecretStore) -> None:
    stream = await open_sql_query(_query("SELECT * FROM parts"), secrets, batch_rows=100)
    chunks = stream.chunks()
    assert await anext(chunks)
    await chunks.aclose()
    assert not [thread for thread in threading.enumerate() if thread.name == "allmende-sql"]


async def test_parquet(secrets: SecretStore) -> None:
    try:
        load_pyarrow()
    except SourceError as missing:
        with pytest.raises(SourceError, match="parquet needs pyarrow") as caught:
            await open_stream(_query("SELECT id FROM parts", "parquet"), secrets)
        assert caught.value.status == 500
        assert str(missing) == str(caught.value)
        return
    import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]

    stream = await open_sql_query(_query("SELECT id, name FROM parts ORDER BY id", "parquet"), secrets)
    assert stream.media_type == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(await read_all(stream)))
    assert table.num_rows == ROWS
    assert table.column("id").to_pylist()[:3] == [0, 1, 2]
    assert table.column("name").to_pylist()[-1] == f"name-{ROWS - 1:08d}-{PAD}"


def _pg_rows() -> Iterator[str]:
    yield "id,name\r\n"
    for i in range(ROWS):
        yield f"{i},n{i}{PAD}\r\n"


@pytest.mark.postgres
async def test_postgresql_streams_read_only(tmp_path: Path) -> None:
    from tests.support.databases import PG_ADMIN_URL, postgres_reachable

    problem = postgres_reachable()
    if problem is not None:
        pytest.skip(problem)
    import psycopg

    table = f"allmende_src_{tmp_path.name[-8:].replace('-', '_')}_{threading.get_ident() % 10_000}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute(f"DROP SEQUENCE IF EXISTS {table}_seq")
        connection.execute(f"CREATE SEQUENCE {table}_seq")
        connection.execute(
            f"CREATE TABLE {table} AS SELECT g AS id, 'n' || g || '{PAD}' AS name"
            f" FROM generate_series(0, {ROWS - 1}) g"
        )
    try:
        store = SecretStore.create(tmp_path / "s")
        store.put("db", PG_ADMIN_URL)
        expected = "".join(_pg_rows()).encode()
        await read_all(await open_stream(_query("SELECT 1"), store))  # imports the driver before measuring
        tracemalloc.start()
        try:
            stream = await open_stream(_query(f"SELECT id, name FROM {table} ORDER BY id"), store)
            digest = hashlib.sha256()
            async for chunk in stream.chunks():
                digest.update(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert digest.hexdigest() == hashlib.sha256(expected).hexdigest()
        print(f"\nPostgreSQL CSV: {len(expected) / 1e6:.1f} MB, tracemalloc peak {peak / 1e6:.2f} MB")
        assert peak < len(expected) / 5
        disguised = f"WITH x AS (INSERT INTO {table} VALUES (-1, 'x') RETURNING id) SELECT id FROM x"
        with pytest.raises(SourceError, match="refused the query") as caught:
            await open_stream(_query(disguised), store)
        assert "data-modifying" in (caught.value.detail or "")  # refused by the server-side cursor
        with pytest.raises(SourceError, match="refused the query") as caught:
            await open_stream(_query(f"SELECT nextval('{table}_seq')"), store)
        assert "read-only transaction" in (caught.value.detail or "")  # refused by READ ONLY
        with psycopg.connect(admin, autocommit=True) as connection:
            row = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None and row[0] == ROWS
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
            connection.execute(f"DROP SEQUENCE IF EXISTS {table}_seq")


def test_secret_ref_is_what_the_source_holds() -> None:
    assert _query("SELECT 1").database_url_secret == SecretRef("db")
