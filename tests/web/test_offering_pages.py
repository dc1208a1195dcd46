"""My offerings: adding assets through the form, the live policy text, publishing, roles and CSRF."""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.support.web import Browser, logged_in

from allmende.catalog.service import CatalogError

pytestmark = pytest.mark.anyio


def shown(response: httpx.Response) -> str:
    """The page as a reader sees its text (entities decoded)."""
    return html.unescape(response.text)


def a_file(tmp_path: Path, name: str = "prices.csv", content: bytes = b"item,price\nbolt,0.12\n") -> Path:
    path = tmp_path / "shared" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def form(**values: str) -> dict[str, str]:
    """A complete "add an offering" form for a file, with ``values`` replacing fields."""
    return {
        "title": "Price list 2025",
        "description": "Our prices for bolts and nuts.",
        "keywords": "prices, bolts",
        "media_type": "",
        "source_kind": "path",
        "path": "",
        "folder_mode": "tar",
        "template": "open-use",
        "param-time-limited-duration": "P6M",
        "param-time-limited-until": "",
        "param-machine-data-maintenance-duration": "P12M",
        "action": "publish",
        **values,
    }


async def offers(running: Any) -> list[dict[str, Any]]:
    response = await running.api.get("/api/v1/offers")
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()
    return result


async def catalog_titles(consumer: Any, provider: Any) -> list[str]:
    """The dataset titles the provider's DSP catalog shows the consumer node."""
    response = await consumer.api.post("/api/v1/remote-catalogs", json={"address": provider.node.base_url})
    assert response.status_code == 200, response.text
    datasets = response.json()["catalog"].get("dataset", [])
    datasets = datasets if isinstance(datasets, list) else [datasets]
    return [str(d["dct:title"]) for d in datasets]


async def add_by_api(running: Any, path: Path, title: str = "Machine hours") -> str:
    response = await running.api.post(
        "/api/v1/assets", json={"path": str(path), "title": title, "description": "Hours per machine."}
    )
    assert response.status_code == 201, response.text
    offer_id: str = response.json()["offer"]["id"]
    return offer_id


async def test_a_file_added_in_english_is_published_and_shown(make_node, tmp_path: Path) -> None:
    provider = await make_node("Feinteile KG", 8420)
    consumer = await make_node("Stahlbau GmbH", 8421)
    browser = await logged_in(provider)
    empty = await browser.get("/offerings")
    assert empty.status_code == 200
    assert "You offer nothing yet." in empty.text and 'href="/offerings/new"' in empty.text
    new = await browser.get("/offerings/new")
    assert new.status_code == 200
    assert "Open use" in new.text and "Research only" in new.text
    assert 'aria-live="polite"' in new.text and 'hx-post="/offerings/preview"' in new.text
    assert "Permitted: use the data." in new.text  # the default template's text, before any edit
    path = a_file(tmp_path)
    done = await browser.post("/offerings/new", form(path=str(path)))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/offerings?notice=published"
    listed = await browser.get(done.headers["location"])
    page = shown(listed)
    assert "The offering is published" in page
    assert "Price list 2025" in page and "File" in page and "Open use" in page and "published" in page
    assert "Unpublish" in page
    [offer] = await offers(provider)
    assert offer["published"] and offer["template"] == "open-use" and not offer["reviewRequired"]
    assert await catalog_titles(consumer, provider) == ["Price list 2025"]
    detail = await browser.get(f"/offerings/{quote(offer['id'], safe='')}")
    page = shown(detail)
    assert detail.status_code == 200
    assert str(path) in page and "bolts, prices" in page and "text/csv" in page
    assert "Permitted: use the data." in page and "Erlaubt: die Daten nutzen." in page
    assert '"@type": "Offer"' in page and "/negotiations?offer=" in page


async def test_a_time_limited_offer_added_in_german(make_node, tmp_path: Path) -> None:
    provider = await make_node("Feinteile KG", 8422)
    consumer = await make_node("Stahlbau GmbH", 8423)
    browser = await logged_in(provider, language="de")
    new = await browser.get("/offerings/new")
    assert "Angebot hinzufügen" in new.text and "Befristete Nutzung" in new.text
    values = form(
        title="Maschinenstunden",
        description="Stunden je Maschine und Tag.",
        path=str(a_file(tmp_path, "stunden.csv")),
        template="time-limited",
        review_required="yes",
        **{"param-time-limited-until": "2030-06-30"},
    )
    done = await browser.post("/offerings/new", values)
    assert done.status_code == 303, shown(done)
    listed = shown(await browser.get(done.headers["location"]))
    assert "Das Angebot ist veröffentlicht" in listed
    assert "Maschinenstunden" in listed and "Befristete Nutzung" in listed
    assert "veröffentlicht" in listed and "Anfragen werden von Hand geprüft" in listed
    [offer] = await offers(provider)
    assert offer["reviewRequired"] and offer["template"] == "time-limited"
    [constraint] = offer["policy"]["permission"][0]["constraint"]
    assert constraint["leftOperand"] == "dateTime"
    assert constraint["rightOperand"]["@value"].startswith("2030-06-30T2")  # end of that day, Berlin time
    detail = shown(await browser.get(f"/offerings/{quote(offer['id'], safe='')}"))
    assert "Erlaubt: die Daten nutzen — bis 30. Juni 2030" in detail
    assert await catalog_titles(consumer, provider) == ["Maschinenstunden"]


async def test_errors_show_next_to_their_fields_and_keep_what_was_typed(make_node, tmp_path: Path) -> None:
    running = await make_node("Feinteile KG", 8424)
    browser = await logged_in(running)
    await browser.get("/offerings/new")
    missing = str(tmp_path / "no-such-file.csv")
    values = form(
        title="",
        description="Kept description",
        path=missing,
        template="time-limited",
        keywords="kept, words",
        **{"param-time-limited-duration": "six months"},
    )
    refused = await browser.post("/offerings/new", values)
    assert refused.status_code == 400
    page = shown(refused)
    assert 'id="title-error"' in page and "Enter a title." in page
    assert 'id="path-error"' in page and "There is no file or folder at this path" in page
    assert 'id="param-time-limited-duration-error"' in page and "Enter a period such as P6M" in page
    assert "Please correct the marked fields." in page
    assert "Kept description</textarea>" in page and f'value="{missing}"' in page
    assert 'value="kept, words"' in page and 'value="six months"' in page
    assert 'id="template-time-limited" name="template" value="time-limited" checked' in page
    # the node's own files are not for sharing; an unknown template is refused
    key = running.node.settings.data_dir / "secrets" / "secret.key"
    own = await browser.post("/offerings/new", form(path=str(key)))
    assert own.status_code == 400 and "The node's own files" in shown(own)
    unknown = await browser.post("/offerings/new", form(path=str(a_file(tmp_path)), template="all-yours"))
    assert unknown.status_code == 400 and "Choose one of the policy templates." in shown(unknown)
    relative = await browser.post("/offerings/new", form(path="prices.csv"))
    assert "Enter the full path, starting with /." in shown(relative)
    assert await offers(running) == []


async def test_the_policy_text_follows_the_form_with_and_without_javascript(
    make_node, tmp_path: Path
) -> None:
    running = await make_node("Feinteile KG", 8425)
    browser = await logged_in(running)
    await browser.get("/offerings/new")
    fields = {"template": "research-only", "param-time-limited-duration": "P6M"}
    english = await browser.client.post(
        "/offerings/preview", data=fields, headers={"X-CSRF-Token": browser.csrf, "HX-Request": "true"}
    )
    assert english.status_code == 200
    assert "Permitted: use the data — only for the purpose 'research'." in shown(english)
    assert "<html" not in english.text  # a fragment for the preview region
    bad = await browser.post(
        "/offerings/preview", {"template": "time-limited", "param-time-limited-duration": "P6X"}
    )
    assert bad.status_code == 200 and "Period of use: Enter a period such as P6M" in shown(bad)
    past = await browser.post(
        "/offerings/preview", {"template": "time-limited", "param-time-limited-until": "2001-01-01"}
    )
    assert "Use until: This moment has passed already." in shown(past)
    wrong = await browser.post(
        "/offerings/preview", {"template": "time-limited", "param-time-limited-until": "soon"}
    )
    assert "Use until: Enter a date such as 2026-12-31" in shown(wrong)
    await browser.get("/language?lang=de&next=/offerings/new")
    german = await browser.post("/offerings/preview", {"template": "machine-data-maintenance"})
    page = shown(german)
    assert "nur zum Zweck „Wartung“" in page and "Nicht erlaubt: die Daten verkaufen." in page
    # without JavaScript: "Show policy text" posts the whole form back, keeps it, stores nothing
    values = form(title="", path="/kept/path.csv", template="time-limited", action="preview")
    again = await browser.post("/offerings/new", {**values, "param-time-limited-duration": "P2Y"})
    assert again.status_code == 200
    page = shown(again)
    assert "Erlaubt: die Daten nutzen — für 2 Jahre ab Vertragsschluss." in page
    assert 'value="/kept/path.csv"' in page and 'value="P2Y"' in page
    assert 'id="title-error"' not in page  # only previewing: no complaints about other fields yet
    assert await offers(running) == []


async def test_unpublishing_asks_first_then_leaves_the_catalog(make_node, tmp_path: Path) -> None:
    provider = await make_node("Feinteile KG", 8426)
    consumer = await make_node("Stahlbau GmbH", 8427)
    offer_id = await add_by_api(provider, a_file(tmp_path))
    browser = await logged_in(provider)
    href = f"/offerings/{quote(offer_id, safe='')}"
    listed = await browser.get("/offerings")
    assert f'href="{href}/unpublish?back=list"' in listed.text
    confirm = await browser.get(f"{href}/unpublish?back=list")
    assert confirm.status_code == 200
    assert "Unpublish “Machine hours”?" in shown(confirm) and "stay in force" in confirm.text
    assert (await offers(provider))[0]["published"]  # asking changed nothing
    done = await browser.post(f"{href}/unpublish", {"back": "list"})
    assert done.status_code == 303 and done.headers["location"] == "/offerings?notice=unpublished"
    assert "The offer is no longer published." in (await browser.get(done.headers["location"])).text
    assert not (await offers(provider))[0]["published"]
    assert await catalog_titles(consumer, provider) == []
    again = await browser.post(f"{href}/publish", {"back": "detail"})
    assert again.status_code == 303 and again.headers["location"] == f"{href}?notice=republished"
    assert "The offer is published again." in (await browser.get(again.headers["location"])).text
    assert await catalog_titles(consumer, provider) == ["Machine hours"]
    assert (await browser.get("/offerings/urn:uuid:nothing-here")).status_code == 404


async def test_read_only_users_look_but_cannot_change(make_node, tmp_path: Path) -> None:
    running = await make_node("Feinteile KG", 8428)
    offer_id = await add_by_api(running, a_file(tmp_path))
    reader = await logged_in(running, "rita", role="read")
    href = f"/offerings/{quote(offer_id, safe='')}"
    listed = await reader.get("/offerings")
    assert listed.status_code == 200 and "Machine hours" in listed.text
    assert "Unpublish" not in listed.text and "Add an offering" not in listed.text
    detail = await reader.get(href)
    assert detail.status_code == 200 and "Unpublish" not in detail.text
    assert (await reader.get("/offerings/new")).status_code == 403
    assert (await reader.get(f"{href}/unpublish")).status_code == 403
    refused = await reader.post(f"{href}/unpublish")
    assert refused.status_code == 403 and "Your role may only look" in refused.text
    added = await reader.post("/offerings/new", form(path=str(a_file(tmp_path, "other.csv"))))
    assert added.status_code == 403
    assert [o["published"] for o in await offers(running)] == [True]


async def test_forms_without_the_csrf_token_are_refused(make_node, tmp_path: Path) -> None:
    running = await make_node("Feinteile KG", 8429)
    offer_id = await add_by_api(running, a_file(tmp_path))
    browser = await logged_in(running)
    await browser.get("/offerings/new")
    values = form(path=str(a_file(tmp_path, "other.csv")))
    missing = await browser.client.post("/offerings/new", data=values)
    assert missing.status_code == 403
    forged = Browser(running)
    forged.client.cookies = browser.client.cookies
    forged.csrf = "forged"
    assert (await forged.post(f"/offerings/{quote(offer_id, safe='')}/unpublish")).status_code == 403
    assert (await forged.post("/offerings/preview", {"template": "open-use"})).status_code == 403
    assert [o["published"] for o in await offers(running)] == [True]


async def test_an_http_api_with_a_credential_typed_once(make_node) -> None:
    running = await make_node("Feinteile KG", 8430)
    browser = await logged_in(running)
    await browser.get("/offerings/new")
    values = form(
        title="Live stock levels",
        source_kind="http_api",
        url="https://erp.example.com/api/stock",
        method="GET",
        auth_header="",
        api_secret_value="Bearer very-secret-token",
        api_secret_name="",
    )
    unknown = await browser.post(
        "/offerings/new", {**values, "api_secret_value": "", "api_secret_name": "erp"}
    )
    assert unknown.status_code == 400 and "No secret of this name is stored" in unknown.text
    bad_url = await browser.post("/offerings/new", {**values, "url": "erp.example.com/api"})
    assert bad_url.status_code == 400 and "starting with https://" in bad_url.text
    assert "very-secret-token" not in bad_url.text  # a typed secret is never shown again
    assert running.node.secrets.names() == []
    done = await browser.post("/offerings/new", values)
    assert done.status_code == 303, shown(done)
    [name] = running.node.secrets.names()
    assert name.startswith("api-live-stock-levels-")
    assert running.node.secrets.get(name) == "Bearer very-secret-token"
    [offer] = await offers(running)
    detail = shown(await browser.get(f"/offerings/{quote(offer['id'], safe='')}"))
    assert "https://erp.example.com/api/stock" in detail and f"stored secret {name}" in detail
    assert "very-secret-token" not in detail
    # the name is taken now: a second credential under it is refused and nothing is overwritten
    taken = await browser.post(
        "/offerings/new", {**values, "api_secret_name": name, "api_secret_value": "other"}
    )
    assert taken.status_code == 400 and "stored already" in taken.text
    assert running.node.secrets.get(name) == "Bearer very-secret-token"


async def test_a_database_query_with_its_address_as_a_secret(make_node, tmp_path: Path) -> None:
    running = await make_node("Feinteile KG", 8431)
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER, total REAL)")
    browser = await logged_in(running, language="de")
    await browser.get("/offerings/new")
    values = form(
        title="Bestellungen",
        source_kind="sql_query",
        db_url=f"sqlite:///{database}",
        db_secret_name="shop-db",
        query="DELETE FROM orders",
        table_format="csv",
    )
    refused = await browser.post("/offerings/new", values)
    assert refused.status_code == 400
    assert 'id="query-error"' in refused.text and "Diese Abfrage kann nicht verwendet werden" in shown(
        refused
    )
    wrong = await browser.post("/offerings/new", {**values, "db_url": "mysql://u:p@host/db"})
    assert "Nur PostgreSQL- und SQLite-Datenbanken" in shown(wrong)
    assert running.node.secrets.names() == []
    done = await browser.post("/offerings/new", {**values, "query": "SELECT id, total FROM orders"})
    assert done.status_code == 303, shown(done)
    assert running.node.secrets.get("shop-db") == f"sqlite:///{database}"
    [offer] = await offers(running)
    detail = shown(await browser.get(f"/offerings/{quote(offer['id'], safe='')}"))
    assert "SELECT id, total FROM orders" in detail and "shop-db" in detail and str(database) not in detail


async def test_a_folder_served_file_by_file(make_node, tmp_path: Path) -> None:
    running = await make_node("Feinteile KG", 8432)
    folder = a_file(tmp_path, "a.csv").parent
    browser = await logged_in(running)
    await browser.get("/offerings/new")
    done = await browser.post("/offerings/new", form(title="Drawings", path=str(folder), folder_mode="files"))
    assert done.status_code == 303, shown(done)
    listed = shown(await browser.get("/offerings"))
    assert "Drawings" in listed and "Folder" in listed
    [offer] = await offers(running)
    detail = shown(await browser.get(f"/offerings/{quote(offer['id'], safe='')}"))
    assert "file by file" in detail and str(folder) in detail
    # a folder holding the node's own data folder is refused as well
    refused = await browser.post("/offerings/new", form(path=str(tmp_path)))
    assert refused.status_code == 400 and "The node's own files" in shown(refused)


async def test_a_failure_after_storing_the_secret_leaves_nothing_behind(
    make_node, monkeypatch: pytest.MonkeyPatch
) -> None:
    running = await make_node("Feinteile KG", 8433)
    browser = await logged_in(running)
    await browser.get("/offerings/new")

    def refuse(*args: object, **kwargs: object) -> None:
        raise CatalogError("an offer with the id urn:uuid:x exists already; give the policy a new @id")

    monkeypatch.setattr("allmende.web.routes.offering_new.add_asset", refuse)
    values = form(source_kind="http_api", url="https://erp.example.com/api", api_secret_value="token")
    refused = await browser.post("/offerings/new", values)
    assert refused.status_code == 400
    assert 'id="template-error"' in refused.text and "This cannot be published" in refused.text
    assert running.node.secrets.names() == [] and await offers(running) == []
