"""Errors of the network domain, each with a human-readable message."""

from __future__ import annotations


class NetworkError(ValueError):
    """A directory or membership operation cannot be done (unknown id, wrong state, peer refused...)."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
