"""The management API: documented in OpenAPI, and no route answers without a key; read-only keys only read."""

from __future__ import annotations

import re

import pytest
from tests.conftest import NodeFactory

pytestmark = pytest.mark.anyio


async def test_openapi_lists_the_api_and_the_protocol(make_node: NodeFactory) -> None:
    node = await make_node("Node", 8601)
    spec = (await node.api.get("/api/v1/openapi.json")).json()
    for path in (
        "/api/v1/assets",
        "/api/v1/negotiations/{negotiation_id}/agree",
        "/api/v1/transfers",
        "/dsp/negotiations/request",
        "/dsp/transfers/request",
        "/dsp/catalog/request",
    ):
        assert path in spec["paths"], path


async def test_every_api_route_needs_a_key_and_writes_need_an_admin_key(make_node: NodeFactory) -> None:
    node = await make_node("Node", 8602)
    spec = (await node.api.get("/api/v1/openapi.json")).json()
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        concrete = re.sub(r"\{[^}]+\}", "urn:uuid:x", path)
        for method in operations:
            anonymous = await node.api.request(method, concrete, headers={"Authorization": ""})
            assert anonymous.status_code == 401, (method, path, anonymous.status_code)
            # POSTs that only compute an answer and change nothing may be called with a read-only key
            computing = ("/render", "/remote-catalogs", "/compute/digest", "/knowledge/match")
            if method == "post" and not path.endswith(computing):
                read_only = await node.api.request(
                    method, concrete, headers={"Authorization": f"Bearer {node.created.read_key}"}, json={}
                )
                assert read_only.status_code == 403, (method, path, read_only.status_code)
            checked += 1
    assert checked >= 25
