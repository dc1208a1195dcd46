"""Knowledge items as open datasets of the DSP catalog: they build a schema-valid catalog, with an
offer that follows the open-use template."""

from __future__ import annotations

from pathlib import Path

from allmende.catalog.dcat import build_catalog
from allmende.catalog.model import PublisherInfo
from allmende.knowledge import service
from allmende.knowledge.catalog_entries import MEDIA_TYPE, catalog_entries
from allmende.knowledge.seeding import load_seed
from allmende.network.extract import dataset_fields
from allmende.store import migrate
from allmende.store.database import Database

DID = "did:web:centre.example"


def test_published_items_form_a_valid_dsp_catalog(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'k.db'}")
    try:
        migrate.upgrade(db)
        with db.transaction() as session:
            load_seed(
                session, actor="t", publisher=service.Publisher(DID, "Centre"), embedder=None, demo=True
            )
        with db.read() as session:
            entries = catalog_entries(session, DID)
    finally:
        db.dispose()
    assert len(entries) == 26 and {e.media_type for e in entries} == {MEDIA_TYPE}
    catalog = build_catalog(  # validates against the DSP catalog schema
        entries,
        catalog_id="urn:uuid:6b1e2a5e-5a40-4a8e-9d0c-0c7c7d7b0001",
        participant_id=DID,
        publisher=PublisherInfo(DID, "Centre"),
        endpoint_url="https://centre.example/dsp",
        title="Catalog",
        description="Knowledge items",
    )
    fields = [dataset_fields(d, catalog) for d in catalog["dataset"]]
    assert all(f is not None and f.templates == ("open-use",) for f in fields)
