"""The stream a data route sends for an asset: its media type, size if known, name and chunks."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType

from allmende.sources.bridge import ThreadedProducer, Write
from allmende.sources.errors import SourceError


class SourceStream:
    """An asset's bytes, read once with :meth:`chunks`; always :meth:`aclose` it (or use ``async with``).

    ``size`` is known for files and ``None`` for generated content (tar, query results, most APIs).
    Nothing here comes from the owner's systems except ``media_type``: no upstream header, no secret.
    """

    def __init__(
        self,
        *,
        media_type: str,
        size: int | None,
        filename: str,
        body: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self.media_type = media_type
        self.size = size
        self.filename = filename
        self._body = body
        self._close = close
        self._read = False
        self._closed = False

    def __repr__(self) -> str:
        return f"SourceStream(media_type={self.media_type!r}, size={self.size!r}, filename={self.filename!r})"

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The content in chunks of bounded size; closes the stream when done or abandoned."""
        if self._read or self._closed:
            raise RuntimeError("a SourceStream can be read only once")
        self._read = True
        try:
            async for chunk in self._body:
                if chunk:
                    yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Release what the stream holds (thread, file, connection, upstream response); idempotent."""
        if not self._closed:
            self._closed = True
            await self._close()

    async def __aenter__(self) -> SourceStream:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


async def stream_from_thread(
    produce: Callable[[Write], None], *, media_type: str, size: int | None, filename: str, name: str
) -> SourceStream:
    """A stream of what ``produce(write)`` writes on a worker thread.

    Waits for the first chunk (or the end), so an error in getting started — a refused query, say —
    is raised here, before a data route sends its status line. Errors other than SourceError become
    a SourceError 500 naming only the error's type.
    """
    producer = ThreadedProducer(produce, name=name)
    producer.start()
    try:
        first = await _receive(producer)
    except BaseException:
        await producer.aclose()
        raise

    async def body() -> AsyncIterator[bytes]:
        chunk = first
        while chunk is not None:
            yield chunk
            chunk = await _receive(producer)

    return SourceStream(
        media_type=media_type, size=size, filename=filename, body=body(), close=producer.aclose
    )


async def _receive(producer: ThreadedProducer) -> bytes | None:
    try:
        return await producer.receive()
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(500, "the asset could not be read", detail=type(exc).__name__) from None
