"""RFC 9530 ``Repr-Digest`` / ``Content-Digest`` fields with sha-256 (pure logic, no I/O).

The fields are RFC 8941 dictionaries of byte sequences: ``sha-256=:BASE64:, sha-512=:BASE64:``.
Only ``sha-256`` is produced and checked; other algorithms are skipped.
"""

from __future__ import annotations

import base64
import binascii
import re

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_SHA256_BYTES = 32


class MalformedDigest(ValueError):
    """A digest field (or a hex digest given to us) that cannot be a sha-256 digest."""


def require_sha256_hex(sha256_hex: str) -> str:
    """``sha256_hex`` in lower case, after checking it is 64 hex digits."""
    lowered = sha256_hex.lower()
    if not _HEX_SHA256.fullmatch(lowered):
        raise MalformedDigest(f"not a sha-256 hex digest: {sha256_hex!r}")
    return lowered


def sha256_field(sha256_hex: str) -> str:
    """The field value for a digest given in hex: ``sha-256=:BASE64:``."""
    raw = bytes.fromhex(require_sha256_hex(sha256_hex))
    return f"sha-256=:{base64.b64encode(raw).decode('ascii')}:"


def strong_etag(sha256_hex: str) -> str:
    """A strong entity tag derived from the content's sha-256: ``"sha256-<hex>"``."""
    return f'"sha256-{require_sha256_hex(sha256_hex)}"'


def parse_sha256(field: str | None) -> str | None:
    """The sha-256 digest (hex) that ``field`` carries; None when absent or no sha-256 member.

    Raises :class:`MalformedDigest` when the sha-256 member is not a 32-byte base64 byte sequence.
    """
    if field is None:
        return None
    for member in field.split(","):
        key, sep, value = member.strip().partition("=")
        if key.strip().lower() != "sha-256":
            continue
        token = value.split(";", 1)[0].strip()
        if not sep or len(token) < 2 or not (token.startswith(":") and token.endswith(":")):
            raise MalformedDigest(f"sha-256 member is not a byte sequence: {member.strip()!r}")
        try:
            raw = base64.b64decode(token[1:-1], validate=True)
        except binascii.Error as exc:
            raise MalformedDigest(f"sha-256 member is not base64: {member.strip()!r}") from exc
        if len(raw) != _SHA256_BYTES:
            raise MalformedDigest(f"sha-256 member holds {len(raw)} bytes, not 32")
        return raw.hex()
    return None
