"""Compute job pages between two nodes: submit from the form, review the code and a preview, release or
reject with a reason, download the released result, pre-approve algorithms; roles, CSRF, refusals, German."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from tests.compute.test_compute_jobs_between_nodes import LOAD_PER_SHIFT, _compute_agreement, _spindle_csv
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually
from tests.support.web import Browser, logged_in

from allmende.compute.algorithm import make_bundle
from allmende.compute.records import ComputeJobRecord

pytestmark = pytest.mark.anyio

# A "<" in the code shows that the review page escapes it.
REVIEWED = (
    "SELECT shift, count(*) AS n, round(avg(load), 2) AS avg_load FROM data WHERE load < 1000 "
    "GROUP BY shift ORDER BY shift"
)
_JOB = re.compile(r'href="/compute/jobs/([^"/]+)"')


def digest(code: str) -> str:
    return make_bundle("sql", code, "duckdb-sql/1").digest


async def submit(browser: Browser, agreement_id: str, code: str, title: str = "Load per shift") -> str:
    """Send a job from the form; the consumer's job id."""
    form = await browser.get(f"/compute/new?agreement={quote(agreement_id, safe='')}")
    assert form.status_code == 200, form.text
    fields = {"agreement_id": agreement_id, "title": title, "kind": "sql", "code": code, "action": "submit"}
    sent = await browser.post("/compute/new", fields)
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    assert location.startswith("/compute/jobs/urn:uuid:") and location.endswith("?notice=submitted")
    return location.split("?")[0].removeprefix("/compute/jobs/")


async def provider_job(provider: RunningNode, state: str) -> str:
    """The id of the newest job on the provider's data once it reached ``state``."""

    async def listed() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (
            await provider.api.get("/api/v1/compute/jobs", params={"role": "provider"})
        ).json()
        return found

    jobs = await eventually(listed, lambda js: bool(js) and js[0]["state"] == state)
    return str(jobs[0]["id"])


async def followed(browser: Browser, job_id: str, state: str) -> str:
    """The consumer's job page once the provider's answer (asked with the page's button) is ``state``."""

    async def asked() -> str:
        await browser.post(f"/compute/jobs/{job_id}/refresh")
        return (await browser.get(f"/compute/jobs/{job_id}")).text

    return await eventually(asked, lambda text: f"badge job-{state}" in text)


def consumer_jobs(consumer: RunningNode) -> int:
    with consumer.node.db.read() as session:
        count = select(func.count()).select_from(ComputeJobRecord).where(ComputeJobRecord.role == "consumer")
        return int(session.execute(count).scalar_one())


async def test_submit_review_release_and_download(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8801)
    consumer = await make_node("Feinteile KG", 8802)
    agreement_id = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path), min_group_size="5")
    carl = await logged_in(consumer, "carl")

    # The agreement permits only compute: a job is offered, a transfer is not.
    agreement = await carl.get(f"/agreements/{quote(agreement_id, safe='')}")
    assert "Run a job on this data" in agreement.text and "Jobs under this agreement" in agreement.text
    assert 'action="/transfers/start"' not in agreement.text
    assert f'href="/compute/new?agreement={quote(agreement_id, safe="")}"' in agreement.text

    # The form states the terms in plain words and the digest of the code typed (nothing is sent yet).
    form = await carl.get(f"/compute/new?agreement={quote(agreement_id, safe='')}")
    assert "every group of a result must count at least 5 records" in form.text
    assert "0 of 20 used, 20 left" in form.text and "1.0 MiB" in form.text
    shown = await carl.post(
        "/compute/new", {"agreement_id": agreement_id, "kind": "sql", "code": REVIEWED, "action": "digest"}
    )
    assert shown.status_code == 200 and digest(REVIEWED) in shown.text
    fragment = await carl.client.post(
        "/compute/digest",
        data={"agreement_id": agreement_id, "kind": "sql", "code": REVIEWED.replace("\n", "\r\n")},
        headers={"X-CSRF-Token": carl.csrf, "HX-Request": "true"},
    )
    assert fragment.status_code == 200 and digest(REVIEWED) in fragment.text and "<h1" not in fragment.text
    assert consumer_jobs(consumer) == 0

    job_id = await submit(carl, agreement_id, REVIEWED)
    mine = await carl.get(f"/compute/jobs/{job_id}?notice=submitted")
    assert "The job was sent to the provider." in mine.text
    assert 'hx-trigger="every 2s"' in mine.text and 'aria-live="polite"' in mine.text
    listed = await carl.get("/compute")
    assert "Load per shift" in listed.text and "Jobs I run" in listed.text

    # The owner of the data finds it in the queue and reviews code, checks and a preview.
    olga = await logged_in(provider, "olga")
    theirs = await provider_job(provider, "awaiting-release")
    queue = await olga.get("/compute")
    assert "awaiting release" in queue.text and consumer.did.removeprefix("did:web:").replace("%3A", ":") in (
        queue.text
    )
    assert "Spindle load" in queue.text  # the dataset's title
    review = await olga.get(f"/compute/jobs/{theirs}")
    assert str(escape(REVIEWED)) in review.text and "load &lt; 1000" in review.text
    assert "at least 5 records" in review.text and '<th scope="col">avg_load</th>' in review.text
    assert "<td>early</td>" in review.text and "Result under review" in review.text
    assert "Release…" in review.text and "Reject…" in review.text
    waiting = await followed(carl, job_id, "awaiting-release")
    assert "<td>early</td>" not in waiting  # nothing has left yet

    confirm = await olga.get(f"/compute/jobs/{theirs}/release")
    assert "Release the result?" in confirm.text and "<td>late</td>" in confirm.text
    released = await olga.post(f"/compute/jobs/{theirs}/release")
    assert released.status_code == 303 and released.headers["location"].endswith("?notice=released")
    again = await olga.post(f"/compute/jobs/{theirs}/release")
    assert again.status_code == 409 and "only a job awaiting release can be released" in again.text

    # The consumer sees the released result and downloads it as CSV through its own node.
    done = await followed(carl, job_id, "released")
    assert "<td>early</td>" in done and "Download CSV" in done
    csv = await carl.get(f"/compute/jobs/{job_id}/result.csv")
    assert csv.status_code == 200 and csv.text.startswith("shift,n,avg_load")
    assert csv.headers["content-disposition"] == 'attachment; filename="Load-per-shift.csv"'
    assert "sandbox" in csv.headers["content-security-policy"]
    state = await carl.get(f"/compute/jobs/{job_id}/state?shown=released", headers={"HX-Request": "true"})
    assert state.status_code == 204
    changed = await carl.get(f"/compute/jobs/{job_id}/state?shown=queued", headers={"HX-Request": "true"})
    assert (
        changed.status_code == 204
        and changed.headers["hx-redirect"] == f"/compute/jobs/{quote(job_id, safe='')}"
    )
    on_agreement = await carl.get(f"/agreements/{quote(agreement_id, safe='')}")
    assert f'href="/compute/jobs/{quote(job_id, safe="")}"' in on_agreement.text
    assert "1 of 20 used, 19 left" in (await carl.get(f"/compute/new?agreement={agreement_id}")).text
    for browser in (carl, olga):
        await browser.aclose()


async def test_reject_with_a_reason_pre_approve_and_withdraw(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8803)
    consumer = await make_node("Feinteile KG", 8804)
    agreement_id = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path))
    carl = await logged_in(consumer, "carl")
    olga = await logged_in(provider, "olga")

    first = await submit(carl, agreement_id, LOAD_PER_SHIFT, title="Spindle load per shift")
    theirs = await provider_job(provider, "awaiting-release")
    await olga.get(f"/compute/jobs/{theirs}/reject")
    no_reason = await olga.post(f"/compute/jobs/{theirs}/reject", {"reason": "  "})
    assert no_reason.status_code == 400 and "Give a reason; the other party will read it." in no_reason.text
    rejected = await olga.post(
        f"/compute/jobs/{theirs}/reject", {"reason": "We publish these figures anyway"}
    )
    assert rejected.status_code == 303 and rejected.headers["location"].endswith("?notice=rejected")
    told = await followed(carl, first, "rejected")
    assert "We publish these figures anyway" in told and "Download CSV" not in told
    gone = await carl.get(f"/compute/jobs/{first}/result.csv")
    assert gone.status_code == 404

    # Pre-approve the algorithm from the job's page: the next job with this code releases by itself.
    page = await olga.get(f"/compute/jobs/{theirs}")
    assert "Pre-approve this algorithm" in page.text
    unnamed = await olga.post("/compute/algorithms", {"job": theirs, "name": ""})
    assert unnamed.status_code == 400 and "Give the algorithm a name" in unnamed.text
    approved = await olga.post(
        "/compute/algorithms", {"job": theirs, "name": "Average spindle load per shift"}
    )
    assert approved.status_code == 303 and approved.headers["location"].endswith("?notice=approved")
    listing = await olga.get("/compute/algorithms")
    assert "Average spindle load per shift" in listing.text and digest(LOAD_PER_SHIFT) in listing.text
    assert "SQL jobs run on duckdb-sql/1." in listing.text
    assert "Python jobs run on" in listing.text or "Python jobs are refused: " in listing.text

    second = await submit(carl, agreement_id, LOAD_PER_SHIFT, title="Again")
    done = await followed(carl, second, "released")
    assert "<td>early</td>" in done
    theirs_now = await provider_job(provider, "released")
    shown = await olga.get(f"/compute/jobs/{theirs_now}")
    assert "pre-approved as “Average spindle load per shift”" in shown.text
    assert "Pre-approve this algorithm" not in shown.text and "Release…" not in shown.text

    # Added by digest on the algorithms page (a bad digest is refused at its field), then withdrawn.
    await olga.get("/compute/algorithms")
    bad = await olga.post("/compute/algorithms", {"digest": "sha-256:abc", "name": "Broken"})
    assert bad.status_code == 400 and "64 hexadecimal digits" in bad.text and 'value="Broken"' in bad.text
    other = digest("SELECT count(*) AS n FROM data")
    added = await olga.post("/compute/algorithms", {"digest": other, "name": "Row count", "note": "harmless"})
    assert added.status_code == 303
    withdraw_url = f"/compute/algorithms/{quote(other, safe='')}/withdraw"
    assert withdraw_url in (await olga.get("/compute/algorithms")).text
    confirm = await olga.get(withdraw_url)
    assert "Withdraw the pre-approval?" in confirm.text and "Row count" in confirm.text
    withdrawn = await olga.post(withdraw_url)
    assert withdrawn.status_code == 303 and withdrawn.headers["location"].endswith("?notice=withdrawn")
    after = await olga.get("/compute/algorithms?notice=withdrawn")
    assert "Row count" not in after.text and "The pre-approval was withdrawn" in after.text
    assert (await olga.post(withdraw_url)).status_code == 404
    for browser in (carl, olga):
        await browser.aclose()


async def test_roles_csrf_and_the_providers_refusals(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8805)
    consumer = await make_node("Feinteile KG", 8806)
    allowed = digest(LOAD_PER_SHIFT)
    agreement_id = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path), algorithms=allowed)
    carl = await logged_in(consumer, "carl")

    # The form tells that other code is not on the allow-list; the provider refuses it, nothing is stored.
    await carl.get(f"/compute/new?agreement={quote(agreement_id, safe='')}")
    foreign = "SELECT machine, count(*) AS n FROM data GROUP BY machine"
    hint = await carl.post(
        "/compute/new", {"agreement_id": agreement_id, "kind": "sql", "code": foreign, "action": "digest"}
    )
    assert "not on the agreement's list of allowed algorithms" in hint.text and allowed in hint.text
    refused = await carl.post(
        "/compute/new", {"agreement_id": agreement_id, "kind": "sql", "code": foreign, "title": "Machines"}
    )
    assert refused.status_code == 409 and "the provider refused the job" in refused.text
    assert 'value="Machines"' in refused.text and consumer_jobs(consumer) == 0
    empty = await carl.post("/compute/new", {"agreement_id": agreement_id, "kind": "sql", "code": ""})
    assert empty.status_code == 400 and "Write the code to run." in empty.text
    bad_noise = await carl.post(
        "/compute/new",
        {"agreement_id": agreement_id, "kind": "sql", "code": LOAD_PER_SHIFT, "epsilon": "lots"},
    )
    assert bad_noise.status_code == 400 and "Give ε as a number" in bad_noise.text
    unknown = await carl.post(
        "/compute/new", {"agreement_id": "urn:uuid:nope", "kind": "sql", "code": "SELECT 1"}
    )
    assert (
        unknown.status_code == 400
        and "Choose an agreement in force that permits compute jobs." in unknown.text
    )
    forged = await carl.client.post(
        "/compute/new", data={"agreement_id": agreement_id, "kind": "sql", "code": LOAD_PER_SHIFT}
    )
    assert forged.status_code == 403 and consumer_jobs(consumer) == 0
    job_id = await submit(carl, agreement_id, LOAD_PER_SHIFT)
    theirs = await provider_job(provider, "awaiting-release")
    await carl.aclose()

    # Viewers look but submit nothing; members submit but only owners decide.
    vera = await logged_in(provider, "vera", role="read")
    assert (await vera.get("/compute")).status_code == 200
    assert (await vera.get(f"/compute/jobs/{theirs}")).status_code == 200
    assert "Release…" not in (await vera.get(f"/compute/jobs/{theirs}")).text
    assert (await vera.get("/compute/new")).status_code == 403
    assert (await vera.post(f"/compute/jobs/{theirs}/release")).status_code == 403
    mona = await logged_in(provider, "mona", role="member")
    assert (await mona.get("/compute/new")).status_code == 200
    assert (await mona.get(f"/compute/jobs/{theirs}/release")).status_code == 403
    assert (await mona.post(f"/compute/jobs/{theirs}/reject", {"reason": "no"})).status_code == 403
    assert (await mona.post("/compute/algorithms", {"job": theirs, "name": "x"})).status_code == 403
    with provider.node.db.read() as session:
        record = session.get(ComputeJobRecord, theirs)
        assert record is not None and record.state == "awaiting-release"

    olga = await logged_in(provider, "olga")
    missing = await olga.get("/compute/jobs/urn:uuid:missing")
    assert missing.status_code == 404 and "There is no such compute job on this node." in missing.text
    unsigned = await olga.client.post(f"/compute/jobs/{theirs}/release")
    assert unsigned.status_code == 403
    assert job_id  # the consumer's copy exists; the provider's is untouched by all of the above
    for browser in (vera, mona, olga):
        await browser.aclose()


async def test_pages_in_german(make_node: NodeFactory, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8807)
    consumer = await make_node("Feinteile KG", 8808)
    agreement_id = await _compute_agreement(provider, consumer, _spindle_csv(tmp_path), epsilon="1.0")
    carl = await logged_in(consumer, "carl", language="de")
    listing = await carl.get("/compute")
    assert '<html lang="de">' in listing.text
    assert "Rechenaufträge" in listing.text and "Aufträge auf meinen Daten" in listing.text
    form = await carl.get(f"/compute/new?agreement={quote(agreement_id, safe='')}")
    assert "Prüfsumme zeigen" in form.text and "Privatsphäre-Budget" in form.text
    assert "Auftrag senden" in form.text
    plain = await carl.post(
        "/compute/new", {"agreement_id": agreement_id, "kind": "sql", "code": LOAD_PER_SHIFT}
    )
    assert plain.status_code == 400 and "Dieser Vertrag gibt nur verrauschte Ergebnisse frei" in plain.text
    noised = {
        "agreement_id": agreement_id,
        "kind": "sql",
        "code": LOAD_PER_SHIFT,
        "title": "Last je Schicht",
        "epsilon": "0,6",
        "noise_column": "avg_load",
        "noise_statistic": "mean",
        "noise_lower": "0",
        "noise_upper": "100",
    }
    sent = await carl.post("/compute/new", noised)
    assert sent.status_code == 303, sent.text
    job_id = unquote(sent.headers["location"].split("?")[0].removeprefix("/compute/jobs/"))
    page = await carl.get(f"/compute/jobs/{job_id}")
    assert "Ihr Auftrag auf den Daten von" in page.text and "Rauschen" in page.text
    olga = await logged_in(provider, "olga", language="de")
    algorithms = await olga.get("/compute/algorithms")
    assert "Was dieser Knoten ausführen kann" in algorithms.text and "Einen Algorithmus vorab freigeben" in (
        algorithms.text
    )
    theirs = await provider_job(provider, "awaiting-release")
    review = await olga.get(f"/compute/jobs/{theirs}")
    assert "wartet auf Freigabe" in review.text and "Freigeben …" in review.text
    assert _JOB.search((await olga.get("/compute")).text)
    for browser in (carl, olga):
        await browser.aclose()
