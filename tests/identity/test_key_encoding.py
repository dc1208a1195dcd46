"""JWK and Multikey encodings of Ed25519 public keys, with published test vectors."""

from __future__ import annotations

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from allmende.identity import DidError, NodeKey
from allmende.identity.key_encoding import (
    b64url_decode,
    b64url_encode,
    public_key_from_jwk,
    public_key_from_multibase,
    public_key_to_multibase,
    raw_public_bytes,
)

# RFC 8032 section 7.1 test 1 key pair; RFC 8037 appendix A.2 gives its public JWK.
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
# did:key specification example: the same key as a Multikey and as a JWK.
DID_KEY_MULTIBASE = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
DID_KEY_JWK_X = "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik"


def test_rfc8037_public_jwk() -> None:
    key = NodeKey("key-1", Ed25519PrivateKey.from_private_bytes(RFC8032_SECRET))
    assert key.public_jwk() == {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "key-1"}


def test_did_key_example_multikey_matches_its_jwk() -> None:
    from_multibase = public_key_from_multibase(DID_KEY_MULTIBASE)
    from_jwk = public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": DID_KEY_JWK_X})
    assert raw_public_bytes(from_multibase) == raw_public_bytes(from_jwk)
    assert public_key_to_multibase(from_jwk) == DID_KEY_MULTIBASE


def test_generated_key_round_trips_through_both_encodings() -> None:
    key = NodeKey("key-7", Ed25519PrivateKey.generate())
    raw = raw_public_bytes(key.public_key)
    multibase = key.public_multibase()
    assert multibase.startswith("z6Mk")
    assert raw_public_bytes(public_key_from_multibase(multibase)) == raw
    assert raw_public_bytes(public_key_from_jwk(key.public_jwk())) == raw


@given(st.binary(max_size=64))
def test_b64url_round_trip(data: bytes) -> None:
    encoded = b64url_encode(data)
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert b64url_decode(encoded) == data


@pytest.mark.parametrize("text", ["YQ==", "a+b/", "abcde", "a b"])
def test_b64url_rejects_padding_and_foreign_characters(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, "expected kty OKP"),
        ({"kty": "OKP", "crv": "X25519", "x": DID_KEY_JWK_X}, "crv Ed25519"),
        ({"kty": "OKP", "crv": "Ed25519"}, "lacks"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}, "32 bytes"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "!!"}, "invalid"),
        ({"kty": "OKP", "crv": "Ed25519", "x": DID_KEY_JWK_X, "d": "secret"}, "private key"),
    ],
)
def test_jwk_rejections(jwk: dict[str, str], message: str) -> None:
    with pytest.raises(DidError, match=message):
        public_key_from_jwk(jwk)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("u7QE", "prefix 'z'"),
        ("z0OIl", "base58btc"),
        ("zQmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "not an Ed25519 key"),
        ("z" + base58.b58encode(b"\xed\x01" + bytes(31)).decode(), "32 key bytes"),
    ],
)
def test_multibase_rejections(value: str, message: str) -> None:
    with pytest.raises(DidError, match=message):
        public_key_from_multibase(value)
