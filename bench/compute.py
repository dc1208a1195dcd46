"""Compute-to-data: a SQL job over 10 million rows, and the start overhead of a sandboxed Python job.

``python -m bench.compute`` —
(a) "average load per shift" over a 10-million-row Parquet file (generated once into a temp folder): the
    SQL runtime (fresh locked-down connection, statement check, CSV result) against the same query in
    plain DuckDB (fresh connection, ``read_parquet``, fetch), interleaved, median of 9 each.
    Target: ≤ 1.3 × plain DuckDB.
(b) a trivial Python job in the bubblewrap sandbox (sandbox up, script writes a one-row result, result
    read and gated), median of 30, against ``python -c pass`` as a subprocess in the same run.
    Target: ≤ 150 ms median.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from allmende.compute.algorithm import make_bundle
from allmende.compute.gates import GatePolicy, release
from allmende.compute.python_runtime import RUNTIME_ID as PYTHON_RUNTIME
from allmende.compute.python_runtime import PythonRuntime
from allmende.compute.runtime import InputFile, Limits
from allmende.compute.sql_runtime import RUNTIME_ID as SQL_RUNTIME
from allmende.compute.sql_runtime import SqlRuntime
from bench._common import load_average, machine, median

ROWS = 10_000_000
SQL_RUNS = 9
PYTHON_RUNS = 30
TARGET_SQL_RATIO = 1.3
TARGET_START_MS = 150.0
QUERY = "SELECT shift, count(*) AS n, avg(load) AS mean_load FROM readings GROUP BY shift ORDER BY shift"
TRIVIAL = "open('/output/result.csv', 'w').write('answer\\n42\\n')\n"


@dataclass(frozen=True)
class ComputeFigures:
    sql_s: float
    plain_sql_s: float
    python_start_ms: float | None  # None: no working sandbox on this machine
    plain_python_ms: float
    sandbox_note: str

    @property
    def sql_ratio(self) -> float:
        return self.sql_s / self.plain_sql_s


def _generate(path: Path) -> None:
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT range AS id, 'M' || (range % 40) AS machine, "
            f"['early', 'late', 'night'][1 + range % 3] AS shift, random() AS load "
            f"FROM range({ROWS})) TO '{path}' (FORMAT parquet)"
        )


def _plain_duckdb(path: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect() as con:
        rows = con.execute(QUERY.replace("FROM readings", f"FROM read_parquet('{path}')")).fetchall()
    assert len(rows) == 3
    return time.perf_counter() - started


def _sql_job(runtime: SqlRuntime, path: Path, work: Path) -> float:
    started = time.perf_counter()
    outcome = runtime.run(
        make_bundle("sql", QUERY, SQL_RUNTIME),
        [InputFile.of("readings", path)],
        Limits(wall_seconds=120),
        work,
    )
    elapsed = time.perf_counter() - started
    if not outcome.succeeded or outcome.table is None or len(outcome.table.rows) != 3:
        raise RuntimeError(f"SQL job failed: {outcome.reason}")
    return elapsed


def _python_job(runtime: PythonRuntime, work: Path) -> float:
    started = time.perf_counter()
    outcome = runtime.run(make_bundle("python", TRIVIAL, PYTHON_RUNTIME), [], Limits(), work)
    if not outcome.succeeded or outcome.table is None:
        raise RuntimeError(f"Python job failed: {outcome.reason}")
    gated = release(outcome.table, GatePolicy())
    elapsed = time.perf_counter() - started
    assert gated.released
    return elapsed


def _plain_python() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def measure(sql_runs: int = SQL_RUNS, python_runs: int = PYTHON_RUNS) -> ComputeFigures:
    with tempfile.TemporaryDirectory(prefix="allmende-bench-compute-") as tmp:
        root = Path(tmp)
        data = root / "readings.parquet"
        _generate(data)
        sql_runtime = SqlRuntime()
        counter = iter(range(1_000_000))

        def fresh() -> Path:
            work = root / f"work-{next(counter)}"
            work.mkdir()
            return work

        _plain_duckdb(data)  # warm the file cache for both
        _sql_job(sql_runtime, data, fresh())
        ours: list[float] = []
        plain: list[float] = []
        for _ in range(sql_runs):  # interleaved, so other users' load hits both alike
            ours.append(_sql_job(sql_runtime, data, fresh()))
            plain.append(_plain_duckdb(data))

        python_runtime = PythonRuntime()
        status = python_runtime.available()
        starts: list[float] = []
        bare: list[float] = []
        _plain_python()
        if status.ok:
            _python_job(python_runtime, fresh())
        for _ in range(python_runs):
            if status.ok:
                starts.append(_python_job(python_runtime, fresh()))
            bare.append(_plain_python())
    return ComputeFigures(
        sql_s=median(ours),
        plain_sql_s=median(plain),
        python_start_ms=median(starts) * 1000 if starts else None,
        plain_python_ms=median(bare) * 1000,
        sandbox_note="" if status.ok else status.reason,
    )


def report(figures: ComputeFigures) -> list[tuple[str, str, str, str]]:
    rows = [
        (
            f"SQL job, {ROWS // 1_000_000} M rows (Parquet)",
            f"{figures.sql_s:.3f} s",
            f"{figures.sql_ratio:.2f}x plain DuckDB ({figures.plain_sql_s:.3f} s)",
            f"<= {TARGET_SQL_RATIO}x",
        )
    ]
    if figures.python_start_ms is None:
        rows.append(
            (
                "Python job start (sandbox)",
                "n/a",
                f"no sandbox: {figures.sandbox_note}",
                f"<= {TARGET_START_MS:.0f} ms",
            )
        )
    else:
        ratio = figures.python_start_ms / figures.plain_python_ms
        rows.append(
            (
                "Python job start (sandbox + gate)",
                f"{figures.python_start_ms:.0f} ms",
                f"{ratio:.2f}x python -c pass ({figures.plain_python_ms:.0f} ms)",
                f"<= {TARGET_START_MS:.0f} ms",
            )
        )
    return rows


def main() -> None:
    print(f"machine: {machine()}; load {load_average()}")
    figures = measure()
    for name, figure, ratio, target in report(figures):
        print(f"{name}: {figure}  ({ratio}; target {target})")


if __name__ == "__main__":
    main()
