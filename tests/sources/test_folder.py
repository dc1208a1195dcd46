"""Folder sources: the tar stream, file-by-file access, symlinks and path traversal."""

from __future__ import annotations

import io
import os
import tarfile
import threading
from pathlib import Path

import pytest

from allmende.sources.errors import SourceError
from allmende.sources.folder import list_files, open_file, open_tar, resolve_member
from allmende.sources.model import FileSource, FolderSource
from allmende.sources.secrets import SecretStore
from allmende.sources.streams import open_stream
from tests.sources.streaming import read_all

pytestmark = pytest.mark.anyio


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "shared"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.csv").write_text("x,y\n1,2\n")
    (root / "sub" / "b.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "deeper" / "c.txt").write_text("deep")
    (root / "link-inside.txt").symlink_to(root / "a.csv")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not yours")
    (root / "link-outside.txt").symlink_to(outside / "secret.txt")
    (root / "dirlink").symlink_to(outside, target_is_directory=True)
    os.mkfifo(root / "pipe")
    return root


@pytest.fixture
def secrets(tmp_path: Path) -> SecretStore:
    return SecretStore.create(tmp_path / "store")


EXPECTED = ["a.csv", "link-inside.txt", "sub/b.bin", "sub/deeper/c.txt"]


def test_list_files_leaves_out_escaping_links_and_special_files(folder: Path) -> None:
    listed = list_files(FolderSource(folder, "files"))
    assert [name for name, _ in listed] == EXPECTED
    assert dict(listed)["sub/b.bin"] == 300_000
    assert dict(listed)["link-inside.txt"] == len("x,y\n1,2\n")


async def test_tar_stream_extracts_to_the_same_files(
    folder: Path, secrets: SecretStore, tmp_path: Path
) -> None:
    stream = await open_stream(FolderSource(folder, "tar"), secrets, chunk_size=4096)
    assert (stream.media_type, stream.size, stream.filename) == ("application/x-tar", None, "shared.tar")
    chunks = [chunk async for chunk in stream.chunks()]
    assert max(map(len, chunks)) <= 4096
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r:") as tar:
        members = tar.getmembers()
        assert all(m.isfile() or m.isdir() for m in members)
        assert {m.name for m in members if m.isfile()} == set(EXPECTED)
        assert {m.name for m in members if m.isdir()} == {"empty", "sub", "sub/deeper"}
        assert all(m.uname == "" and m.uid == 0 for m in members)
        tar.extractall(tmp_path / "out", filter="data")
    out = tmp_path / "out"
    for name in EXPECTED:
        assert (out / name).read_bytes() == (folder / name).read_bytes()
    assert not (out / "link-outside.txt").exists()
    assert not (out / "dirlink").exists()
    assert (out / "empty").is_dir()


async def test_an_empty_folder_is_an_empty_tar(tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    data = await read_all(await open_tar(FolderSource(tmp_path / "e")))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        assert tar.getmembers() == []


async def test_closing_a_tar_stream_early_ends_its_worker(folder: Path) -> None:
    big = folder / "big.bin"
    with big.open("wb") as out:
        out.truncate(64 << 20)
    stream = await open_tar(FolderSource(folder), chunk_size=1 << 16)
    assert _tar_workers() == 1
    chunks = stream.chunks()
    assert len(await anext(chunks)) == 1 << 16
    await chunks.aclose()  # as a server does when the client goes away
    assert _tar_workers() == 0


def _tar_workers() -> int:
    return sum(thread.name == "allmende-tar" for thread in threading.enumerate())


async def test_files_mode_has_no_single_stream(folder: Path, secrets: SecretStore) -> None:
    with pytest.raises(SourceError, match="file by file") as caught:
        await open_stream(FolderSource(folder, "files"), secrets)
    assert caught.value.status == 400


async def test_open_file_streams_a_member(folder: Path) -> None:
    stream = await open_file(FolderSource(folder, "files"), "sub/b.bin", chunk_size=65536)
    assert (stream.size, stream.filename, stream.media_type) == (300_000, "b.bin", "application/octet-stream")
    assert await read_all(stream) == (folder / "sub" / "b.bin").read_bytes()
    link = await open_file(FolderSource(folder, "files"), "link-inside.txt")
    assert await read_all(link) == b"x,y\n1,2\n"


@pytest.mark.parametrize(
    "name",
    [
        "../outside/secret.txt",
        "/etc/passwd",
        "sub/../a.csv",
        "./a.csv",
        "sub//b.bin",
        "",
        "sub\\b.bin",
        "a\0",
    ],
)
def test_traversal_names_are_refused(folder: Path, name: str) -> None:
    with pytest.raises(SourceError, match="invalid file name") as caught:
        resolve_member(FolderSource(folder, "files"), name)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "name", ["link-outside.txt", "dirlink/secret.txt", "pipe", "sub", "missing.txt", "a.csv/x", "sub/nope"]
)
async def test_names_outside_the_folder_listing_are_not_found(folder: Path, name: str) -> None:
    with pytest.raises(SourceError, match="no such file") as caught:
        await open_file(FolderSource(folder, "files"), name)
    assert caught.value.status == 404


async def test_a_missing_folder_is_404(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as caught:
        await open_tar(FolderSource(tmp_path / "gone"))
    assert caught.value.status == 404


async def test_file_source_streams_with_its_size(folder: Path, secrets: SecretStore) -> None:
    stream = await open_stream(FileSource(folder / "a.csv"), secrets)
    assert (stream.size, stream.media_type, stream.filename) == (8, "text/csv", "a.csv")
    assert await read_all(stream) == b"x,y\n1,2\n"
    with pytest.raises(RuntimeError, match="only once"):
        await read_all(stream)


@pytest.mark.parametrize("name", ["missing.csv", "pipe", "sub"])
async def test_file_source_that_is_not_a_regular_file_is_404(
    folder: Path, secrets: SecretStore, name: str
) -> None:
    with pytest.raises(SourceError, match="missing") as caught:
        await open_stream(FileSource(folder / name), secrets)
    assert caught.value.status == 404
