"""Opening any asset source as a :class:`~allmende.sources.stream.SourceStream`."""

from __future__ import annotations

import httpx

from allmende.sources.document import DocumentSource, open_document
from allmende.sources.errors import SourceError
from allmende.sources.files import DEFAULT_CHUNK_SIZE, open_file_stream
from allmende.sources.folder import open_tar
from allmende.sources.http_api import open_http_api
from allmende.sources.model import FileSource, FolderSource, HttpApiSource, Source
from allmende.sources.secrets import SecretStore
from allmende.sources.sql import open_sql_query
from allmende.sources.stream import SourceStream


async def open_stream(
    source: Source | DocumentSource,
    secrets: SecretStore,
    *,
    http_client: httpx.AsyncClient | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> SourceStream:
    """The asset's content as one stream; SourceError (with the HTTP status to answer) if it cannot be.

    A folder in ``"files"`` mode has no single stream: serve its files with
    :func:`~allmende.sources.folder.list_files` and :func:`~allmende.sources.folder.open_file`.
    ``http_client`` is used (not closed) for HTTP API sources; without it each stream makes its own.
    A :class:`~allmende.sources.document.DocumentSource` streams the bytes it holds.
    """
    if isinstance(source, DocumentSource):
        return open_document(source, chunk_size=chunk_size)
    if isinstance(source, FileSource):
        return await open_file_stream(source.path, chunk_size=chunk_size)
    if isinstance(source, FolderSource):
        if source.mode != "tar":
            raise SourceError(400, "this folder is shared file by file: ask for one of its files")
        return await open_tar(source, chunk_size=chunk_size)
    if isinstance(source, HttpApiSource):
        return await open_http_api(source, secrets, client=http_client)
    return await open_sql_query(source, secrets)
