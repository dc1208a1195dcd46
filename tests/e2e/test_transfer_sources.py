"""Pulling assets that are not single files: a folder (tar or file by file) and an SQL query."""

from __future__ import annotations

import io
import sqlite3
import tarfile
from pathlib import Path

import httpx
import pytest

from allmende.loopback import InProcessNetwork
from allmende.transfer.messages import read_data_address
from tests.conftest import NodeFactory, RunningNode
from tests.e2e.test_negotiation_between_nodes import negotiation
from tests.e2e.test_transfer_between_nodes import started_transfer
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio


async def publish_and_agree(provider: RunningNode, consumer: RunningNode, asset: dict[str, object]) -> str:
    body = {
        "title": "Shared data",
        "description": "Data of the owner's systems",
        "template": "open-use",
        **asset,
    }
    published = await provider.api.post("/api/v1/assets", json=body)
    assert published.status_code == 201, published.text
    offer = published.json()["offer"]["id"]
    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": offer}
    )
    final = await eventually(
        lambda: negotiation(consumer, started.json()["id"]), lambda n: n["state"] == "FINALIZED"
    )
    return str(final["agreementId"])


async def test_folder_as_tar_and_file_by_file(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    provider = await make_node("Provider", 8701)
    consumer = await make_node("Consumer", 8702)
    folder = tmp_path / "machine-logs"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "january.csv").write_text("t,v\n1,2\n", encoding="utf-8")
    (folder / "readme.txt").write_text("spindle logs", encoding="utf-8")
    tar_agreement = await publish_and_agree(provider, consumer, {"path": str(folder)})
    files_agreement = await publish_and_agree(
        provider, consumer, {"path": str(folder), "folder_mode": "files"}
    )
    async with httpx.AsyncClient(transport=network.transport()) as client:
        endpoint, token = read_data_address((await started_transfer(consumer, tar_agreement))["dataAddress"])
        auth = {"Authorization": f"Bearer {token}"}
        response = await client.get(endpoint, headers=auth)
        assert response.status_code == 200 and response.headers["content-type"] == "application/x-tar"
        with tarfile.open(fileobj=io.BytesIO(response.content)) as archive:
            assert sorted(archive.getnames()) == ["2026", "2026/january.csv", "readme.txt"]
            member = archive.extractfile("2026/january.csv")
            assert member is not None and member.read() == b"t,v\n1,2\n"

        endpoint, token = read_data_address(
            (await started_transfer(consumer, files_agreement))["dataAddress"]
        )
        auth = {"Authorization": f"Bearer {token}"}
        listing = (await client.get(f"{endpoint}/files", headers=auth)).json()["files"]
        assert {f["name"] for f in listing} == {"2026/january.csv", "readme.txt"}
        one = await client.get(f"{endpoint}/files/readme.txt", headers={**auth, "Range": "bytes=0-6"})
        assert one.status_code == 206 and one.content == b"spindle"
        escape = await client.get(f"{endpoint}/files/..%2F..%2Fetc%2Fpasswd", headers=auth)
        assert escape.status_code in (400, 404)
        assert "root:" not in escape.text


async def test_sql_query_is_served_as_csv_with_the_url_kept_secret(
    make_node: NodeFactory, tmp_path: Path, network: InProcessNetwork
) -> None:
    provider = await make_node("Provider", 8703)
    consumer = await make_node("Consumer", 8704)
    database = tmp_path / "erp.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE energy (machine TEXT, kwh REAL)")
        conn.executemany("INSERT INTO energy VALUES (?, ?)", [("DMU-65", 12.5), ("NLX-2500", 8.25)])
    url = f"sqlite:///{database}"
    provider.node.secrets.put("erp-db", url)
    missing = await provider.api.post(
        "/api/v1/assets",
        json={
            "title": "T",
            "description": "D",
            "source": {"kind": "sql_query", "database_url_secret": "secret:nope", "query": "SELECT 1"},
        },
    )
    assert missing.status_code == 400 and "no secret named 'nope'" in missing.json()["error"]
    agreement = await publish_and_agree(
        provider,
        consumer,
        {
            "source": {
                "kind": "sql_query",
                "database_url_secret": "secret:erp-db",
                "query": "SELECT machine, kwh FROM energy ORDER BY machine",
            }
        },
    )
    mine = await started_transfer(consumer, agreement)
    endpoint, token = read_data_address(mine["dataAddress"])
    async with httpx.AsyncClient(transport=network.transport()) as client:
        response = await client.get(endpoint, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines() == ["machine,kwh", "DMU-65,12.5", "NLX-2500,8.25"]
    assets = (await provider.api.get("/api/v1/assets")).json()
    catalog = (
        await consumer.api.post("/api/v1/remote-catalogs", json={"address": provider.node.base_url})
    ).text
    audit = (await provider.api.get("/api/v1/audit", params={"limit": 1000})).text
    for shown in (str(assets), catalog, audit):
        assert str(database) not in shown  # the database URL stays in the secret store
