"""Real node processes for the browser tests: `allmende init`, then `allmende serve` on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from allmende.settings import update_settings

READY_SECONDS = 90.0  # node processes start slowly on a loaded 2-core machine


@dataclass
class ServedNode:
    """A node served by its own process; ``url`` is its public base URL on loopback."""

    name: str
    data_dir: Path
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        """The end of what the process wrote to stdout and stderr, for failure messages."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def setup_code(self) -> str:
        """The one-time set-up code (the node writes it when /setup is first shown)."""
        return (self.data_dir / "setup-code").read_text(encoding="utf-8").strip()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment() -> dict[str, str]:
    # A developer's ALLMENDE_* settings (e.g. a database URL) must not leak into the test nodes.
    return {key: value for key, value in os.environ.items() if not key.startswith("ALLMENDE_")}


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "allmende.cli", *args]


@contextmanager
def served_nodes(
    folder: Path, *names: str, settings: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[list[ServedNode]]:
    """Create and serve one node per name (in parallel); stop them all at the end.

    ``settings`` maps a node's name to values written to its ``node.json`` before it is served.
    """
    env = _environment()
    plans = [
        (name, folder / f"node-{index}", f"http://127.0.0.1:{free_port()}")
        for index, name in enumerate(names)
    ]
    inits = [
        subprocess.Popen(
            _cli("init", "--data-dir", str(data_dir), "--name", name, "--url", url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        for name, data_dir, url in plans
    ]
    errors = [init.communicate(timeout=60)[1] for init in inits]
    for init, err in zip(inits, errors, strict=True):
        assert init.returncode == 0, f"allmende init failed: {err.decode(errors='replace')}"
    for name, data_dir, _url in plans:
        if settings and name in settings:
            update_settings(data_dir, settings[name])
    with ExitStack() as stack:
        nodes: list[ServedNode] = []
        for name, data_dir, url in plans:
            log = folder / f"{data_dir.name}.log"
            handle: IO[bytes] = stack.enter_context(log.open("wb"))
            process = subprocess.Popen(
                _cli("serve", "--data-dir", str(data_dir)),
                stdout=handle,
                stderr=subprocess.STDOUT,
                env=env,
            )
            stack.callback(_stop, process)
            nodes.append(ServedNode(name, data_dir, url, process, log))
        for node in nodes:
            _wait_until_ready(node)
        yield nodes


def _wait_until_ready(node: ServedNode) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        assert node.process.poll() is None, f"{node.name} exited:\n{node.log_tail()}"
        try:
            if httpx.get(f"{node.url}/.well-known/dspace-version", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"{node.name} not ready at {node.url}:\n{node.log_tail()}"
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
