"""Typed asset source configurations, as stored in ``AssetRecord.source`` (a JSON object).

``{"kind": "file", "path": "/abs/file"}``
``{"kind": "folder", "path": "/abs/dir", "mode": "tar" | "files"}``
``{"kind": "http_api", "url": "https://...", "method": "GET", "headers": {...},
"auth_header_name": "Authorization", "auth_secret": "secret:NAME", "timeout": 30.0}``
``{"kind": "sql_query", "database_url_secret": "secret:NAME", "query": "SELECT ...", "format": "csv"}``

Credentials are only ever references into the secret store (``"secret:NAME"``); :func:`parse_source`
refuses a value where a reference belongs, and no error message repeats such a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from allmende.sources.errors import SecretError, SourceConfigError
from allmende.sources.secrets import SecretRef
from allmende.sources.sqlcheck import check_select

FolderMode = Literal["tar", "files"]
HttpMethod = Literal["GET", "POST"]
TableFormat = Literal["csv", "parquet"]

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "upgrade", "te", "trailer", "keep-alive"}
)
_MAX_TIMEOUT = 3600.0
_T = TypeVar("_T", bound=str)


@dataclass(frozen=True)
class FileSource:
    """A single file of the owner's."""

    path: Path


@dataclass(frozen=True)
class FolderSource:
    """A folder of the owner's, served as one tar stream or file by file."""

    path: Path
    mode: FolderMode = "tar"


@dataclass(frozen=True)
class HttpApiSource:
    """An HTTP API of the owner's, proxied by the provider; the auth header is added there only."""

    url: str
    method: HttpMethod = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    auth_header_name: str | None = None
    auth_secret: SecretRef | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class SqlQuerySource:
    """A single SELECT against a database of the owner's, whose SQLAlchemy URL is a stored secret."""

    database_url_secret: SecretRef
    query: str
    format: TableFormat = "csv"


Source = FileSource | FolderSource | HttpApiSource | SqlQuerySource


def parse_source(data: Mapping[str, Any]) -> Source:
    """The typed source for a stored JSON object; SourceConfigError saying what is wrong."""
    if not isinstance(data, Mapping):
        raise SourceConfigError("a source must be a JSON object")
    kind = data.get("kind")
    if kind == "file":
        _only(data, {"path"})
        return FileSource(_abs_path(data))
    if kind == "folder":
        _only(data, {"path", "mode"})
        return FolderSource(_abs_path(data), _choice(data, "mode", ("tar", "files"), "tar"))
    if kind == "http_api":
        return _http_api(data)
    if kind == "sql_query":
        _only(data, {"database_url_secret", "query", "format"})
        query = data.get("query")
        if not isinstance(query, str):
            raise SourceConfigError("sql_query: 'query' must be a string")
        return SqlQuerySource(
            _required_ref(data, "database_url_secret"),
            check_select(query),
            _choice(data, "format", ("csv", "parquet"), "csv"),
        )
    raise SourceConfigError("'kind' must be one of 'file', 'folder', 'http_api', 'sql_query'")


def source_to_dict(source: Source) -> dict[str, Any]:
    """The JSON object to store for ``source`` (the inverse of :func:`parse_source`)."""
    if isinstance(source, FileSource):
        return {"kind": "file", "path": str(source.path)}
    if isinstance(source, FolderSource):
        return {"kind": "folder", "path": str(source.path), "mode": source.mode}
    if isinstance(source, HttpApiSource):
        return {
            "kind": "http_api",
            "url": source.url,
            "method": source.method,
            "headers": dict(source.headers),
            "auth_header_name": source.auth_header_name,
            "auth_secret": None if source.auth_secret is None else str(source.auth_secret),
            "timeout": source.timeout,
        }
    return {
        "kind": "sql_query",
        "database_url_secret": str(source.database_url_secret),
        "query": source.query,
        "format": source.format,
    }


def describe(source: Source) -> dict[str, Any]:
    """What to show the owner about ``source``: secrets by reference, header names without values."""
    shown = source_to_dict(source)
    if isinstance(source, HttpApiSource):
        shown["headers"] = sorted(source.headers)
    return shown


def _http_api(data: Mapping[str, Any]) -> HttpApiSource:
    _only(data, {"url", "method", "headers", "auth_header_name", "auth_secret", "timeout"})
    url = data.get("url")
    if not isinstance(url, str):
        raise SourceConfigError("http_api: 'url' must be a string")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceConfigError("http_api: 'url' must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise SourceConfigError("http_api: 'url' must not hold credentials; put them in the secret store")
    headers = data.get("headers", {})
    if not isinstance(headers, Mapping):
        raise SourceConfigError("http_api: 'headers' must be an object of header names to values")
    for name, value in headers.items():
        _header_name(name, "headers")
        if not isinstance(value, str) or any(c in value for c in "\r\n\0"):
            raise SourceConfigError(f"http_api: header {name!r} must have a one-line string value")
    auth_name = data.get("auth_header_name")
    secret = None if data.get("auth_secret") is None else _required_ref(data, "auth_secret")
    if (auth_name is None) != (secret is None):
        raise SourceConfigError("http_api: give both 'auth_header_name' and 'auth_secret', or neither")
    if auth_name is not None:
        _header_name(auth_name, "auth_header_name")
        if auth_name.lower() in {name.lower() for name in headers}:
            raise SourceConfigError(f"http_api: {auth_name!r} is both the auth header and a plain header")
    timeout = data.get("timeout", 30.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
        raise SourceConfigError("http_api: 'timeout' must be a number of seconds")
    if not 0 < timeout <= _MAX_TIMEOUT:
        raise SourceConfigError(f"http_api: 'timeout' must be above 0 and at most {_MAX_TIMEOUT:g} seconds")
    return HttpApiSource(
        url=url,
        method=_choice(data, "method", ("GET", "POST"), "GET"),
        headers=dict(headers),
        auth_header_name=auth_name,
        auth_secret=secret,
        timeout=float(timeout),
    )


def _only(data: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(data) - allowed - {"kind"})
    if unknown:
        raise SourceConfigError(f"{data['kind']}: unknown field(s) {', '.join(map(repr, unknown))}")


def _abs_path(data: Mapping[str, Any]) -> Path:
    value = data.get("path")
    if not isinstance(value, str) or not value or "\0" in value or not Path(value).is_absolute():
        raise SourceConfigError(f"{data['kind']}: 'path' must be an absolute path")
    return Path(value)


def _choice(data: Mapping[str, Any], key: str, allowed: tuple[_T, ...], default: _T) -> _T:
    value = data.get(key, default)
    if value not in allowed:
        raise SourceConfigError(f"{data['kind']}: {key!r} must be one of {', '.join(map(repr, allowed))}")
    return cast(_T, value)


def _required_ref(data: Mapping[str, Any], key: str) -> SecretRef:
    try:
        return SecretRef.parse(str(data.get(key, "")))
    except SecretError as exc:
        raise SourceConfigError(f"{data['kind']}: {key!r}: {exc}") from None


def _header_name(name: object, where: str) -> None:
    if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
        raise SourceConfigError(f"http_api: {where}: a header name must be an HTTP token")
    if name.lower() in _RESERVED_HEADERS:
        raise SourceConfigError(f"http_api: {where}: {name!r} is set by the proxy, not configurable")
