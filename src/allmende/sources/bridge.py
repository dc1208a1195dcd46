"""Bytes made by blocking code on a worker thread, read by a coroutine, in constant memory.

:class:`ThreadedProducer` runs ``produce(write)`` on its own thread; ``write`` blocks while
``capacity`` chunks wait unread, so a slow consumer slows the producer instead of filling memory.
Once the consumer closes, the next ``write`` raises :class:`ConsumerGone`, which unwinds the
producer (closing its files or database connection). Needs a running asyncio event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
from collections import deque
from collections.abc import Callable

Write = Callable[[bytes], None]


class ConsumerGone(Exception):
    """Raised inside the producer by ``write`` once the consumer closed the stream."""


class _End:
    """The marker the producer queues after its last chunk."""


_END = _End()


class ThreadedProducer:
    """``produce`` on a worker thread; :meth:`receive` the chunks it writes, :meth:`aclose` when done."""

    def __init__(self, produce: Callable[[Write], None], *, capacity: int = 4, name: str = "source") -> None:
        self._produce = produce
        self._capacity = capacity
        self._name = name
        self._items: deque[bytes | BaseException | _End] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._done = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = asyncio.Event()
        self._finished = asyncio.Event()

    def start(self) -> None:
        """Start the worker thread (call from the event loop)."""
        self._loop = asyncio.get_running_loop()
        thread = threading.Thread(target=self._run, name=f"allmende-{self._name}", daemon=True)
        thread.start()
        self._thread = thread

    async def receive(self) -> bytes | None:
        """The next chunk, ``None`` at the end; re-raises what the producer raised."""
        while not self._done:
            with self._cond:
                if self._items:
                    item = self._items.popleft()
                    self._cond.notify_all()
                    break
                self._ready.clear()
            await self._ready.wait()
        else:
            return None
        if isinstance(item, bytes):
            return item
        self._done = True
        if isinstance(item, BaseException):
            raise item
        return None

    async def aclose(self) -> None:
        """Stop the producer (its next ``write`` raises ConsumerGone) and wait for its thread to end."""
        with self._cond:
            self._closed = True
            self._items.clear()
            self._cond.notify_all()
        if self._thread is not None:
            await self._finished.wait()
            self._thread.join()  # it has nothing left to do but return

    def _write(self, chunk: bytes) -> None:
        with self._cond:
            while len(self._items) >= self._capacity and not self._closed:
                self._cond.wait()
            if self._closed:
                raise ConsumerGone
            self._items.append(chunk)
        self._wake(self._ready.set)

    def _run(self) -> None:
        final: BaseException | _End
        try:
            self._produce(self._write)
            final = _END
        except ConsumerGone:
            final = _END
        except BaseException as exc:
            final = exc
        with self._cond:
            if not self._closed:
                self._items.append(final)
        self._wake(self._ready.set)
        self._wake(self._finished.set)

    def _wake(self, callback: Callable[[], None]) -> None:
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # a closed event loop: nobody is waiting any more
            self._loop.call_soon_threadsafe(callback)


class ChunkWriter:
    """A write-only binary file gathering small writes into chunks of about ``chunk_size`` bytes."""

    def __init__(self, write: Write, chunk_size: int) -> None:
        self._send = write
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._position = 0
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer ``data``, passing on full chunks; the number of bytes taken."""
        size = len(memoryview(data).cast("B"))
        self._buffer += data
        self._position += size
        while len(self._buffer) >= self._chunk_size:
            self._send(bytes(self._buffer[: self._chunk_size]))
            del self._buffer[: self._chunk_size]
        return size

    def tell(self) -> int:
        """How many bytes were written so far."""
        return self._position

    def flush(self) -> None:
        """Pass on what is buffered."""
        if self._buffer:
            self._send(bytes(self._buffer))
            self._buffer.clear()

    def writable(self) -> bool:
        """Always true (this is a writer)."""
        return True

    def readable(self) -> bool:
        """Always false."""
        return False

    def seekable(self) -> bool:
        """Always false (a stream)."""
        return False

    def read(self, size: int = -1, /) -> bytes:
        """Not supported: a ChunkWriter is write-only."""
        raise io.UnsupportedOperation("read")

    def seek(self, position: int, whence: int = 0, /) -> int:
        """Not supported: a ChunkWriter is a stream."""
        raise io.UnsupportedOperation("seek")

    def close(self) -> None:
        """Flush and mark closed (the underlying stream stays open for the producer to end)."""
        if not self.closed:
            self.flush()
            self.closed = True
