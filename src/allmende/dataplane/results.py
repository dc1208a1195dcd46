"""What a download ends with: its result, or why it failed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DownloadResult:
    """A finished download: the file's ``size`` and ``sha256_hex``, whether earlier bytes were
    reused (``resumed``) and how many requests it took (``attempts``)."""

    size: int
    sha256_hex: str
    resumed: bool
    attempts: int


class DownloadError(Exception):
    """The server refused or answered wrongly (``status``), or the connection kept failing (None)."""

    def __init__(self, status: int | None, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}" if status is not None else reason)
        self.status = status
        self.reason = reason


class DigestMismatch(Exception):
    """The downloaded bytes do not have the sha-256 the server announced; nothing was kept."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"sha-256 mismatch: server announced {expected}, received {actual}")
        self.expected = expected
        self.actual = actual
