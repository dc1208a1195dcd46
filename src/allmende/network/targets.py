"""The nodes the crawler visits: the members of this node's own directory and of the directories it
belongs to (their signed member lists)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.identity.errors import IdentityError
from allmende.network import member_list
from allmende.network.member_list import MemberList, member_list_kid
from allmende.network.records import DirectoryEntryRecord, MembershipRecord
from allmende.node import Node

log = logging.getLogger(__name__)

MEMBER_LIST_PATH = "/directory/members"
MAX_MEMBER_LIST_BYTES = member_list.MAX_MEMBER_LIST_LENGTH


class MemberListError(Exception):
    """A directory's member list could not be fetched or does not verify."""


@dataclass(frozen=True)
class CrawlTarget:
    """One node to crawl, as its directory describes it."""

    did: str
    name: str
    dsp_url: str
    directory_did: str
    sector: str = ""
    region: str = ""
    size_class: str = ""


@dataclass(frozen=True)
class Targets:
    """The nodes to crawl, and the directories whose lists could not be read this time (their members
    are kept as they were rather than dropped)."""

    nodes: tuple[CrawlTarget, ...]
    unavailable_directories: frozenset[str]


def own_directory_targets(session: Session, node: Node) -> list[CrawlTarget]:
    """Admitted members of this node's own directory (when it runs one)."""
    if not node.settings.directory_enabled:
        return []
    entries = session.execute(
        select(DirectoryEntryRecord).where(DirectoryEntryRecord.state == "admitted")
    ).scalars()
    return [
        CrawlTarget(e.applicant_did, e.name, e.dsp_url, node.did, e.sector, e.region, e.size_class)
        for e in entries
    ]


def joined_directories(session: Session) -> list[tuple[str, str]]:
    """(directory DID, directory URL) of every directory this node is an admitted member of."""
    rows = session.execute(
        select(MembershipRecord.directory_did, MembershipRecord.directory_url).where(
            MembershipRecord.state == "admitted"
        )
    ).all()
    return list(dict.fromkeys((str(did), str(url)) for did, url in rows))


async def verified_member_list(node: Node, directory_did: str, directory_url: str) -> MemberList:
    """The directory's member list, after checking its signature with the key of ``directory_did``
    (resolved like any peer's) and that it is that directory's list."""
    url = directory_url.rstrip("/") + MEMBER_LIST_PATH
    try:
        response = await node.http.get(url, timeout=node.settings.crawl_timeout_seconds)
    except httpx.HTTPError as exc:
        raise MemberListError(f"{url} is not reachable: {type(exc).__name__} {exc}") from None
    if response.status_code != 200:
        raise MemberListError(f"{url} answered {response.status_code}")
    if len(response.content) > MAX_MEMBER_LIST_BYTES:
        raise MemberListError(f"{url} sent more than {MAX_MEMBER_LIST_BYTES} bytes")
    token = response.text.strip()
    return await verify_member_list(node, token, directory_did)


async def verify_member_list(node: Node, token: str, directory_did: str) -> MemberList:
    """Verify a member list JWT signed by ``directory_did`` with its resolved key; MemberListError else."""
    try:
        kid = member_list_kid(token)
        if kid.split("#", 1)[0] != directory_did:  # checked before anything is resolved
            raise MemberListError(f"member list is not signed by {directory_did}")
        key = await node.resolver.public_key(kid)
        return member_list.verify_member_list(token, key, directory_did=directory_did)
    except IdentityError as exc:  # TokenError, ResolutionError
        raise MemberListError(f"member list of {directory_did} not verified: {exc}") from None


def targets_from_member_list(members: Iterable[Mapping[str, Any]], directory_did: str) -> list[CrawlTarget]:
    """The nodes a verified member list names (entries without a DID or DSP URL are skipped)."""
    found: list[CrawlTarget] = []
    for member in members:
        if not isinstance(member, Mapping):
            continue
        did, dsp_url = member.get("did"), member.get("dspUrl")
        if not isinstance(did, str) or not isinstance(dsp_url, str) or not did or not dsp_url:
            continue
        found.append(
            CrawlTarget(
                did,
                str(member.get("name") or ""),
                dsp_url.rstrip("/"),
                directory_did,
                str(member.get("sector") or ""),
                str(member.get("region") or ""),
                str(member.get("sizeClass") or ""),
            )
        )
    return found


async def crawl_targets(
    node: Node, local: Sequence[CrawlTarget], joined: Sequence[tuple[str, str]]
) -> Targets:
    """Every node to crawl (each DID once; never this node itself): ``local`` members of this node's
    directory, then those of the ``joined`` directories' member lists, fetched concurrently."""

    async def one(directory_did: str, url: str) -> list[CrawlTarget] | None:
        try:
            listed = await verified_member_list(node, directory_did, url)
        except MemberListError as exc:
            log.warning("member list of %s not used: %s", directory_did, exc)
            return None
        return targets_from_member_list(listed.members, directory_did)

    lists = await asyncio.gather(*(one(did, url) for did, url in joined))
    unavailable = frozenset(did for (did, _), found in zip(joined, lists, strict=True) if found is None)
    chosen: dict[str, CrawlTarget] = {}
    for target in [*local, *(t for found in lists if found for t in found)]:
        if target.did != node.did:
            chosen.setdefault(target.did, target)
    return Targets(tuple(chosen.values()), unavailable)
