"""Members-only offers reach the federated catalog of members only: the crawler presents its membership
credential, and each node shows it what it may see (directories and credentials end to end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.dsp import publish
from tests.support.federation import admit_directly

from allmende.network.crawler import crawl
from allmende.policy.jsonld import policy_to_json
from allmende.policy.templates import get_template

pytestmark = pytest.mark.anyio
QUIET = {"crawl_interval_seconds": 0, "membership_poll_seconds": 0}


async def join(member: RunningNode, directory: RunningNode) -> None:
    response = await member.api.post("/api/v1/memberships", json={"directory_url": directory.node.base_url})
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "admitted", response.text


async def test_only_members_cache_members_only_offers(make_node: NodeFactory, tmp_path: Path) -> None:
    association = await make_node(
        "Verband", 8603, directory_enabled=True, directory_auto_admit=True, directory_name="Verband", **QUIET
    )
    provider = await make_node("Anbieter", 8604, **QUIET)
    member = await make_node("Mitglied", 8605, **QUIET)
    outsider = await make_node("Fremd", 8606, directory_enabled=True, **QUIET)
    await join(provider, association)
    await join(member, association)
    admit_directly(outsider.node, provider.node.base_url, "Anbieter")  # the outsider's own directory
    community = association.did
    members_only = policy_to_json(
        get_template("members-only").build(provider.did, "any", community=community)
    )
    await publish(provider, tmp_path, "Open prices")
    await publish(
        provider,
        tmp_path,
        "Association prices",
        template="members-only",
        template_params={"community": community},
        access_policy=members_only,
    )

    by_member, by_outsider = await crawl(member.node), await crawl(outsider.node)

    assert by_member.nodes_seen == 1 and by_member.nodes_updated == 1  # the provider, via the member list
    found: dict[str, Any] = (await member.api.get("/api/v1/search", params={"q": "prices"})).json()
    assert sorted(h["title"] for h in found["hits"]) == ["Association prices", "Open prices"]
    restricted = next(h for h in found["hits"] if h["title"] == "Association prices")
    assert restricted["templates"] == ["members-only"] and restricted["nodeDid"] == provider.did
    facets = (await member.api.get("/api/v1/search/facets")).json()
    assert facets["template"] == ["members-only", "open-use"]

    assert by_outsider.nodes_updated == 1
    seen = (await outsider.api.get("/api/v1/search", params={"q": "prices"})).json()
    assert [h["title"] for h in seen["hits"]] == ["Open prices"]
