"""Member side: applying to a community's directory, following the application, holding the credential.

The application is a JSON document POSTed to ``<directory>/directory/applications`` with this node's
self-issued ID token (audience: the directory's DID), so the directory knows who applies. The directory
answers with the application's id and state; ``refresh`` asks again and stores the credential once the
application is admitted (after checking it like any provider would).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.audit import log as audit
from allmende.clock import utcnow
from allmende.identity.did import did_from_url
from allmende.identity.errors import DidError
from allmende.network.credentials import CredentialError
from allmende.network.errors import NetworkError
from allmende.network.presentation import verify_credential
from allmende.network.records import MembershipRecord

if TYPE_CHECKING:
    from allmende.node import Node

log = logging.getLogger(__name__)
T = TypeVar("T")

_STATES = {"pending": "applied", "admitted": "admitted", "refused": "refused", "revoked": "revoked"}
OPEN_STATES = ("applied", "admitted")


def list_memberships(session: Session) -> list[MembershipRecord]:
    """This node's memberships and applications, newest first."""
    query = select(MembershipRecord).order_by(MembershipRecord.applied_at.desc(), MembershipRecord.id)
    return list(session.execute(query).scalars())


def held_credentials(session: Session) -> list[tuple[str, datetime]]:
    """The credentials of admitted memberships with their expiry, newest first."""
    query = (
        select(MembershipRecord.credential, MembershipRecord.valid_until)
        .where(MembershipRecord.state == "admitted", MembershipRecord.credential.is_not(None))
        .order_by(MembershipRecord.updated_at.desc())
    )
    return [(str(jwt), until) for jwt, until in session.execute(query) if until is not None]


def directory_base(directory_url: str) -> tuple[str, str]:
    """The directory's base URL and DID from what a user typed (``/directory`` at the end is accepted)."""
    base = directory_url.strip().rstrip("/")
    base = base.removesuffix("/directory")
    if not base.startswith(("http://", "https://")):
        raise NetworkError(f"{directory_url!r} is not an http(s) address of a directory")
    try:
        return base, did_from_url(base)
    except DidError as error:
        raise NetworkError(f"{directory_url!r} is not a usable directory address: {error.reason}") from error


async def apply(node: Node, directory_url: str, message: str = "") -> MembershipRecord:
    """Apply to the directory at ``directory_url``; the stored membership (applied, or admitted at once).

    Raises NetworkError when the directory is unreachable or refuses (e.g. 409: already a member).
    """
    base, directory_did = directory_base(directory_url)
    if directory_did == node.did:
        raise NetworkError("a node cannot apply to its own directory")
    existing = await in_read(node, lambda s: _open_membership(s, directory_did))
    if existing is not None:
        raise NetworkError(f"this node already {existing.state} to {base} ({existing.id})", status=409)
    settings = node.settings
    body = {
        "name": node.name,
        "dspUrl": node.dsp_url,
        "baseUrl": node.base_url,
        "sector": settings.sector,
        "region": settings.region,
        "sizeClass": settings.size_class,
        "message": message,
    }
    answer = await _call(node, "POST", f"{base}/directory/applications", directory_did, body)
    now = utcnow()
    record = MembershipRecord(
        id=f"urn:uuid:{uuid.uuid4()}",
        directory_url=base,
        directory_did=directory_did,
        community=directory_did,
        community_name=str(answer.get("name") or ""),
        application_id=str(answer.get("id") or ""),
        state="applied",
        reason=None,
        credential=None,
        valid_until=None,
        applied_at=now,
        updated_at=now,
    )
    if not record.application_id:
        raise NetworkError(f"the directory at {base} answered without an application id", status=502)
    await _take_over(node, record, answer)

    def store(session: Session) -> MembershipRecord:
        session.add(record)
        audit.append(
            session,
            actor=node.did,
            event="membership.applied",
            subject=record.id,
            detail={"directory": directory_did, "state": record.state},
        )
        return record

    stored = await in_transaction(node, store)
    node.forget_credentials()
    return stored


async def refresh(node: Node, membership_id: str) -> MembershipRecord:
    """Ask the directory about the application and store what changed (credential, state, reason)."""
    record = await in_read(node, lambda s: s.get(MembershipRecord, membership_id))
    if record is None:
        raise NetworkError(f"no membership {membership_id}", status=404)
    url = f"{record.directory_url}/directory/applications/{record.application_id}"
    answer = await _call(node, "GET", url, record.directory_did, None)
    before = (record.state, record.credential)
    await _take_over(node, record, answer)
    if record.state == "admitted" and record.valid_until is not None and record.valid_until <= utcnow():
        record.state = "expired"

    def store(session: Session) -> MembershipRecord:
        stored = session.get(MembershipRecord, membership_id)
        if stored is None:
            raise NetworkError(f"no membership {membership_id}", status=404)
        for name in ("state", "reason", "credential", "valid_until", "community_name"):
            setattr(stored, name, getattr(record, name))
        stored.updated_at = utcnow()
        if (stored.state, stored.credential) != before:
            audit.append(
                session,
                actor=node.did,
                event=f"membership.{stored.state}",
                subject=stored.id,
                detail={"directory": stored.directory_did, "reason": stored.reason},
            )
        return stored

    stored = await in_transaction(node, store)
    node.forget_credentials()
    return stored


async def refresh_open(node: Node) -> int:
    """Refresh every applied or admitted membership; failures are logged. The number refreshed."""
    ids = await in_read(
        node,
        lambda s: list(
            s.execute(select(MembershipRecord.id).where(MembershipRecord.state.in_(OPEN_STATES))).scalars()
        ),
    )
    done = 0
    for membership_id in ids:
        try:
            await refresh(node, membership_id)
            done += 1
        except NetworkError as error:
            log.info("membership %s not refreshed: %s", membership_id, error.message)
    return done


async def poll_memberships(node: Node) -> None:
    """Refresh open memberships every ``membership_poll_seconds`` until cancelled (0: never)."""
    while True:
        interval = float(node.settings.membership_poll_seconds)
        if interval <= 0:
            return
        await asyncio.sleep(interval)
        with contextlib.suppress(Exception):  # one failed round must not end the loop
            await refresh_open(node)


def _open_membership(session: Session, directory_did: str) -> MembershipRecord | None:
    query = select(MembershipRecord).where(
        MembershipRecord.directory_did == directory_did, MembershipRecord.state.in_(OPEN_STATES)
    )
    return session.execute(query.limit(1)).scalars().first()


async def _take_over(node: Node, record: MembershipRecord, answer: dict[str, Any]) -> None:
    """Copy the directory's answer into ``record``; a credential is stored only once it checks out."""
    state = _STATES.get(str(answer.get("state")))
    if state is None:
        raise NetworkError(f"the directory answered an unknown state {answer.get('state')!r}", status=502)
    record.state = state
    record.reason = answer.get("reason") if isinstance(answer.get("reason"), str) else None
    if answer.get("name"):
        record.community_name = str(answer["name"])
    credential = answer.get("credential")
    if state != "admitted" or not isinstance(credential, str) or credential == record.credential:
        return
    try:
        membership = await verify_credential(node, credential, holder=node.did)
    except CredentialError as error:
        record.state = "applied"
        record.reason = f"the credential the directory issued does not check out: {error.text}"
        return
    if membership.community != record.directory_did:
        record.state = "applied"
        record.reason = f"the directory issued a credential for another community ({membership.community})"
        return
    record.credential = credential
    record.valid_until = membership.valid_until


async def _call(
    node: Node, method: str, url: str, directory_did: str, body: dict[str, Any] | None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {node.issue_token(directory_did)}"}
    try:
        response = await node.http.request(method, url, json=body, headers=headers)
    except httpx.HTTPError as error:
        raise NetworkError(
            f"the directory at {url} is unreachable ({type(error).__name__})", status=502
        ) from error
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 404 and not isinstance(answer, dict):
        raise NetworkError(f"no directory runs at {url}", status=502)
    if response.status_code >= 400:
        said = answer.get("error") if isinstance(answer, dict) else None
        status = 409 if response.status_code == 409 else 502
        raise NetworkError(f"the directory refused: {said or f'HTTP {response.status_code}'}", status=status)
    if not isinstance(answer, dict):
        raise NetworkError(f"the directory at {url} answered no JSON object", status=502)
    return answer


async def in_read(node: Node, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a read-only session on a worker thread (protocol.endpoint's helper imports Node)."""

    def run() -> T:
        with node.db.read() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


async def in_transaction(node: Node, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a write transaction on a worker thread."""

    def run() -> T:
        with node.db.transaction() as session:
            return work(session)

    return await anyio.to_thread.run_sync(run)


def membership_view(record: MembershipRecord) -> dict[str, Any]:
    """A membership as the management API and the CLI show it."""
    return {
        "id": record.id,
        "directoryUrl": record.directory_url,
        "directoryDid": record.directory_did,
        "community": record.community,
        "communityName": record.community_name,
        "applicationId": record.application_id,
        "state": record.state,
        "reason": record.reason,
        "hasCredential": record.credential is not None,
        "validUntil": record.valid_until.isoformat() if record.valid_until else None,
        "appliedAt": record.applied_at.isoformat(),
        "updatedAt": record.updated_at.isoformat(),
    }
