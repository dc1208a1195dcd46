"""Which files a job sees: the agreement's dataset, as tables named for the algorithm.

A file asset is the table ``data``. A folder asset gives one table per CSV, Parquet or JSON file, named
after the file (``machines/shift-log.csv`` → ``shift_log``; names that clash or do not make an
identifier are left out and listed). Other sources (HTTP APIs, SQL queries) cannot be computed on yet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from allmende.compute.runtime import InputFile, validate_table_name
from allmende.sources import FileSource, FolderSource, list_files, parse_source, resolve_member
from allmende.sources.errors import SourceError

SUFFIXES: tuple[str, ...] = (".csv", ".parquet", ".pq", ".json", ".ndjson", ".jsonl")


class InputsError(ValueError):
    """The dataset cannot be offered to a job; the message says why."""


@dataclass(frozen=True)
class JobInputs:
    """The tables a job sees and the files left out (with why)."""

    files: tuple[InputFile, ...]
    skipped: tuple[str, ...] = ()

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(item.table for item in self.files)


def _table_name(name: str) -> str:
    stem = Path(name).name
    for suffix in SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9_]", "_", stem).strip("_").lower() or "_"


def job_inputs(source: Mapping[str, Any]) -> JobInputs:
    """The inputs of a job on the asset whose stored source is ``source``."""
    try:
        parsed = parse_source(source)
    except SourceError as exc:
        raise InputsError(f"the dataset's source cannot be read: {exc}") from None
    if isinstance(parsed, FileSource):
        path = Path(parsed.path)
        if path.suffix.lower() not in SUFFIXES:
            raise InputsError(f"jobs run on CSV, Parquet or JSON files; {path.name} is none of these")
        if not path.is_file():
            raise InputsError("the dataset's file is missing on the provider's node")
        return JobInputs((InputFile.of("data", path),))
    if isinstance(parsed, FolderSource):
        files: list[InputFile] = []
        skipped: list[str] = []
        seen: set[str] = set()
        for name, _size in list_files(parsed):
            if not name.lower().endswith(SUFFIXES):
                continue
            table = _table_name(name)
            try:
                validate_table_name(table)
            except ValueError:
                skipped.append(f"{name}: its name does not make a table name")
                continue
            if table in seen:
                skipped.append(f"{name}: another file is already called {table}")
                continue
            seen.add(table)
            files.append(InputFile.of(table, resolve_member(parsed, name)))
        if not files:
            raise InputsError("the dataset's folder holds no CSV, Parquet or JSON file")
        return JobInputs(tuple(files), tuple(skipped))
    raise InputsError("jobs run on file and folder datasets only, not on HTTP APIs or SQL queries")
