"""Compute jobs as the API, the CLI and the pages show them."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from allmende.clock import isoformat
from allmende.compute.records import ApprovedAlgorithmRecord, ComputeJobRecord

PREVIEW_ROWS = 20


def peer_view(record: ComputeJobRecord) -> dict[str, Any]:
    """What the provider tells the consumer about a job (no log: it may echo the data)."""
    return {
        "id": record.id,
        "agreementId": record.agreement_id,
        "datasetId": record.dataset_id,
        "title": record.title,
        "algorithm": record.digest,
        "state": record.state,
        "reason": record.reason,
        "checks": list(record.checks or []),
        "manualRelease": record.manual_release,
        "resultBytes": record.result_bytes if record.state == "released" else None,
        "resultRows": record.result_rows if record.state == "released" else None,
        "epsilon": record.epsilon_spent if record.state == "released" else 0.0,
        "createdAt": isoformat(record.created_at),
        "updatedAt": isoformat(record.updated_at),
    }


def job_view(record: ComputeJobRecord, *, details: bool = False) -> dict[str, Any]:
    """A job as this node's owner sees it (with code, log and result preview when ``details``)."""
    view: dict[str, Any] = {
        "id": record.id,
        "role": record.role,
        "agreementId": record.agreement_id,
        "providerDid": record.provider_did,
        "consumerDid": record.consumer_did,
        "datasetId": record.dataset_id,
        "title": record.title,
        "kind": record.kind,
        "runtime": record.runtime,
        "algorithm": record.digest,
        "state": record.state,
        "reason": record.reason,
        "manualRelease": record.manual_release,
        "checks": list(record.checks or []),
        "resultBytes": record.result_bytes,
        "resultRows": record.result_rows,
        "epsilon": record.epsilon_spent,
        "decidedBy": record.decided_by,
        "remoteId": record.remote_id,
        "createdAt": isoformat(record.created_at),
        "updatedAt": isoformat(record.updated_at),
        "finishedAt": isoformat(record.finished_at) if record.finished_at else None,
    }
    if details:
        view["code"] = record.code
        view["options"] = dict(record.options or {})
        view["log"] = record.log
        view["preview"] = result_preview(record)
    return view


def result_preview(record: ComputeJobRecord, limit: int = PREVIEW_ROWS) -> dict[str, Any] | None:
    """The first rows of the job's result file (the candidate on the provider, the copy on the consumer)."""
    data = result_bytes(record)
    if data is None:
        return None
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")))
    header = next(reader, [])
    rows = []
    for number, row in enumerate(reader):
        if number >= limit:
            break
        rows.append(row)
    return {"columns": header, "rows": rows, "more": (record.result_rows or 0) > len(rows)}


def result_bytes(record: ComputeJobRecord) -> bytes | None:
    if not record.result_path:
        return None
    try:
        return Path(record.result_path).read_bytes()
    except OSError:
        return None


def algorithm_view(record: ApprovedAlgorithmRecord) -> dict[str, Any]:
    return {
        "digest": record.digest,
        "name": record.name,
        "note": record.note,
        "approvedBy": record.approved_by,
        "approvedAt": isoformat(record.approved_at),
    }
