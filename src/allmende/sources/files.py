"""Streaming one regular file (a file asset, or one file of a folder asset) in constant memory."""

from __future__ import annotations

import mimetypes
import os
import stat
from pathlib import Path

from allmende.sources.bridge import Write
from allmende.sources.errors import SourceError
from allmende.sources.stream import SourceStream, stream_from_thread

DEFAULT_CHUNK_SIZE = 1 << 20


def guess_media_type(name: str) -> str:
    """The media type suggested by ``name``'s extension, else ``application/octet-stream``."""
    return mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"


async def open_file_stream(path: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> SourceStream:
    """A stream of the regular file at ``path``, its size fixed when opened.

    SourceError 404 when there is no regular file there (a FIFO or device is refused without
    blocking), 500 when it cannot be read; a file that shrinks while being sent fails the stream.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise SourceError(404, "the asset's file is missing") from None
    except OSError as exc:
        raise SourceError(500, "the asset's file cannot be opened", detail=exc.strerror) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise SourceError(404, "the asset's file is missing")
    os.set_blocking(fd, True)
    handle = os.fdopen(fd, "rb", buffering=0)
    size = info.st_size

    def produce(write: Write) -> None:
        with handle:
            remaining = size
            while remaining > 0:
                data = handle.read(min(chunk_size, remaining))
                if not data:
                    raise SourceError(500, "the asset's file got shorter while being sent")
                write(data)
                remaining -= len(data)

    try:
        return await stream_from_thread(
            produce, media_type=guess_media_type(path.name), size=size, filename=path.name, name="file"
        )
    except BaseException:
        handle.close()  # its worker has ended (or never started): closing here cannot race it
        raise
