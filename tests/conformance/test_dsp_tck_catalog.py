"""DSP TCK scenarios CAT:01-xx and MET:01-01 against a node, asked by a scripted counterparty over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import NodeFactory
from tests.support.dsp import NODE_PORT, PARTY_PORT, PartyFactory, catalog_request, publish, scripted_parties

from allmende.loopback import InProcessNetwork
from allmende.protocol.schemas import validate_message

pytestmark = pytest.mark.anyio


@pytest.fixture
async def parties(network: InProcessNetwork, tmp_path: Path) -> AsyncIterator[PartyFactory]:
    async with scripted_parties(network, tmp_path) as make:
        yield make


async def test_CAT_01_01(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Verify catalog request: the answer is a schema-valid Catalog of the node with the published dataset."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    published = await publish(node, tmp_path)
    party = parties(PARTY_PORT)

    response = await party.send(f"{node.node.dsp_url}/catalog/request", catalog_request(), audience=node.did)

    assert response.status_code == 200, response.text
    catalog = response.json()
    validate_message(catalog, "Catalog")
    assert catalog["@type"] == "Catalog"
    assert catalog["participantId"] == node.did
    offers = [offer["@id"] for dataset in catalog["dataset"] for offer in dataset["hasPolicy"]]
    assert offers == [published["offer"]["id"]]


async def test_CAT_01_02(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Verify dataset request: GET /catalog/datasets/{id} answers the schema-valid Dataset."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    published = await publish(node, tmp_path)
    party = parties(PARTY_PORT)
    catalog = (
        await party.send(f"{node.node.dsp_url}/catalog/request", catalog_request(), audience=node.did)
    ).json()
    dataset_id = catalog["dataset"][0]["@id"]

    response = await party.send(
        f"{node.node.dsp_url}/catalog/datasets/{dataset_id}", audience=node.did, method="GET"
    )

    assert response.status_code == 200, response.text
    dataset = response.json()
    validate_message(dataset, "Dataset")
    assert dataset["@id"] == dataset_id
    assert [offer["@id"] for offer in dataset["hasPolicy"]] == [published["offer"]["id"]]


async def test_CAT_01_03(make_node: NodeFactory, parties: PartyFactory, tmp_path: Path) -> None:
    """Verify dataset request not found: 404 with a schema-valid CatalogError."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    await publish(node, tmp_path)
    party = parties(PARTY_PORT)

    response = await party.send(
        f"{node.node.dsp_url}/catalog/datasets/urn:uuid:00000000-0000-0000-0000-000000000000",
        audience=node.did,
        method="GET",
    )

    assert response.status_code == 404, response.text
    error = response.json()
    assert error["@type"] == "CatalogError"
    validate_message(error, "CatalogError")


async def test_CAT_unauthenticated_catalog_request_is_401(
    make_node: NodeFactory, network: InProcessNetwork, tmp_path: Path
) -> None:
    """Without a token the catalog is not shown: 401 CatalogError with WWW-Authenticate."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    await publish(node, tmp_path)
    async with httpx.AsyncClient(transport=network.transport()) as anonymous:
        response = await anonymous.post(f"{node.node.dsp_url}/catalog/request", json=catalog_request())

    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error = response.json()
    assert error["@type"] == "CatalogError"
    validate_message(error, "CatalogError")
    assert "dataset" not in error


async def test_CAT_paging_link_next_walks_every_page_once(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    """With 5 datasets and ?limit=2, following Link rel="next" yields 2+2+1 datasets, each exactly once."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    offers = set()
    for n in range(5):
        # An explicit offer id per asset: see test_CAT_two_assets_with_the_same_template for why.
        unique = {"uid": f"urn:uuid:00000000-0000-4000-8000-00000000000{n}"}
        offers.add(
            (await publish(node, tmp_path, title=f"Series {n}", template_params=unique))["offer"]["id"]
        )
    party = parties(PARTY_PORT)

    url: str | None = f"{node.node.dsp_url}/catalog/request?limit=2"
    seen: list[str] = []
    page_sizes: list[int] = []
    while url is not None:
        assert len(page_sizes) < 10, "paging does not end"
        response = await party.send(url, catalog_request(), audience=node.did)
        assert response.status_code == 200, response.text
        page = response.json()
        validate_message(page, "Catalog")
        datasets = page.get("dataset", [])
        page_sizes.append(len(datasets))
        seen.extend(offer["@id"] for dataset in datasets for offer in dataset["hasPolicy"])
        url = response.links.get("next", {}).get("url")

    assert page_sizes == [2, 2, 1]
    assert sorted(seen) == sorted(offers)
    assert len(seen) == len(set(seen)) == 5


async def test_CAT_two_assets_with_the_same_template_are_both_published(
    make_node: NodeFactory, parties: PartyFactory, tmp_path: Path
) -> None:
    """Two assets under the default open-use template: both are published, each with its own offer."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    first = await publish(node, tmp_path, title="Series A")
    data = tmp_path / "series-b.csv"
    data.write_text("t,v\n1,2\n", encoding="utf-8")
    second = await node.api.post(
        "/api/v1/assets",
        json={"path": str(data), "title": "Series B", "description": "B", "template": "open-use"},
    )
    assert second.status_code == 201, second.text
    assert second.json()["offer"]["id"] != first["offer"]["id"]


async def test_MET_01_01(make_node: NodeFactory, network: InProcessNetwork) -> None:
    """Verify metadata request: /.well-known/dspace-version, unauthenticated, is a valid VersionResponse."""
    node = await make_node("Maschinenbau Muster GmbH", NODE_PORT)
    async with httpx.AsyncClient(transport=network.transport()) as anonymous:
        response = await anonymous.get(f"{node.node.base_url}/.well-known/dspace-version")

    assert response.status_code == 200, response.text
    versions = response.json()
    validate_message(versions, "VersionResponse")
    entry = next(v for v in versions["protocolVersions"] if v["version"] == "2025-1")
    assert entry["binding"] == "HTTPS"
    assert node.node.base_url + entry["path"] == node.node.dsp_url
