"""What to answer to a GET of a file: status, headers and the bytes to send (pure logic, no I/O).

Digests (RFC 9530), when the file's sha-256 is known:

* ``Repr-Digest`` (digest of the whole file) on 200, 206 and 416, so a client resuming a download
  can always check the file it assembles.
* ``Content-Digest`` (digest of this response's content) on 200 only, where it equals
  ``Repr-Digest``. For a 206 it would be the digest of the range, which is not stored: computing it
  would mean reading the range twice (once to hash, once to send), so it is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from allmende.dataplane.digests import sha256_field, strong_etag
from allmende.dataplane.ranges import RangeNotSatisfiable, parse_range, range_applies


@dataclass(frozen=True)
class ServePlan:
    """The answer to send: ``status`` with ``headers``, then ``length`` bytes from ``start``."""

    status: int
    headers: dict[str, str]
    start: int
    length: int


def plan_serving(
    size: int,
    *,
    range_header: str | None,
    if_range: str | None,
    media_type: str,
    sha256_hex: str | None,
) -> ServePlan:
    """The plan for serving a file of ``size`` bytes to a request with these headers.

    Raises ``MalformedDigest`` when ``sha256_hex`` is not 64 hex digits.
    """
    common = {"accept-ranges": "bytes"}
    etag = None
    if sha256_hex is not None:
        etag = strong_etag(sha256_hex)
        common["etag"] = etag
        common["repr-digest"] = sha256_field(sha256_hex)
    wanted = range_header if range_applies(if_range, etag) else None
    try:
        byte_range = parse_range(wanted, size)
    except RangeNotSatisfiable as exc:
        headers = {**common, "content-range": exc.content_range, "content-length": "0"}
        return ServePlan(416, headers, 0, 0)
    content = {"content-type": media_type}
    if byte_range is None:
        headers = {**common, **content, "content-length": str(size)}
        if "repr-digest" in common:
            headers["content-digest"] = common["repr-digest"]
        return ServePlan(200, headers, 0, size)
    headers = {
        **common,
        **content,
        "content-length": str(byte_range.length),
        "content-range": byte_range.content_range(size),
    }
    return ServePlan(206, headers, byte_range.start, byte_range.length)
