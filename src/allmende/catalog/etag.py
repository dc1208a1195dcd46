"""Entity tags for catalog responses (RFC 9110 §8.8.3, §13.1.2): crawlers ask again with
``If-None-Match`` and get ``304 Not Modified`` while the catalog they may see is unchanged."""

from __future__ import annotations

import hashlib


def etag_of(body: bytes) -> str:
    """A strong entity tag for the exact response bytes (sha-256, hex, quoted)."""
    return '"' + hashlib.sha256(body).hexdigest() + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, ``*`` matches anything).

    Malformed list members are ignored, so a broken header can only cost a full response.
    """
    if not if_none_match:
        return False
    wanted = etag.removeprefix("W/")
    for member in if_none_match.split(","):
        candidate = member.strip()
        if candidate == "*":
            return True
        if candidate.removeprefix("W/") == wanted:
            return True
    return False
