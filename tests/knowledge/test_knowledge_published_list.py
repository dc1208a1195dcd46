"""Reading another node's published list (pure): valid items are taken, invalid ones skipped, a
document that is no list at all is an error."""

from __future__ import annotations

from typing import Any

import pytest

from allmende.knowledge.crawl import FetchError, read_documents
from allmende.knowledge.jsonld import to_jsonld
from allmende.knowledge.seed import demo_items


def _document(number: int, **changes: Any) -> dict[str, Any]:
    document = to_jsonld(
        demo_items()[number],
        item_id=f"urn:uuid:00000000-0000-0000-0000-{number:012d}",
        version=3,
        publisher="did:web:centre.example",
        modified="2026-11-01T10:00:00Z",
    )
    document.pop("@context")
    document.update(changes)
    return document


def test_valid_items_are_read_and_bad_ones_skipped() -> None:
    payload = {
        "@graph": [
            _document(0),
            _document(3),
            _document(1, kind="recipe"),
            _document(2, company={"sector": "x"}),
            {"title": "no id"},
            "not an object",
        ]
    }
    found, skipped = read_documents(payload)
    assert skipped == 4
    assert [(item_id[-1], version, item.kind) for item_id, version, item, _, _ in found] == [
        ("0", 3, "case"),
        ("3", 3, "expertise"),
    ]
    modified = found[0][4]
    assert modified is not None and modified.isoformat() == "2026-11-01T10:00:00+00:00"


@pytest.mark.parametrize("payload", [[], {"items": []}, {"@graph": "x"}, None])
def test_a_document_without_a_graph_is_refused(payload: Any) -> None:
    with pytest.raises(FetchError, match="@graph"):
        read_documents(payload)
