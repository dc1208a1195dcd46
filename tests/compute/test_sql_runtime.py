"""SQL jobs in locked-down DuckDB: inputs of every format, types kept, limits, statement checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from allmende.compute.algorithm import AlgorithmBundle, make_bundle
from allmende.compute.result import read_csv_result
from allmende.compute.runtime import InputFile, Limits
from allmende.compute.sql_runtime import SqlRuntime, column_kind, parse_single_select

WorkDirs = Callable[[], Path]


def sql(code: str) -> AlgorithmBundle:
    return make_bundle("sql", code, "duckdb-sql/1")


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, InputFile]:
    data = tmp_path / "data"
    data.mkdir()
    (data / "loads.csv").write_text(
        "machine,shift,load\nM1,early,0.5\nM1,late,0.7\nM2,early,0.9\nM2,early,0.3\nM3,late,0.6\n"
    )
    (data / "machines.json").write_text(
        '[{"machine": "M1", "site": "Ulm"}, {"machine": "M2", "site": "Jena"}]'
    )
    (data / "events.ndjson").write_text(
        '{"machine": "M1", "kind": "stop"}\n{"machine": "M1", "kind": "start"}\n'
    )
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT range AS id, range % 3 AS bucket FROM range(30)) TO '{data / 'ids.parquet'}'"
        )
    return {
        "loads": InputFile.of("loads", data / "loads.csv"),
        "machines": InputFile.of("machines", data / "machines.json"),
        "events": InputFile.of("events", data / "events.ndjson"),
        "ids": InputFile.of("ids", data / "ids.parquet"),
    }


def test_aggregate_over_csv_keeps_types_and_writes_csv(
    sql_runtime: SqlRuntime, inputs: dict[str, InputFile], work_dirs: WorkDirs
) -> None:
    work = work_dirs()
    outcome = sql_runtime.run(
        sql("SELECT shift, count(*) AS n, avg(load) AS mean_load FROM loads GROUP BY shift ORDER BY shift"),
        [inputs["loads"]],
        Limits(),
        work,
    )
    assert outcome.succeeded, outcome.reason
    assert outcome.table is not None
    assert [(c.name, c.kind) for c in outcome.table.columns] == [
        ("shift", "string"),
        ("n", "integer"),
        ("mean_load", "number"),
    ]
    assert outcome.table.rows == (("early", 3, pytest.approx(0.5666666)), ("late", 2, pytest.approx(0.65)))
    assert outcome.result_file == work / "result.csv"
    assert read_csv_result(outcome.result_file.read_bytes()).rows == outcome.table.rows


def test_joins_across_json_ndjson_and_parquet_inputs(
    sql_runtime: SqlRuntime, inputs: dict[str, InputFile], work_dirs: WorkDirs
) -> None:
    code = """
        WITH stops AS (SELECT machine, count(*) AS events FROM events GROUP BY machine)
        SELECT m.site, s.events, (SELECT count(*) FROM ids WHERE bucket = 1) AS ones
        FROM machines m JOIN stops s USING (machine)
    """
    outcome = sql_runtime.run(sql(code), list(inputs.values()), Limits(), work_dirs())
    assert outcome.succeeded, outcome.reason
    assert outcome.table is not None
    assert outcome.table.rows == (("Ulm", 2, 10),)


@pytest.mark.parametrize(
    "code", ["VALUES (1, 'a'), (2, 'b')", "FROM loads SELECT count(*)", "SUMMARIZE loads"]
)
def test_other_read_only_forms_are_accepted(
    sql_runtime: SqlRuntime, inputs: dict[str, InputFile], work_dirs: WorkDirs, code: str
) -> None:
    outcome = sql_runtime.run(sql(code), [inputs["loads"]], Limits(), work_dirs())
    assert outcome.succeeded, outcome.reason


def test_unsupported_column_types_are_kept_as_other_for_the_gates(
    sql_runtime: SqlRuntime, work_dirs: WorkDirs
) -> None:
    outcome = sql_runtime.run(sql("SELECT [1, 2] AS l, DATE '2026-01-01' AS d"), [], Limits(), work_dirs())
    assert outcome.succeeded, outcome.reason
    assert outcome.table is not None
    assert [c.kind for c in outcome.table.columns] == ["other", "date"]
    assert outcome.table.rows == (("[1, 2]", dt.date(2026, 1, 1)),)


@pytest.mark.parametrize(
    ("duckdb_type", "kind"),
    [
        ("BIGINT", "integer"),
        ("HUGEINT", "integer"),
        ("DECIMAL(18,3)", "number"),
        ("DOUBLE", "number"),
        ("VARCHAR", "string"),
        ("DATE", "date"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp"),
        ("BOOLEAN", "boolean"),
        ("BLOB", "other"),
        ("STRUCT(a INTEGER)", "other"),
        ("INTERVAL", "other"),
    ],
)
def test_column_kinds(duckdb_type: str, kind: str) -> None:
    assert column_kind(duckdb_type) == kind


def test_sql_errors_are_failed_outcomes_without_node_paths(
    sql_runtime: SqlRuntime, inputs: dict[str, InputFile], work_dirs: WorkDirs
) -> None:
    outcome = sql_runtime.run(
        sql("SELECT no_such_column FROM loads"), [inputs["loads"]], Limits(), work_dirs()
    )
    assert not outcome.succeeded
    assert outcome.failure == "error"
    assert outcome.reason is not None and "no_such_column" in outcome.reason
    broken = inputs["loads"].path.parent / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    outcome = sql_runtime.run(sql("SELECT * FROM b"), [InputFile.of("b", broken)], Limits(), work_dirs())
    assert outcome.failure == "error"
    assert outcome.reason is not None
    assert str(broken) not in outcome.reason and "<input b>" in outcome.reason


def test_statement_parsing_uses_duckdb() -> None:
    with duckdb.connect() as con:
        assert parse_single_select(con, "SELECT 1;").type == duckdb.StatementType.SELECT


def test_jobs_run_in_parallel_threads(
    sql_runtime: SqlRuntime, inputs: dict[str, InputFile], work_dirs: WorkDirs
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    dirs = [work_dirs() for _ in range(6)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(
            pool.map(
                lambda w: sql_runtime.run(
                    sql("SELECT machine, count(*) AS n FROM loads GROUP BY ALL ORDER BY 1"),
                    [inputs["loads"]],
                    Limits(),
                    w,
                ),
                dirs,
            )
        )
    assert all(o.succeeded for o in outcomes)
    assert {o.table.rows for o in outcomes if o.table} == {(("M1", 2), ("M2", 2), ("M3", 1))}
