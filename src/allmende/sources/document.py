"""Content the node makes itself and holds in memory, served like an asset's source.

A :class:`DocumentSource` is never stored as a configuration (``AssetRecord.source`` holds only the
kinds of :mod:`~allmende.sources.model`): it is made when a transfer is served, e.g. from a
published knowledge item's current JSON-LD document.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from allmende.sources.stream import SourceStream


@dataclass(frozen=True)
class DocumentSource:
    """Bytes the node produced (``body``), with their media type and the file name they go by."""

    body: bytes
    media_type: str
    filename: str


def open_document(source: DocumentSource, *, chunk_size: int) -> SourceStream:
    """A stream of the document's bytes, in chunks of at most ``chunk_size``."""
    body = source.body

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), chunk_size):
            yield body[start : start + chunk_size]

    async def close() -> None:
        return None

    return SourceStream(
        media_type=source.media_type,
        size=len(body),
        filename=source.filename,
        body=chunks(),
        close=close,
    )
