"""Hostile SQL: every way out of the job's tables is refused or fails with a clear reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from allmende.compute.algorithm import make_bundle
from allmende.compute.runtime import InputFile, JobOutcome, Limits, MiB
from allmende.compute.sql_runtime import SqlRuntime

WorkDirs = Callable[[], Path]


@pytest.fixture
def node_secrets(tmp_path: Path) -> Path:
    """Stands for the node's data folder: a database and a key file next to the dataset."""
    folder = tmp_path / "node-data"
    folder.mkdir()
    (folder / "node.db").write_text("not for consumers")
    (folder / "keys.csv").write_text("kid,private\nk1,SECRET-KEY\n")
    (folder / "dataset.csv").write_text("x\n1\n2\n")
    return folder


def run(runtime: SqlRuntime, code: str, folder: Path, work: Path, limits: Limits | None = None) -> JobOutcome:
    return runtime.run(
        make_bundle("sql", code, "duckdb-sql/1"),
        [InputFile.of("data", folder / "dataset.csv")],
        limits or Limits(wall_seconds=3),
        work,
    )


@pytest.mark.parametrize(
    ("code", "named"),
    [
        ("ATTACH '/tmp/other.db' AS other", "ATTACH"),
        ("COPY data TO '/tmp/out.csv'", "COPY"),
        ("INSTALL httpfs", "INSTALL/LOAD"),
        ("LOAD httpfs", "INSTALL/LOAD"),
        ("PRAGMA database_list", "PRAGMA"),
        ("SET threads = 64", "SET"),
        ("RESET memory_limit", "SET"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("DROP VIEW data", "DROP"),
        ("INSERT INTO data VALUES (3)", "INSERT"),
        ("EXPORT DATABASE '/tmp/x'", "EXPORT"),
        ("CALL pragma_version()", "CALL"),
        ("EXPLAIN SELECT 1", "EXPLAIN"),
        ("CHECKPOINT", "CALL"),
    ],
)
def test_non_select_statements_are_refused_before_running(
    sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs, code: str, named: str
) -> None:
    outcome = run(sql_runtime, code, node_secrets, work_dirs())
    assert not outcome.succeeded
    assert outcome.failure == "refused"
    assert "only a read-only query" in outcome.reason and named in outcome.reason


def test_two_statements_are_refused(sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs) -> None:
    outcome = run(sql_runtime, "SELECT 1; ATTACH '/tmp/x.db'", node_secrets, work_dirs())
    assert outcome.failure == "refused"
    assert "exactly one statement" in outcome.reason


def test_unparsable_code_is_refused(sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs) -> None:
    outcome = run(sql_runtime, "SELEC 1 +", node_secrets, work_dirs())
    assert outcome.failure == "refused"
    assert "cannot be parsed" in outcome.reason


@pytest.mark.parametrize(
    "template",
    [
        "SELECT * FROM read_csv('{folder}/keys.csv')",
        "SELECT * FROM '{folder}/keys.csv'",
        "SELECT * FROM read_text('{folder}/node.db')",
        "SELECT * FROM read_blob('/etc/passwd')",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM glob('{folder}/*')",
        "SELECT * FROM sniff_csv('{folder}/keys.csv')",
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
        "WITH k AS (SELECT * FROM read_csv_auto('{folder}/keys.csv')) SELECT * FROM k",
        "SELECT * FROM query('SELECT * FROM read_csv(''{folder}/keys.csv'')')",
    ],
)
def test_files_outside_the_inputs_cannot_be_read(
    sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs, template: str
) -> None:
    work = work_dirs()
    outcome = run(sql_runtime, template.format(folder=node_secrets), node_secrets, work)
    assert not outcome.succeeded
    assert outcome.failure in ("file_access", "error")
    assert "SECRET-KEY" not in (outcome.reason or "") + outcome.log
    assert not (work / "result.csv").exists()


def test_reading_a_file_names_the_reason(
    sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs
) -> None:
    outcome = run(
        sql_runtime, f"SELECT * FROM read_csv('{node_secrets}/keys.csv')", node_secrets, work_dirs()
    )
    assert outcome.failure == "file_access"
    assert "outside its input tables" in outcome.reason


def test_python_variables_are_not_visible(
    sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs
) -> None:
    secret_frame_variable = [("SECRET-KEY",)]  # DuckDB's replacement scans would find this by name
    outcome = run(sql_runtime, "SELECT * FROM secret_frame_variable", node_secrets, work_dirs())
    assert outcome.failure == "error"
    assert secret_frame_variable[0][0] not in outcome.log


def test_an_endless_query_hits_the_time_limit(
    sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs
) -> None:
    code = "SELECT count(*) FROM range(1000000000000) a, range(1000) b WHERE a.range % 7 = b.range"
    outcome = run(sql_runtime, code, node_secrets, work_dirs(), Limits(wall_seconds=1))
    assert outcome.failure == "time"
    assert outcome.reason == "time limit of 1 s reached"
    assert outcome.wall_seconds < 10


def test_a_huge_result_stops_at_the_output_limit(
    sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs
) -> None:
    work = work_dirs()
    limits = Limits(wall_seconds=3, max_output_bytes=1 * MiB)
    outcome = run(sql_runtime, "SELECT * FROM range(1000000000000)", node_secrets, work, limits)
    assert outcome.failure == "output"
    assert outcome.reason == "the job tried to write more than 1 MiB"
    assert not (work / "result.csv").exists()


def test_memory_limit(sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs) -> None:
    limits = Limits(wall_seconds=3, memory_bytes=64 * MiB)
    outcome = run(sql_runtime, "SELECT list(range) FROM range(100000000)", node_secrets, work_dirs(), limits)
    assert outcome.failure == "memory"
    assert outcome.reason == "memory limit of 64 MiB reached"


def test_the_runtime_stays_healthy_after_hostile_jobs(
    sql_runtime: SqlRuntime, node_secrets: Path, work_dirs: WorkDirs
) -> None:
    run(
        sql_runtime,
        "SELECT count(*) FROM range(1000000000000) a, range(100) b",
        node_secrets,
        work_dirs(),
        Limits(wall_seconds=1),
    )
    run(sql_runtime, f"SELECT * FROM read_csv('{node_secrets}/keys.csv')", node_secrets, work_dirs())
    outcome = run(sql_runtime, "SELECT sum(x) AS total FROM data", node_secrets, work_dirs())
    assert outcome.succeeded, outcome.reason
    assert outcome.table.rows == ((3,),)
