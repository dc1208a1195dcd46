"""Search over the federated catalog on SQLite FTS5 and PostgreSQL: ranking, filters, facets, odd input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from allmende.network.extract import DatasetFields
from allmende.network.federation import store_catalog, sync_nodes
from allmende.network.search import SearchQuery, facets, search
from allmende.network.targets import CrawlTarget, Targets
from allmende.store import migrate
from allmende.store.database import Database

NOW = datetime(2026, 5, 1, tzinfo=UTC)
A, B = "did:web:a.example", "did:web:b.example"


def _fields(number: int, title: str, description: str = "Plain data.", **extra: object) -> DatasetFields:
    values: dict[str, object] = {
        "dataset_id": f"urn:uuid:00000000-0000-0000-0000-{number:012d}",
        "title": title,
        "description": description,
        "keywords": (),
        "themes": (),
        "formats": ("text/csv",),
        "publisher": "Alpha GmbH",
        "templates": ("open-use",),
        "offers": ({"@id": f"urn:uuid:10000000-0000-0000-0000-{number:012d}", "@type": "Offer"},),
        "modified": NOW - timedelta(days=number),
        "raw": {},
    }
    values.update(extra)
    return DatasetFields(**values)  # type: ignore[arg-type]


@pytest.fixture
def db(tmp_path: Path, database_url: str | None) -> Iterator[Database]:
    database = Database(database_url or f"sqlite:///{tmp_path / 'search.db'}")
    migrate.upgrade(database)
    with database.transaction() as session:
        sync_nodes(
            session,
            Targets(
                (
                    CrawlTarget(A, "Alpha", "http://a.example/dsp", "did:web:dir", "machinery", "Saxony"),
                    CrawlTarget(B, "Beta", "http://b.example/dsp", "did:web:dir", "food", "Bavaria"),
                ),
                frozenset(),
            ),
        )
        store_catalog(
            session,
            A,
            ['"a1"'],
            [
                _fields(1, "Spindle vibration", "Sensor readings of milling machines.", keywords=("sensor",)),
                _fields(2, "Sensor calibration", "Calibration tables.", themes=("TECH",)),
                _fields(3, "Maintenance log", "Mentions a sensor once.", templates=("research-only",)),
                _fields(4, "Übergrößen-Katalog", "Maße für Maschinenbau", formats=("application/json",)),
            ],
            NOW,
        )
        store_catalog(
            session,
            B,
            ['"b1"'],
            [
                _fields(5, "Bakery output", "Loaves per day.", publisher="Beta eG", keywords=("food", "c++")),
                _fields(6, "Cooling chain", "Temperature sensor data of trucks.", publisher="Beta eG"),
            ],
            NOW,
        )
    yield database
    database.dispose()


def _titles(session: Session, **query: object) -> list[str]:
    return [hit.title for hit in search(session, SearchQuery(**query)).hits]  # type: ignore[arg-type]


def test_ranking_title_before_keywords_before_description(db: Database) -> None:
    with db.read() as session:
        results = search(session, SearchQuery(text="sensor"))
        titles = [hit.title for hit in results.hits]
        assert results.total == 4
        assert titles[0] == "Sensor calibration"  # title
        assert titles[1] == "Spindle vibration"  # keyword and description
        assert set(titles[2:]) == {"Maintenance log", "Cooling chain"}  # description only
        assert results.hits[0].score >= results.hits[1].score > 0
        hit = results.hits[0]
        assert (hit.node_did, hit.node_name, hit.sector, hit.region) == (A, "Alpha", "machinery", "Saxony")
        assert hit.dsp_url == "http://a.example/dsp"
        assert hit.offers[0]["id"].startswith("urn:uuid:1") and hit.offers[0]["policy"]["@type"] == "Offer"


def test_no_text_lists_newest_first_with_paging(db: Database) -> None:
    with db.read() as session:
        assert _titles(session, limit=2) == ["Spindle vibration", "Sensor calibration"]
        page = search(session, SearchQuery(limit=2, offset=4))
        assert page.total == 6 and [h.title for h in page.hits] == ["Bakery output", "Cooling chain"]
        assert search(session, SearchQuery(offset=50)).hits == []


def test_prefixes_phrases_or_and_umlauts(db: Database) -> None:
    with db.read() as session:
        assert _titles(session, text="calib") == ["Sensor calibration"]
        assert _titles(session, text='"milling machines"') == ["Spindle vibration"]
        assert _titles(session, text='"machines milling"') == []
        assert set(_titles(session, text="bakery OR cooling")) == {"Bakery output", "Cooling chain"}
        assert _titles(session, text="sensor trucks") == ["Cooling chain"]
        assert _titles(session, text="Übergrößen") == ["Übergrößen-Katalog"]
        assert _titles(session, text="maße maschinenbau") == ["Übergrößen-Katalog"]


@pytest.mark.parametrize(
    "text",
    [
        "c++",
        '"',
        '"unclosed phrase',
        "a AND b",
        "OR",
        "NEAR(x y)",
        "x OR",
        "-",
        "*",
        "col:val",
        "ä'ö;--",
        "\x00",
    ],
)
def test_odd_input_never_errors(db: Database, text: str) -> None:
    with db.read() as session:
        results = search(session, SearchQuery(text=text))
        assert results.total >= 0
    if text == "c++":
        with db.read() as session:
            assert "Bakery output" in _titles(session, text=text)


def test_every_filter(db: Database) -> None:
    with db.read() as session:
        assert set(_titles(session, publisher="Beta eG")) == {"Bakery output", "Cooling chain"}
        assert _titles(session, keyword="SENSOR") == ["Spindle vibration"]
        assert _titles(session, keyword="c++") == ["Bakery output"]
        assert _titles(session, keyword="sens") == []  # whole values only
        assert _titles(session, theme="TECH") == ["Sensor calibration"]
        assert _titles(session, format="application/json") == ["Übergrößen-Katalog"]
        assert _titles(session, template="research-only") == ["Maintenance log"]
        assert set(_titles(session, sector="food")) == {"Bakery output", "Cooling chain"}
        assert len(_titles(session, region="Saxony")) == 4
        assert _titles(session, text="sensor", region="Bavaria") == ["Cooling chain"]
        assert _titles(session, keyword="100%_") == []


def test_facets(db: Database) -> None:
    with db.read() as session:
        found = facets(session)
    assert found["publisher"] == ["Alpha GmbH", "Beta eG"]
    assert found["keyword"] == ["c++", "food", "sensor"]
    assert found["theme"] == ["TECH"]
    assert found["format"] == ["application/json", "text/csv"]
    assert found["template"] == ["open-use", "research-only"]
    assert found["sector"] == ["food", "machinery"] and found["region"] == ["Bavaria", "Saxony"]


def test_replacing_a_catalog_updates_the_index(db: Database) -> None:
    with db.transaction() as session:
        store_catalog(session, B, ['"b2"'], [_fields(7, "Bread recipes")], NOW)
    with db.read() as session:
        assert _titles(session, text="bakery") == []
        assert _titles(session, text="bread") == ["Bread recipes"]
    with db.transaction() as session:
        sync_nodes(session, Targets((), frozenset()))
    with db.read() as session:
        assert search(session, SearchQuery()).total == 0


def test_text_never_matches_the_filter_tokens(db: Database) -> None:
    with db.read() as session:
        for text in ("f", "f0", "f1", "fa", "fb", "fc", "fd", "fe", "ff", "facets", "F9"):
            for hit in search(session, SearchQuery(text=text)).hits:
                words = re.findall(
                    r"\w+", " ".join([hit.title, hit.description, hit.publisher, *hit.keywords])
                )
                assert any(word.lower().startswith(text.lower()) for word in words), (text, hit.title)
            assert _titles(session, text="f0") == [] and _titles(session, text="fa") == []


def test_several_filters_with_text_and_paging(db: Database) -> None:
    with db.read() as session:
        assert _titles(session, region="Saxony", template="open-use") == [
            "Spindle vibration",
            "Sensor calibration",
            "Übergrößen-Katalog",
        ]
        page = search(session, SearchQuery(region="Saxony", template="open-use", limit=1, offset=1))
        assert page.total == 3 and [hit.title for hit in page.hits] == ["Sensor calibration"]
        assert _titles(session, text="sensor", region="Saxony", template="open-use") == [
            "Sensor calibration",
            "Spindle vibration",
        ]
        results = search(session, SearchQuery(text="sensor", sector="machinery", limit=1))
        assert results.total == 3 and len(results.hits) == 1
        assert _titles(session, text="sensor", region="Saxony", sector="food") == []


def test_a_node_moving_region_moves_its_datasets_in_the_filters(db: Database) -> None:
    with db.transaction() as session:
        sync_nodes(
            session,
            Targets(
                (
                    CrawlTarget(A, "Alpha", "http://a.example/dsp", "did:web:dir", "machinery", "Thuringia"),
                    CrawlTarget(B, "Beta", "http://b.example/dsp", "did:web:dir", "food", "Bavaria"),
                ),
                frozenset(),
            ),
        )
    with db.read() as session:
        assert _titles(session, region="Saxony") == []
        assert len(_titles(session, region="Thuringia")) == 4
        assert _titles(session, text="calibration", region="Thuringia") == ["Sensor calibration"]
