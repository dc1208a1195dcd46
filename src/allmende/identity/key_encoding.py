"""Encodings of Ed25519 public keys: base64url, JWK (RFC 8037) and Multikey (multibase base58btc).

A Multikey value is ``"z"`` + base58btc(0xed 0x01 + 32-byte raw public key), as in W3C Controlled
Identifiers 1.0 (the ``0xed01`` prefix is the varint of the multicodec ``ed25519-pub``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from allmende.identity.errors import DidError

ED25519_MULTICODEC_PREFIX = b"\xed\x01"
ED25519_KEY_LENGTH = 32
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url (RFC 7515 section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url; raises ValueError on padding or characters outside the alphabet."""
    if not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError(f"not unpadded base64url: {error}") from error


def raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_to_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """Return the public JWK (kty OKP, crv Ed25519, x) of a key, without kid."""
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw_public_bytes(public_key))}


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """Decode a public Ed25519 JWK; raises DidError for other key types or private key material."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise DidError(
            f"unsupported JWK: expected kty OKP and crv Ed25519, got kty {jwk.get('kty')!r} "
            f"crv {jwk.get('crv')!r}"
        )
    if "d" in jwk:
        raise DidError("JWK contains private key material ('d'); refusing a published private key")
    x = jwk.get("x")
    if not isinstance(x, str):
        raise DidError("Ed25519 JWK lacks the string member 'x'")
    try:
        raw = b64url_decode(x)
    except ValueError as error:
        raise DidError(f"Ed25519 JWK 'x' is invalid: {error}") from error
    if len(raw) != ED25519_KEY_LENGTH:
        raise DidError(f"Ed25519 JWK 'x' must decode to {ED25519_KEY_LENGTH} bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def public_key_to_multibase(public_key: Ed25519PublicKey) -> str:
    """Return the Multikey ``publicKeyMultibase`` value (``z6Mk...``) of a key."""
    encoded = base58.b58encode(ED25519_MULTICODEC_PREFIX + raw_public_bytes(public_key))
    return "z" + encoded.decode("ascii")


def public_key_from_multibase(value: str) -> Ed25519PublicKey:
    """Decode a z-base58btc Multikey value with the ed25519-pub prefix; raises DidError otherwise."""
    if not value.startswith("z"):
        raise DidError(f"publicKeyMultibase must use base58btc (prefix 'z'), got prefix {value[:1]!r}")
    try:
        decoded = base58.b58decode(value[1:].encode("ascii"))
    except ValueError as error:
        raise DidError(f"publicKeyMultibase is not valid base58btc: {error}") from error
    if not decoded.startswith(ED25519_MULTICODEC_PREFIX):
        raise DidError(f"publicKeyMultibase is not an Ed25519 key (multicodec prefix {decoded[:2].hex()})")
    raw = decoded[len(ED25519_MULTICODEC_PREFIX) :]
    if len(raw) != ED25519_KEY_LENGTH:
        raise DidError(f"Ed25519 Multikey must hold {ED25519_KEY_LENGTH} key bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)
