"""Signed calls to another node's benchmark endpoints, round addresses, and decimal share vectors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx

from allmende.benchmarking.errors import BenchmarkError
from allmende.benchmarking.field import is_element
from allmende.identity.did import did_from_url
from allmende.identity.errors import DidError

if TYPE_CHECKING:
    from allmende.node import Node

ROUNDS_PATH = "/benchmarks/rounds"
PARTICIPATIONS_PATH = "/benchmarks/participations"
_ROUND_URL = re.compile(r"(https?://[^?#]+?)/benchmarks/rounds/([0-9a-f]{32})/?")
_PASSED_ON = frozenset({403, 404, 409, 410})


def round_url(base_url: str, round_id: str) -> str:
    return f"{base_url}{ROUNDS_PATH}/{round_id}"


def parse_round_url(url: str) -> tuple[str, str, str]:
    """(organiser base URL, its DID, round id) of a round address; BenchmarkError if it is none."""
    match = _ROUND_URL.fullmatch(url.strip())
    if match is None:
        raise BenchmarkError(f"{url!r} is not a benchmark round address (…/benchmarks/rounds/<id>)")
    base = match.group(1)
    try:
        return base, did_from_url(base), match.group(2)
    except DidError as error:
        raise BenchmarkError(f"{url!r} is not a usable round address: {error.reason}") from None


async def call(
    node: Node, method: str, url: str, audience_did: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A call with this node's self-issued token; the JSON answer or BenchmarkError with the reason."""
    headers = {"Authorization": f"Bearer {node.issue_token(audience_did)}"}
    try:
        response = await node.http.request(method, url, json=body, headers=headers)
    except httpx.HTTPError as error:
        raise BenchmarkError(f"{url} is unreachable ({type(error).__name__})", status=502) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code >= 400:
        said = answer.get("error") if isinstance(answer, dict) else None
        status = response.status_code if response.status_code in _PASSED_ON else 502
        raise BenchmarkError(f"{url} refused: {said or f'HTTP {response.status_code}'}", status=status)
    if not isinstance(answer, dict):
        raise BenchmarkError(f"{url} answered no JSON object", status=502)
    return answer


def encode_vector(vector: list[int]) -> list[str]:
    """Field elements as decimal strings (JSON numbers lose precision above 2^53)."""
    return [str(v) for v in vector]


def decode_vector(value: object, length: int, what: str) -> list[int]:
    """Decimal strings back to field elements; BenchmarkError naming ``what`` when malformed."""
    if not isinstance(value, list) or len(value) != length:
        raise BenchmarkError(f"{what} must be a list of {length} field elements")
    vector = []
    for item in value:
        if not isinstance(item, str) or not item.isdigit() or len(item) > 40:
            raise BenchmarkError(f"{what} holds something that is not a decimal field element")
        number = int(item)
        if not is_element(number):
            raise BenchmarkError(f"{what} holds a number outside the field")
        vector.append(number)
    return vector
