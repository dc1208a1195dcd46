"""Python jobs in the bubblewrap sandbox: inputs, results, the log, and what the sandbox holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from allmende.compute.algorithm import make_bundle
from allmende.compute.python_runtime import RUNTIME_ID, PythonRuntime
from allmende.compute.runtime import InputFile, JobOutcome, Limits, MiB, default_registry
from allmende.compute.sandbox import UidPool, layout

WorkDirs = Callable[[], Path]


def run(
    runtime: PythonRuntime, code: str, work: Path, inputs: list[InputFile] | None = None, **limits: float
) -> JobOutcome:
    values = {"wall_seconds": 10.0, "cpu_seconds": 5.0, **limits}
    return runtime.run(make_bundle("python", code, RUNTIME_ID), inputs or [], Limits(**values), work)  # type: ignore[arg-type]


@pytest.fixture
def loads(tmp_path: Path) -> InputFile:
    path = tmp_path / "loads.csv"
    path.write_text("machine,shift,load\nM1,early,0.5\nM1,late,0.7\nM2,early,0.9\nM2,early,0.3\n")
    path.chmod(0o600)  # as the node stores it: the job's uid could not read it directly
    return InputFile.of("loads", path)


def test_pandas_job_reads_its_input_and_writes_a_csv_result(
    python_runtime: PythonRuntime, loads: InputFile, work_dirs: WorkDirs
) -> None:
    code = """
import pandas as pd
df = pd.read_csv("/input/loads.csv")
out = df.groupby("shift").agg(n=("load", "size"), mean_load=("load", "mean")).reset_index()
out.to_csv("/output/result.csv", index=False)
print("groups:", len(out))
"""
    work = work_dirs()
    outcome = run(python_runtime, code, work, [loads])
    assert outcome.succeeded, (outcome.reason, outcome.log)
    assert outcome.table is not None
    assert [(c.name, c.kind) for c in outcome.table.columns] == [
        ("shift", "string"),
        ("n", "integer"),
        ("mean_load", "number"),
    ]
    assert outcome.table.rows == (("early", 3, pytest.approx(0.5666666)), ("late", 1, 0.7))
    assert "groups: 2" in outcome.log
    assert outcome.result_file == work / "result.csv"
    assert outcome.result_file.read_bytes().startswith(b"shift,n,mean_load\r\n")


def test_numpy_job_writes_a_json_result(python_runtime: PythonRuntime, work_dirs: WorkDirs) -> None:
    code = """
import json, numpy as np
values = np.arange(10)
json.dump([{"name": "sum", "value": int(values.sum())}], open("/output/result.json", "w"))
"""
    outcome = run(python_runtime, code, work_dirs())
    assert outcome.succeeded, (outcome.reason, outcome.log)
    assert outcome.table is not None and outcome.table.rows == (("sum", 45),)


def test_a_failing_script_reports_its_error(python_runtime: PythonRuntime, work_dirs: WorkDirs) -> None:
    outcome = run(python_runtime, "raise ValueError('bad shift name')", work_dirs())
    assert outcome.failure == "error"
    assert outcome.reason == "the script failed with exit code 1: ValueError: bad shift name"
    assert "/job/launcher.py" not in outcome.log
    assert 'File "/job/script.py", line 1' in outcome.log


def test_exit_codes_and_missing_results(python_runtime: PythonRuntime, work_dirs: WorkDirs) -> None:
    assert run(python_runtime, "import sys; sys.exit(3)", work_dirs()).reason == (
        "the script failed with exit code 3"
    )
    outcome = run(python_runtime, "print('done')", work_dirs())
    assert outcome.failure == "result"
    assert outcome.reason == "the job wrote no result: write /output/result.csv or /output/result.json"
    both = "open('/output/result.csv','w').write('a\\n1\\n'); open('/output/result.json','w').write('[]')"
    assert "both result.csv and result.json" in (run(python_runtime, both, work_dirs()).reason or "")
    bad = run(python_runtime, "open('/output/result.json','w').write('{oops')", work_dirs())
    assert bad.failure == "result" and "malformed" in (bad.reason or "")


def test_a_symlinked_result_is_not_followed(python_runtime: PythonRuntime, work_dirs: WorkDirs) -> None:
    code = "import os; os.symlink('/proc/1/environ', '/output/result.csv')"
    outcome = run(python_runtime, code, work_dirs())
    assert outcome.failure == "result"
    assert "plain file" in (outcome.reason or "")


def test_the_sandbox_holds_only_what_the_job_needs(
    python_runtime: PythonRuntime, loads: InputFile, work_dirs: WorkDirs
) -> None:
    code = """
import json, os, sys
facts = {
    "uid": os.getuid(),
    "root": sorted(os.listdir("/")),
    "input": sorted(os.listdir("/input")),
    "etc": sorted(os.listdir("/etc")),
    "env": sorted(os.environ),
    "pids": sorted(p for p in os.listdir("/proc") if p.isdigit()),
    "input_writable": os.access("/input/loads.csv", os.W_OK),
    "interfaces": sorted(os.listdir("/sys/class/net")) if os.path.exists("/sys/class/net") else [],
}
json.dump([{"facts": json.dumps(facts)}], open("/output/result.json", "w"))
"""
    outcome = run(python_runtime, code, work_dirs(), [loads])
    assert outcome.succeeded, (outcome.reason, outcome.log)
    assert outcome.table is not None
    facts = json.loads(str(outcome.table.rows[0][0]))
    assert facts["uid"] != 0
    assert facts["input"] == ["loads.csv"]
    assert facts["etc"] == ["ld.so.cache"]
    assert not {"home", "var", "srv", "boot", "sys"} & set(facts["root"])
    assert "PATH" in facts["env"] and not any(name.startswith("ALLMENDE") for name in facts["env"])
    assert len(facts["pids"]) <= 3  # bwrap's init, the launcher, the job: its own PID namespace
    assert facts["input_writable"] is False
    assert facts["interfaces"] == []


def test_layout_binds_numpy_and_pandas_but_not_the_node_package() -> None:
    found = layout()
    names = {Path(path).name for path in found.read_only}
    assert {"numpy", "pandas"} <= names
    assert "allmende" not in names and "fastapi" not in names and "cryptography" not in names


def test_parallel_jobs_get_their_own_uids(python_runtime: PythonRuntime, work_dirs: WorkDirs) -> None:
    code = "import os, time; time.sleep(0.3); open('/output/result.csv','w').write(f'uid\\n{os.getuid()}\\n')"
    dirs = [work_dirs() for _ in range(3)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(lambda w: run(python_runtime, code, w), dirs))
    assert all(o.succeeded for o in outcomes), [o.reason for o in outcomes]
    uids = {o.table.rows[0][0] for o in outcomes if o.table}
    assert len(uids) == 3


def test_uid_pool_hands_out_distinct_uids_and_reports_exhaustion(tmp_path: Path) -> None:
    from allmende.compute.sandbox import SandboxUnavailable

    pool = UidPool(base=5000, slots=2, lock_dir=tmp_path / "locks")
    with pool.claim() as first, pool.claim() as second:
        assert {first, second} == {5000, 5001}
        with pytest.raises(SandboxUnavailable, match="all 2 sandbox uids are in use"), pool.claim():
            pass
    with pool.claim() as again:
        assert again in (5000, 5001)


def test_registry_runs_python_bundles_and_refuses_unknown_runtimes(
    python_runtime: PythonRuntime, work_dirs: WorkDirs
) -> None:
    registry = default_registry()
    assert registry.ids() == ("duckdb-sql/1", RUNTIME_ID)
    ok = registry.run(
        make_bundle("python", "open('/output/result.csv','w').write('a\\n1\\n')", RUNTIME_ID),
        [],
        Limits(wall_seconds=10, max_output_bytes=1 * MiB),
        work_dirs(),
    )
    assert ok.succeeded, ok.reason
    unknown = registry.run(make_bundle("python", "pass", "wasmtime-python/1"), [], Limits(), work_dirs())
    assert unknown.failure == "refused" and "no runtime 'wasmtime-python/1'" in (unknown.reason or "")
    mismatch = registry.run(make_bundle("python", "pass", "duckdb-sql/1"), [], Limits(), work_dirs())
    assert mismatch.failure == "refused" and "runs sql algorithms" in (mismatch.reason or "")


def test_without_bubblewrap_python_jobs_are_refused_not_run(
    monkeypatch: pytest.MonkeyPatch, work_dirs: WorkDirs, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALLMENDE_BWRAP", str(tmp_path / "no-such-bwrap"))
    runtime = PythonRuntime()
    status = runtime.available()
    assert not status.ok and "not installed" in status.reason
    marker = tmp_path / "ran"
    outcome = run(runtime, f"open({str(marker)!r}, 'w').write('ran unsandboxed')", work_dirs())
    assert outcome.failure == "unavailable"
    assert outcome.reason == f"Python jobs cannot run on this node: {status.reason}"
    assert not marker.exists()


def test_a_broken_bubblewrap_is_reported(
    monkeypatch: pytest.MonkeyPatch, work_dirs: WorkDirs, tmp_path: Path
) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("ALLMENDE_BWRAP", str(fake))
    status = PythonRuntime().available()
    assert not status.ok
    assert "the sandbox does not work here" in status.reason
    assert "No permissions to create new namespace" in status.reason


def test_parquet_inputs_reach_the_script_as_csv(
    python_runtime: PythonRuntime, work_dirs: WorkDirs, tmp_path: Path
) -> None:
    import duckdb

    parquet = tmp_path / "readings.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT range AS id, range % 2 AS shift FROM range(10)) TO '{parquet}'")
    code = """
import os, pandas as pd
assert os.listdir('/input') == ['readings.csv'], os.listdir('/input')
df = pd.read_csv('/input/readings.csv')
df.groupby('shift').size().rename('n').reset_index().to_csv('/output/result.csv', index=False)
"""
    outcome = run(python_runtime, code, work_dirs(), [InputFile.of("readings", parquet)])
    assert outcome.succeeded, (outcome.reason, outcome.log)
    assert outcome.table is not None and outcome.table.rows == ((0, 5), (1, 5))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    failed = run(python_runtime, "pass", work_dirs(), [InputFile.of("b", broken)])
    assert failed.failure == "error" and (failed.reason or "").startswith("an input cannot be read")
    assert str(broken) not in (failed.reason or "")


def test_the_script_runs_as_main(python_runtime: PythonRuntime, work_dirs: WorkDirs) -> None:
    code = """
import sys
def write():
    open('/output/result.csv', 'w').write(f'name,argv\\n{__name__},{sys.argv[0]}\\n')
if __name__ == '__main__':
    write()
"""
    outcome = run(python_runtime, code, work_dirs())
    assert outcome.succeeded, (outcome.reason, outcome.log)
    assert outcome.table is not None and outcome.table.rows == (("__main__", "/job/script.py"),)


def test_launcher_report_lines_round_trip() -> None:
    from allmende.compute._launcher import decode_report, encode_report

    line = encode_report({"exit": "0", "problem": "a\tb\nc", "size": "12"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_report(line) == {"exit": "0", "problem": "a b c", "size": "12"}
    assert decode_report(b"garbage\tsize=3") == {"size": "3"}
