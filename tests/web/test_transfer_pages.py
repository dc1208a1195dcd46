"""Transfer pages between two nodes: start, live progress, download in the browser, suspend, resume,
terminate; roles, CSRF and the provider's refusals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually
from tests.support.web import Browser, logged_in

from allmende.negotiation.records import AgreementRecord
from allmende.transfer.messages import data_address
from allmende.transfer.records import TransferRecord
from allmende.web.i18n import Formats
from allmende.web.routes.transfer_download import offered_filename, safe_filename

pytestmark = pytest.mark.anyio

CONTENT = b"timestamp,rms_mm_s\n" + b"".join(
    f"2026-01-01T00:00:{i % 60:02d}Z,{i % 7}.5\n".encode() for i in range(2000)
)


async def _json(node: RunningNode, path: str) -> Any:
    response = await node.api.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def agreement(
    provider: RunningNode, consumer: RunningNode, tmp_path: Path, content: bytes = CONTENT, **asset: Any
) -> str:
    """The provider publishes a file (or folder); the consumer negotiates it to FINALIZED."""
    path = tmp_path / "spindle.csv"
    if "folder" in asset:
        path = asset.pop("folder")
    else:
        path.write_bytes(content)
    body = {
        "path": str(path),
        "title": "Spindle vibration",
        "description": "RMS",
        "template": "open-use",
        **asset,
    }
    published = await provider.api.post("/api/v1/assets", json=body)
    assert published.status_code == 201, published.text
    started = await consumer.api.post(
        "/api/v1/negotiations",
        json={"address": provider.node.base_url, "offer_id": published.json()["offer"]["id"]},
    )
    assert started.status_code == 201, started.text
    final = await eventually(
        lambda: _json(consumer, f"/api/v1/negotiations/{started.json()['id']}"),
        lambda n: n["state"] == "FINALIZED",
    )
    return str(final["agreementId"])


async def state_of(node: RunningNode, transfer_id: str) -> str:
    return str((await _json(node, f"/api/v1/transfers/{transfer_id}"))["state"])


async def start_from_page(browser: Browser, agreement_id: str, data_format: str = "HttpData-PULL") -> str:
    form = await browser.get(f"/transfers/new?agreement={agreement_id}")
    assert form.status_code == 200
    assert f'<option value="{agreement_id}" selected>' in form.text
    started = await browser.post("/transfers/start", {"agreement_id": agreement_id, "format": data_format})
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert location.startswith("/transfers/urn:uuid:") and location.endswith("?notice=started")
    return location.split("?")[0].removeprefix("/transfers/")


async def provider_side(provider: RunningNode) -> str:
    rows = await eventually(lambda: _json(provider, "/api/v1/transfers?role=provider"), lambda r: len(r) == 1)
    return str(rows[0]["id"])


def bytes_received(consumer: RunningNode, transfer_id: str) -> int:
    with consumer.node.db.read() as session:
        record = session.get(TransferRecord, transfer_id)
        assert record is not None
        return record.bytes_served


async def test_start_a_pull_transfer_watch_it_and_download_the_data(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8470)
    consumer = await make_node("Feinteile KG", 8471)
    agreement_id = await agreement(provider, consumer, tmp_path)
    browser = await logged_in(consumer, "olga")
    empty = await browser.get("/transfers")
    assert "There are no transfers yet" in empty.text

    transfer_id = await start_from_page(browser, agreement_id)
    shown = await browser.get(f"/transfers/{transfer_id}?notice=started")
    assert "The transfer was requested." in shown.text
    await eventually(lambda: state_of(consumer, transfer_id), lambda s: s == "STARTED")
    page = await browser.get(f"/transfers/{transfer_id}")
    assert "running" in page.text and "Download the data" in page.text
    assert 'hx-trigger="every 2s"' in page.text and 'aria-live="polite"' in page.text
    assert f'href="/transfers/{transfer_id}">Refresh</a>' in page.text
    assert "Transfer from" in page.text and "Suspend…" in page.text
    assert f'href="/agreements/{quote(agreement_id, safe="")}"' in page.text

    download = await browser.get(f"/transfers/{transfer_id}/download")
    assert download.status_code == 200, download.text
    assert download.content == CONTENT
    assert download.headers["content-disposition"] == 'attachment; filename="spindle.csv"'
    assert download.headers["content-length"] == str(len(CONTENT))
    assert "sandbox" in download.headers["content-security-policy"]
    assert bytes_received(consumer, transfer_id) == len(CONTENT)
    partial = await browser.get(f"/transfers/{transfer_id}/download", headers={"Range": "bytes=0-9"})
    assert partial.status_code == 206 and partial.content == CONTENT[:10]
    assert bytes_received(consumer, transfer_id) == len(CONTENT) + 10

    progress = await browser.get(f"/transfers/{transfer_id}/progress?shown=STARTED")
    assert "<progress" in progress.text and f'max="{len(CONTENT)}"' in progress.text
    assert "Received:" in progress.text and "<html" not in progress.text
    changed = await browser.get(
        f"/transfers/{transfer_id}/progress?shown=REQUESTED", headers={"HX-Request": "true"}
    )
    assert changed.status_code == 204 and changed.headers["hx-redirect"] == f"/transfers/{transfer_id}"
    polled = re.search(r'hx-get="([^"]+)"', progress.text)
    assert polled is not None
    again = await browser.get(polled.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert again.status_code == 204 and not again.content  # nothing new: no swap, nothing re-announced

    listing = await browser.get("/transfers?direction=receiving&state=STARTED")
    assert transfer_id in listing.text and "receiving" in listing.text and "pull" in listing.text
    assert "No transfers match." in (await browser.get("/transfers?direction=sending")).text
    dashboard = await browser.get("/")
    assert transfer_id in dashboard.text
    english = Formats("en", "UTC")  # the chart's table: nothing shared, the download received
    chart_row = (
        f'<td class="num">{english.bytes(0)}</td><td class="num">{english.bytes(len(CONTENT) + 10)}</td>'
    )
    assert chart_row in dashboard.text

    # The provider's page (in German) shows what was served, out of the asset's size.
    theirs = await provider_side(provider)
    provider_browser = await logged_in(provider, "max", language="de")
    served = len(CONTENT) + 10
    await eventually(
        lambda: _json(provider, f"/api/v1/transfers/{theirs}"), lambda t: t["bytesServed"] == served
    )
    mine = await provider_browser.get(f"/transfers/{theirs}")
    assert "Übertragung an" in mine.text and "Spindle vibration" in mine.text
    german = Formats("de", "UTC")
    assert f"Gesendet: {german.bytes(served)} von {german.bytes(len(CONTENT))}" in mine.text
    assert "<progress" in mine.text and "Die Daten wurden mehrmals abgerufen." in mine.text
    assert "Fortschritt" in mine.text and "Aktualisieren" in mine.text
    assert "Download the data" not in mine.text and "Daten herunterladen" not in mine.text
    fragment = await provider_browser.get(f"/transfers/{theirs}/progress")
    assert "Gesendet:" in fragment.text and "läuft" in fragment.text


async def test_suspend_resume_and_terminate_between_the_two_sides(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8472)
    consumer = await make_node("Feinteile KG", 8473)
    agreement_id = await agreement(provider, consumer, tmp_path)
    browser = await logged_in(consumer, "olga")
    transfer_id = await start_from_page(browser, agreement_id)
    await eventually(lambda: state_of(consumer, transfer_id), lambda s: s == "STARTED")
    theirs = await provider_side(provider)
    owner = await logged_in(provider, "max", language="de")

    confirm = await owner.get(f"/transfers/{theirs}/suspend")
    assert confirm.status_code == 200
    assert "Übertragung anhalten?" in confirm.text and 'name="reason"' in confirm.text
    missing = await owner.post(f"/transfers/{theirs}/suspend", {"reason": "  "})
    assert missing.status_code == 400
    assert 'id="reason-error"' in missing.text and "Geben Sie einen Grund an" in missing.text
    token, owner.csrf = owner.csrf, "forged"
    forged = await owner.post(f"/transfers/{theirs}/suspend", {"reason": "Prüfung"})
    assert forged.status_code == 403
    owner.csrf = token
    assert await state_of(provider, theirs) == "STARTED"
    done = await owner.post(f"/transfers/{theirs}/suspend", {"reason": "Prüfung der Abrechnung"})
    assert done.status_code == 303 and done.headers["location"] == f"/transfers/{theirs}?notice=suspended"
    shown = await owner.get(done.headers["location"])
    assert "Die Übertragung wurde angehalten." in shown.text and "angehalten" in shown.text
    assert "Fortsetzen" in shown.text

    await eventually(lambda: state_of(consumer, transfer_id), lambda s: s == "SUSPENDED")
    told = await browser.get(f"/transfers/{transfer_id}")
    assert "Transfer suspended" in told.text and "Prüfung der Abrechnung" in told.text  # the history
    refused = await browser.get(f"/transfers/{transfer_id}/download")
    assert refused.status_code == 409
    assert "Download not possible" in refused.text and "This transfer is suspended" in refused.text
    # Suspending twice is not possible: the page says so, nothing changes.
    again = await owner.get(f"/transfers/{theirs}/suspend")
    assert again.status_code == 409 and "nicht möglich" in again.text

    resumed = await browser.post(f"/transfers/{transfer_id}/resume")
    assert resumed.status_code == 303 and resumed.headers["location"].endswith("?notice=resumed")
    await eventually(lambda: state_of(provider, theirs), lambda s: s == "STARTED")
    assert (await browser.get(f"/transfers/{transfer_id}/download")).content == CONTENT

    terminate = await owner.get(f"/transfers/{theirs}/terminate")
    assert "Übertragung beenden?" in terminate.text
    ended = await owner.post(f"/transfers/{theirs}/terminate", {"reason": "contract ended"})
    assert ended.status_code == 303 and ended.headers["location"].endswith("?notice=terminated")
    await eventually(lambda: state_of(consumer, transfer_id), lambda s: s == "TERMINATED")
    page = await browser.get(f"/transfers/{transfer_id}")
    assert "terminated by the provider: contract ended" in page.text
    assert "hx-trigger" not in page.text and "Terminate…" not in page.text
    assert "Download the data" not in page.text
    gone = await browser.get(f"/transfers/{transfer_id}/download")
    assert gone.status_code == 409 and "was terminated" in gone.text
    late = await browser.post(f"/transfers/{transfer_id}/complete")
    assert late.status_code == 409 and "not possible in the transfer" in late.text


async def test_the_providers_refusal_is_a_clear_page(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8474)
    consumer = await make_node("Feinteile KG", 8475)
    agreement_id = await agreement(provider, consumer, tmp_path)
    browser = await logged_in(consumer, "olga")
    transfer_id = await start_from_page(browser, agreement_id)
    await eventually(lambda: state_of(consumer, transfer_id), lambda s: s == "STARTED")
    with consumer.node.db.transaction() as session:
        record = session.get(TransferRecord, transfer_id)
        assert record is not None and record.data_address is not None
        endpoint = record.data_address["endpoint"]
        record.data_address = data_address(endpoint, "not-a-token")
    refused = await browser.get(f"/transfers/{transfer_id}/download")
    assert refused.status_code == 403
    assert "The provider refused the download." in refused.text and "malformed access token" in refused.text
    # A data address on another server than the provider's is not fetched from.
    with consumer.node.db.transaction() as session:
        record = session.get(TransferRecord, transfer_id)
        assert record is not None
        record.data_address = data_address("http://10.0.0.1/admin", "token")
    foreign = await browser.get(f"/transfers/{transfer_id}/download")
    assert foreign.status_code == 409 and "points to another server" in foreign.text
    with consumer.node.db.transaction() as session:
        record = session.get(TransferRecord, transfer_id)
        assert record is not None
        record.data_address = data_address("http://127.0.0.1:8479/data/x", "token")
        record.counterparty_address = "http://127.0.0.1:8479/dsp"
    unreachable = await browser.get(f"/transfers/{transfer_id}/download")
    assert unreachable.status_code == 502 and "could not be reached" in unreachable.text
    assert bytes_received(consumer, transfer_id) == 0

    # An agreement that ended cannot be used for a new transfer; the form says so at the field.
    with consumer.node.db.transaction() as session:
        held = session.get(AgreementRecord, agreement_id)
        assert held is not None
        held.terminated_at = held.signed_at
    stopped = await browser.post(
        "/transfers/start", {"agreement_id": agreement_id, "format": "HttpData-PULL"}
    )
    assert stopped.status_code == 400
    assert 'id="agreement_id-error"' in stopped.text and "was terminated" in stopped.text


async def test_push_transfer_and_a_folder_served_file_by_file(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8476)
    consumer = await make_node("Feinteile KG", 8477)
    agreement_id = await agreement(provider, consumer, tmp_path)
    browser = await logged_in(consumer, "olga", language="de")
    pushed = await start_from_page(browser, agreement_id, "HttpData-PUSH")
    await eventually(lambda: state_of(consumer, pushed), lambda s: s == "COMPLETED")
    page = await browser.get(f"/transfers/{pushed}")
    assert "fertig" in page.text and "Daten herunterladen" in page.text and "Zustellung" in page.text
    assert "Empfangen:" in page.text and "hx-trigger" not in page.text
    copy = await browser.get(f"/transfers/{pushed}/download")
    assert copy.status_code == 200 and copy.content == CONTENT
    assert 'filename="spindle.csv"' in copy.headers["content-disposition"]

    folder = tmp_path / "measurements"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "jan.csv").write_bytes(b"a,b\n1,2\n")
    (folder / "feb.csv").write_bytes(b"a,b\n3,4\n")
    other = await agreement(provider, consumer, tmp_path, folder=folder, folder_mode="files")
    pulled = await start_from_page(browser, other)
    await eventually(lambda: state_of(consumer, pulled), lambda s: s == "STARTED")
    whole = await browser.get(f"/transfers/{pulled}/download")
    assert whole.status_code == 303 and whole.headers["location"] == f"/transfers/{pulled}/files"
    files = await browser.get(whole.headers["location"])
    assert "Dateien der Übertragung" in files.text and "2026/jan.csv" in files.text
    one = await browser.get(f"/transfers/{pulled}/download?file=2026/jan.csv")
    assert one.status_code == 200 and one.content == b"a,b\n1,2\n"
    assert 'filename="jan.csv"' in one.headers["content-disposition"]


async def test_read_only_users_look_but_do_not_act_or_download(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8478)
    consumer = await make_node("Feinteile KG", 8480)
    agreement_id = await agreement(provider, consumer, tmp_path)
    owner = await logged_in(consumer, "olga")
    transfer_id = await start_from_page(owner, agreement_id)
    await eventually(lambda: state_of(consumer, transfer_id), lambda s: s == "STARTED")
    reader = await logged_in(consumer, "rita", role="read")
    page = await reader.get(f"/transfers/{transfer_id}")
    assert page.status_code == 200 and "running" in page.text
    for button in (
        "Download the data",
        "Suspend…",
        "Terminate…",
        "Mark as completed",
        "Get data under an agreement",
    ):
        assert button not in page.text
    assert "Get data under an agreement" not in (await reader.get("/transfers")).text
    assert (await reader.get(f"/transfers/{transfer_id}/download")).status_code == 403
    assert (await reader.get(f"/transfers/{transfer_id}/suspend")).status_code == 403
    assert (await reader.get("/transfers/new")).status_code == 403
    for action in ("suspend", "terminate", "resume", "complete"):
        denied = await reader.post(f"/transfers/{transfer_id}/{action}", {"reason": "x"})
        assert denied.status_code == 403 and "may only look" in denied.text
    denied = await reader.post("/transfers/start", {"agreement_id": agreement_id})
    assert denied.status_code == 403
    assert await state_of(consumer, transfer_id) == "STARTED"


async def test_the_start_form_checks_its_fields_and_the_session_token(make_node: NodeFactory) -> None:
    consumer = await make_node("Feinteile KG", 8481)
    browser = await logged_in(consumer, "olga", language="de")
    form = await browser.get("/transfers/new")
    assert "Dieser Knoten hat keinen gültigen Vertrag" in form.text
    empty = await browser.post("/transfers/start", {"agreement_id": "", "format": "HttpData-PULL"})
    assert empty.status_code == 400 and "Wählen Sie den Vertrag" in empty.text
    unknown = await browser.post(
        "/transfers/start", {"agreement_id": "urn:uuid:nope", "format": "HttpData-SMOKE"}
    )
    assert unknown.status_code == 400
    assert re.search(r'<option value="urn:uuid:nope" selected>', unknown.text)
    assert 'id="agreement_id-error"' in unknown.text and 'id="format-error"' in unknown.text
    browser.csrf = "forged"
    forged = await browser.post(
        "/transfers/start", {"agreement_id": "urn:uuid:nope", "format": "HttpData-PULL"}
    )
    assert forged.status_code == 403 and "nicht von dieser Seite" in forged.text
    with consumer.node.db.read() as session:
        assert session.execute(select(func.count()).select_from(TransferRecord)).scalar_one() == 0
    missing = await browser.get("/transfers/urn:uuid:nope")
    assert missing.status_code == 404 and "Diese Übertragung gibt es nicht." in missing.text
    assert (await browser.get("/transfers/urn:uuid:nope/progress")).status_code == 404


def test_file_names_offered_to_the_browser_are_safe() -> None:
    assert offered_filename('attachment; filename="spindle.csv"') == "spindle.csv"
    assert offered_filename("attachment; filename=\"M_rz.csv\"; filename*=UTF-8''M%C3%A4rz.csv") == "März.csv"
    assert offered_filename(None) is None
    assert safe_filename("../../etc/passwd", "urn:uuid:1", None) == "passwd"
    assert safe_filename("..\\evil name;.csv", "urn:uuid:1", None) == "evil-name-.csv"
    assert safe_filename("März.csv", "urn:uuid:1", None) == "März.csv"
    assert safe_filename(None, "urn:uuid:0f3a9c2e-1111", "text/csv; charset=utf-8") == "transfer-0f3a9c2e.csv"
    assert safe_filename("...", "urn:uuid:ab", None) == "transfer-ab.bin"
