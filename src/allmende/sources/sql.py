"""A SQL query asset: the owner's SELECT, run read-only, streamed as CSV or Parquet.

The database URL is a stored secret. The query runs on a worker thread with ``stream_results`` and
``yield_per`` (a server-side cursor on PostgreSQL), so memory holds one batch of rows at a time.
Read-only is enforced by the database, not only by :func:`~allmende.sources.sqlcheck.check_select`:
SQLite is opened with ``mode=ro`` and ``PRAGMA query_only``, PostgreSQL runs the query in a
``READ ONLY`` transaction; other databases are refused, as no read-only mode is known for them.
Nothing is ever committed. Errors name no URL and no password.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from sqlalchemy import URL, Connection, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from allmende.sources.bridge import ChunkWriter, ConsumerGone, Write
from allmende.sources.encoders import CsvEncoder, Encoder, ParquetEncoder, load_pyarrow
from allmende.sources.errors import SecretError, SourceError
from allmende.sources.model import SqlQuerySource
from allmende.sources.secrets import SecretStore
from allmende.sources.stream import SourceStream, stream_from_thread

DEFAULT_BATCH_ROWS = 1000
_CHUNK_SIZE = 64 * 1024
_MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


async def open_sql_query(
    source: SqlQuerySource, secrets: SecretStore, *, batch_rows: int = DEFAULT_BATCH_ROWS
) -> SourceStream:
    """A stream of the query's result (CSV with a header row, or Parquet with a row group per batch).

    The query has started, and its first rows are encoded, when this returns: a refused or failing
    query raises SourceError 502 here, before anything is sent.
    """
    pyarrow = load_pyarrow() if source.format == "parquet" else None
    try:
        secret = secrets.get(source.database_url_secret)
    except SecretError as exc:
        raise SourceError(500, "the asset's database URL is not available", detail=str(exc)) from None
    engine = _engine(secret)
    redact = _redactor(secret, engine.url)

    def produce(write: Write) -> None:
        out = ChunkWriter(write, _CHUNK_SIZE)
        encoder: Encoder = CsvEncoder(out) if pyarrow is None else ParquetEncoder(pyarrow, out)
        try:
            with engine.connect() as connection:
                _read_only(connection)
                _run(connection, source.query, encoder, batch_rows)
                connection.rollback()
            out.close()
        except (ConsumerGone, SourceError):
            raise
        except DBAPIError as exc:
            raise SourceError(502, "the database refused the query", detail=redact(str(exc.orig))) from None
        except SQLAlchemyError as exc:
            raise SourceError(502, "the query failed", detail=redact(str(exc))) from None
        finally:
            engine.dispose()

    return await stream_from_thread(
        produce,
        media_type=_MEDIA_TYPES[source.format],
        size=None,
        filename=f"result.{source.format}",
        name="sql",
    )


def _run(connection: Connection, query: str, encoder: Encoder, batch_rows: int) -> None:
    result = connection.execution_options(
        stream_results=True, yield_per=batch_rows, no_parameters=True
    ).exec_driver_sql(query)
    if not result.returns_rows:
        raise SourceError(502, "the query returns no rows")
    encoder.header([str(key) for key in result.keys()])  # noqa: SIM118
    for batch in result.partitions(batch_rows):  # an explicit size: exec_driver_sql ignores yield_per here
        encoder.rows(batch)
    encoder.finish()
    result.close()


def _engine(secret: str) -> Engine:
    try:
        url = make_url(secret)
    except ArgumentError:
        raise SourceError(500, "the asset's stored database URL is not a SQLAlchemy URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        url = _sqlite_read_only(url)
    elif backend != "postgresql":
        raise SourceError(500, f"queries on {backend!r} databases are not supported (no read-only mode)")
    try:
        return create_engine(url, poolclass=NullPool)
    except NoSuchModuleError:
        raise SourceError(500, f"the database driver {url.drivername!r} is not installed") from None
    except (ArgumentError, ImportError) as exc:
        raise SourceError(500, "the database engine cannot be made", detail=type(exc).__name__) from None


def _sqlite_read_only(url: URL) -> URL:
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        raise SourceError(500, "an in-memory SQLite database holds nothing to share")
    if url.query.get("uri") not in ("true", "1"):
        database = "file:" + quote(database, safe="/:")
    return url.set(database=database, query={**url.query, "mode": "ro", "uri": "true"})


def _read_only(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = ON")
    else:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")


def _redactor(secret: str, url: URL) -> Callable[[str], str]:
    hidden = [text for text in {secret, str(url.password or ""), url.render_as_string(False)} if text]

    def redact(message: str) -> str:
        line = (message.strip().splitlines() or [""])[0]
        for text in sorted(hidden, key=len, reverse=True):
            line = line.replace(text, "***")
        return line[:300]

    return redact
