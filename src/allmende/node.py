"""A node: its settings, database, identity, HTTP client, services and the outbox sender, wired once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from allmende.catalog.service import CatalogView
from allmende.clock import utcnow
from allmende.compute.runner import ComputeRunner
from allmende.identity import DidResolver, InMemoryReplayGuard, KeyStore, ReplayGuard, did_from_url
from allmende.identity.jws import sign_jwt
from allmende.identity.key_encoding import public_key_from_jwk
from allmende.identity.tokens import issue_token
from allmende.knowledge.item_offers import KnowledgeOffers
from allmende.messaging.peer_transport import peer_client
from allmende.messaging.postbox import Postbox
from allmende.messaging.sender import DeliveryHandler, OutboxSender, SenderConfig
from allmende.negotiation.consumer import ConsumerNegotiations
from allmende.negotiation.delivery import NEGOTIATION_KINDS, NegotiationDelivery
from allmende.negotiation.process import NegotiationEnv
from allmende.negotiation.provider import OfferLookups, ProviderNegotiations
from allmende.network import membership as memberships
from allmende.network.presentation import CLAIM as CREDENTIALS_CLAIM
from allmende.network.presentation import MAX_PRESENTED
from allmende.network.status_fetch import StatusLists
from allmende.settings import NodeSettings
from allmende.sources import SecretStore
from allmende.store.database import Database
from allmende.store.replay_guard import DatabaseReplayGuard
from allmende.transfer.access import PUSH_TOKEN_TYPE, issue_access_token
from allmende.transfer.consumer import ConsumerTransfers
from allmende.transfer.datasets import AssetDatasets, DatasetLookups
from allmende.transfer.delivery import TRANSFER_KINDS, TransferDelivery
from allmende.transfer.messages import PUSH_FORMAT
from allmende.transfer.process import TransferEnv
from allmende.transfer.provider import ProviderTransfers
from allmende.transfer.push import push
from allmende.transfer.records import TransferRecord
from allmende.ttl_cache import TtlCache

if TYPE_CHECKING:
    from allmende.catalog.remote import RemoteCatalog

KEYS_FOLDER = "keys"
SECRETS_FOLDER = "secrets"


def open_secret_store(data_dir: Path) -> SecretStore:
    """The node's secret store (created on first use for nodes made before it existed)."""
    folder = data_dir / SECRETS_FOLDER
    if (folder / "secret.key").exists():
        return SecretStore.load(folder)
    return SecretStore.create(folder)


class Node:
    """Everything one running node needs; the ASGI app and the CLI are thin layers over it.

    ``transport`` is the seam for tests: an ``httpx`` transport that routes to other nodes'
    ASGI apps in-process instead of over the network.
    """

    def __init__(self, settings: NodeSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.base_url = str(settings.public_url).rstrip("/")
        self.did = did_from_url(self.base_url)
        self.dsp_url = f"{self.base_url}/dsp"
        self.callback_url = f"{self.dsp_url}/callback"
        self.db = Database(settings.effective_database_url)
        self.keys = KeyStore.load(settings.data_dir / KEYS_FOLDER)
        self.secrets = open_secret_store(settings.data_dir)
        self.http = httpx.AsyncClient(
            transport=transport, timeout=settings.http_timeout_seconds, follow_redirects=False
        )
        # Outbox messages to peers: a lean HTTP/1.1 transport unless a test transport or a proxy is set.
        self.peer_http = peer_client(transport, settings.http_timeout_seconds)
        self.resolver = DidResolver(
            self.http,
            cache_ttl_seconds=settings.did_cache_seconds,
            pinned=_pinned(settings.trusted_participants),
            allow_loopback=settings.allow_http_for_loopback,
        )
        self.replay: ReplayGuard = (
            DatabaseReplayGuard(self.db) if not self.db.is_sqlite else InMemoryReplayGuard()
        )
        self.postbox = Postbox(settings.peer_deadline_seconds)
        self.env = NegotiationEnv(
            own_did=self.did,
            dsp_url=self.dsp_url,
            callback_url=self.callback_url,
            sign_agreement=self.sign_agreement,
            postbox=self.postbox,
            review_all_requests=settings.review_all_requests,
            require_agreement_signatures=settings.require_agreement_signatures,
        )
        self.catalog = CatalogView()
        # What the node offers: its assets, then its published knowledge items (open datasets).
        self.knowledge_offers = KnowledgeOffers(self.did)
        self.provider = ProviderNegotiations(self.env, OfferLookups(self.catalog, self.knowledge_offers))
        self.consumer = ConsumerNegotiations(self.env)
        self.transfer_env = TransferEnv(
            own_did=self.did,
            base_url=self.base_url,
            callback_url=self.callback_url,
            postbox=self.postbox,
            access_token_seconds=settings.access_token_seconds,
            schedule_push=self.schedule_push,
            issue_push_token=self.issue_push_token,
        )
        self.provider_transfers = ProviderTransfers(
            self.transfer_env,
            self.issue_access_token,
            DatasetLookups(AssetDatasets(), self.knowledge_offers),
        )
        self.consumer_transfers = ConsumerTransfers(self.transfer_env)
        delivery = NegotiationDelivery(self.env, self.consumer)
        transfer_delivery = TransferDelivery(self.transfer_env, self.consumer_transfers)
        handlers: dict[str, DeliveryHandler] = {kind: delivery for kind in NEGOTIATION_KINDS}
        handlers.update({kind: transfer_delivery for kind in TRANSFER_KINDS})
        self._bytes_served: dict[str, int] = {}
        self.sender = OutboxSender(
            self.db,
            self.peer_http,
            self.issue_token,
            handlers,
            SenderConfig(
                retry_seconds=settings.outbox_retry_seconds,
                max_retry_seconds=settings.outbox_max_retry_seconds,
                concurrency=settings.outbox_concurrency,
            ),
        )
        self.postbox.dispatcher = self.sender
        self.remote_catalogs: TtlCache[str, RemoteCatalog] = TtlCache(settings.remote_catalog_cache_seconds)
        self.status_lists = StatusLists(self.http, self.resolver, settings.status_list_cache_seconds)
        self._held: list[tuple[str, datetime]] | None = None
        self._membership_task: asyncio.Task[None] | None = None
        self._crawl_task: asyncio.Task[None] | None = None
        self.compute = ComputeRunner(self)
        self._compute_tasks: list[asyncio.Task[None]] = []
        self._sender_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pushes: set[asyncio.Task[None]] = set()

    @property
    def name(self) -> str:
        return str(self.settings.name)

    def apply_settings(self, settings: NodeSettings) -> None:
        """Take over settings changed while the node runs (name, company profile, trusted participants).

        Settings read only at start (URLs, database, timeouts) need a restart. Raises ValueError or
        DidError for a malformed trusted participant before anything changes.
        """
        pinned = _pinned(settings.trusted_participants)
        self.resolver.set_pinned(pinned)
        self.settings = settings

    def issue_token(self, audience_did: str, extra_claims: Mapping[str, Any] | None = None) -> str:
        """A fresh self-issued ID token for a call to ``audience_did``, presenting the held credentials."""
        held = self.held_credentials()
        if held and CREDENTIALS_CLAIM not in (extra_claims or {}):
            extra_claims = {**(extra_claims or {}), CREDENTIALS_CLAIM: held[:MAX_PRESENTED]}
        return issue_token(
            self.keys.active,
            self.did,
            audience_did,
            ttl_seconds=self.settings.token_ttl_seconds,
            extra_claims=extra_claims,
        )

    def held_credentials(self) -> list[str]:
        """The membership credentials (VC-JWTs) this node holds and that have not expired, newest first.

        Read from the database once and kept in memory until ``forget_credentials``.
        """
        held = self._held
        if held is None:
            with self.db.read() as session:
                held = self._held = memberships.held_credentials(session)
        now = utcnow()
        return [credential for credential, valid_until in held if valid_until > now]

    def forget_credentials(self) -> None:
        """Reload the held credentials on next use (after a membership changed)."""
        self._held = None

    def sign_agreement(self, counterparty_did: str, agreement_id: str, digest: str) -> str:
        """This node's signature over an agreement's digest: a JWT without expiry, kept with the agreement."""
        key = self.keys.active
        claims = {
            "iss": self.did,
            "sub": agreement_id,
            "aud": counterparty_did,
            "iat": int(utcnow().timestamp()),
            "agreement_digest": digest,
        }
        return sign_jwt(claims, key, kid=f"{self.did}#{key.key_id}", header_extras={"typ": "JWT"})

    def issue_access_token(self, transfer: TransferRecord) -> str:
        """A data-plane token for ``transfer`` (provider side), valid ``access_token_seconds``."""
        return issue_access_token(
            self.keys.active,
            issuer_did=self.did,
            consumer_did=transfer.counterparty_did,
            provider_pid=transfer.id,
            agreement_id=transfer.agreement_id,
            now=utcnow(),
            ttl_seconds=self.transfer_env.access_token_seconds,
        )

    def issue_push_token(self, transfer: TransferRecord) -> str:
        """A token the provider presents when it pushes data to this node (consumer side)."""
        return issue_access_token(
            self.keys.active,
            issuer_did=self.did,
            consumer_did=transfer.counterparty_did,
            provider_pid=transfer.id,
            agreement_id=transfer.agreement_id,
            now=utcnow(),
            ttl_seconds=self.transfer_env.access_token_seconds,
            token_type=PUSH_TOKEN_TYPE,
        )

    def schedule_push(self, transfer_id: str) -> None:
        """Push the data of a started push transfer in the background (safe from any thread)."""
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(self._spawn_push, transfer_id)

    def _spawn_push(self, transfer_id: str) -> None:
        task = asyncio.create_task(push(self, transfer_id), name=f"push {transfer_id}")
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    def bytes_counter(self, transfer_id: str) -> Callable[[int], None]:
        """Counts bytes the data plane sends for a transfer (kept in memory, flushed after the response)."""

        def count(sent: int) -> None:
            self._bytes_served[transfer_id] = self._bytes_served.get(transfer_id, 0) + sent

        return count

    def bytes_in_flight(self, transfer_id: str) -> int:
        """Bytes sent for a transfer and not yet written to its record."""
        return self._bytes_served.get(transfer_id, 0)

    async def flush_bytes_served(self, transfer_id: str) -> None:
        """Add the counted bytes of a transfer to its record."""
        sent = self._bytes_served.pop(transfer_id, 0)
        if not sent:
            return

        def add(session: Session) -> None:
            record = session.get(TransferRecord, transfer_id)
            if record is not None:
                record.bytes_served += sent

        def run() -> None:
            with self.db.transaction() as session:
                add(session)

        await anyio.to_thread.run_sync(run)

    async def start(self) -> None:
        """Start the background sender and resume unfinished pushes (idempotent)."""
        self._loop = asyncio.get_running_loop()
        if self._sender_task is None:
            for transfer_id in await anyio.to_thread.run_sync(self._started_pushes):
                self._spawn_push(transfer_id)
            self._sender_task = asyncio.create_task(
                self.sender.run(release_claims=self.db.is_sqlite), name=f"outbox-sender {self.did}"
            )
        if self._membership_task is None:
            self._membership_task = asyncio.create_task(
                memberships.poll_memberships(self), name=f"membership-poll {self.did}"
            )
        if self._crawl_task is None and self.settings.crawl_interval_seconds > 0:
            from allmende.network.crawler import crawl_forever  # the crawler needs this module

            self._crawl_task = asyncio.create_task(crawl_forever(self), name=f"crawler {self.did}")
        if not self._compute_tasks:
            from allmende.compute.consumer import poll_jobs

            self._compute_tasks = [
                asyncio.create_task(self.compute.run_forever(), name=f"compute-runner {self.did}"),
                asyncio.create_task(poll_jobs(self), name=f"compute-poll {self.did}"),
            ]

    def _started_pushes(self) -> list[str]:
        with self.db.read() as session:
            return list(
                session.execute(
                    select(TransferRecord.id).where(
                        TransferRecord.role == "provider",
                        TransferRecord.format == PUSH_FORMAT,
                        TransferRecord.state == "STARTED",
                    )
                ).scalars()
            )

    async def stop(self) -> None:
        """Stop the sender and pushes, close connections."""
        for task in list(self._pushes):
            task.cancel()
        self._loop = None
        if self._membership_task is not None:
            self._membership_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._membership_task
            self._membership_task = None
        for task in self._compute_tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._compute_tasks = []
        if self._crawl_task is not None:
            self._crawl_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._crawl_task
            self._crawl_task = None
        if self._sender_task is not None:
            self._sender_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender_task
            self._sender_task = None
        await self.http.aclose()
        await self.peer_http.aclose()
        self.db.dispose()


def _pinned(entries: list[Any]) -> dict[str, Ed25519PublicKey]:
    pinned: dict[str, Ed25519PublicKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or "did" not in entry or "jwk" not in entry:
            raise ValueError('trusted_participants entries need "did" and "jwk"')
        pinned[str(entry["did"])] = public_key_from_jwk(entry["jwk"])
    return pinned
