"""The federated catalog's store: which nodes to visit and when, and the datasets they showed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from allmende.network.extract import DatasetFields
from allmende.network.facets import facet_text
from allmende.network.records import FederatedDatasetRecord, FederatedNodeRecord, FederatedValueRecord
from allmende.network.targets import Targets

BACKOFF_BASE_SECONDS = 30.0
BACKOFF_CAP_SECONDS = 6 * 3600.0
MAX_ERROR_LENGTH = 1000
MAX_VALUE_LENGTH = 300
_DATASETS = cast(Table, FederatedDatasetRecord.__table__)
_VALUES = cast(Table, FederatedValueRecord.__table__)


_version = [0]


def catalog_version() -> int:
    """Counts changes of the federated catalog made by this process (for caches of derived data)."""
    return _version[0]


@dataclass(frozen=True)
class Visit:
    """A node due for a visit: where it is and the ETags of its catalog pages from the last visit."""

    did: str
    dsp_url: str
    etags: tuple[str, ...]


def backoff_seconds(failures: int) -> float:
    """How long to wait after ``failures`` failed visits in a row (doubling, capped)."""
    if failures <= 0:
        return 0.0
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * float(2 ** min(failures - 1, 30)))


def sync_nodes(session: Session, targets: Targets) -> int:
    """Make ``federated_nodes`` the crawl targets; nodes that left (and their datasets) are dropped.

    Members of directories whose list could not be read are kept as they are. Returns how many
    nodes were dropped.
    """
    known = {record.did: record for record in session.execute(select(FederatedNodeRecord)).scalars()}
    wanted = {target.did for target in targets.nodes}
    for target in targets.nodes:
        record = known.get(target.did)
        if record is None:
            session.add(
                FederatedNodeRecord(
                    did=target.did,
                    name=target.name,
                    dsp_url=target.dsp_url,
                    directory_did=target.directory_did,
                    sector=target.sector,
                    region=target.region,
                    size_class=target.size_class,
                    failures=0,
                )
            )
            continue
        if record.dsp_url != target.dsp_url:
            record.etag = None
        if (record.sector, record.region) != (target.sector, target.region):
            _replace_node_values(session, target.did, target.sector, target.region)
        record.name, record.dsp_url, record.directory_did = target.name, target.dsp_url, target.directory_did
        record.sector, record.region, record.size_class = target.sector, target.region, target.size_class
    gone = [
        did
        for did, record in known.items()
        if did not in wanted and record.directory_did not in targets.unavailable_directories
    ]
    if gone:
        _version[0] += 1
        _delete_datasets(session, gone)
        session.execute(delete(FederatedNodeRecord).where(FederatedNodeRecord.did.in_(gone)))
    session.flush()
    return len(gone)


def _delete_datasets(session: Session, dids: Sequence[str]) -> None:
    rows = select(FederatedDatasetRecord.id).where(FederatedDatasetRecord.node_did.in_(list(dids)))
    session.execute(delete(FederatedValueRecord).where(FederatedValueRecord.dataset_row.in_(rows)))
    session.execute(delete(FederatedDatasetRecord).where(FederatedDatasetRecord.node_did.in_(list(dids))))


def due_visits(session: Session, now: datetime, *, full: bool) -> tuple[list[Visit], int]:
    """The nodes to visit now (all of them with ``full``, else those not backing off), and how many
    wait for their back-off to end. ``full`` also forgets the ETags, so every catalog is fetched."""
    visits: list[Visit] = []
    waiting = 0
    for record in session.execute(select(FederatedNodeRecord).order_by(FederatedNodeRecord.did)).scalars():
        if not full and record.next_attempt_at is not None and record.next_attempt_at > now:
            waiting += 1
            continue
        etags = () if full or not record.etag else tuple(record.etag.split())
        visits.append(Visit(record.did, record.dsp_url, etags))
    return visits, waiting


def store_catalog(
    session: Session, did: str, etags: Sequence[str], datasets: Sequence[DatasetFields], now: datetime
) -> None:
    """Replace the node's cached datasets with ``datasets`` (those it no longer shows disappear)."""
    _version[0] += 1
    _delete_datasets(session, [did])
    node = session.get(FederatedNodeRecord, did)
    sector, region = (node.sector or "", node.region or "") if node else ("", "")
    unique = {fields.dataset_id: fields for fields in datasets}
    values = {dataset_id: _values(fields, sector, region) for dataset_id, fields in unique.items()}
    rows = [
        {
            "node_did": did,
            "dataset_id": fields.dataset_id,
            "title": fields.title,
            "description": fields.description,
            "keywords": "\n".join(fields.keywords),
            "themes": "\n".join(fields.themes),
            "formats": "\n".join(fields.formats),
            "publisher": fields.publisher,
            "templates": "\n".join(fields.templates),
            "offers": list(fields.offers),
            "dataset": fields.raw,
            "modified": fields.modified,
            "updated_at": now,
            "facets": facet_text(values[fields.dataset_id]),
        }
        for fields in unique.values()
    ]
    if rows:
        # Core executemany, then one query for the new row ids: RETURNING would cost a statement per row.
        session.execute(insert(_DATASETS), rows)
        inserted = session.execute(
            select(FederatedDatasetRecord.id, FederatedDatasetRecord.dataset_id).where(
                FederatedDatasetRecord.node_did == did
            )
        ).all()
        value_rows = [
            {"dataset_row": row_id, "kind": kind, "key": key, "value": value}
            for row_id, dataset_id in inserted
            for (kind, key), value in values[dataset_id].items()
        ]
        if value_rows:
            session.execute(insert(_VALUES), value_rows)
    _succeeded(session, [did], now, etag=" ".join(etags) or None)


def _values(fields: DatasetFields, sector: str, region: str) -> dict[tuple[str, str], str]:
    """The filter values of one dataset: (kind, lower-case value) -> the value as written."""
    kinds: list[tuple[str, Sequence[str]]] = [
        ("publisher", [fields.publisher]),
        ("keyword", fields.keywords),
        ("theme", fields.themes),
        ("format", fields.formats),
        ("template", fields.templates),
        ("sector", [sector]),
        ("region", [region]),
    ]
    found: dict[tuple[str, str], str] = {}
    for kind, values in kinds:
        for value in values:
            text = value.strip()[:MAX_VALUE_LENGTH]
            if text:
                found.setdefault((kind, text.lower()), text)
    return found


def _replace_node_values(session: Session, did: str, sector: str, region: str) -> None:
    """A node's sector or region changed in its directory: update its datasets' filter values."""
    _version[0] += 1
    rows = select(FederatedDatasetRecord.id).where(FederatedDatasetRecord.node_did == did)
    session.execute(
        delete(FederatedValueRecord).where(
            FederatedValueRecord.kind.in_(("sector", "region")), FederatedValueRecord.dataset_row.in_(rows)
        )
    )
    for kind, value in (
        ("sector", sector.strip()[:MAX_VALUE_LENGTH]),
        ("region", region.strip()[:MAX_VALUE_LENGTH]),
    ):
        if value:
            session.execute(
                insert(FederatedValueRecord).from_select(
                    ["dataset_row", "kind", "key", "value"],
                    select(
                        FederatedDatasetRecord.id, literal(kind), literal(value.lower()), literal(value)
                    ).where(FederatedDatasetRecord.node_did == did),
                )
            )
    pairs: dict[int, list[tuple[str, str]]] = {}
    listed = select(_VALUES.c.dataset_row, _VALUES.c.kind, _VALUES.c.key).where(
        _VALUES.c.dataset_row.in_(rows)
    )
    for row_id, kind, key in session.execute(listed):
        pairs.setdefault(int(row_id), []).append((kind, key))
    if pairs:
        session.execute(
            update(_DATASETS).where(_DATASETS.c.id == bindparam("row")).values(facets=bindparam("tokens")),
            [{"row": row_id, "tokens": facet_text(found)} for row_id, found in pairs.items()],
        )


def record_unchanged(session: Session, dids: Sequence[str], now: datetime) -> None:
    """These nodes answered 304 Not Modified: nothing changes but their success."""
    _succeeded(session, dids, now)


def _succeeded(session: Session, dids: Sequence[str], now: datetime, **values: object) -> None:
    if dids:
        session.execute(
            update(FederatedNodeRecord)
            .where(FederatedNodeRecord.did.in_(list(dids)))
            .values(
                last_attempt_at=now,
                last_success_at=now,
                failures=0,
                next_attempt_at=None,
                last_error=None,
                **values,
            )
        )


def record_failure(session: Session, did: str, error: str, now: datetime) -> None:
    """A failed visit: count it and put the next one off (exponential back-off)."""
    record = session.get(FederatedNodeRecord, did)
    if record is None:
        return
    record.failures = (record.failures or 0) + 1
    record.last_attempt_at = now
    record.last_error = error[:MAX_ERROR_LENGTH]
    record.next_attempt_at = now + timedelta(seconds=backoff_seconds(record.failures))


def dataset_count(session: Session) -> int:
    """How many datasets the federated catalog holds."""
    return int(session.execute(select(func.count()).select_from(FederatedDatasetRecord)).scalar_one())
