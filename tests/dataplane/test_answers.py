"""How the downloader judges the server's answers."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from allmende.dataplane.answers import Step, Verdict, judge_response, reason_from_body
from allmende.dataplane.digests import MalformedDigest, sha256_field

HEX = hashlib.sha256(b"x").hexdigest()
OTHER = hashlib.sha256(b"y").hexdigest()


def judge(status: int, offset: int, **headers: str) -> Verdict:
    return judge_response(status, httpx.Headers({k.replace("_", "-"): v for k, v in headers.items()}), offset)


def test_full_answer_takes_repr_digest_then_content_digest() -> None:
    assert judge(200, 0, content_length="10", repr_digest=sha256_field(HEX)) == Verdict(
        Step.FROM_START, 10, HEX
    )
    assert judge(200, 5, content_digest=sha256_field(OTHER)) == Verdict(Step.FROM_START, None, OTHER)


def test_partial_answer_appends_and_ignores_content_digest() -> None:
    verdict = judge(206, 5, content_range="bytes 5-9/10", content_digest=sha256_field(OTHER))
    assert verdict == Verdict(Step.APPEND, 10, None)
    assert judge(206, 5, content_range="bytes 5-9/*").total is None


@pytest.mark.parametrize(
    ("offset", "content_range"), [(0, "bytes 0-9/10"), (5, "bytes 4-9/10"), (5, "bytes 5-8/10"), (5, "junk")]
)
def test_partial_answer_for_other_bytes_fails(offset: int, content_range: str) -> None:
    verdict = judge(206, offset, content_range=content_range)
    assert verdict.step is Step.FAIL
    assert verdict.problem is not None


def test_unsatisfiable_answer_depends_on_the_part() -> None:
    digest = sha256_field(HEX)
    assert judge(416, 10, content_range="bytes */10", repr_digest=digest) == Verdict(Step.COMPLETE, 10, HEX)
    assert judge(416, 12, content_range="bytes */10").step is Step.REQUEST_AGAIN
    assert judge(416, 8, content_range="bytes */10").step is Step.FAIL
    assert judge(416, 8).step is Step.FAIL
    assert judge(416, 0, content_range="bytes */0").step is Step.FAIL


@pytest.mark.parametrize("status", [401, 403, 404, 410, 500, 304])
def test_other_answers_fail(status: int) -> None:
    assert judge(status, 0).step is Step.FAIL


def test_garbled_digest_is_an_error() -> None:
    with pytest.raises(MalformedDigest):
        judge(200, 0, repr_digest="sha-256=:AAAA:")


def test_reason_from_json_body() -> None:
    assert reason_from_body({"reason": "token expired"}, "x") == "token expired"
    assert reason_from_body({"detail": "no agreement"}, "x") == "no agreement"
    assert reason_from_body({"reason": 3}, "fallback") == "fallback"
    assert reason_from_body(["reason"], "fallback") == "fallback"
