"""`allmende benchmark ...` against real `allmende serve` processes: a whole round from the command line."""

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
OEE = [61.2837, 73.4172, 58.9061, 82.1549, 69.7713]


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
def served(tmp_path: Path) -> Iterator[list[Path]]:
    """Six nodes (an association and five firms) served as real processes on loopback."""
    folders: list[Path] = []
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for i, name in enumerate(["Verband", *(f"Firma {n}" for n in range(5))]):
            url = f"http://127.0.0.1:{free_port()}"
            folder = tmp_path / f"node-{i}"
            created = cli("init", "--data-dir", str(folder), "--name", name, "--url", url)
            assert created.returncode == 0, created.stderr
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "allmende.cli", "serve", "--data-dir", str(folder)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
            )
            folders.append((folder, url))  # type: ignore[arg-type]
        for (_, url), process in zip(folders, processes, strict=True):  # type: ignore[misc]
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                try:
                    if httpx.get(f"{url}/.well-known/dspace-version", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{url} not ready"
                time.sleep(0.1)
        yield [folder for folder, _ in folders]  # type: ignore[misc]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


def run_json(*args: str) -> dict[str, object]:
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    value: dict[str, object] = json.loads(result.stdout)
    return value


def test_a_round_from_the_command_line(served: list[Path]) -> None:
    association, *firms = (str(folder) for folder in served)
    bad_kpi = cli("benchmark", "create", "--title", "OEE", "--kpi", "oee,%,0", "--data-dir", association)
    assert bad_kpi.returncode == 1 and "name,unit,lower,upper" in bad_kpi.stderr + bad_kpi.stdout
    created = run_json(
        "benchmark",
        "create",
        "--title",
        "OEE 2026",
        "--kpi",
        "oee,%,0,100,10",
        "--min",
        "5",
        "--phase-seconds",
        "20",
        "--data-dir",
        association,
    )
    url, round_id = str(created["url"]), str(created["id"])
    shown = cli("benchmark", "show", url, "--data-dir", firms[0])
    assert shown.returncode == 0 and "OEE 2026" in shown.stdout and "oee (%)" in shown.stdout
    wrong = cli("benchmark", "join", "https://example.org/x", "--value", "oee=1", "--data-dir", firms[0])
    assert wrong.returncode == 1 and "not a benchmark round address" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    participations = [
        str(run_json("benchmark", "join", url, "--value", f"oee={value}", "--data-dir", firm)["id"])
        for firm, value in zip(firms, OEE, strict=True)
    ]
    closed = run_json("benchmark", "close", round_id, "--data-dir", association)
    assert closed["state"] == "sharing"
    deadline = time.monotonic() + 60
    while (view := run_json("benchmark", "show", round_id, "--data-dir", association))[
        "state"
    ] == "sharing" or (view["state"] == "summing"):
        assert time.monotonic() < deadline, view
        time.sleep(0.3)
    assert view["state"] == "released", view["reason"]
    [figures] = view["result"]  # type: ignore[misc]
    assert figures["count"] == 5 and abs(figures["mean"] - sum(OEE) / 5) < 1e-4
    deadline = time.monotonic() + 30
    while (mine := run_json("benchmark", "show", participations[1], "--data-dir", firms[1]))[
        "state"
    ] != "released":
        assert time.monotonic() < deadline, mine
        time.sleep(0.3)
    [standing] = mine["standing"]  # type: ignore[misc]
    assert standing["value"] == OEE[1] and standing["quartile"] in (3, 4)
    table = cli("benchmark", "show", participations[1], "--data-dir", firms[1])
    assert "percentile" in table.stdout and "73.42" in table.stdout
    listed = run_json("benchmark", "list", "--data-dir", association)
    assert [r["id"] for r in listed["rounds"]] == [round_id]  # type: ignore[attr-defined, index]
