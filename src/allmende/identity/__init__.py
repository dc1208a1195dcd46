"""Node identity: Ed25519 keys, did:web, self-issued ID tokens and their verification."""

from allmende.identity.did import build_did_document, did_document_url, did_from_url, is_loopback_host
from allmende.identity.did_document import DidDocument, split_did_url
from allmende.identity.errors import (
    DidError,
    IdentityError,
    KeyStoreError,
    ReplayCapacityError,
    ResolutionError,
    TokenError,
    UnknownVerificationMethodError,
)
from allmende.identity.jws import DecodedJwt, decode_jwt, sign_jwt, verify_jwt
from allmende.identity.keys import KeyStore, NodeKey
from allmende.identity.replay import InMemoryReplayGuard, ReplayGuard
from allmende.identity.resolver import DidResolver
from allmende.identity.tokens import TokenClaims, issue_token, verify_token
from allmende.identity.verifier import verify_request_token

__all__ = [
    "DecodedJwt",
    "DidDocument",
    "DidError",
    "DidResolver",
    "IdentityError",
    "InMemoryReplayGuard",
    "KeyStore",
    "KeyStoreError",
    "NodeKey",
    "ReplayCapacityError",
    "ReplayGuard",
    "ResolutionError",
    "TokenClaims",
    "TokenError",
    "UnknownVerificationMethodError",
    "build_did_document",
    "decode_jwt",
    "did_document_url",
    "did_from_url",
    "is_loopback_host",
    "issue_token",
    "sign_jwt",
    "split_did_url",
    "verify_jwt",
    "verify_request_token",
    "verify_token",
]
