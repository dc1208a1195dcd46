"""The errors of asset sources and of the secret store; no message ever carries a secret value."""

from __future__ import annotations


class SecretError(Exception):
    """The secret store cannot do what was asked (missing key, tampered file, wrong key, bad name)."""


class SecretNotFound(SecretError):
    """No secret of that name is stored."""


class SourceConfigError(ValueError):
    """An asset's source configuration is not valid (raised when parsing or checking it)."""


class SourceError(Exception):
    """An asset's source cannot be served; ``status`` is the HTTP status the data route should answer.

    ``reason`` is safe to show to the consumer: it never holds a secret, a header or a database URL.
    ``detail`` is for the owner's log (say, the database's own error line, redacted): never a secret
    either, but it may name tables or hosts, so it is not for the consumer.
    """

    def __init__(self, status: int, reason: str, *, detail: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.detail = detail
