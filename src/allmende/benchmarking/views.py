"""JSON views of rounds and participations for the management API and the CLI."""

from __future__ import annotations

from typing import Any

from allmende.benchmarking.calls import round_url
from allmende.benchmarking.kpis import kpis_from_json
from allmende.benchmarking.records import (
    BenchmarkParticipationRecord,
    BenchmarkRoundParticipantRecord,
    BenchmarkRoundRecord,
)
from allmende.benchmarking.release import figures_from_json, position
from allmende.clock import isoformat


def round_view(
    record: BenchmarkRoundRecord, participants: list[BenchmarkRoundParticipantRecord], base_url: str
) -> dict[str, Any]:
    """A round as its organiser sees it: definition, state, who joined, progress, the released result."""
    return {
        "id": record.id,
        "url": round_url(base_url, record.id),
        "title": record.title,
        "description": record.description,
        "kpis": record.kpis,
        "minParticipants": record.min_participants,
        "requestedThreshold": record.requested_threshold,
        "threshold": record.threshold,
        "community": record.community,
        "deadline": isoformat(record.deadline),
        "phaseSeconds": record.phase_seconds,
        "epsilon": record.epsilon,
        "state": record.state,
        "reason": record.reason,
        "phaseDeadline": isoformat(record.phase_deadline) if record.phase_deadline else None,
        "contributors": len(record.dealers) if record.dealers is not None else None,
        "participants": [
            {
                "did": p.did,
                "name": p.name,
                "endpoint": p.endpoint,
                "position": p.position,
                "holdsAllShares": p.complete,
                "shareSumReceived": p.share_sum is not None,
                "contributes": record.dealers is not None and p.position in record.dealers,
                "joinedAt": isoformat(p.joined_at),
            }
            for p in participants
        ],
        "result": record.result,
        "createdAt": isoformat(record.created_at),
        "updatedAt": isoformat(record.updated_at),
    }


def participation_view(record: BenchmarkParticipationRecord) -> dict[str, Any]:
    """This node's participation; once released, ``standing`` says where its own values stand."""
    standing: list[dict[str, Any]] = []
    if record.result is not None:
        kpis = kpis_from_json(record.definition.get("kpis"))
        for figures in figures_from_json(kpis, record.result):
            value = record.own_values.get(figures.kpi.name)
            where = position(float(value), figures) if isinstance(value, int | float) else None
            standing.append(
                {
                    "kpi": figures.kpi.name,
                    "unit": figures.kpi.unit,
                    "withheld": figures.withheld,
                    "mean": figures.mean,
                    "quartiles": figures.quartiles,
                    "count": figures.count,
                    **(where or {"value": value}),
                }
            )
    return {
        "id": record.id,
        "roundId": record.round_id,
        "roundUrl": record.round_url,
        "organiser": record.organiser_did,
        "title": record.title,
        "kpis": record.definition.get("kpis"),
        "minParticipants": record.definition.get("minParticipants"),
        "deadline": record.definition.get("deadline"),
        "ownValues": record.own_values,
        "state": record.state,
        "reason": record.reason,
        "position": record.position,
        "threshold": record.threshold,
        "result": record.result,
        "standing": standing,
        "joinedAt": isoformat(record.joined_at),
        "updatedAt": isoformat(record.updated_at),
    }
