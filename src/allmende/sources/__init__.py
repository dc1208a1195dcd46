"""Asset sources beyond single files (folders, the owner's HTTP APIs, SQL queries) and the secret store.

Configurations (:mod:`~allmende.sources.model`) are what ``AssetRecord.source`` stores; credentials in
them are ``"secret:NAME"`` references into the node's :class:`~allmende.sources.secrets.SecretStore`.
:func:`~allmende.sources.streams.open_stream` turns a configuration into a constant-memory
:class:`~allmende.sources.stream.SourceStream` for the data plane; it also streams a
:class:`~allmende.sources.document.DocumentSource`, content the node makes itself (never stored).
"""

from allmende.sources.document import DocumentSource
from allmende.sources.errors import SecretError, SecretNotFound, SourceConfigError, SourceError
from allmende.sources.folder import list_files, open_file, resolve_member
from allmende.sources.model import (
    FileSource,
    FolderSource,
    HttpApiSource,
    Source,
    SqlQuerySource,
    describe,
    parse_source,
    source_to_dict,
)
from allmende.sources.secrets import SecretRef, SecretStore
from allmende.sources.stream import SourceStream
from allmende.sources.streams import open_stream

__all__ = [
    "DocumentSource",
    "FileSource",
    "FolderSource",
    "HttpApiSource",
    "SecretError",
    "SecretNotFound",
    "SecretRef",
    "SecretStore",
    "Source",
    "SourceConfigError",
    "SourceError",
    "SourceStream",
    "SqlQuerySource",
    "describe",
    "list_files",
    "open_file",
    "open_stream",
    "parse_source",
    "resolve_member",
    "source_to_dict",
]
