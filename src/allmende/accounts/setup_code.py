"""The one-time set-up code: whoever first opens a new node's web interface must know it.

It is written to ``DATA_DIR/setup-code`` (readable by the node's user only) and printed by
``allmende init`` and ``allmende serve`` while the node has no users; it is deleted once the
first owner exists.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

SETUP_CODE_FILE = "setup-code"


def setup_code(data_dir: Path) -> str:
    """The node's set-up code, created on first use."""
    path = data_dir / SETUP_CODE_FILE
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    code = "-".join(secrets.token_hex(3) for _ in range(3))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(code + "\n")
    return code


def matches(data_dir: Path, presented: str) -> bool:
    path = data_dir / SETUP_CODE_FILE
    if not path.is_file():
        return False
    expected = path.read_text(encoding="utf-8").strip()
    return hmac.compare_digest(expected.encode(), presented.strip().lower().encode())


def forget(data_dir: Path) -> None:
    (data_dir / SETUP_CODE_FILE).unlink(missing_ok=True)
