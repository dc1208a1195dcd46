"""How a downloader goes on after the server's answer to one GET (pure logic, no I/O)."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

from allmende.dataplane.digests import parse_sha256

_RANGE = re.compile(r"bytes ([0-9]+)-([0-9]+)/([0-9]+|\*)", re.ASCII)
_UNSATISFIED = re.compile(r"bytes \*/([0-9]+)", re.ASCII)


class Step(enum.Enum):
    """What to do with an answer."""

    APPEND = "append"  # 206 continuing the part: append the body
    FROM_START = "from-start"  # 200: empty the part, then write the body
    REQUEST_AGAIN = "request-again"  # 416, the part is longer than the file: empty it, ask for all
    COMPLETE = "complete"  # 416, the part already holds the whole file: only verify it
    FAIL = "fail"  # an error answer: give up


@dataclass(frozen=True)
class Verdict:
    """The ``step`` to take; ``total`` size and whole-file ``sha256_hex`` when the server said."""

    step: Step
    total: int | None = None
    sha256_hex: str | None = None
    problem: str | None = None


def judge_response(status: int, headers: Mapping[str, str], offset: int) -> Verdict:
    """Judge an answer to a GET sent with ``Range: bytes=OFFSET-`` (no ``Range`` when ``offset`` is 0).

    ``headers`` must look names up case-insensitively (as ``httpx.Headers`` does). Raises
    ``MalformedDigest`` when a sha-256 digest field is garbled.
    """
    repr_digest = parse_sha256(headers.get("repr-digest"))
    content_range = headers.get("content-range", "").strip()
    if status == 200:
        length = headers.get("content-length", "").strip()
        total = int(length) if length.isascii() and length.isdigit() else None
        digest = repr_digest or parse_sha256(headers.get("content-digest"))
        return Verdict(Step.FROM_START, total, digest)
    if status == 206:
        match = _RANGE.fullmatch(content_range)
        if offset == 0 or match is None:
            return Verdict(Step.FAIL, problem=f"unexpected partial answer (Content-Range {content_range!r})")
        first, last, complete = match.groups()
        total = None if complete == "*" else int(complete)
        if int(first) != offset or (total is not None and int(last) != total - 1):
            return Verdict(Step.FAIL, problem=f"asked for bytes {offset}-, got {content_range!r}")
        return Verdict(Step.APPEND, total, repr_digest)
    if status == 416 and offset > 0:
        unsatisfied = _UNSATISFIED.fullmatch(content_range)
        if unsatisfied is not None:
            size = int(unsatisfied.group(1))
            if size == offset:
                return Verdict(Step.COMPLETE, size, repr_digest)
            if size < offset:
                return Verdict(Step.REQUEST_AGAIN, size, repr_digest)
    return Verdict(Step.FAIL)


def reason_from_body(body: object, fallback: str) -> str:
    """The ``reason`` (or FastAPI's ``detail``) string of a decoded JSON error body, else ``fallback``."""
    if isinstance(body, dict):
        for key in ("reason", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    return fallback
