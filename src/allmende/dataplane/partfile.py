"""The ``.part`` file a download grows, with a running sha-256 of what it holds (file I/O)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread


class PartFile:
    """An open ``.part`` file, appended to; its ``size`` and running digest always match its bytes.

    Open it with :meth:`open`; leave it with exactly one of :meth:`close` (keep the bytes for a
    later resume), :meth:`discard` (delete them) or :meth:`commit` (move them onto the destination).
    """

    def __init__(self, path: Path, handle: BinaryIO, size: int, digest: hashlib._Hash) -> None:
        self.path = path
        self.size = size
        self._handle = handle
        self._digest = digest

    @classmethod
    async def open(cls, path: Path, chunk_size: int) -> PartFile:
        """Open (or create) ``path``, hashing what it already holds ``chunk_size`` bytes at a time."""
        return await anyio.to_thread.run_sync(cls._open_sync, path, chunk_size)

    @classmethod
    def _open_sync(cls, path: Path, chunk_size: int) -> PartFile:
        handle = path.open("ab")
        try:
            digest, size = hashlib.sha256(), 0
            with path.open("rb") as existing:
                while chunk := existing.read(chunk_size):
                    digest.update(chunk)
                    size += len(chunk)
        except BaseException:
            handle.close()
            raise
        return cls(path, handle, size, digest)

    def sha256_hex(self) -> str:
        """The sha-256 (hex) of the bytes in the file."""
        return self._digest.hexdigest()

    async def write(self, data: bytes) -> None:
        """Append ``data`` (on a worker thread: writing and hashing release the GIL)."""
        await anyio.to_thread.run_sync(self._write_sync, data)

    def _write_sync(self, data: bytes) -> None:
        self._handle.write(data)
        self._digest.update(data)
        self.size += len(data)

    async def clear(self) -> None:
        """Empty the file, to start over."""
        await anyio.to_thread.run_sync(self._clear_sync)

    def _clear_sync(self) -> None:
        self._handle.flush()
        self._handle.truncate(0)
        self._digest = hashlib.sha256()
        self.size = 0

    def close(self) -> None:
        """Close the file and keep it for a later download to resume from (deleted when empty)."""
        self._handle.close()
        if self.size == 0:
            self.path.unlink(missing_ok=True)

    def discard(self) -> None:
        """Close and delete the file."""
        self._handle.close()
        self.path.unlink(missing_ok=True)

    async def commit(self, destination: Path) -> None:
        """Flush and fsync the file, then atomically rename it onto ``destination``."""
        await anyio.to_thread.run_sync(self._commit_sync, destination)

    def _commit_sync(self, destination: Path) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self.path, destination)
        if os.name == "posix":
            directory = os.open(destination.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
