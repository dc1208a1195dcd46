"""A job's result as a typed table, and its CSV / JSON encodings. Pure: bytes in, bytes out.

Both runtimes hand the gates a :class:`ResultTable`: the SQL runtime with the column types DuckDB reported,
the Python runtime by reading the ``result.csv`` or ``result.json`` the script wrote (types inferred per
column, see :func:`read_csv_result`). The released result is always CSV (:func:`to_csv`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

ColumnKind = Literal["integer", "number", "string", "date", "timestamp", "boolean", "other"]
Value = int | float | Decimal | str | dt.date | dt.datetime | bool | None

NUMERIC_KINDS: frozenset[str] = frozenset({"integer", "number"})
MAX_COLUMNS = 1000

_INTEGER = re.compile(r"^[+-]?[0-9]{1,30}$")
_NUMBER = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?$")


class ResultFormatError(ValueError):
    """The result file cannot be read as a table; the message says why."""


@dataclass(frozen=True)
class Column:
    """One result column: its name, its kind for the gates, and the type the runtime reported."""

    name: str
    kind: ColumnKind
    source_type: str = ""


@dataclass(frozen=True)
class ResultTable:
    """Column descriptions and rows (tuples in column order); ``None`` is a missing value."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def index(self, name: str) -> int | None:
        """Position of the column called ``name`` (exact match), or ``None``."""
        for i, column in enumerate(self.columns):
            if column.name == name:
                return i
        return None


def format_value(value: Value) -> str:
    """The CSV text of one value: ISO dates, ``true``/``false``, empty for missing, repr-exact floats."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def to_csv(table: ResultTable) -> bytes:
    """RFC 4180 CSV (``\\r\\n`` line ends) with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.names)
    writer.writerows([format_value(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8")


def read_csv_result(data: bytes) -> ResultTable:
    """Read a CSV result (header row first) and infer each column's kind from all its values.

    A column whose non-empty values are all integers is ``integer``; all finite decimal numbers:
    ``number``; all ``YYYY-MM-DD``: ``date``; all ISO date-times: ``timestamp``; all ``true``/``false``:
    ``boolean``; anything else ``string``. Empty fields are missing values.
    """
    text = _utf8(data)
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ResultFormatError(f"the CSV result is malformed: {exc}") from None
    records = [record for record in records if record]
    if not records:
        raise ResultFormatError("the CSV result is empty (a header row is required)")
    header, body = records[0], records[1:]
    _check_names(header)
    for number, record in enumerate(body, start=2):
        if len(record) != len(header):
            raise ResultFormatError(
                f"row {number} of the CSV result has {len(record)} fields; the header has {len(header)}"
            )
    kinds = [_infer_kind(record[i] for record in body) for i in range(len(header))]
    rows = tuple(
        tuple(_convert(field, kind) for field, kind in zip(record, kinds, strict=True)) for record in body
    )
    columns = tuple(Column(name, kind, "csv") for name, kind in zip(header, kinds, strict=True))
    return ResultTable(columns, rows)


def read_json_result(data: bytes) -> ResultTable:
    """Read a JSON result: an array of flat objects (one per row) with the same keys.

    Numbers become ``integer``/``number`` columns, strings are inferred like CSV fields (so ISO dates stay
    dates), booleans ``boolean``; nested arrays or objects make the column ``other`` (refused by the gates).
    """
    try:
        document = json.loads(_utf8(data))
    except json.JSONDecodeError as exc:
        raise ResultFormatError(f"the JSON result is malformed: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise ResultFormatError("the JSON result must be an array of objects, one per row")
    if not document:
        raise ResultFormatError("the JSON result has no rows, so its columns are unknown")
    header = list(document[0])
    _check_names(header)
    for number, item in enumerate(document, start=1):
        if list(item) != header:
            raise ResultFormatError(f"row {number} of the JSON result has other keys than the first row")
    kinds = [_json_kind([item[name] for item in document]) for name in header]
    rows = tuple(
        tuple(_json_value(item[name], kind) for name, kind in zip(header, kinds, strict=True))
        for item in document
    )
    columns = tuple(Column(name, kind, "json") for name, kind in zip(header, kinds, strict=True))
    return ResultTable(columns, rows)


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResultFormatError(f"the result is not valid UTF-8 (byte {exc.start})") from None


def _check_names(names: Sequence[str]) -> None:
    if not names:
        raise ResultFormatError("the result has no columns")
    if len(names) > MAX_COLUMNS:
        raise ResultFormatError(f"the result has {len(names)} columns; at most {MAX_COLUMNS} are allowed")
    if any(not name.strip() for name in names):
        raise ResultFormatError("a result column has an empty name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ResultFormatError(f"the result has two columns called {name!r}")
        seen.add(name)


def _infer_kind(
    fields: Iterable[str],
    candidates: Sequence[ColumnKind] = ("integer", "number", "date", "timestamp", "boolean"),
) -> ColumnKind:
    left = list(candidates)
    seen = False
    for field in fields:
        if field == "":
            continue
        seen = True
        left = [kind for kind in left if _fits(field, kind)]
        if not left:
            return "string"
    return left[0] if seen and left else "string"


def _fits(field: str, kind: ColumnKind) -> bool:
    if kind == "integer":
        return bool(_INTEGER.match(field))
    if kind == "number":
        return bool(_NUMBER.match(field)) and math.isfinite(float(field))
    if kind == "date":
        return bool(_DATE.match(field)) and _parse_date(field) is not None
    if kind == "timestamp":
        return bool(_TIMESTAMP.match(field)) and _parse_timestamp(field) is not None
    return field in ("true", "false")


def _parse_date(field: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(field)
    except ValueError:
        return None


def _parse_timestamp(field: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(field)
    except ValueError:
        return None


def _convert(field: str, kind: ColumnKind) -> Value:
    if field == "":
        return None
    if kind == "integer":
        return int(field)
    if kind == "number":
        return float(field)
    if kind == "date":
        return _parse_date(field)
    if kind == "timestamp":
        return _parse_timestamp(field)
    if kind == "boolean":
        return field == "true"
    return field


def _json_kind(values: Sequence[object]) -> ColumnKind:
    present = [value for value in values if value is not None]
    if not present:
        return "string"
    if all(isinstance(value, bool) for value in present):
        return "boolean"
    numbers = [value for value in present if isinstance(value, int | float) and not isinstance(value, bool)]
    if len(numbers) == len(present):
        if all(isinstance(value, int) for value in numbers):
            return "integer"
        return "number" if all(math.isfinite(float(value)) for value in numbers) else "other"
    strings = [value for value in present if isinstance(value, str)]
    if len(strings) == len(present):
        return _infer_kind(strings, ("date", "timestamp"))
    return "other"


def _json_value(value: object, kind: ColumnKind) -> Value:
    if value is None:
        return None
    if kind == "other":
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str):
        return _convert(value, kind) if kind in ("date", "timestamp") else value
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value) if kind == "number" else value
    if isinstance(value, float):
        return value
    return json.dumps(value, ensure_ascii=False)
