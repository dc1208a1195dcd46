"""``download`` over real loopback HTTP: a uvicorn server drops the connection mid-body."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from allmende.dataplane.download import DownloadResult, download
from tests.dataplane.apps import BreakingApp, file_app

CONTENT = os.urandom(3 * 1024 * 1024 + 17)
SHA = hashlib.sha256(CONTENT).hexdigest()


@contextmanager
def serving(app: BreakingApp) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port in a thread; yield its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_config=None, log_level="critical", lifespan="off", ws="none", http="h11", loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.mark.anyio
@pytest.mark.parametrize("breaks", [1, 2])
async def test_resumes_after_the_connection_breaks_midway(tmp_path: Path, breaks: int) -> None:
    asset = tmp_path / "asset.bin"
    asset.write_bytes(CONTENT)
    served: list[int] = []
    app = BreakingApp(
        file_app(asset, sha256_hex=SHA, on_bytes=served.append, chunk_size=256 * 1024),
        after=1_000_000,
        breaks=breaks,
    )
    destination = tmp_path / "got" / "asset.bin"
    destination.parent.mkdir()
    with serving(app) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            result = await download(
                client, "/data/t-1", destination, headers={}, retry_delay=0, chunk_size=300_000
            )
    assert result == DownloadResult(size=len(CONTENT), sha256_hex=SHA, resumed=True, attempts=breaks + 1)
    assert destination.read_bytes() == CONTENT
    assert not destination.with_name("asset.bin.part").exists()
    etag = f'"sha256-{SHA}"'
    expected = [(None, None)] + [(f"bytes={n * 1_000_000}-", etag) for n in range(1, breaks + 1)]
    assert app.requests == expected
    # the provider counted what it handed over: every full chunk of the broken answers, then the rest
    assert (
        sum(served)
        == breaks * 1_000_000 - breaks * (1_000_000 % (256 * 1024)) + len(CONTENT) - breaks * 1_000_000
    )
