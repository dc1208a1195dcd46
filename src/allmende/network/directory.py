"""Directory side: applications to join this node's community, admission, refusal, revocation.

A community is identified by the DID of the node that runs its directory. Admission issues a membership
credential (valid ``membership_days``) with the next free index of the directory's revocation status
list; revocation sets that bit. Every decision is written to the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import isoformat, utcnow
from allmende.identity.keys import KeyStore
from allmende.network.credentials import issue_membership
from allmende.network.errors import NetworkError
from allmende.network.records import DirectoryEntryRecord
from allmende.network.status_list import StatusList
from allmende.settings import SIZE_CLASSES, NodeSettings


class Node(Protocol):
    """What the directory needs of a node (the running Node, or the CLI's view of a data folder)."""

    settings: NodeSettings
    did: str
    base_url: str
    keys: KeyStore

    @property
    def name(self) -> str: ...


STATES = ("pending", "admitted", "refused", "revoked")
STATUS_LIST_PATH = "/directory/status-list"


@dataclass(frozen=True)
class Application:
    """What an applicant sends (validated by ``application_from_json``)."""

    name: str
    dsp_url: str
    base_url: str
    sector: str = ""
    region: str = ""
    size_class: str = ""
    message: str = ""


_LIMITS = {"name": 300, "dspUrl": 1000, "baseUrl": 1000, "sector": 200, "region": 200, "message": 4000}


def application_from_json(body: object) -> Application:
    """Validate an application document; NetworkError lists every problem."""
    if not isinstance(body, dict):
        raise NetworkError("the application must be a JSON object")
    problems: list[str] = []
    values: dict[str, str] = {}
    for field, limit in {**_LIMITS, "sizeClass": 20}.items():
        value = body.get(field, "")
        if not isinstance(value, str):
            problems.append(f"{field} must be a string")
            continue
        value = value.strip()
        if len(value) > limit:
            problems.append(f"{field} is longer than {limit} characters")
        values[field] = value
    for field in ("name", "dspUrl", "baseUrl"):
        if not values.get(field):
            problems.append(f"{field} is required")
    for field in ("dspUrl", "baseUrl"):
        if values.get(field) and not values[field].startswith(("http://", "https://")):
            problems.append(f"{field} must be an http(s) URL")
    if values.get("sizeClass", "") not in SIZE_CLASSES:
        problems.append("sizeClass must be empty or one of micro, small, medium, large")
    if problems:
        raise NetworkError("invalid application: " + "; ".join(problems))
    return Application(
        name=values["name"],
        dsp_url=values["dspUrl"],
        base_url=values["baseUrl"].rstrip("/"),
        sector=values["sector"],
        region=values["region"],
        size_class=values["sizeClass"],
        message=values["message"],
    )


def list_entries(session: Session, state: str | None = None) -> list[DirectoryEntryRecord]:
    """The directory's entries (optionally in one state), newest first."""
    if state is not None and state not in STATES:
        raise NetworkError(f"unknown state {state!r}; states: {', '.join(STATES)}")
    query = select(DirectoryEntryRecord).order_by(
        DirectoryEntryRecord.received_at.desc(), DirectoryEntryRecord.id
    )
    if state is not None:
        query = query.where(DirectoryEntryRecord.state == state)
    return list(session.execute(query).scalars())


def receive_application(
    session: Session, node: Node, applicant_did: str, application: Application
) -> DirectoryEntryRecord:
    """Store an application from ``applicant_did`` (admitted at once with ``directory_auto_admit``).

    A DID with a pending or admitted entry cannot apply again (NetworkError 409); one that was refused
    or revoked gets a new entry.
    """
    open_entry = session.execute(
        select(DirectoryEntryRecord.id, DirectoryEntryRecord.state).where(
            DirectoryEntryRecord.applicant_did == applicant_did,
            DirectoryEntryRecord.state.in_(("pending", "admitted")),
        )
    ).first()
    if open_entry is not None:
        raise NetworkError(
            f"{applicant_did} already has a {open_entry.state} application ({open_entry.id})", status=409
        )
    entry = DirectoryEntryRecord(
        id=f"urn:uuid:{uuid.uuid4()}",
        applicant_did=applicant_did,
        name=application.name,
        dsp_url=application.dsp_url,
        base_url=application.base_url,
        sector=application.sector,
        region=application.region,
        size_class=application.size_class,
        message=application.message,
        state="pending",
        role="member",
        received_at=utcnow(),
    )
    session.add(entry)
    session.flush()
    audit.append(
        session,
        actor=applicant_did,
        event="directory.applied",
        subject=entry.id,
        detail={"name": entry.name, "dspUrl": entry.dsp_url},
    )
    if node.settings.directory_auto_admit:
        admit(session, node, entry.id, actor=f"{node.did} (auto-admit)")
    return entry


def _entry(session: Session, entry_id: str, *states: str) -> DirectoryEntryRecord:
    entry = session.get(DirectoryEntryRecord, entry_id)
    if entry is None:
        raise NetworkError(f"no directory entry {entry_id}", status=404)
    if entry.state not in states:
        raise NetworkError(f"the entry is {entry.state}, not {' or '.join(states)}", status=409)
    return entry


def admit(session: Session, node: Node, entry_id: str, actor: str) -> DirectoryEntryRecord:
    """Admit a pending applicant: issue the membership credential with the next free status index."""
    entry = _entry(session, entry_id, "pending")
    highest = session.execute(select(func.max(DirectoryEntryRecord.status_index))).scalar()
    now = utcnow()
    entry.status_index = 0 if highest is None else highest + 1
    entry.credential_id = f"urn:uuid:{uuid.uuid4()}"
    entry.valid_until = now + timedelta(days=int(node.settings.membership_days))
    key = node.keys.active
    entry.credential = issue_membership(
        key,
        issuer=node.did,
        key_id=key.key_id,
        holder=entry.applicant_did,
        community_name=community_name(node),
        valid_from=now,
        valid_until=entry.valid_until,
        status_url=node.base_url + STATUS_LIST_PATH,
        status_index=entry.status_index,
        credential_id=entry.credential_id,
    )
    _decide(session, entry, "admitted", None, actor)
    return entry


def refuse(session: Session, entry_id: str, reason: str, actor: str) -> DirectoryEntryRecord:
    """Refuse a pending application, with the reason the applicant is told."""
    entry = _entry(session, entry_id, "pending")
    _decide(session, entry, "refused", _reason(reason), actor)
    return entry


def revoke(session: Session, entry_id: str, reason: str, actor: str) -> DirectoryEntryRecord:
    """Revoke an admitted member: its credential's bit is set in the status list from now on."""
    entry = _entry(session, entry_id, "admitted")
    _decide(session, entry, "revoked", _reason(reason), actor)
    return entry


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise NetworkError("a reason is required")
    if len(text) > 2000:
        raise NetworkError("the reason is longer than 2000 characters")
    return text


def _decide(
    session: Session, entry: DirectoryEntryRecord, state: str, reason: str | None, actor: str
) -> None:
    entry.state = state
    entry.reason = reason
    entry.decided_at = utcnow()
    entry.decided_by = actor
    detail: dict[str, Any] = {"member": entry.applicant_did}
    if reason is not None:
        detail["reason"] = reason
    if entry.status_index is not None:
        detail["statusIndex"] = entry.status_index
    audit.append(session, actor=actor, event=f"directory.{state}", subject=entry.id, detail=detail)


def community_name(node: Node) -> str:
    """The community's display name: ``directory_name``, else the node's name."""
    return str(node.settings.directory_name or node.name or node.did)


def members_view(session: Session, node: Node) -> dict[str, Any]:
    """The member list document: the community and its admitted members."""
    members = list_entries(session, "admitted")
    return {
        "community": node.did,
        "name": community_name(node),
        "members": [
            {
                "did": entry.applicant_did,
                "name": entry.name,
                "dspUrl": entry.dsp_url,
                "baseUrl": entry.base_url,
                "sector": entry.sector,
                "region": entry.region,
                "sizeClass": entry.size_class,
                "role": entry.role,
                "since": isoformat(entry.decided_at or entry.received_at),
            }
            for entry in sorted(members, key=lambda e: (e.decided_at or e.received_at, e.id))
        ],
    }


def revocations(session: Session) -> StatusList:
    """The directory's revocation status list: the bits of revoked members are set."""
    indexes = session.execute(
        select(DirectoryEntryRecord.status_index).where(
            DirectoryEntryRecord.state == "revoked", DirectoryEntryRecord.status_index.is_not(None)
        )
    ).scalars()
    return StatusList.with_set([index for index in indexes if index is not None])


def application_view(entry: DirectoryEntryRecord, node: Node) -> dict[str, Any]:
    """What the applicant learns about its application."""
    view: dict[str, Any] = {
        "id": entry.id,
        "state": entry.state,
        "reason": entry.reason,
        "community": node.did,
        "name": community_name(node),
        "receivedAt": isoformat(entry.received_at),
    }
    if entry.state == "admitted":
        view["credential"] = entry.credential
        view["validUntil"] = isoformat(entry.valid_until) if entry.valid_until else None
    return view


def entry_view(entry: DirectoryEntryRecord) -> dict[str, Any]:
    """An entry as the directory's operator sees it (management API, CLI)."""
    return {
        "id": entry.id,
        "did": entry.applicant_did,
        "name": entry.name,
        "dspUrl": entry.dsp_url,
        "baseUrl": entry.base_url,
        "sector": entry.sector,
        "region": entry.region,
        "sizeClass": entry.size_class,
        "message": entry.message,
        "state": entry.state,
        "role": entry.role,
        "reason": entry.reason,
        "statusIndex": entry.status_index,
        "validUntil": isoformat(entry.valid_until) if entry.valid_until else None,
        "receivedAt": isoformat(entry.received_at),
        "decidedAt": isoformat(entry.decided_at) if entry.decided_at else None,
        "decidedBy": entry.decided_by,
    }
