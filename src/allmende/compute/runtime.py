"""The one interface every compute runtime implements, its limits and outcomes, and the registry.

A runtime takes an :class:`~allmende.compute.algorithm.AlgorithmBundle`, the job's input files (each under
the table name the algorithm uses), :class:`Limits` and a fresh, empty work folder, and returns a
:class:`JobOutcome`: succeeded with ``result.csv`` in the work folder and its typed table, or failed with a
reason a user can read. ``run`` blocks; callers run it in a worker thread or process, and every runtime is
safe to call from several threads at once. A job's own failures never raise: they are outcomes.

New runtimes (e.g. WebAssembly via wasmtime) subclass :class:`Runtime` and are added to a
:class:`RuntimeRegistry`; callers only ever see the registry.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal

from allmende.compute.algorithm import AlgorithmBundle, AlgorithmKind
from allmende.compute.result import ResultTable

MiB = 1024 * 1024
MAX_LOG_CHARS = 64 * 1024
RESULT_NAME = "result.csv"

InputFormat = Literal["csv", "parquet", "json"]
FailureKind = Literal[
    "refused",  # the algorithm was not accepted (statement kind, runtime, inputs)
    "unavailable",  # the runtime cannot run jobs on this node (e.g. no working bubblewrap)
    "time",  # wall-clock limit
    "cpu",  # CPU-time limit
    "memory",
    "output",  # result or files larger than allowed
    "processes",
    "network",
    "file_access",  # tried to read something outside its input
    "result",  # no result, or one that cannot be read as a table
    "error",  # the algorithm itself failed (exception, SQL error, non-zero exit)
]

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SUFFIXES: dict[str, InputFormat] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
}


def describe_bytes(size: int) -> str:
    """``512 MiB``, ``10 MiB``, ``1.5 MiB``, ``800 bytes`` — how limits are written in reasons."""
    if size >= MiB:
        value = size / MiB
        return f"{value:.0f} MiB" if value == int(value) else f"{value:.1f} MiB"
    if size >= 1024:
        value = size / 1024
        return f"{value:.0f} KiB" if value == int(value) else f"{value:.1f} KiB"
    return f"{size} bytes"


def describe_seconds(seconds: float) -> str:
    return f"{seconds:g} s"


@dataclass(frozen=True)
class Limits:
    """What one job may use. ``threads`` bounds the worker threads a runtime starts (DuckDB threads,
    BLAS threads); ``processes`` bounds the processes and threads a sandboxed job may have besides those.
    """

    wall_seconds: float = 30.0
    cpu_seconds: float = 30.0
    memory_bytes: int = 512 * MiB
    max_output_bytes: int = 10 * MiB
    processes: int = 16
    threads: int = 2

    def __post_init__(self) -> None:
        for name in (
            "wall_seconds",
            "cpu_seconds",
            "memory_bytes",
            "max_output_bytes",
            "processes",
            "threads",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive")
        if self.memory_bytes < 16 * MiB:
            raise ValueError("limit memory_bytes must be at least 16 MiB")


@dataclass(frozen=True)
class InputFile:
    """One input of a job: the table name the algorithm uses and the file (CSV, Parquet or JSON)."""

    table: str
    path: Path
    format: InputFormat

    @classmethod
    def of(cls, table: str, path: Path, format: InputFormat | None = None) -> InputFile:
        """Validate the table name and find the format from the file suffix where not given."""
        validate_table_name(table)
        if format is None:
            found = _SUFFIXES.get(path.suffix.lower())
            if found is None:
                raise ValueError(
                    f"cannot tell the format of {path.name!r}; expected one of {', '.join(sorted(_SUFFIXES))}"
                )
            format = found
        return cls(table=table, path=path, format=format)

    @property
    def sandbox_name(self) -> str:
        """The file's name under ``/input`` in a sandbox: ``<table>.<csv|parquet|json>``."""
        return f"{self.table}.{self.format}"


def validate_table_name(name: str) -> None:
    """A table name is a plain identifier: a letter or ``_``, then letters, digits, ``_`` (≤ 63)."""
    if not _TABLE_NAME.match(name):
        raise ValueError(
            f"invalid table name {name!r}: use a letter or '_' followed by letters, digits or '_' "
            "(at most 63 characters)"
        )


def check_inputs(inputs: Sequence[InputFile]) -> None:
    """Table names unique (case-insensitive, as SQL sees them) and every file present and readable."""
    seen: set[str] = set()
    for item in inputs:
        validate_table_name(item.table)
        key = item.table.lower()
        if key in seen:
            raise ValueError(f"two inputs are called {item.table!r}")
        seen.add(key)
        if not item.path.is_file():
            raise ValueError(f"input {item.table!r}: {item.path} is not a file")


def bounded_log(text: str, limit: int = MAX_LOG_CHARS) -> str:
    """The start and the end of a long log, with a marker for what was left out."""
    if len(text) <= limit:
        return text
    head = limit // 4
    tail = limit - head
    return f"{text[:head]}\n[... {len(text) - limit} characters left out ...]\n{text[-tail:]}"


@dataclass(frozen=True)
class JobOutcome:
    """What a run gave: a result (file + typed table) or a failure with its reason and kind."""

    succeeded: bool
    reason: str | None = None
    failure: FailureKind | None = None
    result_file: Path | None = None
    table: ResultTable | None = None
    log: str = ""
    wall_seconds: float = 0.0

    @classmethod
    def success(cls, result_file: Path, table: ResultTable, log: str, wall_seconds: float) -> JobOutcome:
        return cls(True, None, None, result_file, table, bounded_log(log), wall_seconds)

    @classmethod
    def failed(
        cls, failure: FailureKind, reason: str, log: str = "", wall_seconds: float = 0.0
    ) -> JobOutcome:
        return cls(False, reason, failure, None, None, bounded_log(log), wall_seconds)


@dataclass(frozen=True)
class Availability:
    """Whether a runtime can run jobs on this node, and if not, why (shown to the owner)."""

    ok: bool
    reason: str = ""


class Runtime(ABC):
    """A place to run algorithms of one kind. Subclasses must be safe to call from several threads."""

    id: ClassVar[str]
    kind: ClassVar[AlgorithmKind]

    @abstractmethod
    def available(self) -> Availability:
        """Whether this runtime can run jobs here; cheap after the first call."""

    @abstractmethod
    def run(
        self, bundle: AlgorithmBundle, inputs: Sequence[InputFile], limits: Limits, work_dir: Path
    ) -> JobOutcome:
        """Run one job to its end (blocking). ``work_dir`` must be an empty folder for this job only."""


def prepare_work_dir(work_dir: Path) -> None:
    """The work folder must exist and be empty (a fresh folder per job); raises ``ValueError``."""
    if not work_dir.is_dir():
        raise ValueError(f"work folder {work_dir} does not exist")
    if any(work_dir.iterdir()):
        raise ValueError(f"work folder {work_dir} is not empty")


@dataclass
class RuntimeRegistry:
    """The runtimes a node offers, by runtime id (``duckdb-sql/1``, ``python-3.11-numpy-pandas/1``...)."""

    _runtimes: dict[str, Runtime] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def register(self, runtime: Runtime) -> None:
        with self._lock:
            if runtime.id in self._runtimes:
                raise ValueError(f"runtime {runtime.id!r} is registered already")
            self._runtimes[runtime.id] = runtime

    def get(self, runtime_id: str) -> Runtime | None:
        with self._lock:
            return self._runtimes.get(runtime_id)

    def ids(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(sorted(self._runtimes))

    def availability(self) -> dict[str, Availability]:
        """Each runtime's availability, for the owner's pages and the node's health."""
        return {runtime_id: self._runtimes[runtime_id].available() for runtime_id in self.ids()}

    def run(
        self, bundle: AlgorithmBundle, inputs: Iterable[InputFile], limits: Limits, work_dir: Path
    ) -> JobOutcome:
        """Run ``bundle`` on the runtime it names; unknown or unavailable runtimes are failed outcomes."""
        runtime = self.get(bundle.runtime)
        if runtime is None:
            known = ", ".join(self.ids()) or "none"
            return JobOutcome.failed(
                "refused", f"this node has no runtime {bundle.runtime!r} (it offers: {known})"
            )
        if runtime.kind != bundle.kind:
            return JobOutcome.failed(
                "refused", f"runtime {bundle.runtime!r} runs {runtime.kind} algorithms, not {bundle.kind}"
            )
        status = runtime.available()
        if not status.ok:
            return JobOutcome.failed(
                "unavailable", f"runtime {bundle.runtime!r} is not available: {status.reason}"
            )
        items = tuple(inputs)
        try:
            check_inputs(items)
        except ValueError as exc:
            return JobOutcome.failed("refused", str(exc))
        prepare_work_dir(work_dir)
        return runtime.run(bundle, items, limits, work_dir)


def default_registry() -> RuntimeRegistry:
    """The runtimes every node has: locked-down DuckDB SQL and the bubblewrap Python sandbox."""
    from allmende.compute.python_runtime import PythonRuntime
    from allmende.compute.sql_runtime import SqlRuntime

    registry = RuntimeRegistry()
    registry.register(SqlRuntime())
    registry.register(PythonRuntime())
    return registry
