"""First start: a data folder without a node is set up in the browser, then serves the node."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests.support.web import PASSWORD

from allmende.accounts.setup_code import SETUP_CODE_FILE
from allmende.web.first_start import FirstStart

pytestmark = pytest.mark.anyio
URL = "http://127.0.0.1:8411"


async def test_first_start_creates_the_node_and_its_owner(tmp_path: Path) -> None:
    data_dir = tmp_path / "new-node"
    app = FirstStart(data_dir, URL, 8411)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=URL, headers={"Accept-Language": "de"}
    )
    try:
        assert (await client.get("/")).headers["location"] == "/setup"
        assert (await client.get("/api/v1/node")).status_code == 503
        form = await client.get("/setup")
        assert 'value="http://127.0.0.1:8411"' in form.text
        assert "Öffentliche Adresse" in form.text
        values = {
            "setup_code": app.code,
            "name": "Maschinenbau Muster GmbH",
            "public_url": "ftp://nowhere",
            "language": "de",
            "display_name": "Max Muster",
            "username": "max",
            "password": PASSWORD,
        }
        refused = await client.post("/setup", data=values)
        assert refused.status_code == 400
        assert 'id="public_url-error"' in refused.text
        assert 'value="Maschinenbau Muster GmbH"' in refused.text
        assert not (data_dir / "node.json").exists()

        done = await client.post("/setup", data={**values, "public_url": URL})
        assert done.status_code == 303
        assert app.node is not None
        settings = json.loads((data_dir / "node.json").read_text())
        assert settings["name"] == "Maschinenbau Muster GmbH"
        assert settings["public_url"] == URL and settings["language"] == "de" and settings["port"] == 8411
        assert not (data_dir / SETUP_CODE_FILE).exists()
        dashboard = await client.get("/")
        assert dashboard.status_code == 200 and "Übersicht" in dashboard.text
        did = await client.get("/.well-known/did.json")
        assert did.json()["id"] == "did:web:127.0.0.1%3A8411"
    finally:
        await client.aclose()
        if app.node is not None:
            await app.node.stop()


async def test_first_start_needs_the_code(tmp_path: Path) -> None:
    app = FirstStart(tmp_path / "n", URL, 8412)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=URL) as client:
        response = await client.post(
            "/setup",
            data={
                "setup_code": "000000-000000-000000",
                "name": "X",
                "public_url": URL,
                "display_name": "X",
                "username": "xavier",
                "password": PASSWORD,
            },
        )
    assert response.status_code == 400
    assert "This is not the set-up code of this node." in response.text
    assert app.node is None and not (tmp_path / "n" / "node.json").exists()
