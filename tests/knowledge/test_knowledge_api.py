"""The knowledge API (publish, edit, versions, withdraw, list, search, match, seed, crawl) and
`allmende knowledge ...` on a real node, with the semantic model and without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import NodeFactory, RunningNode
from typer.testing import CliRunner

from allmende.cli.main import app
from allmende.knowledge import embeddings
from allmende.knowledge.model import item_json
from allmende.knowledge.seed import demo_items

pytestmark = pytest.mark.anyio
runner = CliRunner()
QUIET = {"crawl_interval_seconds": 0}
NEED = "Wir wollen unsere Spritzgussmaschinen vernetzen und Ausfälle vorhersagen"
PROFILE = {"sector": "Kunststoffverarbeitung", "size_class": "small", "employees": 40, "region": "Sachsen"}


async def _seeded(make_node: NodeFactory, port: int, **settings: Any) -> RunningNode:
    node: RunningNode = await make_node("Centre", port, **QUIET, **settings)
    seeded = await node.api.post("/api/v1/knowledge/seed", params={"demo": "true"})
    assert seeded.status_code == 201 and seeded.json() == {"added": 26}
    again = await node.api.post("/api/v1/knowledge/seed", params={"demo": "true"})
    assert again.status_code == 200 and again.json() == {"added": 0}
    return node


async def test_publish_edit_versions_and_withdraw(make_node: NodeFactory) -> None:
    node = await make_node("Centre", 8820, **QUIET)
    case = item_json(demo_items()[1])
    created = await node.api.post("/api/v1/knowledge/items", json=case)
    assert created.status_code == 201
    item_id = created.json()["id"]
    assert created.json()["item"]["checklist"]["of"] == 7
    bad = await node.api.post("/api/v1/knowledge/items", json={**case, "company": {"sector": "x"}})
    assert bad.status_code == 400 and {"company.size_class", "company.region"} <= {
        d["field"] for d in bad.json()["details"]
    }
    edited = await node.api.put(f"/api/v1/knowledge/items/{item_id}", json={**case, "title": "New title"})
    assert edited.json()["version"] == 2
    versions = (await node.api.get(f"/api/v1/knowledge/items/{item_id}/versions")).json()
    assert [v["data"]["title"] for v in versions] == [case["title"], "New title"]
    read_only = {"Authorization": f"Bearer {node.created.read_key}"}
    assert (await node.api.post("/api/v1/knowledge/items", json=case, headers=read_only)).status_code == 403
    listed = (await node.api.get("/api/v1/knowledge/items", headers=read_only)).json()
    assert [i["item"]["title"] for i in listed] == ["New title"]
    assert (await node.api.delete(f"/api/v1/knowledge/items/{item_id}")).status_code == 200
    assert (await node.api.get(f"/api/v1/knowledge/items/{item_id}")).status_code == 404
    assert (await node.api.delete(f"/api/v1/knowledge/items/{item_id}")).status_code == 404
    assert (await node.api.get("/api/v1/knowledge/items", params={"kind": "recipe"})).status_code == 400


async def test_hybrid_search_finds_across_languages(make_node: NodeFactory) -> None:
    node = await _seeded(make_node, 8821)
    # English need, German case: no word in common, found by meaning
    found = (
        await node.api.get(
            "/api/v1/knowledge/search", params={"q": "predict failures of injection moulding machines"}
        )
    ).json()
    assert found["mode"] == "hybrid" and found["notice"] is None
    assert found["hits"][0]["title"].startswith("Zustandsüberwachung an Spritzgieß")
    assert found["hits"][0]["semanticRank"] == 1
    bavaria = await node.api.get(
        "/api/v1/knowledge/search", params={"q": "Zuschuss", "kind": "programme", "region": "Sachsen"}
    )
    assert "Digitalbonus Bayern" not in [h["title"] for h in bavaria.json()["hits"]]
    bad = await node.api.get("/api/v1/knowledge/search", params={"q": "x", "region": "Mordor"})
    assert bad.status_code == 400 and "unknown region" in bad.json()["error"]


async def test_matchmaking_puts_eligible_programmes_first(make_node: NodeFactory) -> None:
    node = await _seeded(
        make_node, 8822, sector="Kunststoffverarbeitung", size_class="small", region="Sachsen"
    )
    answer = await node.api.post("/api/v1/knowledge/match", json={"need": NEED, "profile": {"employees": 40}})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["profile"]["region"] == "Sachsen"  # from the node's settings
    verdicts = [p["eligibility"] for p in result["programmes"]]
    order = {"eligible": 0, "check": 1, "ineligible": 2}
    assert verdicts == sorted(verdicts, key=order.__getitem__) and verdicts[0] == "eligible"
    first = result["programmes"][0]
    assert first["verifiedOn"] == "2026-11-27" and first["verifiedSource"].startswith("https://")
    case = result["cases"][0]
    assert case["title"].startswith("Zustandsüberwachung an Spritzgieß")
    assert "same sector (Kunststoffverarbeitung)" in case["why"] and "same region (Sachsen)" in case["why"]
    assert result["experts"][0]["title"].startswith("Mittelstand-Digital Zentrum (Demo)")
    assert any("active in Sachsen" in why for why in result["experts"][0]["why"])
    everything = await node.api.post(
        "/api/v1/knowledge/match",
        json={"need": NEED, "limit": 50, "profile": {**PROFILE, "region": "Bayern", "turnover_eur": 2e6}},
    )
    bayern = [p["title"] for p in everything.json()["programmes"] if p["eligibility"] == "eligible"]
    assert "Digitalbonus Bayern" in bayern
    for body in (
        {"need": ""},
        {"need": NEED, "profile": {"size_class": "huge"}},
        {"need": NEED, "profile": 3},
    ):
        assert (await node.api.post("/api/v1/knowledge/match", json=body)).status_code == 400


async def test_semantic_search_turned_off_is_keyword_only_and_says_so(make_node: NodeFactory) -> None:
    node = await _seeded(make_node, 8823, semantic_search=False)
    found = (await node.api.get("/api/v1/knowledge/search", params={"q": "Spritzgießmaschinen"})).json()
    assert found["mode"] == "keyword" and found["notice"] == embeddings.OFF_NOTICE
    assert found["hits"][0]["semanticRank"] is None
    matched = (await node.api.post("/api/v1/knowledge/match", json={"need": NEED, "profile": PROFILE})).json()
    assert matched["notice"] == embeddings.OFF_NOTICE and matched["programmes"]


async def test_cli(make_node: NodeFactory, tmp_path: Path) -> None:
    node = await _seeded(make_node, 8824)
    data_dir = str(node.node.settings.data_dir)
    item = tmp_path / "item.json"
    item.write_text(json.dumps(item_json(demo_items()[7])), encoding="utf-8")
    added = runner.invoke(app, ["knowledge", "add", str(item), "--data-dir", data_dir, "--json"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["knowledge", "list", "--kind", "security", "--data-dir", data_dir, "--json"])
    assert len(json.loads(listed.output)) == 2
    found = runner.invoke(app, ["knowledge", "search", "Ransomware", "--data-dir", data_dir, "--json"])
    assert json.loads(found.output)["hits"][0]["kind"] == "security"
    matched = runner.invoke(
        app,
        [
            "knowledge",
            "match",
            NEED,
            "--region",
            "Sachsen",
            "--size-class",
            "small",
            "--data-dir",
            data_dir,
            "--json",
        ],
    )
    assert matched.exit_code == 0, matched.output
    assert json.loads(matched.output)["programmes"][0]["eligibility"] == "eligible"
    item.write_text(json.dumps({"kind": "event", "title": "x"}), encoding="utf-8")
    refused = runner.invoke(app, ["knowledge", "add", str(item), "--data-dir", data_dir])
    assert refused.exit_code == 1 and "invalid event" in refused.output and "Traceback" not in refused.output
    unknown = runner.invoke(app, ["knowledge", "search", "x", "--region", "Mordor", "--data-dir", data_dir])
    assert unknown.exit_code == 1 and "unknown region" in unknown.output
