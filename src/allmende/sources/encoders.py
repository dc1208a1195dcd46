"""Encoding query rows, batch by batch, as CSV (always available) or Parquet (needs pyarrow)."""

from __future__ import annotations

import csv
import importlib
import io
from collections.abc import Sequence
from datetime import date, datetime, time
from types import ModuleType
from typing import Any, Protocol

from allmende.sources.bridge import ChunkWriter
from allmende.sources.errors import SourceError


class Encoder(Protocol):
    """Turns a result's column names, then its rows in batches, into bytes written to a ChunkWriter."""

    def header(self, names: list[str]) -> None:
        """Begin with the result's column names."""

    def rows(self, batch: Sequence[Sequence[Any]]) -> None:
        """Encode one batch of rows."""

    def finish(self) -> None:
        """Write what ends the file."""


class CsvEncoder:
    """RFC 4180 CSV in UTF-8 with a header row; NULL is empty, bytes are hex, times ISO 8601."""

    def __init__(self, out: ChunkWriter) -> None:
        self._out = out
        self._text = io.StringIO()
        self._writer = csv.writer(self._text)

    def header(self, names: list[str]) -> None:
        """Write the header row."""
        self._writer.writerow(names)
        self._drain()

    def rows(self, batch: Sequence[Sequence[Any]]) -> None:
        """Write the rows of ``batch``."""
        self._writer.writerows([_cell(value) for value in row] for row in batch)
        self._drain()

    def finish(self) -> None:
        """Nothing ends a CSV file."""

    def _drain(self) -> None:
        self._out.write(self._text.getvalue().encode("utf-8"))
        self._text.seek(0)
        self._text.truncate()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def load_pyarrow() -> ModuleType:
    """``pyarrow`` with ``pyarrow.parquet`` loaded; SourceError 500 when it is not installed."""
    try:
        module = importlib.import_module("pyarrow")
        importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise SourceError(
            500, "parquet needs pyarrow, which is not installed on the provider (pip install pyarrow)"
        ) from None
    return module


class ParquetEncoder:
    """Parquet with one row group per batch; column types are those pyarrow infers from the first batch.

    A column that is all NULL in the first batch and has values later cannot be written (SourceError).
    """

    def __init__(self, pyarrow: ModuleType, out: ChunkWriter) -> None:
        self._pa = pyarrow
        self._out = out
        self._names: list[str] = []
        self._writer: Any = None
        self._schema: Any = None

    def header(self, names: list[str]) -> None:
        """Keep the column names."""
        self._names = names

    def rows(self, batch: Sequence[Sequence[Any]]) -> None:
        """Write ``batch`` as a row group."""
        columns = [[row[index] for row in batch] for index in range(len(self._names))]
        try:
            if self._schema is None:
                arrays = [self._pa.array(column) for column in columns]
                table = self._pa.Table.from_arrays(arrays, self._names)
                self._start(table.schema)
            else:
                arrays = [
                    self._pa.array(column, type=field.type)
                    for column, field in zip(columns, self._schema, strict=True)
                ]
                table = self._pa.Table.from_arrays(arrays, schema=self._schema)
            self._writer.write_table(table)
        except (self._pa.ArrowException, TypeError, ValueError) as exc:
            raise SourceError(
                500, "the query's result cannot be written as Parquet", detail=type(exc).__name__
            ) from None

    def finish(self) -> None:
        """Write the footer (an empty result still gets a file with its columns, typed null)."""
        if self._writer is None:
            empty = [self._pa.array([], type=self._pa.null()) for _ in self._names]
            self._start(self._pa.Table.from_arrays(empty, self._names).schema)
        self._writer.close()

    def _start(self, schema: Any) -> None:
        self._schema = schema
        self._writer = self._pa.parquet.ParquetWriter(self._out, schema)
