"""The identity page: DID and keys, key rotation, trusted participants and the company profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from tests.conftest import RunningNode
from tests.support.waiting import eventually
from tests.support.web import Browser, logged_in

from allmende.audit.records import AuditRecord
from allmende.identity import DidDocument, NodeKey, decode_jwt, verify_jwt
from allmende.settings import SETTINGS_FILE

pytestmark = pytest.mark.anyio

PEER_DID = "did:web:partner.example"


def stored(running: RunningNode) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((running.node.settings.data_dir / SETTINGS_FILE).read_text("utf-8"))
    return data


def events(running: RunningNode, event: str) -> list[AuditRecord]:
    with running.node.db.read() as session:
        return list(session.execute(select(AuditRecord).where(AuditRecord.event == event)).scalars())


async def served_document(browser: Browser) -> DidDocument:
    response = await browser.client.get("/.well-known/did.json")
    assert response.status_code == 200
    return DidDocument.parse(response.json())


def verifies_against(document: DidDocument, token: str) -> str:
    """The kid a token was signed with, after checking its signature with the served document."""
    kid = str(decode_jwt(token).header["kid"])
    verify_jwt(token, document.verification_key(kid))
    return kid


async def test_the_page_shows_the_did_addresses_and_keys(make_node) -> None:
    running = await make_node("Feinteile KG", 8500)
    browser = await logged_in(running, "olga", "owner")
    page = await browser.get("/identity")
    assert page.status_code == 200
    did = running.node.did
    assert did in page.text
    assert f"{did}#key-1" in page.text
    assert running.node.dsp_url in page.text
    assert 'href="/.well-known/did.json"' in page.text
    assert "active" in page.text
    assert running.node.keys.active.public_jwk()["x"] in page.text
    assert 'href="/identity/rotate"' in page.text
    assert "No participant is pinned" in page.text
    assert (
        'action="/identity/trusted#trusted"' in page.text
        and 'action="/identity/profile#profile"' in page.text
    )


async def test_rotating_the_key_signs_with_the_new_one_and_keeps_the_old(make_node, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8501)
    consumer = await make_node("Feinteile KG", 8502)
    browser = await logged_in(provider, "olga", "owner", language="de")
    old_token = provider.node.issue_token(consumer.did)
    confirm = await browser.get("/identity/rotate")
    assert confirm.status_code == 200
    assert "Schlüssel jetzt wechseln" in confirm.text
    assert f"{provider.did}#key-1" in confirm.text
    done = await browser.post("/identity/rotate")
    assert done.status_code == 303
    assert done.headers["location"] == "/identity?done=rotated"
    page = await browser.get(done.headers["location"])
    assert "Ein neuer Schlüssel ist aktiv." in page.text
    assert "zur Prüfung aufbewahrt" in page.text
    assert provider.node.keys.active.key_id == "key-2"
    [entry] = events(provider, "identity.key_rotated")
    assert entry.actor == "olga" and entry.detail["active"] == f"{provider.did}#key-2"

    document = await served_document(browser)
    assert document.method_ids() == [f"{provider.did}#key-1", f"{provider.did}#key-2"]
    assert verifies_against(document, old_token) == f"{provider.did}#key-1"
    assert verifies_against(document, provider.node.issue_token(consumer.did)) == f"{provider.did}#key-2"

    # A partner that never saw the new key negotiates: the provider's agreement signature is made with it.
    source = tmp_path / "spindle.csv"
    source.write_text("t,v\n1,2\n", encoding="utf-8")
    published = await provider.api.post(
        "/api/v1/assets",
        json={"path": str(source), "title": "Spindle", "description": "Vibration", "template": "open-use"},
    )
    assert published.status_code == 201, published.text
    started = await consumer.api.post(
        "/api/v1/negotiations",
        json={"address": provider.node.base_url, "offer_id": published.json()["offer"]["id"]},
    )
    assert started.status_code == 201, started.text

    async def state() -> str:
        return str((await consumer.api.get(f"/api/v1/negotiations/{started.json()['id']}")).json()["state"])

    assert await eventually(state, lambda s: s in ("FINALIZED", "TERMINATED")) == "FINALIZED"
    [agreement] = (await consumer.api.get("/api/v1/agreements")).json()
    assert verifies_against(document, agreement["providerSignature"]) == f"{provider.did}#key-2"


async def test_members_and_readers_may_not_rotate(make_node) -> None:
    running = await make_node("Feinteile KG", 8503)
    await logged_in(running, "olga", "owner")
    for username, role in (("max", "member"), ("rita", "read")):
        browser = await logged_in(running, username, role)
        page = await browser.get("/identity")
        assert page.status_code == 200
        assert running.node.did in page.text
        assert "/identity/rotate" not in page.text
        assert 'action="/identity/trusted' not in page.text
        assert 'action="/identity/profile' not in page.text
        assert (await browser.get("/identity/rotate")).status_code == 403
        refused = await browser.post("/identity/rotate")
        assert refused.status_code == 403
        assert "Only an owner of this node may do this." in refused.text
    assert running.node.keys.active.key_id == "key-1"
    assert events(running, "identity.key_rotated") == []


async def test_trusting_a_participant_checks_the_key_and_pins_it(make_node) -> None:
    running = await make_node("Feinteile KG", 8504)
    browser = await logged_in(running, "olga", "owner")
    await browser.get("/identity")
    rsa = json.dumps({"kty": "RSA", "n": "abc", "e": "AQAB"})
    refused = await browser.post("/identity/trusted", {"did": PEER_DID, "jwk": rsa})
    assert refused.status_code == 400
    assert 'id="jwk-error"' in refused.text
    assert "Only Ed25519 keys are accepted" in refused.text
    assert f'value="{PEER_DID}"' in refused.text  # what was typed stays
    assert "&#34;kty&#34;: &#34;RSA&#34;" in refused.text
    assert stored(running).get("trusted_participants", []) == []
    assert running.node.resolver.pinned_dids == []

    key = NodeKey("key-1", Ed25519PrivateKey.generate())
    public = key.public_jwk()
    for did, jwk, field, message in (
        ("https://partner.example", json.dumps(public), "did", "Enter a did:web DID"),
        (running.node.did, json.dumps(public), "did", "This is this node&#39;s own DID."),
        (PEER_DID, "{not json", "jwk", "This is not valid JSON."),
        (PEER_DID, json.dumps({**public, "d": "secret"}), "jwk", "holds a private key"),
        (PEER_DID, json.dumps({**public, "x": "short"}), "jwk", "must be the 32-byte public key"),
    ):
        response = await browser.post("/identity/trusted", {"did": did, "jwk": jwk})
        assert response.status_code == 400, did
        assert f'id="{field}-error"' in response.text and message in response.text, message
    assert running.node.resolver.pinned_dids == []

    added = await browser.post("/identity/trusted", {"did": PEER_DID, "jwk": json.dumps(public)})
    assert added.status_code == 303
    page = await browser.get(added.headers["location"])
    assert "The participant is trusted now." in page.text and PEER_DID in page.text
    assert stored(running)["trusted_participants"] == [
        {"did": PEER_DID, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": public["x"]}}
    ]
    assert running.node.resolver.pinned_dids == [PEER_DID]
    pinned = await running.node.resolver.public_key(f"{PEER_DID}#key-1")  # no network for a pinned DID
    assert pinned.public_bytes_raw() == key.public_key.public_bytes_raw()
    assert [e.subject for e in events(running, "identity.participant_trusted")] == [PEER_DID]
    twice = await browser.post("/identity/trusted", {"did": PEER_DID, "jwk": json.dumps(public)})
    assert twice.status_code == 400 and "trusted already" in twice.text

    confirm = await browser.get(f"/identity/trusted/remove?did={PEER_DID}")
    assert confirm.status_code == 200 and PEER_DID in confirm.text
    assert (await browser.get("/identity/trusted/remove?did=did:web:other.example")).status_code == 404
    removed = await browser.post("/identity/trusted/remove", {"did": PEER_DID})
    assert removed.status_code == 303
    assert "no longer trusted" in (await browser.get(removed.headers["location"])).text
    assert stored(running)["trusted_participants"] == []
    assert running.node.resolver.pinned_dids == []


async def test_the_company_profile_is_checked_saved_and_shown(make_node) -> None:
    running = await make_node("Feinteile KG", 8505)
    browser = await logged_in(running, "olga", "owner", language="de")
    page = await browser.get("/identity")
    assert "Unternehmensprofil" in page.text and 'value="Feinteile KG"' in page.text
    form = {"name": "", "sector": "Maschinenbau", "size_class": "huge", "region": "Sachsen"}
    refused = await browser.post("/identity/profile", form)
    assert refused.status_code == 400
    assert 'id="name-error"' in refused.text and 'id="size_class-error"' in refused.text
    assert "Wählen Sie eine der Größenklassen." in refused.text
    assert 'value="Maschinenbau"' in refused.text and 'value="Sachsen"' in refused.text
    assert "sector" not in stored(running)

    saved = await browser.post(
        "/identity/profile", {**form, "name": "Feinteile KG Dresden", "size_class": "small"}
    )
    assert saved.status_code == 303
    page = await browser.get(saved.headers["location"])
    assert "Das Unternehmensprofil wurde gespeichert." in page.text
    assert '<option value="small" selected>Kleines Unternehmen (10 bis 49 Beschäftigte)</option>' in page.text
    values = stored(running)
    assert (values["name"], values["sector"], values["size_class"], values["region"]) == (
        "Feinteile KG Dresden",
        "Maschinenbau",
        "small",
        "Sachsen",
    )
    assert running.node.name == "Feinteile KG Dresden" and running.node.settings.sector == "Maschinenbau"
    [entry] = events(running, "identity.profile_changed")
    assert entry.detail["region"] == "Sachsen"

    reader = await logged_in(running, "rita", "read")
    shown = await reader.get("/identity")
    assert "Small (10 to 49 employees)" in shown.text and "Maschinenbau" in shown.text
    assert (await reader.post("/identity/profile", {**form, "name": "X"})).status_code == 403
    assert running.node.name == "Feinteile KG Dresden"


async def test_settings_fixed_by_the_environment_are_pointed_out(make_node, monkeypatch) -> None:
    running = await make_node("Feinteile KG", 8507)
    browser = await logged_in(running, "olga", "owner")
    assert "Environment variables fix" not in (await browser.get("/identity")).text
    monkeypatch.setenv("ALLMENDE_SECTOR", "Handel")
    page = await browser.get("/identity")
    assert "have no effect while they are set: ALLMENDE_SECTOR." in page.text


async def test_identity_forms_need_the_session_token(make_node) -> None:
    running = await make_node("Feinteile KG", 8506)
    browser = await logged_in(running, "olga", "owner")
    browser.csrf = "forged"
    for path in ("/identity/rotate", "/identity/profile", "/identity/trusted"):
        assert (await browser.post(path, {"name": "X"})).status_code == 403, path
    assert running.node.keys.active.key_id == "key-1"
    assert running.node.name == "Feinteile KG"
