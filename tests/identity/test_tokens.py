"""Issuing and verifying self-issued ID tokens (pure functions)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from allmende.identity import NodeKey, TokenError, decode_jwt, issue_token, sign_jwt, verify_jwt, verify_token
from allmende.identity.key_encoding import b64url_decode, b64url_encode, raw_public_bytes
from allmende.identity.tokens import KeyLookup

CALLER_DID = "did:web:caller.example"
CALLEE_DID = "did:web:callee.example:nodes:b"
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
KID = f"{CALLER_DID}#key-1"


def _verify(token: str, key: Ed25519PublicKey | KeyLookup, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {"expected_audience": CALLEE_DID, "key": key, "now": NOW, **overrides}
    return verify_token(token, **arguments)


def _forge(key: NodeKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Sign arbitrary header and claims, so that only the claim checks can reject the token."""
    signing_input = (
        f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(json.dumps(claims).encode())}"
    )
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def _claims(**changes: Any) -> dict[str, Any]:
    issued = int(NOW.timestamp())
    claims = {
        "iss": CALLER_DID,
        "sub": CALLER_DID,
        "aud": CALLEE_DID,
        "iat": issued,
        "exp": issued + 300,
        "jti": "j-1",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def test_issue_and_verify(caller_key: NodeKey) -> None:
    token = issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW, extra_claims={"token": "access"})
    header = decode_jwt(token).header
    assert header == {"alg": "EdDSA", "kid": KID, "typ": "JWT"}
    claims = _verify(token, caller_key.public_key)
    assert (claims.issuer, claims.subject, claims.audience, claims.kid) == (
        CALLER_DID,
        CALLER_DID,
        (CALLEE_DID,),
        KID,
    )
    assert claims.issued_at == NOW and claims.expires_at == NOW + timedelta(minutes=5)
    assert claims.jti.startswith("urn:uuid:") and claims.claims["token"] == "access"


def test_each_token_has_a_fresh_jti(caller_key: NodeKey) -> None:
    tokens = [issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW) for _ in range(3)]
    assert len({decode_jwt(token).claims["jti"] for token in tokens}) == 3


def test_key_lookup_receives_kid_and_issuer(caller_key: NodeKey) -> None:
    seen: list[tuple[str, str]] = []

    def lookup(kid: str, issuer: str) -> Ed25519PublicKey:
        seen.append((kid, issuer))
        return caller_key.public_key

    _verify(issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW), lookup)
    assert seen == [(KID, CALLER_DID)]


def test_rfc8037_signature_vector() -> None:
    """RFC 8037 appendix A.4: Ed25519 is deterministic, so NodeKey must reproduce the published JWS."""
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    token = (
        "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijc"
        "NR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    )
    key = NodeKey("key-1", Ed25519PrivateKey.from_private_bytes(secret))
    signing_input, signature = token.rsplit(".", 1)
    assert b64url_encode(key.sign(signing_input.encode())) == signature
    with pytest.raises(TokenError, match="payload is not base64url-encoded JSON"):
        verify_jwt(token, key.public_key)  # the RFC payload is plain text, not a JWT claims set


def test_generic_sign_and_verify_jwt(caller_key: NodeKey) -> None:
    token = sign_jwt(
        {"vc": {"type": ["VerifiableCredential"]}}, caller_key, kid=KID, header_extras={"typ": "vc+jwt"}
    )
    decoded = verify_jwt(token, caller_key.public_key)
    assert decoded.header["typ"] == "vc+jwt" and decoded.claims["vc"]["type"] == ["VerifiableCredential"]
    with pytest.raises(ValueError, match="must not set 'alg'"):
        sign_jwt({}, caller_key, kid=KID, header_extras={"alg": "none"})


def test_other_key_fails_signature(caller_key: NodeKey) -> None:
    token = issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW)
    with pytest.raises(TokenError, match="signature invalid"):
        _verify(token, Ed25519PrivateKey.generate().public_key())


def test_tampered_payload_fails_signature(caller_key: NodeKey) -> None:
    header, _, signature = issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW).split(".")
    payload = b64url_encode(json.dumps(_claims(jti="other")).encode())
    with pytest.raises(TokenError, match="signature invalid"):
        _verify(f"{header}.{payload}.{signature}", caller_key.public_key)


def test_tampered_signature_fails(caller_key: NodeKey) -> None:
    header, payload, signature = issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW).split(".")
    raw = bytearray(b64url_decode(signature))
    raw[0] ^= 1
    with pytest.raises(TokenError, match="signature invalid"):
        _verify(f"{header}.{payload}.{b64url_encode(bytes(raw))}", caller_key.public_key)


def test_alg_none_is_rejected(caller_key: NodeKey) -> None:
    header = b64url_encode(json.dumps({"alg": "none", "kid": KID}).encode())
    payload = b64url_encode(json.dumps(_claims()).encode())
    with pytest.raises(TokenError, match="unsupported token algorithm 'none'"):
        _verify(f"{header}.{payload}.", caller_key.public_key)


def test_hs256_with_public_key_as_secret_is_rejected(caller_key: NodeKey) -> None:
    header = b64url_encode(json.dumps({"alg": "HS256", "kid": KID}).encode())
    payload = b64url_encode(json.dumps(_claims()).encode())
    secret = raw_public_bytes(caller_key.public_key)
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenError, match="unsupported token algorithm 'HS256'"):
        _verify(f"{header}.{payload}.{b64url_encode(mac)}", caller_key.public_key)


@pytest.mark.parametrize(
    ("claims", "verify_overrides", "reason"),
    [
        (_claims(aud="did:web:someone.else"), {}, f"audience mismatch: expected {CALLEE_DID}"),
        (
            _claims(aud=["did:web:x.example", CALLEE_DID]),
            {"expected_audience": "did:web:y.example"},
            "audience",
        ),
        (_claims(aud=[]), {}, "'aud' must be"),
        (_claims(exp=int(NOW.timestamp()) - 31, iat=int(NOW.timestamp()) - 200), {}, "token expired"),
        (_claims(iat=int(NOW.timestamp()) + 120, exp=int(NOW.timestamp()) + 300), {}, "issued in the future"),
        (_claims(nbf=int(NOW.timestamp()) + 120), {}, "not yet valid"),
        (_claims(exp=int(NOW.timestamp()) + 600), {}, "lifetime 600s exceeds the maximum of 300s"),
        (_claims(exp=int(NOW.timestamp())), {}, "exp is not after iat"),
        (_claims(exp=None), {}, "no numeric 'exp'"),
        (_claims(iat="yesterday"), {}, "no numeric 'iat'"),
        (_claims(iat=True), {}, "no numeric 'iat'"),
        (_claims(exp=1e300), {}, "out of range"),
        (_claims(jti=None), {}, "no 'jti'"),
        (_claims(jti=""), {}, "no 'jti'"),
        (_claims(sub="did:web:other.example"), {}, "sub equal to iss"),
        (_claims(iss="did:web:other.example"), {}, "kid DID does not match iss"),
        (_claims(iss=None), {}, "no string 'iss'"),
    ],
)
def test_claim_failures(
    caller_key: NodeKey, claims: dict[str, Any], verify_overrides: dict[str, Any], reason: str
) -> None:
    token = _forge(caller_key, {"alg": "EdDSA", "kid": KID}, claims)
    with pytest.raises(TokenError, match=reason):
        _verify(token, caller_key.public_key, **verify_overrides)


def test_leeway_accepts_small_clock_skew(caller_key: NodeKey) -> None:
    token = issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW + timedelta(seconds=20))
    assert _verify(token, caller_key.public_key).issued_at == NOW + timedelta(seconds=20)
    assert _verify(token, caller_key.public_key, now=NOW + timedelta(seconds=340)).jti


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"alg": "EdDSA"}, "no 'kid'"),
        ({"alg": "EdDSA", "kid": "key-1"}, "not a DID URL"),
        ({"alg": "EdDSA", "kid": "did:web:other.example#key-1"}, "kid DID does not match iss"),
        ({"alg": "EdDSA", "kid": KID, "crit": ["exp"]}, "crit"),
        ({"kid": KID}, "algorithm None"),
    ],
)
def test_header_failures(caller_key: NodeKey, header: dict[str, Any], reason: str) -> None:
    with pytest.raises(TokenError, match=reason):
        _verify(_forge(caller_key, header, _claims()), caller_key.public_key)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("abc", "three dot-separated parts"),
        ("a.b.c.d", "three dot-separated parts"),
        ("!!.e30.AA", "header is not base64url"),
        (f"{b64url_encode(b'[1]')}.e30.AA", "header is not a JSON object"),
        (b64url_encode(b'{"alg":"EdDSA","alg":"none"}') + ".e30.AA", "duplicate member 'alg'"),
        (b64url_encode(b'{"alg":"EdDSA"}') + "." + b64url_encode(b'{"exp":NaN}') + ".AA", "NaN"),
        ("e30.e30.A=", "signature part"),
        ("e30." + "A" * 20_000 + ".AA", "longer than"),
    ],
)
def test_malformed_tokens(caller_key: NodeKey, token: str, reason: str) -> None:
    with pytest.raises(TokenError, match=reason):
        _verify(token, caller_key.public_key)


def test_issue_rejects_bad_arguments(caller_key: NodeKey) -> None:
    with pytest.raises(ValueError, match="positive"):
        issue_token(caller_key, CALLER_DID, CALLEE_DID, ttl_seconds=0)
    with pytest.raises(ValueError, match=r"registered claims \['aud', 'jti'\]"):
        issue_token(caller_key, CALLER_DID, CALLEE_DID, extra_claims={"jti": "fixed", "aud": "x"})
    with pytest.raises(ValueError, match="aware"):
        issue_token(caller_key, CALLER_DID, CALLEE_DID, now=NOW.replace(tzinfo=None))


@given(st.binary(min_size=1, max_size=200))
def test_random_bytes_never_verify(garbage: bytes) -> None:
    key = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(TokenError):
        verify_token(garbage.decode("latin-1"), expected_audience=CALLEE_DID, key=key, now=NOW)
