"""Algorithm bundles: what a consumer sends to run next to the data, and the digest policies name.

A bundle is its kind (``sql`` or ``python``), its code (UTF-8 text) and the runtime it was written for
(e.g. ``duckdb-sql/1``). :func:`bundle_digest` is the sha-256 of a canonical encoding of code and runtime;
ODRL allow-lists name it as ``sha-256:<hex>``, so an owner approves exactly this code on exactly this
runtime. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from allmende.canonical import canonical_json, sha256_hex

AlgorithmKind = Literal["sql", "python"]
KINDS: tuple[AlgorithmKind, ...] = ("sql", "python")

MAX_CODE_BYTES = 256 * 1024
"""Largest accepted code, in UTF-8 bytes (a query or a script, not a library)."""

DIGEST_PREFIX = "sha-256:"
_RUNTIME_ID = re.compile(r"^[a-z0-9][a-z0-9.+-]{0,62}/[0-9]{1,6}$")
_DIGEST = re.compile(r"^sha-256:[0-9a-f]{64}$")


class AlgorithmError(ValueError):
    """The bundle is not acceptable; the message says why, in words a user can act on."""


@dataclass(frozen=True)
class AlgorithmBundle:
    """Code to run next to the data. Build it with :func:`make_bundle` to have it validated."""

    kind: AlgorithmKind
    code: str
    runtime: str

    @property
    def digest(self) -> str:
        return bundle_digest(self)


def bundle_digest(bundle: AlgorithmBundle) -> str:
    """``sha-256:<hex>`` over the canonical JSON ``{"code": ..., "runtime": ...}``.

    The kind is implied by the runtime, so it is not part of the digest. Line endings are part of the
    code: the consumer's tool must send the exact bytes it had approved.
    """
    return DIGEST_PREFIX + sha256_hex(canonical_json({"code": bundle.code, "runtime": bundle.runtime}))


def is_digest(value: str) -> bool:
    """Whether ``value`` is a well-formed bundle digest (``sha-256:`` and 64 lower-case hex digits)."""
    return bool(_DIGEST.match(value))


def make_bundle(kind: str, code: str | bytes, runtime: str) -> AlgorithmBundle:
    """Validate and build a bundle; raises :class:`AlgorithmError` with a clear reason."""
    if kind not in KINDS:
        raise AlgorithmError(f"unknown algorithm kind {kind!r}; expected one of: {', '.join(KINDS)}")
    if isinstance(code, bytes):
        if len(code) > MAX_CODE_BYTES:
            raise AlgorithmError(_too_large(len(code)))
        try:
            code = code.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise AlgorithmError(f"the code is not valid UTF-8 (byte {exc.start})") from None
    size = len(code.encode("utf-8", errors="surrogatepass"))
    if size > MAX_CODE_BYTES:
        raise AlgorithmError(_too_large(size))
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in code):
        raise AlgorithmError("the code is not valid UTF-8 (it holds a lone surrogate)")
    if not code.strip():
        raise AlgorithmError("the code is empty")
    if "\x00" in code:
        raise AlgorithmError("the code holds a NUL character")
    bad = next((ch for ch in code if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f"), None)
    if bad is not None:
        raise AlgorithmError(f"the code holds the control character U+{ord(bad):04X}")
    if not _RUNTIME_ID.match(runtime):
        raise AlgorithmError(f"malformed runtime id {runtime!r}; expected e.g. 'duckdb-sql/1'")
    return AlgorithmBundle(kind=kind, code=code, runtime=runtime)


def _too_large(size: int) -> str:
    return f"the code has {size} bytes; the limit is {MAX_CODE_BYTES} bytes"
