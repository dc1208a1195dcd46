"""The ``Content-Disposition`` of data sent as a file: its name, safe for any header (RFC 6266)."""

from __future__ import annotations

from urllib.parse import quote


def attachment(filename: str) -> str:
    """``attachment`` offering ``filename``: quoted ASCII, plus ``filename*`` (UTF-8) for other names.

    Quotes, backslashes and control characters are replaced, so that no name can break the header.
    """
    name = "".join("_" if ch in '"\\' or not ch.isprintable() else ch for ch in filename) or "data"
    fallback = "".join(ch if ch.isascii() else "_" for ch in name)
    if fallback == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
