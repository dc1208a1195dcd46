"""Typed errors of the identity domain; each carries a human-readable reason."""

from __future__ import annotations


class IdentityError(Exception):
    """Base class of every error raised by ``allmende.identity``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeyStoreError(IdentityError):
    """The key store folder is missing, corrupt, or its files are unsafe."""


class DidError(IdentityError):
    """A DID, DID URL or DID document is malformed or unsupported."""


class UnknownVerificationMethodError(DidError):
    """A DID document has no verification method with the requested id."""


class ResolutionError(IdentityError):
    """A DID could not be resolved to a valid DID document or key."""

    def __init__(self, did: str, reason: str) -> None:
        super().__init__(f"cannot resolve {did}: {reason}")
        self.did = did


class TokenError(IdentityError):
    """A token is missing, malformed or invalid; the HTTP layer answers 401 with ``reason``."""


class ReplayCapacityError(TokenError):
    """The replay guard is full of unexpired entries and refuses new tokens (fails closed)."""
