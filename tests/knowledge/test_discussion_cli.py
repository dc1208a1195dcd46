"""`allmende discussion ...` on a node's data folder, and a CLI post to another node's topic that the
running node delivers from its outbox."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually
from typer.testing import CliRunner

from allmende.cli.main import app

pytestmark = pytest.mark.anyio
runner = CliRunner()


def cli(node: RunningNode, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, ["discussion", *args, "--data-dir", str(node.node.settings.data_dir)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return json.loads(result.output) if code == 0 and "--json" in args else result.output


async def test_topics_posts_and_moderation_from_the_command_line(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8771)
    topic = cli(host, "new", "--title", "OPC UA retrofit", "--about", "urn:knowledge:case-3", "--json")
    assert topic["postCount"] == 0 and topic["about"] == "urn:knowledge:case-3"
    assert [t["id"] for t in cli(host, "topics", "--json")] == [topic["id"]]
    assert cli(host, "topics", "--about", "urn:other", "--json") == []

    first = cli(host, "post", topic["id"], "--body", "Welche Gateways nutzt ihr?", "--as", "Dana", "--json")
    reply = cli(host, "post", topic["id"], "--body", "Kepware", "--reply-to", first["id"], "--json")
    shown = cli(host, "show", topic["id"], "--json")
    assert [(p["seq"], p["authorName"], p["parentSeq"]) for p in shown["posts"]] == [
        (1, "Dana", None),
        (2, "Kompetenzzentrum", 1),
    ]
    assert reply["authorDid"] == host.did
    text = cli(host, "show", topic["id"])
    assert "Welche Gateways nutzt ihr?" in text and "↳ #1" in text

    hidden = cli(host, "hide", reply["id"], "--reason", "Off topic", "--json")
    assert hidden["hidden"] is True and hidden["body"] is None
    assert "post is already hidden" in cli(host, "hide", reply["id"], "--reason", "x", code=1)
    assert cli(host, "lock", topic["id"], "--reason", "Answered", "--json")["locked"] is True
    refused = cli(host, "post", topic["id"], "--body", "One more", code=1)
    assert "the topic is locked" in refused
    assert cli(host, "unlock", topic["id"], "--json")["locked"] is False

    assert "no topic gone on this node" in cli(host, "show", "gone", code=1)
    assert "unknown state" in cli(host, "reports", "--state", "later", code=1)
    assert cli(host, "reports", "--json") == []
    assert "no report r1" in cli(host, "dismiss", "r1", code=1)
    api = (await host.api.get(f"/api/v1/discussions/topics/{topic['id']}")).json()
    assert [p["hidden"] for p in api["posts"]] == [False, True]


async def test_a_cli_post_to_another_node_is_delivered_by_the_running_node(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8772)
    author = await make_node("Feinteile KG", 8773)
    created = await host.api.post("/api/v1/discussions/topics", json={"title": "Energy monitoring"})
    address = created.json()["address"]

    queued = cli(author, "post", address, "--body", "We use Shelly plugs.", "--json")
    assert queued["delivery"] == "pending" and queued["topic"] == address

    async def state() -> str:
        listed = (await author.api.get(f"/api/v1/discussions/outgoing/{queued['id']}")).json()
        return str(listed["delivery"])

    await eventually(state, lambda value: value == "sent", timeout=20)
    thread = (await host.api.get(f"/api/v1/discussions/topics/{created.json()['id']}")).json()
    assert [(p["authorDid"], p["body"]) for p in thread["posts"]] == [(author.did, "We use Shelly plugs.")]
    assert "not the address of a topic" in cli(author, "post", "ftp://x/discussions/a", "--body", "x", code=1)
