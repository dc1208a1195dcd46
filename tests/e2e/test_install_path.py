"""The install path: `init`, `asset add`, `serve` as real processes; then `negotiate`, `transfer get`."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "allmende.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def two_served_nodes(tmp_path: Path) -> Iterator[dict[str, tuple[Path, str]]]:
    nodes: dict[str, tuple[Path, str]] = {}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for key, name in (("provider", "Maschinenbau Muster GmbH"), ("consumer", "Feinteile KG")):
            url = f"http://127.0.0.1:{free_port()}"
            data_dir = tmp_path / key
            created = cli("init", "--data-dir", str(data_dir), "--name", name, "--url", url)
            assert created.returncode == 0, created.stderr
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "allmende.cli", "serve", "--data-dir", str(data_dir)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            nodes[key] = (data_dir, url)
        for (_, url), process in zip(nodes.values(), processes, strict=True):
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    if httpx.get(f"{url}/.well-known/dspace-version", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} not ready"
                time.sleep(0.1)
        yield nodes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


def test_open_use_offer_is_negotiated_between_real_processes(
    two_served_nodes: dict[str, tuple[Path, str]], tmp_path: Path
) -> None:
    (provider_dir, provider_url), (consumer_dir, _) = (
        two_served_nodes["provider"],
        two_served_nodes["consumer"],
    )
    data = tmp_path / "spindle.csv"
    data.write_text("t,rms\n1,1.2\n", encoding="utf-8")
    added = cli(
        "asset",
        "add",
        str(data),
        "--data-dir",
        str(provider_dir),
        "--title",
        "Spindle vibration",
        "--description",
        "RMS vibration",
        "--policy",
        "open-use",
        "--json",
    )
    assert added.returncode == 0, added.stderr
    offer_id = json.loads(added.stdout)["offer"]["id"]

    catalog = cli("catalog", provider_url, "--data-dir", str(consumer_dir), "--json")
    assert catalog.returncode == 0, catalog.stderr
    assert json.loads(catalog.stdout)["catalog"]["dataset"][0]["hasPolicy"][0]["@id"] == offer_id

    negotiated = cli(
        "negotiate", provider_url, "--offer", offer_id, "--data-dir", str(consumer_dir), "--json"
    )
    assert negotiated.returncode == 0, negotiated.stderr
    assert json.loads(negotiated.stdout)["state"] == "FINALIZED"

    ours = json.loads(cli("agreements", "--data-dir", str(consumer_dir), "--json").stdout)
    deadline = time.monotonic() + 10
    while True:
        theirs = json.loads(cli("agreements", "--data-dir", str(provider_dir), "--json").stdout)
        if theirs and theirs[0]["finalized"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert [a["digest"] for a in ours] == [a["digest"] for a in theirs]
    received = tmp_path / "received.csv"
    pulled = cli(
        "transfer", "get", ours[0]["id"], "-o", str(received), "--data-dir", str(consumer_dir), "--json"
    )
    assert pulled.returncode == 0, pulled.stderr
    assert received.read_bytes() == data.read_bytes()
    assert json.loads(pulled.stdout)["transfer"]["state"] == "COMPLETED"
    assert not received.with_name("received.csv.part").exists()

    for data_dir in (provider_dir, consumer_dir):
        assert cli("audit", "verify", "--data-dir", str(data_dir)).returncode == 0

    unknown = cli(
        "negotiate", provider_url, "--offer", "urn:uuid:no-such-offer", "--data-dir", str(consumer_dir)
    )
    assert unknown.returncode == 1 and "offers no" in unknown.stderr
