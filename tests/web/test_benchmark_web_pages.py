"""Benchmark pages between in-process nodes: an organiser opens a round through the form, members look it
up by its address and join with their values through their own pages, the round releases, and each
member's page shows where it stands (in words, as a chart and as a table); form mistakes, refusals,
a round that releases nothing, roles, CSRF and German."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select
from tests.benchmarking.round_helpers import wait_round
from tests.conftest import NodeFactory, RunningNode
from tests.support.waiting import eventually
from tests.support.web import Browser, logged_in

from allmende.benchmarking.kpis import kpis_from_json
from allmende.benchmarking.records import BenchmarkParticipationRecord, BenchmarkRoundRecord
from allmende.benchmarking.release import figures_from_json, position

pytestmark = pytest.mark.anyio

ROUND_FORM = {
    "title": "OEE 2026",
    "description": "Metalworking members, calendar year 2026",
    "kpi1_name": "oee",
    "kpi1_label": "OEE",
    "kpi1_unit": "%",
    "kpi1_lower": "0",
    "kpi1_upper": "100",
    "kpi1_buckets": "10",
    "kpi2_name": "energy",
    "kpi2_label": "Energy per part",
    "kpi2_unit": "kWh",
    "kpi2_lower": "0",
    "kpi2_upper": "5",
    "kpi2_buckets": "5",
    "kpi3_buckets": "10",
    "min_participants": "5",
}
# (OEE, energy) typed as each member would; one member measures no energy, one writes a German comma.
TYPED = [("61.2", "1.3"), ("73,4", "0.9"), ("58.9", "2.4"), ("82.1", ""), ("71", "3.1")]
_ITEM = re.compile(r"^/benchmarks/([^/?]+)")


def deadline(hours: float = 24) -> str:
    """A datetime-local value in the node's time zone (UTC in the tests)."""
    return (datetime.now(UTC) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


async def open_round(browser: Browser, **changes: str) -> str:
    """Open a round through the form; its id."""
    form = await browser.get("/benchmarks/new")
    assert form.status_code == 200 and 'name="kpi3_name"' in form.text
    sent = await browser.post("/benchmarks/new", {**ROUND_FORM, "deadline": deadline(), **changes})
    assert sent.status_code == 303, sent.text
    found = _ITEM.match(sent.headers["location"])
    assert found and sent.headers["location"].endswith("?notice=created")
    return found.group(1)


async def join(browser: Browser, organiser: RunningNode, round_id: str, oee: str, energy: str) -> str:
    """Look the round up by the organiser's address and its id, join with the values; the participation id."""
    address = {"address": organiser.node.base_url, "round": round_id}
    shown = await browser.get("/benchmarks/join", params=address)
    assert shown.status_code == 200, shown.text
    assert "Energy per part (kWh)" in shown.text and "Your values stay on this node." in shown.text
    sent = await browser.post("/benchmarks/join", {**address, "value_1": oee, "value_2": energy})
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    assert location.endswith("?notice=joined")
    return location.split("?")[0].removeprefix("/benchmarks/")


def count_rounds(node: RunningNode) -> int:
    with node.node.db.read() as session:
        return int(session.execute(select(func.count()).select_from(BenchmarkRoundRecord)).scalar_one())


def stored(node: RunningNode, participation_id: str) -> BenchmarkParticipationRecord:
    with node.node.db.read() as session:
        record = session.get(BenchmarkParticipationRecord, participation_id.replace("%3A", ":"))
        assert record is not None
        return record


async def test_round_from_the_form_to_each_members_standing(make_node: NodeFactory) -> None:
    association = await make_node("Verband Metall", 8960)
    members = [await make_node(f"Firma {i}", 8961 + i) for i in range(len(TYPED))]
    olga = await logged_in(association, "olga")
    round_id = await open_round(olga)
    created = await olga.get(f"/benchmarks/{round_id}?notice=created")
    round_url = f"{association.node.base_url}/benchmarks/rounds/{round_id}"
    assert "The round is open." in created.text and round_url in created.text
    assert "0 of at least 5 participants have joined." in created.text
    assert 'hx-trigger="every 3s"' in created.text and 'aria-live="polite"' in created.text

    # Each member joins through its own page; one of them (German) pastes the round's whole address.
    browsers = [
        await logged_in(member, "mia", language="de" if i == 4 else "en") for i, member in enumerate(members)
    ]
    ids = []
    for i, (browser, (oee, energy)) in enumerate(zip(browsers, TYPED, strict=True)):
        if i == 4:
            shown = await browser.get("/benchmarks/join", params={"address": round_url})
            assert "Ihre Werte bleiben auf diesem Knoten." in shown.text
            sent = await browser.post(
                "/benchmarks/join", {"address": round_url, "value_1": oee, "value_2": energy}
            )
            assert sent.status_code == 303, sent.text
            ids.append(sent.headers["location"].split("?")[0].removeprefix("/benchmarks/"))
        else:
            ids.append(await join(browser, association, round_id, oee, energy))
    assert stored(members[1], ids[1]).own_values == {"oee": 73.4, "energy": 0.9}
    assert stored(members[3], ids[3]).own_values == {"oee": 82.1}
    mine = await browsers[0].get(f"/benchmarks/{ids[0]}?notice=joined")
    assert (
        "This node takes part in the round." in mine.text and "These values stay on this node." in mine.text
    )
    assert "5 / 5" in mine.text  # joined / minimum, as the organiser tells it
    listed = await browsers[0].get("/benchmarks")
    assert "OEE 2026" in listed.text and "Rounds I take part in" in listed.text

    # The organiser sees who joined (never their values) and closes joining.
    waiting = await olga.get(f"/benchmarks/{round_id}")
    assert "5 of at least 5 participants have joined." in waiting.text and "Firma 3" in waiting.text
    assert "73.4" not in waiting.text
    closed = await olga.post(f"/benchmarks/{round_id}/close")
    assert closed.status_code == 303 and closed.headers["location"].endswith("?notice=closed")
    final = await wait_round(association, round_id)
    assert final["state"] == "released", final["reason"]
    moved = await olga.get(f"/benchmarks/{round_id}/state?shown=open", headers={"HX-Request": "true"})
    assert moved.status_code == 204 and moved.headers["hx-redirect"] == f"/benchmarks/{round_id}"
    same = await olga.get(f"/benchmarks/{round_id}/state?shown=released", headers={"HX-Request": "true"})
    assert same.status_code == 204 and "hx-redirect" not in same.headers
    result = await olga.get(f"/benchmarks/{round_id}")
    assert "Released to the 5 participants whose values count." in result.text
    assert "No figures were released for this KPI: fewer than 5 participants gave a value" in result.text
    assert "<svg" in result.text and 'class="received"' not in result.text  # the organiser has no value
    assert "Holds shares from all" in result.text and 'hx-trigger="every 3s"' not in result.text

    # Each member's page says where it stands, in words, as a chart with its bucket marked and as a table.
    kpis = kpis_from_json(final["kpis"])
    oee_figures = figures_from_json(kpis, final["result"])[0]
    for i, (browser, participation_id) in enumerate(zip(browsers[:4], ids, strict=False)):
        page = await eventually(
            lambda b=browser, p=participation_id: b.get(f"/benchmarks/{p}"),
            lambda r: "Where I stand" in r.text,
            timeout=30,
        )
        own = float(TYPED[i][0].replace(",", "."))
        where = position(own, oee_figures)
        assert where is not None
        quartile = ["first quartile (the lowest quarter)", "second quartile", "third quartile"]
        quartile += ["fourth quartile (the highest quarter)"]
        sentence = (
            f"Your OEE of {own:g} % is in the {quartile[where['quartile'] - 1]}: higher than about "
            f"{round(where['percentile'])}% of the 5 participants' values."
        )
        assert sentence in page.text, page.text
        assert page.text.count('class="received"') == 2  # the legend and the one bar of this member's bucket
        assert '<tr class="mine">' in page.text and "your value is here" in page.text
        assert ">you</text>" in page.text and "The distribution of OEE as a table" in page.text
        assert "No figures were released for this KPI" in page.text  # energy: only four gave a value
    no_energy = await browsers[3].get(f"/benchmarks/{ids[3]}")
    assert "not given" in no_energy.text
    german = await eventually(
        lambda: browsers[4].get(f"/benchmarks/{ids[4]}"), lambda r: "Meine Position" in r.text, timeout=30
    )
    assert "Ihre OEE von 71 % liegt im" in german.text and "der 5 Teilnehmenden" in german.text
    for browser in (olga, *browsers):
        await browser.aclose()


async def test_form_mistakes_are_shown_at_their_fields_and_nothing_is_stored(make_node: NodeFactory) -> None:
    association = await make_node("Verband Metall", 8970)
    olga = await logged_in(association, "olga")
    await olga.get("/benchmarks/new")
    empty = await olga.post("/benchmarks/new", {"min_participants": "5", "deadline": deadline()})
    assert empty.status_code == 400
    assert "Give the round a title." in empty.text and "Define at least one KPI." in empty.text
    wrong = {
        **ROUND_FORM,
        "title": "OEE <2026>",
        "kpi1_name": "OEE in %",
        "kpi1_upper": "-1",
        "kpi2_name": "energy",
        "kpi2_lower": "low",
        "kpi2_buckets": "500",
        "kpi3_name": "energy",
        "kpi3_lower": "0",
        "kpi3_upper": "1",
        "min_participants": "2",
        "deadline": deadline(-1),
        "threshold": "1",
        "epsilon": "0",
        "community": "did:web:elsewhere",
    }
    refused = await olga.post("/benchmarks/new", wrong)
    assert refused.status_code == 400
    for message in (
        "A short name: up to 60 letters, digits, _ . or -, no spaces.",
        "The highest value must be above the lowest.",
        "Give the lowest possible value as a number.",
        "From 1 to 100 buckets.",
        "Each KPI needs its own short name.",
        "A whole number from 3 to 1000.",
        "The deadline must lie in the future.",
        "Leave it empty, or give a whole number of at least 2.",
        "Leave it empty, or give ε as a number above 0 and at most 100.",
        "Choose one of the communities listed.",
    ):
        assert message in refused.text, message
    assert 'value="OEE &lt;2026&gt;"' in refused.text and 'aria-invalid="true"' in refused.text
    unsigned = await olga.client.post("/benchmarks/new", data={**ROUND_FORM, "deadline": deadline()})
    assert unsigned.status_code == 403
    assert count_rounds(association) == 0
    await olga.aclose()


async def test_joining_refusals_and_a_round_that_releases_nothing(make_node: NodeFactory) -> None:
    association = await make_node("Verband Metall", 8975)
    member = await make_node("Firma A", 8976)
    olga = await logged_in(association, "olga")
    round_id = await open_round(olga, min_participants="3")
    mia = await logged_in(member, "mia")
    await mia.get("/benchmarks")

    nowhere = await mia.get("/benchmarks/join", params={"address": "not an address"})
    assert nowhere.status_code == 400 and "This is no round address." in nowhere.text
    unknown = await mia.get(
        "/benchmarks/join", params={"address": association.node.base_url, "round": "0" * 32}
    )
    assert unknown.status_code == 409 and f"no benchmark round {'0' * 32}" in unknown.text
    own = await olga.get("/benchmarks/join", params={"address": association.node.base_url, "round": round_id})
    assert own.status_code == 409 and "this node organises that round" in own.text
    address = {"address": association.node.base_url, "round": round_id}
    outside = await mia.post("/benchmarks/join", {**address, "value_1": "101", "value_2": "x"})
    assert outside.status_code == 400 and "The value must lie between 0 and 100." in outside.text
    assert "Give the value as a number, e.g. 71.5." in outside.text
    nothing = await mia.post("/benchmarks/join", {**address, "value_1": "", "value_2": ""})
    assert nothing.status_code == 400 and "Give your value for at least one KPI." in nothing.text
    with member.node.db.read() as session:
        assert (
            session.execute(select(func.count()).select_from(BenchmarkParticipationRecord)).scalar_one() == 0
        )
    joined = await mia.post("/benchmarks/join", {**address, "value_1": "64.5", "value_2": ""})
    assert joined.status_code == 303
    participation_id = joined.headers["location"].split("?")[0].removeprefix("/benchmarks/")
    again = await mia.get("/benchmarks/join", params=address)
    assert (
        "This node has already joined this round." in again.text
        and 'action="/benchmarks/join"' not in again.text
    )
    twice = await mia.post("/benchmarks/join", {**address, "value_1": "64.5"})
    assert twice.status_code == 409 and "already joined" in twice.text

    # Closing with one participant of three needed: the round fails, and both sides say why.
    closed = await olga.post(f"/benchmarks/{round_id}/close")
    assert closed.status_code == 303
    organiser_page = await olga.get(f"/benchmarks/{round_id}")
    assert "The round released nothing: only 1 participants joined; the round needs at least 3" in (
        organiser_page.text
    )
    assert "Close joining and start" not in organiser_page.text
    member_page = await eventually(
        lambda: mia.get(f"/benchmarks/{participation_id}"), lambda r: "released nothing" in r.text, timeout=30
    )
    assert "The round released nothing: only 1 participants joined" in member_page.text
    late = await olga.post(f"/benchmarks/{round_id}/close")
    assert late.status_code == 409 and "the round is failed, not open" in late.text
    gone = await olga.get(f"/benchmarks/{round_id}/cancel")
    assert gone.status_code == 409 and "This round cannot be cancelled (any more)." in gone.text

    # A second round is cancelled after confirmation.
    second = await open_round(olga, title="Energy 2026")
    confirm = await olga.get(f"/benchmarks/{second}/cancel")
    assert confirm.status_code == 200 and "This cannot be undone." in confirm.text
    cancelled = await olga.post(f"/benchmarks/{second}/cancel")
    assert cancelled.status_code == 303 and cancelled.headers["location"].endswith("?notice=cancelled")
    shown = await olga.get(cancelled.headers["location"])
    assert "The round is cancelled" in shown.text and "cancelled by the organiser" in shown.text
    missing = await olga.get("/benchmarks/" + quote("urn:uuid:nothing", safe=""))
    assert missing.status_code == 404 and "There is no such benchmark round on this node." in missing.text
    for browser in (olga, mia):
        await browser.aclose()


async def test_viewers_look_and_only_owners_act(make_node: NodeFactory) -> None:
    association = await make_node("Verband Metall", 8980)
    olga = await logged_in(association, "olga")
    round_id = await open_round(olga)
    vera = await logged_in(association, "vera", role="read")
    mona = await logged_in(association, "mona", role="member")
    for browser in (vera, mona):
        listing = await browser.get("/benchmarks")
        assert listing.status_code == 200 and "OEE 2026" in listing.text
        assert "Start a benchmark round" not in listing.text and "Join a round" not in listing.text
        detail = await browser.get(f"/benchmarks/{round_id}")
        assert detail.status_code == 200 and "Close joining and start" not in detail.text
        assert (await browser.get("/benchmarks/new")).status_code == 403
        assert (
            await browser.post("/benchmarks/new", {**ROUND_FORM, "deadline": deadline()})
        ).status_code == 403
        assert (await browser.post(f"/benchmarks/{round_id}/close")).status_code == 403
        assert (await browser.get(f"/benchmarks/{round_id}/cancel")).status_code == 403
        assert (await browser.get("/benchmarks/join", params={"address": "x"})).status_code == 403
    unsigned = await olga.client.post(f"/benchmarks/{round_id}/close")
    assert unsigned.status_code == 403
    with association.node.db.read() as session:
        record = session.get(BenchmarkRoundRecord, round_id)
        assert record is not None and record.state == "open"
    assert count_rounds(association) == 1
    anonymous = await Browser(association).get("/benchmarks")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for browser in (olga, vera, mona):
        await browser.aclose()


async def test_pages_in_german(make_node: NodeFactory) -> None:
    association = await make_node("Verband Metall", 8985)
    olga = await logged_in(association, "olga", language="de")
    listing = await olga.get("/benchmarks")
    assert '<html lang="de">' in listing.text and "Runden, die ich organisiere" in listing.text
    form = await olga.get("/benchmarks/new")
    assert "Benchmark-Runde starten" in form.text and "Mindestzahl der Teilnehmenden" in form.text
    wrong = await olga.post("/benchmarks/new", {"min_participants": "5", "deadline": deadline()})
    assert wrong.status_code == 400 and "Legen Sie mindestens eine Kennzahl fest." in wrong.text
    round_id = await open_round(olga)
    detail: Any = await olga.get(f"/benchmarks/{round_id}")
    assert "Teilnehmende einladen" in detail.text and "zur Teilnahme offen" in detail.text
    await olga.aclose()


async def test_the_organisers_address_alone_lists_its_open_rounds(make_node: NodeFactory) -> None:
    association = await make_node("Verband Metall", 8990)
    member = await make_node("Firma A", 8991)
    olga = await logged_in(association, "olga")
    mia = await logged_in(member, "mia")
    await mia.get("/benchmarks")
    empty = await mia.get("/benchmarks/join", params={"address": association.node.base_url})
    assert empty.status_code == 200 and "No rounds are open to this node there." in empty.text

    round_id = await open_round(olga)
    listed = await mia.get("/benchmarks/join", params={"address": association.node.base_url + "/"})
    assert listed.status_code == 200 and "OEE 2026" in listed.text
    assert "OEE (%), Energy per part (kWh)" in listed.text
    round_url = f"{association.node.base_url}/benchmarks/rounds/{round_id}"
    link = f'href="/benchmarks/join?address={quote(round_url, safe="/")}"'
    assert link in listed.text, listed.text
    form = await mia.get("/benchmarks/join", params={"address": round_url})
    assert form.status_code == 200 and "Your values stay on this node." in form.text
    unreachable = await mia.get("/benchmarks/join", params={"address": "http://127.0.0.1:8999"})
    assert unreachable.status_code == 409 and "unreachable" in unreachable.text
