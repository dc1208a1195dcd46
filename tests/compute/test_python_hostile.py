"""Hostile Python jobs: each is contained, fails with a clear reason, and the node carries on.

Limits stay small (1-3 s) so the suite stays fast. After each job the test checks that no process of
the job survives and that a normal job still runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from allmende.compute.algorithm import make_bundle
from allmende.compute.python_runtime import RUNTIME_ID, PythonRuntime
from allmende.compute.runtime import InputFile, JobOutcome, Limits, MiB
from allmende.compute.sandbox import DEFAULT_UID_BASE, DEFAULT_UID_SLOTS

WorkDirs = Callable[[], Path]
SMALL = Limits(wall_seconds=3, cpu_seconds=2, memory_bytes=256 * MiB, max_output_bytes=2 * MiB, processes=8)
# CPU-bound jobs: the CPU limit must come before the wall limit even on a busy, shared machine.
CPU_BOUND = Limits(
    wall_seconds=8, cpu_seconds=1, memory_bytes=256 * MiB, max_output_bytes=2 * MiB, processes=8
)


@pytest.fixture
def node_data(tmp_path: Path) -> Path:
    """Stands for the node's data folder: its database, its keys, and a dataset offered for compute."""
    folder = tmp_path / "node-data"
    folder.mkdir()
    (folder / "node.db").write_text("SECRET-DATABASE")
    (folder / "keys").mkdir()
    (folder / "keys" / "node.key").write_text("SECRET-KEY")
    (folder / "dataset.csv").write_text("x\n1\n2\n")
    return folder


def run(runtime: PythonRuntime, code: str, work: Path, node_data: Path, limits: Limits = SMALL) -> JobOutcome:
    bundle = make_bundle("python", code, RUNTIME_ID)
    return runtime.run(bundle, [InputFile.of("data", node_data / "dataset.csv")], limits, work)


def sandbox_processes() -> list[int]:
    """PIDs of processes running under any sandbox uid (there must be none once a job is over)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                uid = os.stat(f"/proc/{entry}").st_uid
            except FileNotFoundError:
                continue
            if DEFAULT_UID_BASE <= uid < DEFAULT_UID_BASE + DEFAULT_UID_SLOTS:
                found.append(int(entry))
    return found


def assert_healthy(runtime: PythonRuntime, work_dirs: WorkDirs, node_data: Path) -> None:
    assert sandbox_processes() == []
    code = (
        "import pandas as pd\n"
        "totals = pd.read_csv('/input/data.csv').sum().to_frame('total')\n"
        "totals.to_csv('/output/result.csv', index_label='column')\n"
    )
    outcome = run(runtime, code, work_dirs(), node_data, Limits(wall_seconds=20, cpu_seconds=10))
    assert outcome.succeeded, (outcome.reason, outcome.log)


HOSTILE = {
    "socket": (
        "import socket\ns = socket.create_connection(('93.184.215.14', 80), timeout=2)",
        "network",
        "network access is not allowed",
    ),
    "dns": (
        "import socket\nsocket.getaddrinfo('example.com', 443)",
        "network",
        "network access is not allowed",
    ),
    "localhost": (
        "import socket\ns = socket.create_connection(('127.0.0.1', 8080), timeout=2)",
        "network",
        "network access is not allowed",
    ),
    "passwd": (
        "print(open('/etc/passwd').read())",
        "file_access",
        "the job tried to read /etc/passwd, outside its input (only /input is readable)",
    ),
    "node database": (
        "print(open({db!r}).read())",
        "file_access",
        "the job tried to read {db}, outside its input (only /input is readable)",
    ),
    "node keys": (
        "import os\nprint(os.listdir({keys!r}))",
        "file_access",
        "the job tried to read {keys}, outside its input (only /input is readable)",
    ),
    "host root": (
        "print(open('/root/.bash_history').read())",
        "file_access",
        "the job tried to read /root/.bash_history, outside its input (only /input is readable)",
    ),
    "fork bomb": ("import os\nwhile True:\n    os.fork()", "processes", "process limit of 8 processes"),
    "thread bomb": (
        "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,)).start()",
        "processes",
        "process limit of 8 processes",
    ),
    "allocate": (
        "blocks = []\nwhile True:\n    blocks.append(bytearray(50_000_000))",
        "memory",
        "memory limit of 256 MiB reached",
    ),
    "numpy allocate": ("import numpy as np\nx = np.ones(10**9)", "memory", "memory limit of 256 MiB reached"),
    "busy loop": ("while True:\n    pass", "cpu", "CPU time limit of 1 s reached"),
    "sleep": ("import time\ntime.sleep(60)", "time", "time limit of 3 s reached"),
    "huge output": (
        "with open('/output/result.csv', 'wb') as f:\n    while True:\n        f.write(b'1,' * 65536)",
        "output",
        "the job tried to write more than 2 MiB",
    ),
    "many files": (
        "for i in range(10000):\n    open(f'/output/part{{i}}', 'wb').write(b'x' * 100_000)",
        "output",
        "the job tried to write more than 2 MiB",
    ),
    "fill tmp": (
        "with open('/tmp/spill', 'wb') as f:\n    while True:\n        f.write(b'x' * 65536)",
        "output",
        "the job tried to write more than 2 MiB",
    ),
    "log flood": ("while True:\n    print('x' * 10000)", "cpu", "CPU time limit of 1 s reached"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_job_is_contained(
    python_runtime: PythonRuntime, work_dirs: WorkDirs, node_data: Path, name: str
) -> None:
    template, failure, reason = HOSTILE[name]
    paths = {"db": str(node_data / "node.db"), "keys": str(node_data / "keys")}
    work = work_dirs()
    limits = CPU_BOUND if failure == "cpu" else SMALL
    outcome = run(python_runtime, template.format(**paths), work, node_data, limits)
    assert not outcome.succeeded
    assert outcome.failure == failure, (outcome.reason, outcome.log[-2000:])
    assert reason.format(**paths) in (outcome.reason or "")
    assert "SECRET" not in outcome.log
    assert len(outcome.log) <= 70_000
    assert not (work / "result.csv").exists()
    assert_healthy(python_runtime, work_dirs, node_data)


def test_a_fork_bomb_that_swallows_errors_ends_at_the_wall_limit(
    python_runtime: PythonRuntime, work_dirs: WorkDirs, node_data: Path
) -> None:
    code = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    outcome = run(
        python_runtime, code, work_dirs(), node_data, Limits(wall_seconds=2, cpu_seconds=5, processes=8)
    )
    assert outcome.failure in ("time", "cpu")
    assert_healthy(python_runtime, work_dirs, node_data)


def test_a_detached_child_does_not_outlive_the_job(
    python_runtime: PythonRuntime, work_dirs: WorkDirs, node_data: Path
) -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    time.sleep(600)
open('/output/result.csv', 'w').write('ok\\n1\\n')
"""
    outcome = run(python_runtime, code, work_dirs(), node_data)
    assert outcome.succeeded, (outcome.reason, outcome.log)
    assert_healthy(python_runtime, work_dirs, node_data)


def test_the_input_cannot_be_changed(
    python_runtime: PythonRuntime, work_dirs: WorkDirs, node_data: Path
) -> None:
    code = "open('/input/data.csv', 'a').write('99\\n')"
    outcome = run(python_runtime, code, work_dirs(), node_data)
    assert outcome.failure == "error"
    assert "Permission denied: '/input/data.csv'" in outcome.log
    assert (node_data / "dataset.csv").read_text() == "x\n1\n2\n"


def test_privileges_cannot_be_regained(
    python_runtime: PythonRuntime, work_dirs: WorkDirs, node_data: Path
) -> None:
    code = "import os\nos.setuid(0)"
    outcome = run(python_runtime, code, work_dirs(), node_data)
    assert outcome.failure == "error"
    assert "PermissionError: [Errno 1] Operation not permitted" in outcome.log
