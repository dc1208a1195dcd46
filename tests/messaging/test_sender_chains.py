"""Messages of one process go out one at a time, in order; ones cancelled while waiting are not sent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.types import Receive, Scope, Send
from tests.support.waiting import eventually

from allmende.loopback import InProcessNetwork
from allmende.messaging import outbox
from allmende.messaging.postbox import Postbox
from allmende.messaging.records import OutboxRecord
from allmende.messaging.sender import OutboxSender, SentMessage
from allmende.store import migrate
from allmende.store.database import Database

pytestmark = pytest.mark.anyio

PEER = "http://127.0.0.1:8391"
PROCESS = "urn:uuid:process-1"


@dataclass
class Peer:
    """A peer that records what it receives and holds its answer to the first message until released."""

    received: list[str] = field(default_factory=list)
    release_first: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append(json.loads(body)["n"])
        if len(self.received) == 1:
            await self.release_first.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


class Handler:
    """The domain side: nothing to do on delivery here; nothing may be given up."""

    def delivered(self, session: Session, message: SentMessage) -> None:
        assert message.status_code == 200

    def given_up(self, session: Session, process_id: str, kind: str, reason: str) -> None:
        raise AssertionError(f"nothing should be given up: {kind} {reason}")


@dataclass
class Setup:
    db: Database
    postbox: Postbox
    peer: Peer


@pytest.fixture
async def setup(tmp_path: Path, database_url: str | None) -> AsyncIterator[Setup]:
    db = Database(database_url or f"sqlite:///{tmp_path / 'outbox.db'}")
    migrate.upgrade(db)
    peer = Peer()
    network = InProcessNetwork()
    network.add(PEER, peer)
    client = httpx.AsyncClient(transport=network.transport(), timeout=10)
    sender = OutboxSender(db, client, lambda audience, claims: "token", {"Test": Handler()})
    postbox = Postbox(60.0, dispatcher=sender)
    task = asyncio.create_task(sender.run())
    await eventually(_true_when(lambda: sender.running), bool)
    try:
        yield Setup(db, postbox, peer)
    finally:
        peer.release_first.set()
        await sender.drain()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.aclose()
        db.dispose()


def _true_when(condition: Any) -> Any:
    async def probe() -> bool:
        return bool(condition())

    return probe


def _queue(setup: Setup, name: str, *, cancel_first: bool = False) -> None:
    with setup.db.transaction() as session:
        if cancel_first:
            outbox.cancel_pending(session, PROCESS, "superseded by termination")
        setup.postbox.send(
            session,
            process_id=PROCESS,
            audience_did="did:web:peer",
            kind=f"Test:{name}",
            url=f"{PEER}/messages",
            body={"n": name},
        )


def _statuses(setup: Setup) -> dict[str, str]:
    with setup.db.read() as session:
        rows = session.execute(select(OutboxRecord)).scalars().all()
        return {row.body["n"]: row.status for row in rows}


async def test_messages_queued_behind_one_in_flight_follow_in_order(setup: Setup) -> None:
    _queue(setup, "a")
    await eventually(_true_when(lambda: setup.peer.received == ["a"]), bool)
    _queue(setup, "b")
    _queue(setup, "c")
    await asyncio.sleep(0.1)
    assert setup.peer.received == ["a"]  # b and c wait for a's answer
    setup.peer.release_first.set()
    await eventually(_true_when(lambda: len(setup.peer.received) == 3), bool)
    assert setup.peer.received == ["a", "b", "c"]
    await eventually(_true_when(lambda: set(_statuses(setup).values()) == {"sent"}), bool)


async def test_a_message_cancelled_while_waiting_is_not_sent(setup: Setup) -> None:
    _queue(setup, "a")
    await eventually(_true_when(lambda: setup.peer.received == ["a"]), bool)
    _queue(setup, "b")
    # A termination: what was still pending is dropped, the termination message is queued behind.
    _queue(setup, "end", cancel_first=True)
    setup.peer.release_first.set()
    await eventually(_true_when(lambda: _statuses(setup).get("end") == "sent"), bool)
    assert setup.peer.received == ["a", "end"]
    assert _statuses(setup) == {"a": "sent", "b": "failed", "end": "sent"}
