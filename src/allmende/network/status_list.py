"""W3C Bitstring Status List v1.0: the revocation list a directory publishes, as a pure data structure.

The list is a bitstring of at least 131,072 bits (16 KiB, so that one member's index tells nothing about
how many members there are); bit ``i`` is the ``i``-th bit counted from the most significant bit of the
first byte. ``encodedList`` is the Multibase base64url form (prefix ``u``, no padding) of the GZIP
compressed bitstring. The list is published as a VC-JWT credential of type BitstringStatusListCredential.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from allmende.clock import isoformat
from allmende.identity.key_encoding import b64url_decode, b64url_encode

MIN_BITS = 131_072
MAX_ENCODED_BYTES = 2_000_000
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


class StatusListError(ValueError):
    """An encoded status list or status list credential is malformed."""


class StatusList:
    """A mutable bitstring of revocation flags."""

    def __init__(self, size_bits: int = MIN_BITS) -> None:
        bits = max(size_bits, MIN_BITS)
        self._bytes = bytearray((bits + 7) // 8)

    @classmethod
    def with_set(cls, indexes: list[int]) -> StatusList:
        """A list with the bits at ``indexes`` set, large enough for all of them."""
        status = cls(max(indexes, default=0) + 1)
        for index in indexes:
            status.set(index)
        return status

    @property
    def size(self) -> int:
        """The number of bits."""
        return len(self._bytes) * 8

    def set(self, index: int, value: bool = True) -> None:
        """Set (or clear) bit ``index``."""
        self._check(index)
        mask = 0x80 >> (index % 8)
        if value:
            self._bytes[index // 8] |= mask
        else:
            self._bytes[index // 8] &= ~mask & 0xFF

    def get(self, index: int) -> bool:
        """Whether bit ``index`` is set."""
        self._check(index)
        return bool(self._bytes[index // 8] & (0x80 >> (index % 8)))

    def encode(self) -> str:
        """The ``encodedList`` value: ``u`` + base64url(gzip(bitstring))."""
        return "u" + b64url_encode(gzip.compress(bytes(self._bytes), mtime=0))

    @classmethod
    def decode(cls, encoded: str) -> StatusList:
        """Parse an ``encodedList`` (with or without the Multibase ``u``); raises StatusListError."""
        if not isinstance(encoded, str) or len(encoded) > MAX_ENCODED_BYTES:
            raise StatusListError("encodedList must be a string of reasonable size")
        text = encoded[1:] if encoded.startswith("u") else encoded
        try:
            raw = gzip.decompress(b64url_decode(text))
        except (ValueError, OSError, EOFError) as error:
            raise StatusListError(f"encodedList is not base64url-encoded GZIP data ({error})") from error
        if len(raw) * 8 < MIN_BITS:
            raise StatusListError(f"the status list has fewer than {MIN_BITS} bits")
        status = cls(0)
        status._bytes = bytearray(raw)
        return status

    def _check(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.size:
            raise StatusListError(f"status index {index!r} is outside the list (0..{self.size - 1})")


def status_list_credential(
    issuer: str, url: str, status: StatusList, *, valid_from: datetime, valid_until: datetime
) -> dict[str, Any]:
    """The BitstringStatusListCredential (revocation) for ``status``, published at ``url``."""
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": isoformat(valid_from),
        "validUntil": isoformat(valid_until),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": status.encode(),
        },
    }


def status_list_claims(
    credential: dict[str, Any], valid_from: datetime, valid_until: datetime
) -> dict[str, Any]:
    """The JWT claims of a status list VC-JWT: the credential plus iss/sub/nbf/iat/exp/jti."""
    return {
        **credential,
        "iss": credential["issuer"],
        "sub": credential["credentialSubject"]["id"],
        "iat": int(valid_from.timestamp()),
        "nbf": int(valid_from.timestamp()),
        "exp": int(valid_until.timestamp()),
        "jti": f"urn:uuid:{uuid.uuid4()}",
    }


def read_status_list_credential(claims: Mapping[str, Any], *, issuer: str) -> StatusList:
    """The revocation bitstring of a (signature-checked) status list credential from ``issuer``."""
    if claims.get("issuer") != issuer:
        raise StatusListError(f"the status list is not issued by {issuer}")
    types = claims.get("type")
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
        raise StatusListError("not a BitstringStatusListCredential")
    subject = claims.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("statusPurpose") != "revocation":
        raise StatusListError("the status list is not a revocation list")
    return StatusList.decode(subject.get("encodedList", ""))
