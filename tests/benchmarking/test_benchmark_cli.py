"""`allmende benchmark ...` against real `allmende serve` processes: a round driven from the command line
(the firms that only need to join use the API directly, to keep the test short)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner, Result

from allmende.cli.main import app
from allmende.setup_node import init_node

pytestmark = pytest.mark.slow
OEE = [61.2837, 73.4172, 58.9061]
runner = CliRunner()


@dataclass(frozen=True)
class Served:
    folder: str
    url: str
    api: httpx.Client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str) -> Result:
    """The CLI in this process (the nodes it talks to are real server processes)."""
    return runner.invoke(app, list(args))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[Served]]:
    """An association and three firms served as real processes on loopback."""
    nodes: list[Served] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for i, name in enumerate(["Verband", "Firma A", "Firma B", "Firma C"]):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            created = init_node(tmp_path / f"node-{i}", name=name, public_url=url, port=port)
            log = (tmp_path / f"node-{i}.log").open("wb")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "allmende.cli", "serve", "--data-dir", str(created.data_dir)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
            api = httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {created.admin_key}"}, timeout=30
            )
            nodes.append(Served(str(created.data_dir), url, api))
        for i, (node, process) in enumerate(zip(nodes, processes, strict=True)):
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, (tmp_path / f"node-{i}.log").read_text()
                try:
                    if httpx.get(f"{node.url}/.well-known/dspace-version", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{node.url} not ready"
                time.sleep(0.1)
        yield nodes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        for node in nodes:
            node.api.close()


def run_json(*args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def wait_for(probe: Any, done: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not done(value := probe()):
        assert time.monotonic() < deadline, value
        time.sleep(0.2)
    return value


def test_a_round_from_the_command_line(served: list[Served]) -> None:
    association, first, *others = served
    bad_kpi = cli(
        "benchmark", "create", "--title", "OEE", "--kpi", "oee,%,0", "--data-dir", association.folder
    )
    assert bad_kpi.exit_code == 1 and "name,unit,lower,upper" in bad_kpi.output
    created = run_json(
        "benchmark",
        "create",
        "--title",
        "OEE 2026",
        "--kpi",
        "oee,%,0,100,10",
        "--min",
        "3",
        "--data-dir",
        association.folder,
    )
    url, round_id = created["url"], created["id"]
    offered = cli("benchmark", "open", association.url, "--data-dir", first.folder)
    assert offered.exit_code == 0 and "OEE 2026" in offered.stdout and "oee" in offered.stdout
    listed = run_json("benchmark", "open", association.url, "--data-dir", first.folder)
    assert [r["url"] for r in listed] == [url]
    shown = cli("benchmark", "show", url, "--data-dir", first.folder)
    assert shown.exit_code == 0 and "OEE 2026" in shown.stdout and "oee (%)" in shown.stdout
    wrong = cli("benchmark", "join", "https://example.org/x", "--value", "oee=1", "--data-dir", first.folder)
    assert wrong.exit_code == 1 and "not a benchmark round address" in wrong.output
    assert wrong.exception is None or isinstance(wrong.exception, SystemExit)
    mine = run_json("benchmark", "join", url, "--value", f"oee={OEE[0]}", "--data-dir", first.folder)
    for node, value in zip(others, OEE[1:], strict=True):
        joined = node.api.post(
            "/api/v1/benchmarks/participations", json={"round_url": url, "values": {"oee": value}}
        )
        assert joined.status_code == 201, joined.text

    assert run_json("benchmark", "close", round_id, "--data-dir", association.folder)["state"] == "sharing"
    view = wait_for(
        lambda: association.api.get(f"/api/v1/benchmarks/rounds/{round_id}").json(),
        lambda v: v["state"] in ("released", "failed"),
    )
    assert view["state"] == "released", view["reason"]
    [figures] = view["result"]
    assert figures["count"] == 3 and abs(figures["mean"] - sum(OEE) / 3) < 1e-4
    wait_for(
        lambda: first.api.get(f"/api/v1/benchmarks/participations/{mine['id']}").json()["state"],
        lambda state: state == "released",
    )
    table = cli("benchmark", "show", mine["id"], "--data-dir", first.folder)
    assert table.exit_code == 0 and "released" in table.stdout and "61.28" in table.stdout
    listed = run_json("benchmark", "list", "--data-dir", association.folder)
    assert [r["id"] for r in listed["rounds"]] == [round_id] and listed["participations"] == []
