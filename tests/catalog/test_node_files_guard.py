"""A node's own data folder (keys, secrets, database) can never become an asset."""

from __future__ import annotations

from pathlib import Path

import pytest

from allmende.catalog.service import CatalogError, source_for_path

pytestmark = pytest.mark.anyio


def test_paths_inside_or_above_the_data_folder_are_refused(tmp_path: Path) -> None:
    node_dir = tmp_path / "node"
    (node_dir / "keys").mkdir(parents=True)
    (node_dir / "keys" / "key-1.pem").write_text("secret")
    data = tmp_path / "data.csv"
    data.write_text("a,b\n")
    assert source_for_path(data, node_dir=node_dir) is not None
    for forbidden in (node_dir, node_dir / "keys", node_dir / "keys" / "key-1.pem", tmp_path):
        with pytest.raises(CatalogError, match="data folder"):
            source_for_path(forbidden, node_dir=node_dir)


async def test_the_api_refuses_the_node_folder(make_node) -> None:
    running = await make_node("Maschinenbau Muster GmbH", 8414)
    response = await running.api.post(
        "/api/v1/assets",
        json={
            "path": str(running.node.settings.data_dir / "keys"),
            "title": "keys",
            "description": "must not work",
        },
    )
    assert response.status_code == 400
    assert "data folder" in response.json()["error"]
    assert (await running.api.get("/api/v1/assets")).json() == []
