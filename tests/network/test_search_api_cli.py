"""The search API (search, facets, federated nodes, crawl) and `allmende search` / `allmende crawl`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import NodeFactory
from tests.support.dsp import publish
from tests.support.federation import admit_directly
from typer.testing import CliRunner

from allmende.cli import search_commands
from allmende.cli.main import app

pytestmark = pytest.mark.anyio
runner = CliRunner()


async def test_search_api_and_cli(make_node: NodeFactory, tmp_path: Path, monkeypatch: Any) -> None:
    crawler = await make_node("Crawler", 8600, directory_enabled=True, crawl_interval_seconds=0)
    provider = await make_node("Provider", 8601, crawl_interval_seconds=0)
    await publish(provider, tmp_path, "Spindle vibration", keywords=["vibration", "milling"])
    await publish(provider, tmp_path, "Coolant temperature", template="research-only")
    admit_directly(crawler.node, provider.node.base_url, "Provider", sector="machinery", region="Saxony")

    crawled = await crawler.api.post("/api/v1/crawl")
    assert crawled.status_code == 200, crawled.text
    assert crawled.json()["nodesUpdated"] == 1 and crawled.json()["datasets"] == 2
    denied = await crawler.api.post(
        "/api/v1/crawl", headers={"Authorization": f"Bearer {crawler.created.read_key}"}
    )
    assert denied.status_code == 403

    found = (await crawler.api.get("/api/v1/search", params={"q": "spindle"})).json()
    assert found["total"] == 1
    hit = found["hits"][0]
    assert hit["title"] == "Spindle vibration" and hit["nodeDid"] == provider.did
    assert hit["dspUrl"] == provider.node.dsp_url and hit["sector"] == "machinery"
    assert hit["templates"] == ["open-use"] and hit["offers"][0]["id"].startswith("urn:uuid:")
    assert "text/csv" in hit["formats"] and hit["publisher"] == "Provider"
    filtered = await crawler.api.get(
        "/api/v1/search", params={"template": "research-only", "region": "Saxony"}
    )
    assert [h["title"] for h in filtered.json()["hits"]] == ["Coolant temperature"]
    odd = await crawler.api.get("/api/v1/search", params={"q": 'c++ "OR AND NEAR( ü'})
    assert odd.status_code == 200 and odd.json()["total"] == 0
    assert (await crawler.api.get("/api/v1/search", params={"limit": 0})).status_code == 422
    facets = (await crawler.api.get("/api/v1/search/facets")).json()
    assert facets["keyword"] == ["milling", "vibration"] and facets["sector"] == ["machinery"]
    nodes = (await crawler.api.get("/api/v1/federated-nodes")).json()
    assert [(n["did"], n["failures"]) for n in nodes] == [(provider.did, 0)]

    data_dir = str(tmp_path / "node-8600")
    result = runner.invoke(app, ["search", "spindle", "--data-dir", data_dir, "--json"])
    assert result.exit_code == 0, result.output
    assert [h["title"] for h in json.loads(result.output)["hits"]] == ["Spindle vibration"]
    result = runner.invoke(app, ["search", "--template", "research-only", "--data-dir", data_dir])
    assert result.exit_code == 0 and "Coolant" in result.output and "1 found" in result.output
    result = runner.invoke(app, ["search", "nothing-like-this", "--data-dir", data_dir])
    assert result.exit_code == 0 and "allmende crawl" in result.output

    calls: list[tuple[str, str]] = []

    def fake_api(_data_dir: Path, method: str, path: str, **_: Any) -> dict[str, Any]:
        calls.append((method, path))
        return {
            "nodesSeen": 3,
            "nodesUpdated": 1,
            "nodesUnchanged": 1,
            "nodesFailed": 1,
            "nodesWaiting": 0,
            "datasets": 7,
            "seconds": 0.25,
        }

    monkeypatch.setattr(search_commands, "call_api", fake_api)
    result = runner.invoke(app, ["crawl", "--full", "--data-dir", data_dir])
    assert result.exit_code == 0, result.output
    assert calls == [("POST", "/api/v1/crawl?full=true")] and "1 failed" in result.output
