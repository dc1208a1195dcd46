"""did:web ↔ URL mapping."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allmende.identity import DidError, did_document_url, did_from_url, is_loopback_host


@pytest.mark.parametrize(
    ("url", "did"),
    [
        ("http://127.0.0.1:8301", "did:web:127.0.0.1%3A8301"),
        ("http://127.0.0.1:8301/", "did:web:127.0.0.1%3A8301"),
        ("https://x.example/nodes/a", "did:web:x.example:nodes:a"),
        ("https://X.Example:443/", "did:web:x.example"),
        ("https://x.example:8443/a/b", "did:web:x.example%3A8443:a:b"),
        ("http://[::1]:8301", "did:web:%5B%3A%3A1%5D%3A8301"),
        ("http://localhost:80/n", "did:web:localhost:n"),
        ("https://x.example/a%20b/c~d", "did:web:x.example:a%20b:c%7Ed"),
        ("https://x.example/user:1", "did:web:x.example:user%3A1"),
    ],
)
def test_did_from_url(url: str, did: str) -> None:
    assert did_from_url(url) == did


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:127.0.0.1%3A8301", "http://127.0.0.1:8301/.well-known/did.json"),
        ("did:web:x.example", "https://x.example/.well-known/did.json"),
        ("did:web:x.example:nodes:a", "https://x.example/nodes/a/did.json"),
        ("did:web:x.example%3a8443", "https://x.example:8443/.well-known/did.json"),
        ("did:web:%5B%3A%3A1%5D%3A8301", "http://[::1]:8301/.well-known/did.json"),
        ("did:web:localhost:n", "http://localhost/n/did.json"),
        ("did:web:127.9.9.9", "http://127.9.9.9/.well-known/did.json"),
        ("did:web:128.0.0.1", "https://128.0.0.1/.well-known/did.json"),
        ("did:web:x.example:a%20b", "https://x.example/a%20b/did.json"),
        ("did:web:x.example:c%7Ed", "https://x.example/c~d/did.json"),
    ],
)
def test_did_document_url(did: str, url: str) -> None:
    assert did_document_url(did) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x.example", "scheme"),
        ("http://x.example", "loopback"),
        ("https://user@x.example", "user info"),
        ("https://x.example/?q=1", "query"),
        ("https://x.example/#f", "fragment"),
        ("https://x.example//a", "empty"),
        ("https://x.example/a/../b", "'..'"),
        ("https://x.example/a%2Fb", "encoded '/'"),
        ("https://x.example:99999", "invalid URL"),
        ("https://bad_host.example", "invalid host"),
        ("https:///path", "no host"),
        ("https://300.1.1.1", "IPv4"),
    ],
)
def test_did_from_url_rejects(url: str, message: str) -> None:
    with pytest.raises(DidError, match=message):
        did_from_url(url)


@pytest.mark.parametrize(
    "did",
    [
        "did:key:z6Mk",
        "did:web:",
        "did:web:x.example#key-1",
        "did:web:x.example:a/b",
        "did:web:x.example::a",
        "did:web:x.example:%2E%2E",
        "did:web:x.example:a%2Fb",
        "did:web:user%40x.example",
        "did:web:x.example%2Fpath",
        "did:web:x.example%3Anot-a-port",
        "did:web:x.example%ZZ",
    ],
)
def test_did_document_url_rejects(did: str) -> None:
    with pytest.raises(DidError):
        did_document_url(did)


def test_loopback_hosts() -> None:
    assert is_loopback_host("localhost")
    assert is_loopback_host("127.0.0.2")
    assert is_loopback_host("[::1]")
    assert not is_loopback_host("10.0.0.1")
    assert not is_loopback_host("localhost.example")


_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_SEGMENT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/", exclude_categories=["Cs"]), min_size=1
).filter(lambda s: s not in (".", ".."))


@given(
    labels=st.lists(_LABEL, min_size=1, max_size=4),
    port=st.none() | st.integers(min_value=1, max_value=65535),
    segments=st.lists(_SEGMENT, max_size=3),
)
def test_round_trip_url_did_url(labels: list[str], port: int | None, segments: list[str]) -> None:
    host = ".".join([*labels, "example"])
    netloc = host if port in (None, 443) else f"{host}:{port}"
    path = "".join(f"/{quote(segment, safe='')}" for segment in segments)
    did = did_from_url(f"https://{netloc}{path}")
    expected_tail = f"{path}/did.json" if segments else "/.well-known/did.json"
    assert did_document_url(did) == f"https://{netloc}{expected_tail}"
    assert did.startswith("did:web:") and "/" not in did


@given(port=st.integers(min_value=1, max_value=65535), last_octet=st.integers(min_value=0, max_value=255))
def test_round_trip_loopback(port: int, last_octet: int) -> None:
    netloc = f"127.0.0.{last_octet}" if port == 80 else f"127.0.0.{last_octet}:{port}"
    assert did_document_url(did_from_url(f"http://{netloc}")) == f"http://{netloc}/.well-known/did.json"
