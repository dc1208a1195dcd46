"""RFC 8288 Link-header paging for catalog responses."""

from __future__ import annotations

import pytest

from allmende.catalog.paging import PagingError, page_links, parse_paging

BASE = "https://node.example/dsp/catalog/request"


def test_first_page_has_only_next() -> None:
    assert page_links(BASE, 0, 10, 25) == f'<{BASE}?offset=10&limit=10>; rel="next"'


def test_middle_page_has_prev_and_next() -> None:
    assert page_links(BASE, 10, 10, 25) == (
        f'<{BASE}?offset=0&limit=10>; rel="prev", <{BASE}?offset=20&limit=10>; rel="next"'
    )


def test_last_page_has_only_prev() -> None:
    assert page_links(BASE, 20, 10, 25) == f'<{BASE}?offset=10&limit=10>; rel="prev"'


def test_single_page_has_no_links() -> None:
    assert page_links(BASE, 0, 100, 25) is None
    assert page_links(BASE, 0, 100, 0) is None


def test_offset_past_the_end_points_back_to_the_last_page() -> None:
    assert page_links(BASE, 50, 10, 25) == f'<{BASE}?offset=15&limit=10>; rel="prev"'


def test_unaligned_offset_prev_does_not_go_negative() -> None:
    assert page_links(BASE, 3, 10, 25) == (
        f'<{BASE}?offset=0&limit=10>; rel="prev", <{BASE}?offset=13&limit=10>; rel="next"'
    )


def test_other_query_parameters_are_kept_and_old_paging_replaced() -> None:
    links = page_links(f"{BASE}?lang=de&offset=99&limit=1", 0, 5, 6)
    assert links == f'<{BASE}?lang=de&offset=5&limit=5>; rel="next"'


@pytest.mark.parametrize(("offset", "limit", "total"), [(-1, 10, 5), (0, 0, 5), (0, 10, -1)])
def test_page_links_rejects_bad_numbers(offset: int, limit: int, total: int) -> None:
    with pytest.raises(PagingError):
        page_links(BASE, offset, limit, total)


def test_parse_paging_defaults_and_values() -> None:
    assert parse_paging({}) == (0, 100)
    assert parse_paging({"offset": "20", "limit": "50"}) == (20, 50)
    assert parse_paging({"limit": "1000"}) == (0, 1000)
    assert parse_paging({}, default_limit=10, max_limit=20) == (0, 10)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"offset": "abc"}, "offset must be an integer, got 'abc'"),
        ({"limit": "1.5"}, "limit must be an integer, got '1.5'"),
        ({"offset": "-1"}, "offset must be >= 0, got -1"),
        ({"limit": "0"}, r"limit must lie in 1\.\.1000, got 0"),
        ({"limit": "1001"}, r"limit must lie in 1\.\.1000, got 1001"),
        ({"limit": "١٢"}, "limit must be an integer"),
        ({"offset": ""}, "offset must be an integer, got ''"),
    ],
)
def test_parse_paging_rejects_bad_values(query: dict[str, str], message: str) -> None:
    with pytest.raises(PagingError, match=message):
        parse_paging(query)


def test_parse_paging_rejects_inconsistent_defaults() -> None:
    with pytest.raises(PagingError, match="default_limit"):
        parse_paging({}, default_limit=2000, max_limit=1000)
