"""The DSP catalog answers with an ETag per caller and page, and 304 when If-None-Match names it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.conftest import NodeFactory, RunningNode
from tests.support.dsp import catalog_request, publish

pytestmark = pytest.mark.anyio


async def ask(caller: RunningNode, provider: RunningNode, query: str = "", **headers: str) -> httpx.Response:
    return await caller.node.http.post(
        f"{provider.node.dsp_url}/catalog/request{query}",
        json=catalog_request(),
        headers={"Authorization": "Bearer " + caller.node.issue_token(provider.did), **headers},
    )


async def test_etag_per_caller_and_page_and_304(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Provider", 8590, crawl_interval_seconds=0)
    one = await make_node("One", 8591, crawl_interval_seconds=0)
    two = await make_node("Two", 8592, crawl_interval_seconds=0)
    await publish(provider, tmp_path, "Open data")
    only_one = {"@type": "Offer", "assignee": one.did, "permission": [{"action": "use"}]}
    await publish(provider, tmp_path, "Restricted data", access_policy=only_one)

    first = await ask(one, provider)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"') and len(etag) == 66
    assert (await ask(one, provider)).headers["etag"] == etag  # stable while nothing changes
    assert (await ask(two, provider)).headers["etag"] != etag  # two sees less

    again = await ask(one, provider, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    listed = await ask(one, provider, **{"If-None-Match": f'"other", W/{etag}'})
    assert listed.status_code == 304
    assert (await ask(one, provider, **{"If-None-Match": '"other"'})).status_code == 200
    assert (await ask(two, provider, **{"If-None-Match": etag})).status_code == 200

    paged = await ask(one, provider, "?limit=1")
    assert paged.headers["etag"] != etag and 'rel="next"' in paged.headers["link"]
    not_modified = await ask(one, provider, "?limit=1", **{"If-None-Match": paged.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.headers["link"] == paged.headers["link"]

    await publish(provider, tmp_path, "New data")
    assert (await ask(one, provider, **{"If-None-Match": etag})).status_code == 200
