"""Publishing the bundled demo knowledge items on a test node through its management API."""

from __future__ import annotations

from allmende.knowledge.model import item_json
from allmende.knowledge.seed import demo_items
from tests.conftest import RunningNode


async def publish_demo_items(node: RunningNode, count: int) -> list[str]:
    """Publish the first ``count`` demo items on ``node``; their ids, in that order."""
    ids = []
    for item in demo_items()[:count]:
        response = await node.api.post("/api/v1/knowledge/items", json=item_json(item))
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))
    return ids
