"""Directories and membership credentials end to end on the in-process network: applying, admitting,
the signed member list and status list, and members-only offers for members, outsiders, revoked,
expired and foreign credentials."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually

from allmende.clock import utcnow
from allmende.identity.jws import decode_jwt, verify_jwt
from allmende.loopback import InProcessNetwork
from allmende.network.credentials import issue_membership
from allmende.network.member_list import verify_member_list
from allmende.network.status_list import read_status_list_credential
from allmende.policy import get_template, policy_to_json
from allmende.protocol.endpoint import in_transaction
from allmende.transfer.messages import read_data_address

pytestmark = pytest.mark.anyio


async def apply(member: RunningNode, directory: RunningNode) -> dict[str, Any]:
    response = await member.api.post(
        "/api/v1/memberships", json={"directory_url": directory.node.base_url, "message": "Hallo"}
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_apply_admit_member_list_and_status_list(
    make_node: NodeFactory, database_url: str | None
) -> None:
    directory = await make_node(
        "Verband", 8530, database_url=database_url, directory_enabled=True, directory_name="Verband Sachsen"
    )
    member = await make_node("Feinteile KG", 8531, sector="Metall", region="DE-SN", size_class="small")
    applied = await apply(member, directory)
    assert applied["state"] == "applied" and applied["communityName"] == "Verband Sachsen"
    again = await member.api.post("/api/v1/memberships", json={"directory_url": directory.node.base_url})
    assert again.status_code == 409, again.text

    entries = (await directory.api.get("/api/v1/directory/entries?state=pending")).json()
    assert [(e["did"], e["name"], e["sector"], e["sizeClass"], e["message"]) for e in entries] == [
        (member.did, "Feinteile KG", "Metall", "small", "Hallo")
    ]
    admitted = await directory.api.post(f"/api/v1/directory/entries/{entries[0]['id']}/admit")
    assert admitted.status_code == 200, admitted.text
    assert admitted.json()["state"] == "admitted" and admitted.json()["statusIndex"] == 0
    twice = await directory.api.post(f"/api/v1/directory/entries/{entries[0]['id']}/admit")
    assert twice.status_code == 409

    refreshed = await member.api.post(f"/api/v1/memberships/{applied['id']}/refresh")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["state"] == "admitted" and refreshed.json()["hasCredential"]
    held = member.node.held_credentials()
    assert len(held) == 1 and decode_jwt(held[0]).claims["credentialSubject"]["id"] == member.did
    assert "vc" in decode_jwt(member.node.issue_token(directory.did)).claims

    members = await directory.api.get("/directory/members")
    assert members.status_code == 200
    listed = verify_member_list(
        members.text, directory.node.keys.active.public_key, directory_did=directory.did
    )
    assert listed.name == "Verband Sachsen"
    assert [(m["did"], m["dspUrl"], m["region"]) for m in listed.members] == [
        (member.did, member.node.dsp_url, "DE-SN")
    ]

    revoked = await directory.api.post(
        f"/api/v1/directory/entries/{entries[0]['id']}/revoke", json={"reason": "left the association"}
    )
    assert revoked.status_code == 200, revoked.text
    status = await directory.api.get("/directory/status-list")
    decoded = verify_jwt(status.text, directory.node.keys.active.public_key, max_length=4_000_000)
    assert decoded.header["typ"] == "vc+jwt"
    assert read_status_list_credential(decoded.claims, issuer=directory.did).get(0)
    assert (await directory.api.get("/directory/members")).status_code == 200

    refreshed = await member.api.post(f"/api/v1/memberships/{applied['id']}/refresh")
    assert refreshed.json()["state"] == "revoked"
    assert refreshed.json()["reason"] == "left the association"
    assert member.node.held_credentials() == []

    reapplied = await apply(member, directory)
    assert reapplied["state"] == "applied"
    entries = (await directory.api.get("/api/v1/directory/entries")).json()
    assert [e["state"] for e in entries] == ["pending", "revoked"]
    refused = await directory.api.post(
        f"/api/v1/directory/entries/{entries[0]['id']}/refuse", json={"reason": "not again"}
    )
    assert refused.json()["state"] == "refused"
    events = [e["event"] for e in (await directory.api.get("/api/v1/audit")).json()]
    for event in ("directory.applied", "directory.admitted", "directory.revoked", "directory.refused"):
        assert event in events


async def test_the_directory_endpoints_need_a_directory_and_the_applicants_token(
    make_node: NodeFactory,
) -> None:
    plain = await make_node("Ohne Verzeichnis", 8535)
    member = await make_node("Feinteile KG", 8536)
    assert (await plain.api.get("/directory/members")).status_code == 404
    refused = await member.api.post("/api/v1/memberships", json={"directory_url": plain.node.base_url})
    assert refused.status_code == 502 and "runs no directory" in refused.json()["error"]
    unreachable = await member.api.post(
        "/api/v1/memberships", json={"directory_url": "http://127.0.0.1:8537"}
    )
    assert unreachable.status_code == 502 and "unreachable" in unreachable.json()["error"]

    directory = await make_node("Verband", 8538, directory_enabled=True)
    anonymous = await directory.api.post("/directory/applications", json={"name": "x"})
    assert anonymous.status_code == 401
    token = member.node.issue_token(directory.did)
    invalid = await directory.api.post(
        "/directory/applications",
        json={"name": "", "dspUrl": "ftp://x", "baseUrl": "http://x", "sizeClass": "huge"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert invalid.status_code == 400
    for problem in ("name is required", "dspUrl must be an http(s) URL", "sizeClass must be empty"):
        assert problem in invalid.json()["error"]
    applied = await apply(member, directory)
    entry_id = (await directory.api.get("/api/v1/directory/entries")).json()[0]["id"]
    foreign = await directory.api.get(
        f"/directory/applications/{entry_id}",
        headers={"Authorization": f"Bearer {plain.node.issue_token(directory.did)}"},
    )
    assert foreign.status_code == 404
    assert applied["applicationId"] == entry_id
    read_only = await directory.api.post(f"/api/v1/directory/entries/{entry_id}/refuse", json={"reason": ""})
    assert read_only.status_code == 422


async def publish_members_only(provider: RunningNode, community: str, tmp_path: Path) -> dict[str, Any]:
    data = tmp_path / "prices.csv"
    data.write_text("part,price\nA,1\n", encoding="utf-8")
    access = policy_to_json(get_template("members-only").build(provider.did, "any", community=community))
    response = await provider.api.post(
        "/api/v1/assets",
        json={
            "path": str(data),
            "title": "Verbandspreise",
            "description": "Prices for members",
            "template": "members-only",
            "template_params": {"community": community},
            "access_policy": access,
        },
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def catalog_ids(consumer: RunningNode, provider: RunningNode) -> list[str]:
    response = await consumer.api.post("/api/v1/remote-catalogs", json={"address": provider.node.base_url})
    assert response.status_code == 200, response.text
    datasets = response.json()["catalog"].get("dataset", [])
    return [d["@id"] for d in (datasets if isinstance(datasets, list) else [datasets])]


async def request_offer(consumer: RunningNode, provider: RunningNode, published: dict[str, Any]) -> str:
    """Start a negotiation on the offer even if the consumer cannot see it in the catalog."""
    offer = {**published["offer"]["policy"], "@id": published["offer"]["id"]}
    record = await in_transaction(
        consumer.node,
        lambda s: consumer.node.consumer.start(
            s,
            provider_did=provider.did,
            provider_url=provider.node.dsp_url,
            offer=offer,
            dataset_id=published["asset"]["id"],
            actor="test",
        ),
    )
    return record.id


async def outcome(consumer: RunningNode, negotiation_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        result: dict[str, Any] = (await consumer.api.get(f"/api/v1/negotiations/{negotiation_id}")).json()
        return result

    return await eventually(probe, lambda n: n["state"] in ("FINALIZED", "TERMINATED"))


async def test_members_only_offers_for_members_outsiders_revoked_expired_and_foreign_credentials(
    make_node: NodeFactory, tmp_path: Path, database_url: str | None, network: InProcessNetwork
) -> None:
    directory = await make_node("Verband", 8540, directory_enabled=True, directory_auto_admit=True)
    provider = await make_node("Anbieter", 8541, database_url=database_url, status_list_cache_seconds=0)
    member = await make_node("Mitglied", 8542)
    outsider = await make_node("Fremd", 8543)
    other = await make_node("Anderer Verband", 8544, directory_enabled=True, directory_auto_admit=True)
    published = await publish_members_only(provider, directory.did, tmp_path)

    joined = await apply(member, directory)
    assert joined["state"] == "admitted" and joined["hasCredential"]
    assert await catalog_ids(member, provider) == [published["asset"]["id"]]
    assert await catalog_ids(outsider, provider) == []

    started = await member.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": published["offer"]["id"]}
    )
    assert started.status_code == 201, started.text
    agreed = await outcome(member, started.json()["id"])
    assert agreed["state"] == "FINALIZED"
    transfer = await member.api.post("/api/v1/transfers", json={"agreement_id": agreed["agreementId"]})
    assert transfer.status_code == 201, transfer.text

    async def pulled() -> dict[str, Any]:
        result: dict[str, Any] = (await member.api.get(f"/api/v1/transfers/{transfer.json()['id']}")).json()
        return result

    started_transfer = await eventually(pulled, lambda t: t["state"] in ("STARTED", "TERMINATED"))
    assert started_transfer["state"] == "STARTED", started_transfer
    endpoint, token = read_data_address(started_transfer["dataAddress"])
    async with httpx.AsyncClient(transport=network.transport()) as client:
        data = await client.get(endpoint, headers={"Authorization": f"Bearer {token}"})
    assert data.status_code == 200 and data.content == b"part,price\nA,1\n"

    refused = await outcome(outsider, await request_offer(outsider, provider, published))
    assert refused["state"] == "TERMINATED"
    assert "unknown offer" in refused["terminationReason"]

    # a member of another community only: its credential is valid but proves the wrong community
    await apply(outsider, other)
    assert await catalog_ids(outsider, provider) == []
    foreign = await outcome(outsider, await request_offer(outsider, provider, published))
    assert foreign["state"] == "TERMINATED"

    # an expired credential of the right directory (as a node with a wrong clock would present it)
    now = utcnow()
    key = directory.node.keys.active
    expired = issue_membership(
        key,
        issuer=directory.did,
        key_id=key.key_id,
        holder=outsider.did,
        community_name="Verband",
        valid_from=now - timedelta(days=2),
        valid_until=now - timedelta(days=1),
        status_url=f"{directory.node.base_url}/directory/status-list",
        status_index=99,
    )
    outsider.node._held = [(expired, now + timedelta(days=1))]
    late = await outcome(outsider, await request_offer(outsider, provider, published))
    assert late["state"] == "TERMINATED"
    assert f"membership credential of {directory.did} expired" in late["terminationReason"]

    # a credential claiming this community but signed by another directory
    other_key = other.node.keys.active
    forged = issue_membership(
        other_key,
        issuer=other.did,
        key_id=other_key.key_id,
        holder=outsider.did,
        community_name="Verband",
        valid_from=now,
        valid_until=now + timedelta(days=1),
        status_url=f"{other.node.base_url}/directory/status-list",
        status_index=0,
    )
    header, payload, signature = forged.split(".")
    outsider.node._held = [(f"{header}.{payload[:-4]}AAAA.{signature}", now + timedelta(days=1))]
    tampered = await outcome(outsider, await request_offer(outsider, provider, published))
    assert tampered["state"] == "TERMINATED"
    assert "membership credential" in tampered["terminationReason"]

    # revocation: the directory revokes the member; its next request is refused with the reason
    entry = (await directory.api.get("/api/v1/directory/entries")).json()
    member_entry = next(e for e in entry if e["did"] == member.did)
    revoked = await directory.api.post(
        f"/api/v1/directory/entries/{member_entry['id']}/revoke", json={"reason": "Beitrag nicht bezahlt"}
    )
    assert revoked.status_code == 200
    assert await catalog_ids(member, provider) == []
    after = await outcome(member, await request_offer(member, provider, published))
    assert after["state"] == "TERMINATED"
    assert f"membership credential revoked by {directory.did}" in after["terminationReason"]


async def test_usage_policy_refusal_names_the_revocation(make_node: NodeFactory, tmp_path: Path) -> None:
    directory = await make_node("Verband", 8550, directory_enabled=True, directory_auto_admit=True)
    provider = await make_node("Anbieter", 8551, status_list_cache_seconds=0)
    member = await make_node("Mitglied", 8552)
    data = tmp_path / "open.csv"
    data.write_text("a\n1\n", encoding="utf-8")
    response = await provider.api.post(
        "/api/v1/assets",
        json={
            "path": str(data),
            "title": "Sichtbar",
            "description": "visible to all, usable by members",
            "template": "members-only",
            "template_params": {"community": directory.did},
        },
    )
    published = response.json()
    await apply(member, directory)
    entry_id = (await directory.api.get("/api/v1/directory/entries")).json()[0]["id"]
    await directory.api.post(f"/api/v1/directory/entries/{entry_id}/revoke", json={"reason": "weg"})
    assert await catalog_ids(member, provider) == [published["asset"]["id"]]
    ended = await outcome(member, await request_offer(member, provider, published))
    assert ended["state"] == "TERMINATED"
    reason = ended["terminationReason"]
    assert "the usage policy does not permit this request" in reason
    assert f"membership credential revoked by {directory.did}" in reason
