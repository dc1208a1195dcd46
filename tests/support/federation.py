"""Helpers for the crawler tests: directory rows, memberships, a slow node and a request recorder."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from allmende.clock import utcnow
from allmende.identity import did_from_url
from allmende.network.records import DirectoryEntryRecord, MembershipRecord
from allmende.node import Node


def admit_directly(directory: Node, base_url: str, name: str, *, sector: str = "", region: str = "") -> str:
    """An admitted member entry in ``directory``'s database, as the directory service would leave it."""
    did = did_from_url(base_url)
    with directory.db.transaction() as session:
        session.add(
            DirectoryEntryRecord(
                id=f"app-{uuid.uuid4().hex[:12]}",
                applicant_did=did,
                name=name,
                dsp_url=f"{base_url}/dsp",
                base_url=base_url,
                sector=sector,
                region=region,
                size_class="small",
                message="",
                state="admitted",
                role="member",
                received_at=utcnow(),
            )
        )
    return did


def set_entry_state(directory: Node, did: str, state: str) -> None:
    with directory.db.transaction() as session:
        for entry in session.query(DirectoryEntryRecord).filter_by(applicant_did=did):
            entry.state = state


def joined(member: Node, directory: Node) -> None:
    """An admitted membership of ``member`` in ``directory`` (without a credential)."""
    now = utcnow()
    with member.db.transaction() as session:
        session.add(
            MembershipRecord(
                id=f"m-{uuid.uuid4().hex[:12]}",
                directory_url=directory.base_url,
                directory_did=directory.did,
                community=directory.did,
                community_name="Test community",
                application_id="app-x",
                state="admitted",
                applied_at=now,
                updated_at=now,
            )
        )


def slow_node(seconds: float) -> Starlette:
    """A node whose catalog endpoint answers only after ``seconds``."""

    async def catalog(_request: Request) -> Response:
        await asyncio.sleep(seconds)
        return Response("{}", media_type="application/json")

    return Starlette(routes=[Route("/dsp/catalog/request", catalog, methods=["POST"])])


class Recorder:
    """Wraps an app and records the ``If-None-Match`` header and status of every catalog request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/catalog/request"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        call: dict[str, Any] = {"if_none_match": headers.get("if-none-match"), "query": scope["query_string"]}
        self.calls.append(call)

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                call["status"] = message["status"]
            await send(message)

        await self.app(scope, receive, sending)
