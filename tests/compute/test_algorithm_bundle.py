"""Algorithm bundles: validation and the digest ODRL allow-lists name."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from allmende.compute.algorithm import (
    MAX_CODE_BYTES,
    AlgorithmError,
    bundle_digest,
    is_digest,
    make_bundle,
)


def test_digest_is_sha256_over_canonical_code_and_runtime() -> None:
    bundle = make_bundle("sql", "SELECT 1", "duckdb-sql/1")
    expected = hashlib.sha256(
        json.dumps(
            {"code": "SELECT 1", "runtime": "duckdb-sql/1"}, sort_keys=True, separators=(",", ":")
        ).encode()
    ).hexdigest()
    assert bundle_digest(bundle) == f"sha-256:{expected}"
    assert bundle.digest == bundle_digest(bundle)
    assert is_digest(bundle.digest)


def test_digest_changes_with_code_or_runtime_and_not_with_identity() -> None:
    a = make_bundle("sql", "SELECT 1", "duckdb-sql/1")
    assert a.digest == make_bundle("sql", b"SELECT 1", "duckdb-sql/1").digest
    assert a.digest != make_bundle("sql", "SELECT 1 ", "duckdb-sql/1").digest
    assert a.digest != make_bundle("sql", "SELECT 1", "duckdb-sql/2").digest


def test_unicode_code_is_accepted_and_hashed_as_utf8() -> None:
    bundle = make_bundle("python", "print('Grüße')\n", "python-3.11-numpy-pandas/1")
    assert bundle.code == "print('Grüße')\n"


@pytest.mark.parametrize(
    ("kind", "code", "runtime", "message"),
    [
        ("java", "x", "duckdb-sql/1", "unknown algorithm kind"),
        ("sql", "", "duckdb-sql/1", "empty"),
        ("sql", "   \n", "duckdb-sql/1", "empty"),
        ("sql", b"\xff\xfe", "duckdb-sql/1", "not valid UTF-8"),
        ("sql", "SELECT 1\x00", "duckdb-sql/1", "NUL"),
        ("sql", "SELECT \x1b[31m", "duckdb-sql/1", "control character U+001B"),
        ("sql", "SELECT 1", "DuckDB SQL", "malformed runtime id"),
        ("sql", "SELECT 1", "duckdb-sql", "malformed runtime id"),
        ("sql", "x" * (MAX_CODE_BYTES + 1), "duckdb-sql/1", "the limit is"),
        ("sql", b"x" * (MAX_CODE_BYTES + 1), "duckdb-sql/1", "the limit is"),
        ("sql", "\ud800", "duckdb-sql/1", "surrogate"),
    ],
)
def test_bad_bundles_are_refused_with_a_reason(
    kind: str, code: str | bytes, runtime: str, message: str
) -> None:
    with pytest.raises(AlgorithmError, match=re.escape(message)):
        make_bundle(kind, code, runtime)


def test_is_digest_rejects_other_forms() -> None:
    assert not is_digest("sha256:" + "0" * 64)
    assert not is_digest("sha-256:" + "0" * 63)
    assert not is_digest("sha-256:" + "A" * 64)
