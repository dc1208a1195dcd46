"""A folder asset: one tar stream of its files, or its files one by one.

What belongs to the folder: regular files and directories under it, walked without following
directory symlinks; a symlink to a regular file counts when its target lies inside the folder (it
is served as a plain file), any other symlink, and FIFOs, sockets and devices, are left out. Names
are relative, ``/``-separated. A member name with ``..``, ``.``, an empty part, a backslash or a
leading ``/`` is refused (SourceError 400) before the file system is touched.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path

from allmende.sources.bridge import ChunkWriter, Write
from allmende.sources.errors import SourceError
from allmende.sources.files import DEFAULT_CHUNK_SIZE, open_file_stream
from allmende.sources.model import FolderSource
from allmende.sources.stream import SourceStream, stream_from_thread


def list_files(source: FolderSource) -> list[tuple[str, int]]:
    """The folder's files as (relative name, size in bytes), sorted by name."""
    files: list[tuple[str, int]] = []
    for name, path, is_dir in _walk(_root(source)):
        if not is_dir:
            try:
                files.append((name, path.stat().st_size))
            except OSError:  # vanished since the walk saw it
                continue
    return sorted(files)


def resolve_member(source: FolderSource, name: str) -> Path:
    """The path of the folder's file called ``name`` (as :func:`list_files` names it).

    SourceError 400 for a name that is not a plain relative one, 404 when no such file belongs to the
    folder (including a symlink leading out of it). Suits ``file_response`` for byte ranges.
    """
    if (
        not isinstance(name, str)
        or not name
        or name.startswith("/")
        or "\\" in name
        or "\0" in name
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise SourceError(400, "invalid file name: give a relative name as the folder's listing does")
    root = _root(source)
    parts = name.split("/")
    current = root
    try:
        for part in parts[:-1]:
            current = current / part
            if not stat.S_ISDIR(current.lstat().st_mode):
                raise SourceError(404, "no such file in the folder")
        current = current / parts[-1]
        mode = current.lstat().st_mode
        if stat.S_ISLNK(mode):
            mode = current.stat().st_mode if _inside(current.resolve(), root) else 0
    except (FileNotFoundError, NotADirectoryError):
        raise SourceError(404, "no such file in the folder") from None
    if not stat.S_ISREG(mode):
        raise SourceError(404, "no such file in the folder")
    return current


async def open_file(source: FolderSource, name: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> SourceStream:
    """A stream of the folder's file ``name`` (see :func:`resolve_member` for what is refused)."""
    return await open_file_stream(resolve_member(source, name), chunk_size=chunk_size)


async def open_tar(source: FolderSource, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> SourceStream:
    """A POSIX (pax) tar stream of the folder, made while it is sent; its size is not known ahead.

    Entries carry relative names, the modification time, and modes 0644/0755 with no owner names.
    A file that shrinks or vanishes while the tar is made fails the stream (SourceError 500).
    """
    root = _root(source)

    def produce(write: Write) -> None:
        out = ChunkWriter(write, chunk_size)
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for name, path, is_dir in _walk(root):
                _add(tar, name, path, is_dir)
        out.flush()

    return await stream_from_thread(
        produce,
        media_type="application/x-tar",
        size=None,
        filename=f"{root.name or 'folder'}.tar",
        name="tar",
    )


def _add(tar: tarfile.TarFile, name: str, path: Path, is_dir: bool) -> None:
    info = tarfile.TarInfo(name)
    try:
        if is_dir:
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = int(path.stat().st_mtime)
            tar.addfile(info)
            return
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                return
            info.size = status.st_size
            info.mode = 0o644
            info.mtime = int(status.st_mtime)
            os.set_blocking(fd, True)
            tar.addfile(info, handle)
    except OSError as exc:
        raise SourceError(
            500, "a file of the folder changed or vanished while being sent", detail=type(exc).__name__
        ) from None


def _root(source: FolderSource) -> Path:
    root = source.path.resolve()
    if not root.is_dir():
        raise SourceError(404, "the asset's folder is missing")
    return root


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _file_link_inside(path: Path, root: Path) -> bool:
    if not path.is_symlink():
        return False
    target = path.resolve()
    return _inside(target, root) and target.is_file()


def _walk(root: Path) -> Iterator[tuple[str, Path, bool]]:
    """(relative name, path, is a directory) for what belongs to the folder, depth first, sorted."""
    pending: list[tuple[str, Path]] = [("", root)]
    while pending:
        prefix, directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        subdirectories: list[tuple[str, Path]] = []
        for entry in entries:
            name = prefix + entry.name
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                yield name, path, True
                subdirectories.append((name + "/", path))
            elif entry.is_file(follow_symlinks=False) or _file_link_inside(path, root):
                yield name, path, False
        pending.extend(reversed(subdirectories))
