"""RFC 9530 digest fields with sha-256."""

from __future__ import annotations

import base64
import hashlib

import pytest

from allmende.dataplane.digests import MalformedDigest, parse_sha256, sha256_field, strong_etag

DIGEST = hashlib.sha256(b"allmende").digest()


def test_field_holds_the_base64_digest() -> None:
    assert sha256_field(DIGEST.hex().upper()) == f"sha-256=:{base64.b64encode(DIGEST).decode()}:"


def test_field_round_trips_and_other_algorithms_are_skipped() -> None:
    field = f"sha-512=:{base64.b64encode(bytes(64)).decode()}:, " + sha256_field(DIGEST.hex()) + ";x=1"
    assert parse_sha256(field) == DIGEST.hex()
    assert parse_sha256(None) is None
    assert parse_sha256("sha-512=:AAAA:") is None


@pytest.mark.parametrize(
    "field",
    ["sha-256=abc", "sha-256", "sha-256=:not base64!:", f"sha-256=:{base64.b64encode(b'short').decode()}:"],
)
def test_garbled_sha256_member_is_an_error(field: str) -> None:
    with pytest.raises(MalformedDigest):
        parse_sha256(field)


@pytest.mark.parametrize("value", ["abc", "g" * 64, DIGEST.hex() + "00"])
def test_bad_hex_digest_is_an_error(value: str) -> None:
    with pytest.raises(MalformedDigest):
        sha256_field(value)
    with pytest.raises(MalformedDigest):
        strong_etag(value)


def test_etag_is_strong_and_quoted() -> None:
    assert strong_etag(DIGEST.hex()) == f'"sha256-{DIGEST.hex()}"'
