"""Helpers for reading SourceStreams in tests."""

from __future__ import annotations

from allmende.sources.stream import SourceStream


async def read_all(stream: SourceStream) -> bytes:
    """Everything the stream yields (and it is closed afterwards)."""
    parts = [chunk async for chunk in stream.chunks()]
    return b"".join(parts)
