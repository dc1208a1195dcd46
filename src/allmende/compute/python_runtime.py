"""Python jobs (numpy and pandas available) in a fresh bubblewrap sandbox per job.

The script reads its inputs from ``/input/<table>.csv`` or ``.json`` (Parquet arrives as CSV) and
writes ``/output/result.csv`` or ``/output/result.json``; what it prints is the log (bounded). The host
side here starts bwrap in a new process group, reads the log and the launcher's report (see
``_launcher.py``) without blocking on either, kills the whole group at the wall-clock limit, and turns
what happened into a :class:`JobOutcome` with a reason a user can read. It never runs a job outside the
sandbox: when bubblewrap is missing or does not work here, :meth:`PythonRuntime.available` says why and
every job fails as ``unavailable``.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from allmende.compute import _launcher as codes
from allmende.compute.algorithm import AlgorithmBundle
from allmende.compute.result import ResultFormatError, ResultTable, read_csv_result, read_json_result, to_csv
from allmende.compute.runtime import (
    MAX_LOG_CHARS,
    RESULT_NAME,
    Availability,
    InputFile,
    JobOutcome,
    Limits,
    MiB,
    Runtime,
    check_inputs,
    describe_bytes,
    describe_seconds,
)
from allmende.compute.sandbox import (
    Layout,
    Mounts,
    SandboxUnavailable,
    UidPool,
    bwrap_command,
    bwrap_path,
    layout,
)
from allmende.compute.sql_runtime import clean_error

RUNTIME_ID = "python-3.11-numpy-pandas/1"
TMP_BYTES = 16 * MiB
KILL_GRACE_SECONDS = 2.0
_READ_CHUNK = 65536


@dataclass
class _Run:
    """What came back from one sandbox run."""

    timed_out: bool
    returncode: int
    log: str
    report: dict[str, str] | None
    result: bytes
    report_overflow: bool
    wall_seconds: float


class PythonRuntime(Runtime):
    """Sandboxed CPython with numpy and pandas; thread-safe (each job its own process and uid)."""

    id = RUNTIME_ID
    kind = "python"

    def __init__(self, uid_pool: UidPool | None = None) -> None:
        self._uids = uid_pool or UidPool()
        self._status: Availability | None = None
        self._status_lock = threading.Lock()

    def available(self) -> Availability:
        """Probes once: bubblewrap present, the layout found, and a trivial job really runs."""
        with self._status_lock:
            if self._status is None:
                self._status = self._probe()
            return self._status

    def _probe(self) -> Availability:
        if bwrap_path() is None:
            return Availability(False, "bubblewrap (bwrap) is not installed; Python jobs are refused")
        try:
            layout()
        except SandboxUnavailable as exc:
            return Availability(False, str(exc))
        import tempfile

        with tempfile.TemporaryDirectory(prefix="allmende-probe-") as tmp:
            probe = "open('/output/result.csv', 'w').write('ok\\n1\\n')\n"
            limits = Limits(wall_seconds=20, cpu_seconds=10)
            outcome = self._run_sandboxed(probe, (), limits, Path(tmp))
        if not outcome.succeeded:
            return Availability(False, f"the sandbox does not work here: {outcome.reason}")
        return Availability(True)

    def run(
        self, bundle: AlgorithmBundle, inputs: Sequence[InputFile], limits: Limits, work_dir: Path
    ) -> JobOutcome:
        status = self.available()
        if not status.ok:
            return JobOutcome.failed("unavailable", f"Python jobs cannot run on this node: {status.reason}")
        try:
            check_inputs(inputs)
        except ValueError as exc:
            return JobOutcome.failed("refused", str(exc))
        return self._run_sandboxed(bundle.code, inputs, limits, work_dir)

    def _run_sandboxed(
        self, code: str, inputs: Sequence[InputFile], limits: Limits, work_dir: Path
    ) -> JobOutcome:
        bwrap = bwrap_path()
        if bwrap is None:
            return JobOutcome.failed("unavailable", "bubblewrap (bwrap) is not installed")
        try:
            base = layout()
        except SandboxUnavailable as exc:
            return JobOutcome.failed("unavailable", str(exc))
        job_dir = work_dir / "job"
        job_dir.mkdir(mode=0o755)
        script = job_dir / "script.py"
        script.write_text(code, encoding="utf-8")
        script.chmod(0o644)
        root = os.geteuid() == 0
        try:
            staged = tuple(_stage(item, job_dir, root) for item in inputs)
        except duckdb.Error as exc:
            return JobOutcome.failed("error", f"an input cannot be read: {clean_error(exc, inputs)}")
        mounts = Mounts(
            script=script,
            inputs=staged,
            output_bytes=limits.max_output_bytes,
            tmp_bytes=min(TMP_BYTES, limits.max_output_bytes * 2),
        )
        try:
            if root:
                with self._uids.claim() as uid:
                    run = _sandbox(bwrap, base.site_dirs, base, mounts, limits, (uid, uid))
                    if run.timed_out or run.report is None:
                        _end_uid(uid)
            else:
                run = _sandbox(bwrap, base.site_dirs, base, mounts, limits, None)
        except SandboxUnavailable as exc:
            return JobOutcome.failed("unavailable", str(exc))
        return _outcome(run, limits, work_dir)


def _stage(item: InputFile, job_dir: Path, root: bool) -> tuple[Path, str]:
    """The host file to mount for ``item`` and its name under ``/input``.

    Parquet becomes CSV (``/input/<table>.csv``): the sandbox has numpy and pandas but no Parquet reader.
    A file the job's uid could not read (run as root, mode without "other" read) is copied, readable by
    all, into the job folder; the node's own file is never changed.
    """
    copies = job_dir / "inputs"
    if item.format == "parquet":
        copies.mkdir(mode=0o755, exist_ok=True)
        target = copies / f"{item.table}.csv"
        source = str(item.path.resolve()).replace("'", "''")
        destination = str(target).replace("'", "''")
        with duckdb.connect(":memory:") as connection:
            connection.execute(f"COPY (SELECT * FROM read_parquet('{source}')) TO '{destination}' (HEADER)")
        target.chmod(0o644)
        return target, target.name
    if not root or item.path.stat().st_mode & 0o004:
        return item.path.resolve(), item.sandbox_name
    copies.mkdir(mode=0o755, exist_ok=True)
    target = copies / item.sandbox_name
    shutil.copyfile(item.path, target)
    target.chmod(0o644)
    return target, target.name


def _environment(limits: Limits) -> dict[str, str]:
    threads = str(limits.threads)
    return {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "TZ": "UTC",
        "PATH": "/nonexistent",
        "OPENBLAS_NUM_THREADS": threads,
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "NUMEXPR_MAX_THREADS": threads,
    }


def _sandbox(
    bwrap: str,
    site_dirs: tuple[str, ...],
    base: Layout,
    mounts: Mounts,
    limits: Limits,
    drop_to: tuple[int, int] | None,
) -> _Run:
    read_fd, write_fd = os.pipe()
    config = {
        "result_fd": str(write_fd),
        "max_output_bytes": str(limits.max_output_bytes),
        "uid": str(drop_to[0]) if drop_to else "",
        "gid": str(drop_to[1]) if drop_to else "",
        "site_dirs": os.pathsep.join(site_dirs),
        "cpu_seconds": str(max(1, round(limits.cpu_seconds))),
        "memory_bytes": str(limits.memory_bytes),
        # RLIMIT_NPROC counts threads too: the job's processes plus its worker threads.
        "nproc": str(limits.processes + limits.threads),
    }
    args = bwrap_command(bwrap, base, mounts, _environment(limits), config, root=drop_to is not None)
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            start_new_session=True,
            env={},
        )
    except OSError as exc:
        os.close(read_fd)
        os.close(write_fd)
        raise SandboxUnavailable(f"bubblewrap cannot be started: {exc.strerror}") from None
    os.close(write_fd)
    assert process.stdout is not None
    try:
        return _collect(process, process.stdout.fileno(), read_fd, limits, started)
    finally:
        os.close(read_fd)
        process.stdout.close()


def _collect(
    process: subprocess.Popen[bytes], log_fd: int, report_fd: int, limits: Limits, started: float
) -> _Run:
    deadline = started + limits.wall_seconds
    log = _BoundedText(MAX_LOG_CHARS)
    report = bytearray()
    report_cap = limits.max_output_bytes + 4096
    overflow = False
    timed_out = False
    selector = selectors.DefaultSelector()
    selector.register(log_fd, selectors.EVENT_READ, "log")
    selector.register(report_fd, selectors.EVENT_READ, "report")
    open_fds = 2
    while open_fds:
        timeout = deadline - time.monotonic()
        if timeout <= 0 and not timed_out:
            timed_out = True
            _kill_group(process)
            deadline = time.monotonic() + KILL_GRACE_SECONDS
            continue
        if timeout <= 0:
            break  # killed, but something still holds a pipe: stop reading
        for key, _ in selector.select(timeout):
            chunk = os.read(key.fd, _READ_CHUNK)
            if not chunk:
                selector.unregister(key.fd)
                open_fds -= 1
            elif key.data == "log":
                log.add(chunk)
            elif len(report) + len(chunk) > report_cap:
                overflow = True
            else:
                report.extend(chunk)
    selector.close()
    try:
        returncode = process.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        returncode = process.wait()
    header, newline, data = bytes(report).partition(b"\n")
    parsed = codes.decode_report(header) if newline else None
    return _Run(timed_out, returncode, log.text(), parsed, data, overflow, time.monotonic() - started)


def _end_uid(uid: int) -> None:
    """After a kill: SIGKILL whatever still runs as the job's uid and wait (bounded) until it is gone."""
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while True:
        left = _processes_of(uid)
        if not left or time.monotonic() > deadline:
            return
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.01)


def _processes_of(uid: int) -> list[int]:
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    found.append(int(entry))
            except FileNotFoundError:
                continue
    return found


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class _BoundedText:
    """The first quarter and the last three quarters of a log of any length."""

    def __init__(self, limit: int) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.limit = limit
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit // 4 - len(self.head)
        if room > 0:
            self.head.extend(chunk[:room])
            chunk = chunk[room:]
        self.tail.extend(chunk)
        excess = len(self.tail) - (self.limit - self.limit // 4)
        if excess > 0:
            del self.tail[:excess]
            self.dropped += excess

    def text(self) -> str:
        middle = f"\n[... {self.dropped} bytes left out ...]\n" if self.dropped else ""
        return (
            bytes(self.head).decode("utf-8", "replace") + middle + bytes(self.tail).decode("utf-8", "replace")
        )


def _outcome(run: _Run, limits: Limits, work_dir: Path) -> JobOutcome:
    log, detail = _split_detail(run.log)
    elapsed = run.wall_seconds

    def failed(kind: Any, reason: str) -> JobOutcome:
        return JobOutcome.failed(kind, reason, log, elapsed)

    if run.timed_out:
        return failed("time", f"time limit of {describe_seconds(limits.wall_seconds)} reached")
    report = run.report
    if report is None:
        lines = [line for line in log.splitlines() if line.startswith("bwrap:")]
        why = lines[-1] if lines else f"exit status {run.returncode}"
        return failed("unavailable", f"the sandbox could not start ({why})")
    if run.report_overflow or report.get("problem") == "too large":
        return failed("output", f"the job tried to write more than {describe_bytes(limits.max_output_bytes)}")
    signal_number = _number(report.get("signal"))
    if signal_number is not None:
        return failed(*_signal_reason(int(signal_number), _number(report.get("cpu_seconds")) or 0.0, limits))
    exit_code = _number(report.get("exit"))
    if exit_code != 0:
        return failed(*_exit_reason(exit_code, detail, log, limits))
    if report.get("problem"):
        return failed("result", report["problem"][:300])
    name = report.get("result")
    if not name:
        return failed("result", "the job wrote no result: write /output/result.csv or /output/result.json")
    if len(run.result) != _number(report.get("size")) or len(run.result) > limits.max_output_bytes:
        return failed("output", f"the job tried to write more than {describe_bytes(limits.max_output_bytes)}")
    try:
        table: ResultTable = (
            read_json_result(run.result) if name == "result.json" else read_csv_result(run.result)
        )
    except ResultFormatError as exc:
        return failed("result", str(exc))
    target = work_dir / RESULT_NAME
    target.write_bytes(to_csv(table))
    return JobOutcome.success(target, table, log, elapsed)


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None


def _split_detail(log: str) -> tuple[str, str]:
    """The log without the launcher's marker lines, and the last marker's detail."""
    detail = ""
    kept: list[str] = []
    for line in log.split("\n"):
        if line.startswith(codes.MARKER):
            detail = line[len(codes.MARKER) :].strip()[:200]
        else:
            kept.append(line)
    return "\n".join(kept), detail


def _signal_reason(number: int, cpu_seconds: float, limits: Limits) -> tuple[str, str]:
    if number == signal.SIGXCPU or (number == signal.SIGKILL and cpu_seconds >= limits.cpu_seconds - 0.05):
        return "cpu", f"CPU time limit of {describe_seconds(limits.cpu_seconds)} reached"
    if number == signal.SIGXFSZ:
        return "output", f"the job tried to write more than {describe_bytes(limits.max_output_bytes)}"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = str(number)
    if number == signal.SIGKILL:
        return "memory", f"the job was killed ({name}), most likely for using more than its memory limit"
    return "error", f"the job crashed ({name})"


def _exit_reason(code: float | None, detail: str, log: str, limits: Limits) -> tuple[str, str]:
    if code == codes.EXIT_MEMORY:
        return "memory", f"memory limit of {describe_bytes(limits.memory_bytes)} reached"
    if code == codes.EXIT_SPACE:
        where = "the output and temporary folders"
        return (
            "output",
            f"the job tried to write more than {describe_bytes(limits.max_output_bytes)} ({where})",
        )
    if code == codes.EXIT_PROCESSES:
        return (
            "processes",
            f"process limit of {limits.processes} processes and {limits.threads} threads reached",
        )
    if code == codes.EXIT_NETWORK:
        return "network", "network access is not allowed"
    if code == codes.EXIT_FILE_ACCESS:
        shown = detail or "a file"
        return "file_access", f"the job tried to read {shown}, outside its input (only /input is readable)"
    last = next((line.strip() for line in reversed(log.splitlines()) if line.strip()), "")
    tail = f": {last[:300]}" if last else ""
    shown = "unknown" if code is None else f"{code:g}"
    return "error", f"the script failed with exit code {shown}{tail}"
