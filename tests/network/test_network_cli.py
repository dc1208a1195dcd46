"""`allmende directory ...` on the directory's data folder, `allmende membership ...` through the API."""

from __future__ import annotations

import json

import pytest
from tests.conftest import NodeFactory
from typer.testing import CliRunner

from allmende.cli.main import app
from allmende.settings import update_settings

pytestmark = pytest.mark.anyio
runner = CliRunner()


async def test_directory_commands_decide_applications_locally(make_node: NodeFactory) -> None:
    directory = await make_node("Verband", 8545, directory_enabled=True, directory_name="Verband Sachsen")
    member = await make_node("Feinteile KG", 8546)
    data_dir = str(directory.node.settings.data_dir)
    off = runner.invoke(app, ["directory", "members", "--data-dir", data_dir])
    assert off.exit_code == 1 and "runs no directory" in off.output
    update_settings(
        directory.node.settings.data_dir, {"directory_enabled": True, "directory_name": "Verband Sachsen"}
    )
    applied = await member.api.post("/api/v1/memberships", json={"directory_url": directory.node.base_url})
    assert applied.status_code == 201, applied.text

    listed = runner.invoke(app, ["directory", "applications", "--json", "--data-dir", data_dir])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.output)
    assert [(e["did"], e["state"]) for e in entries] == [(member.did, "pending")]
    entry_id = entries[0]["id"]

    admitted = runner.invoke(app, ["directory", "admit", entry_id, "--data-dir", data_dir])
    assert admitted.exit_code == 0, admitted.output
    assert "admitted" in admitted.output
    refused = runner.invoke(app, ["directory", "refuse", entry_id, "--reason", "x", "--data-dir", data_dir])
    assert refused.exit_code == 1 and "the entry is admitted, not pending" in refused.output
    assert "Traceback" not in refused.output

    members = runner.invoke(app, ["directory", "members", "--json", "--data-dir", data_dir])
    view = json.loads(members.output)
    assert view["community"] == directory.did and view["name"] == "Verband Sachsen"
    assert [m["did"] for m in view["members"]] == [member.did]

    refreshed = await member.api.post(f"/api/v1/memberships/{applied.json()['id']}/refresh")
    assert refreshed.json()["state"] == "admitted"

    revoked = runner.invoke(
        app, ["directory", "revoke", entry_id, "--reason", "ausgetreten", "--data-dir", data_dir]
    )
    assert revoked.exit_code == 0, revoked.output
    table = runner.invoke(app, ["directory", "applications", "--state", "revoked", "--data-dir", data_dir])
    assert "ausgetreten" in table.output
    unknown = runner.invoke(app, ["directory", "applications", "--state", "gone", "--data-dir", data_dir])
    assert unknown.exit_code == 1 and "unknown state" in unknown.output


async def test_membership_commands_need_the_running_node(make_node: NodeFactory) -> None:
    member = await make_node("Feinteile KG", 8547)
    data_dir = str(member.node.settings.data_dir)
    result = runner.invoke(app, ["membership", "list", "--data-dir", data_dir])
    assert result.exit_code == 1
    assert "is `allmende serve` running?" in result.output


async def test_membership_api_lists_and_refreshes(make_node: NodeFactory) -> None:
    directory = await make_node("Verband", 8548, directory_enabled=True)
    member = await make_node("Feinteile KG", 8549)
    applied = (
        await member.api.post(
            "/api/v1/memberships", json={"directory_url": directory.node.base_url + "/directory"}
        )
    ).json()
    listed = (await member.api.get("/api/v1/memberships")).json()
    assert [(m["id"], m["state"], m["directoryDid"]) for m in listed] == [
        (applied["id"], "applied", directory.did)
    ]
    unknown = await member.api.post("/api/v1/memberships/urn:uuid:nope/refresh")
    assert unknown.status_code == 404
    not_directory = await member.api.post("/api/v1/directory/entries/x/admit")
    assert not_directory.status_code == 404
