"""SQL jobs in a locked-down, in-memory DuckDB: one read-only query over the job's input tables.

Each job gets its own connection. Inputs become views over the files (``read_csv``, ``read_parquet``,
``read_json``), so the data is read once, by the query itself, as plain DuckDB would. Then the connection is
locked: external access off except for exactly those input files (``allowed_paths``), no extension
installing or loading, no Python replacement scans, no spilling to disk, memory and thread limits, and
``lock_configuration`` so the query cannot change any of it. A timer interrupts the connection at the wall
limit. The code must parse, with DuckDB's own parser, to one statement of type SELECT (which covers
``WITH ... SELECT``, ``VALUES``, ``FROM t``, ``DESCRIBE`` and ``SUMMARIZE``); anything else is refused
before it runs. The result streams to ``result.csv`` and stops at the output limit.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from allmende.compute.algorithm import AlgorithmBundle
from allmende.compute.result import Column, ColumnKind, ResultTable, Value, format_value
from allmende.compute.runtime import (
    RESULT_NAME,
    Availability,
    InputFile,
    JobOutcome,
    Limits,
    Runtime,
    check_inputs,
    describe_bytes,
    describe_seconds,
)

RUNTIME_ID = "duckdb-sql/1"
FETCH_ROWS = 2048

_INTEGER_TYPES = frozenset(
    {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }
)
_STATEMENT_NAMES = {"LOAD": "INSTALL/LOAD (extensions)", "VARIABLE_SET": "SET", "SET": "SET or USE"}
_READERS = {"csv": "read_csv", "parquet": "read_parquet", "json": "read_json"}


class SqlRefused(ValueError):
    """The code is not a single read-only query; the message says why."""


def column_kind(duckdb_type: str) -> ColumnKind:
    """The gates' kind of a DuckDB column type (``DECIMAL(10,2)`` → number, ``INTEGER[]`` → other...)."""
    name = duckdb_type.upper()
    if name in _INTEGER_TYPES:
        return "integer"
    if name in ("FLOAT", "DOUBLE", "REAL") or name.startswith("DECIMAL"):
        return "number"
    if name == "VARCHAR":
        return "string"
    if name == "DATE":
        return "date"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    if name == "BOOLEAN":
        return "boolean"
    return "other"


def parse_single_select(connection: duckdb.DuckDBPyConnection, code: str) -> Any:
    """The one SELECT statement in ``code`` (DuckDB's parser), or :class:`SqlRefused` with the reason."""
    try:
        statements = connection.extract_statements(code)
    except duckdb.Error as exc:
        raise SqlRefused(f"the query cannot be parsed: {_first_line(exc)}") from None
    if len(statements) != 1:
        raise SqlRefused(f"exactly one statement is allowed; the code has {len(statements)}")
    statement = statements[0]
    if statement.type != duckdb.StatementType.SELECT:
        name = _STATEMENT_NAMES.get(statement.type.name, statement.type.name)
        raise SqlRefused(
            "only a read-only query (SELECT, WITH ... SELECT or VALUES) is allowed; "
            f"this is a {name} statement"
        )
    return statement


class SqlRuntime(Runtime):
    """DuckDB SQL; thread-safe (nothing shared between jobs but the duckdb module)."""

    id = RUNTIME_ID
    kind = "sql"

    def available(self) -> Availability:
        return Availability(True)

    def run(
        self, bundle: AlgorithmBundle, inputs: Sequence[InputFile], limits: Limits, work_dir: Path
    ) -> JobOutcome:
        started = time.monotonic()
        try:
            check_inputs(inputs)
        except ValueError as exc:
            return JobOutcome.failed("refused", str(exc))
        connection = duckdb.connect(":memory:")
        try:
            try:
                statement = parse_single_select(connection, bundle.code)
            except SqlRefused as exc:
                return JobOutcome.failed("refused", str(exc))
            try:
                _load_and_lock(connection, inputs, limits)
            except duckdb.Error as exc:
                return JobOutcome.failed("error", f"an input cannot be read: {clean_error(exc, inputs)}")
            return _execute(connection, statement, inputs, limits, work_dir, started)
        finally:
            connection.close()


def _load_and_lock(
    connection: duckdb.DuckDBPyConnection, inputs: Sequence[InputFile], limits: Limits
) -> None:
    # Settings that external access or the lock would forbid changing come first.
    connection.execute("SET python_enable_replacements = false")
    connection.execute("SET temp_directory = ''")
    for item in inputs:
        reader = _READERS[item.format]
        source = _literal(item.path.resolve())
        connection.execute(f"CREATE VIEW {_identifier(item.table)} AS SELECT * FROM {reader}({source})")
    paths = ", ".join(_literal(item.path.resolve()) for item in inputs)
    connection.execute(f"SET allowed_paths = [{paths}]")
    connection.execute("SET allowed_directories = []")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET autoinstall_known_extensions = false")
    connection.execute("SET autoload_known_extensions = false")
    connection.execute("SET allow_community_extensions = false")
    connection.execute(f"SET memory_limit = '{max(1, limits.memory_bytes // 1024)}KiB'")
    connection.execute(f"SET threads = {limits.threads}")
    connection.execute("SET lock_configuration = true")


def _execute(
    connection: duckdb.DuckDBPyConnection,
    statement: Any,
    inputs: Sequence[InputFile],
    limits: Limits,
    work_dir: Path,
    started: float,
) -> JobOutcome:
    fired = threading.Event()

    def interrupt() -> None:
        fired.set()
        connection.interrupt()

    remaining = max(0.0, limits.wall_seconds - (time.monotonic() - started))
    timer = threading.Timer(remaining, interrupt)
    timer.daemon = True
    timer.start()
    try:
        connection.execute(statement)
        description = connection.description or []
        columns = tuple(Column(str(d[0]), column_kind(str(d[1])), str(d[1])) for d in description)
        written = _stream_csv(connection, columns, limits.max_output_bytes, work_dir / RESULT_NAME)
    except duckdb.Error as exc:
        return _failure(exc, fired.is_set(), inputs, limits, time.monotonic() - started)
    finally:
        timer.cancel()
    elapsed = time.monotonic() - started
    if written is None:
        (work_dir / RESULT_NAME).unlink(missing_ok=True)
        return JobOutcome.failed(
            "output",
            f"the job tried to write more than {describe_bytes(limits.max_output_bytes)}",
            "",
            elapsed,
        )
    rows, size = written
    return JobOutcome.success(
        work_dir / RESULT_NAME, ResultTable(columns, rows), f"{len(rows)} rows, {size} bytes", elapsed
    )


def _stream_csv(
    connection: duckdb.DuckDBPyConnection, columns: tuple[Column, ...], limit: int, target: Path
) -> tuple[tuple[tuple[Value, ...], ...], int] | None:
    """Rows and CSV size, or ``None`` as soon as the CSV would pass ``limit`` bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.name for column in columns])
    others = [i for i, column in enumerate(columns) if column.kind == "other"]
    rows: list[tuple[Value, ...]] = []
    size = len(buffer.getvalue().encode("utf-8"))
    with target.open("wb") as out:
        out.write(buffer.getvalue().encode("utf-8"))
        while True:
            chunk = connection.fetchmany(FETCH_ROWS)
            if not chunk:
                return tuple(rows), size
            if others:
                chunk = [
                    tuple(str(v) if i in others and v is not None else v for i, v in enumerate(r))
                    for r in chunk
                ]
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([format_value(v) for v in row] for row in chunk)
            data = buffer.getvalue().encode("utf-8")
            size += len(data)
            if size > limit:
                return None
            out.write(data)
            rows.extend(chunk)


def _failure(
    exc: duckdb.Error, timed_out: bool, inputs: Sequence[InputFile], limits: Limits, elapsed: float
) -> JobOutcome:
    message = clean_error(exc, inputs)
    if timed_out or isinstance(exc, duckdb.InterruptException):
        return JobOutcome.failed(
            "time", f"time limit of {describe_seconds(limits.wall_seconds)} reached", "", elapsed
        )
    if isinstance(exc, duckdb.OutOfMemoryException):
        return JobOutcome.failed(
            "memory", f"memory limit of {describe_bytes(limits.memory_bytes)} reached", message, elapsed
        )
    if isinstance(exc, duckdb.PermissionException):
        return JobOutcome.failed(
            "file_access",
            f"the query tried to use something outside its input tables: {message}",
            message,
            elapsed,
        )
    return JobOutcome.failed("error", f"the query failed: {message}", message, elapsed)


def clean_error(exc: BaseException, inputs: Sequence[InputFile]) -> str:
    """The first line of a DuckDB error, with the node's own file paths replaced by the table names."""
    text = _first_line(exc)
    for item in inputs:
        for path in {str(item.path.resolve()), str(item.path)}:
            text = text.replace(path, f"<input {item.table}>")
    return text


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
