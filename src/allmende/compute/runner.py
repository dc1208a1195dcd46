"""Runs queued jobs one after another on the provider's node, outside any transaction.

Claim (transaction) → run in a worker thread (the runtime's sandbox and limits) → release gates →
record (transaction). A node that stops mid-run finds the job queued again on its next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import anyio
from sqlalchemy.orm import Session

from allmende.clock import utcnow
from allmende.compute import jobs
from allmende.compute.gates import Budget, GatePolicy, release
from allmende.compute.requests import privacy_from_json
from allmende.compute.runtime import Limits, MiB, RuntimeRegistry

if TYPE_CHECKING:
    from allmende.node import Node

log = logging.getLogger(__name__)
T = TypeVar("T")
RESULT_FILE = "result.csv"


class ComputeRunner:
    """The node's job queue worker; :meth:`wake` after queueing a job to start it at once."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._wake = asyncio.Event()
        self._registry: RuntimeRegistry | None = None

    @property
    def registry(self) -> RuntimeRegistry:
        """The runtimes (created on first use: they load DuckDB and probe bubblewrap)."""
        if self._registry is None:
            from allmende.compute.runtime import default_registry

            self._registry = default_registry()
        return self._registry

    def limits(self) -> Limits:
        settings = self.node.settings
        return Limits(
            wall_seconds=settings.compute_wall_seconds,
            cpu_seconds=settings.compute_wall_seconds,
            memory_bytes=settings.compute_memory_mib * MiB,
            max_output_bytes=settings.compute_max_output_mib * MiB,
        )

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        await self._in_transaction(jobs.requeue_interrupted)
        while True:
            try:
                await self.run_pending()
            except Exception:  # a broken job must not stop the queue
                log.exception("compute runner")
            self._wake.clear()
            interval = self.node.settings.compute_poll_seconds or None  # 0: only when woken
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)

    async def run_pending(self) -> int:
        """Run queued jobs until none is left; returns how many ran."""
        ran = 0
        while True:
            job = await self._in_transaction(lambda s: jobs.claim_next(s, utcnow()))
            if job is None:
                return ran
            await anyio.to_thread.run_sync(self._run_and_record, job)
            ran += 1

    def _run_and_record(self, job: jobs.AcceptedJob) -> None:
        from allmende.compute.algorithm import AlgorithmError, make_bundle

        data_dir = self.node.settings.data_dir
        folder = jobs.job_folder(data_dir, job.id)
        shutil.rmtree(folder, ignore_errors=True)
        work = folder / "work"
        work.mkdir(parents=True)
        try:
            bundle = make_bundle(job.kind, job.code, job.runtime)
        except AlgorithmError as exc:
            self._failed(job.id, str(exc), "")
            return
        outcome = self.registry.run(bundle, job.inputs.files, self.limits(), work)
        if not outcome.succeeded or outcome.table is None:
            self._failed(job.id, outcome.reason or "the job failed", outcome.log)
            return
        gate = self._gate_policy(job)
        if isinstance(gate, str):
            self._failed(job.id, gate, outcome.log)
            return
        decided = release(outcome.table, gate)
        shutil.rmtree(work, ignore_errors=True)
        path: Path | None = None
        if decided.released and decided.csv is not None:
            path = folder / RESULT_FILE
            path.write_bytes(decided.csv)
        rows = len(decided.table.rows) if decided.table is not None else None
        with self.node.db.transaction() as session:
            jobs.record_gated(
                session,
                job.id,
                released=decided.released,
                reasons=decided.reasons,
                checks=decided.checks_passed,
                result_path=path,
                result_bytes=len(decided.csv) if decided.csv is not None else None,
                result_rows=rows,
                epsilon=decided.epsilon_spent,
                log=outcome.log,
                now=utcnow(),
            )
        if not decided.released:
            jobs.discard_result(data_dir, job.id)

    def _gate_policy(self, job: jobs.AcceptedJob) -> GatePolicy | str:
        try:
            privacy = privacy_from_json(job.options.get("privacy"))
        except ValueError as exc:
            return f"the job's privacy request is invalid: {exc}"
        node_limit = self.node.settings.compute_max_output_mib * MiB
        terms = job.terms
        limit = min(node_limit, terms.max_output_bytes) if terms.max_output_bytes else node_limit
        budget = None
        if privacy is not None:
            total = terms.epsilon_budget if terms.epsilon_budget is not None else privacy.epsilon
            budget = Budget(total=total, spent=job.spent if terms.epsilon_budget is not None else 0.0)
        return GatePolicy(
            max_bytes=limit,
            min_group_size=terms.min_group_size,
            group_size_column=str(job.options.get("groupSizeColumn") or "n"),
            privacy=privacy,
            budget=budget,
        )

    def _failed(self, job_id: str, reason: str, log_text: str) -> None:
        with self.node.db.transaction() as session:
            jobs.record_failure(session, job_id, reason, log_text, utcnow())
        jobs.discard_result(self.node.settings.data_dir, job_id)

    async def _in_transaction(self, work: Callable[[Session], T]) -> T:
        def run() -> T:
            with self.node.db.transaction() as session:
                return work(session)

        return await anyio.to_thread.run_sync(run)
