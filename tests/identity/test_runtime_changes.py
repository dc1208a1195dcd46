"""Identity changes while a node runs: key rotation (dates, ids, failures) and replacing pinned peers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from allmende.clock import parse_datetime
from allmende.identity import DidError, DidResolver, KeyStore

pytestmark = pytest.mark.anyio

PEER = "did:web:peer.example"


def test_the_manifest_dates_every_key_and_names_the_next_one(tmp_path: Path) -> None:
    store = KeyStore.create(tmp_path)
    assert store.next_key_id() == "key-2"
    store.rotate()
    reloaded = KeyStore.load(tmp_path)
    assert reloaded.next_key_id() == "key-3"
    for key in reloaded.all():
        assert parse_datetime(reloaded.created(key.key_id)).tzinfo is not None
    assert reloaded.created("key-9") == ""


def test_a_rotation_that_cannot_write_the_manifest_changes_nothing(tmp_path: Path) -> None:
    store = KeyStore.create(tmp_path)
    (tmp_path / ".keystore.json.tmp").mkdir()  # the manifest's temporary file cannot be written
    with pytest.raises(OSError):
        store.rotate()
    assert store.active.key_id == "key-1"
    assert [key.key_id for key in store.all()] == ["key-1"]
    assert KeyStore.load(tmp_path).active.key_id == "key-1"
    (tmp_path / ".keystore.json.tmp").rmdir()
    assert store.rotate().key_id == "key-2"  # nothing left behind blocks the next try


async def test_pinned_participants_can_be_replaced_and_a_bad_set_changes_nothing() -> None:
    def no_network(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"pinned DIDs must not be fetched: {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(no_network)) as client:
        resolver = DidResolver(client)
        assert resolver.pinned_dids == []
        key = Ed25519PrivateKey.generate().public_key()
        resolver.set_pinned({PEER: key})
        assert resolver.pinned_dids == [PEER]
        assert await resolver.public_key(f"{PEER}#any") == key
        document = await resolver.resolve(PEER)
        assert document.id == PEER
        with pytest.raises(DidError):
            resolver.set_pinned({"did:web:other.example": document})  # a document of another DID
        assert resolver.pinned_dids == [PEER]
        resolver.set_pinned({})
        assert resolver.pinned_dids == []
