"""Canonical JSON and digests, shared by audit, agreements and Content-Digest (RFC 9530)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, no insignificant whitespace."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    """Hex sha-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def content_digest(data: bytes) -> str:
    """The RFC 9530 ``Content-Digest`` field value of ``data``: ``sha-256=:BASE64:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode("ascii") + ":"


def json_digest(value: Any) -> str:
    """``Content-Digest``-style sha-256 of the canonical JSON of ``value``."""
    return content_digest(canonical_json(value))
