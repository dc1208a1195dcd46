"""The dashboard: attention items, running transfers, the chart of data shared and received."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.support.waiting import eventually
from tests.support.web import logged_in

from allmende.clock import utcnow
from allmende.transfer.records import TransferRecord
from allmende.web.chart import daily_chart

pytestmark = pytest.mark.anyio


def test_chart_scales_to_the_highest_day_and_lists_the_days_with_data() -> None:
    today = date(2026, 11, 28)
    chart = daily_chart({today: 2048}, {today - timedelta(days=1): 1024}, today, days=7, width=700)
    assert chart.maximum == 2048 and len(chart.days) == 7 and chart.days[-1] == today
    tallest = max(chart.bars, key=lambda bar: bar.height)
    assert tallest.kind == "shared" and tallest.day == today and tallest.height == 130
    received = next(b for b in chart.bars if b.kind == "received" and b.value)
    assert received.height == 65
    assert chart.rows == [(today - timedelta(days=1), 0, 1024), (today, 2048, 0)]
    empty = daily_chart({}, {}, today, days=7)
    assert empty.rows == [] and all(bar.height == 0 for bar in empty.bars)


async def test_dashboard_shows_what_needs_review_and_the_data_shared(make_node, tmp_path: Path) -> None:
    provider = await make_node("Maschinenbau Muster GmbH", 8412)
    consumer = await make_node("Feinteile KG", 8413)
    data = tmp_path / "vibration.csv"
    data.write_text("t,rms\n0,0.1\n")
    created = await provider.api.post(
        "/api/v1/assets",
        json={
            "path": str(data),
            "title": "Spindle vibration",
            "description": "RMS",
            "template": "open-use",
            "review_required": True,
        },
    )
    assert created.status_code == 201, created.text
    offer_id = created.json()["offer"]["id"]
    started = await consumer.api.post(
        "/api/v1/negotiations", json={"address": provider.node.base_url, "offer_id": offer_id}
    )
    assert started.status_code == 201, started.text

    async def queued() -> bool:
        return bool((await provider.api.get("/api/v1/negotiations/review-queue")).json())

    await eventually(queued, bool)
    with provider.node.db.transaction() as session:
        now = utcnow()
        session.add(
            TransferRecord(
                id="urn:uuid:chart-test",
                role="provider",
                provider_pid="urn:uuid:chart-test",
                consumer_pid="urn:uuid:chart-consumer",
                state="COMPLETED",
                counterparty_did=consumer.did,
                counterparty_address=consumer.node.callback_url,
                agreement_id="urn:uuid:no-agreement",
                format="HttpData-PULL",
                bytes_served=3 * 1024 * 1024,
                created_at=now,
                updated_at=now,
            )
        )
    browser = await logged_in(provider, language="de")
    page = await browser.get("/")
    assert page.status_code == 200
    assert "Vertragsanfrage von" in page.text and "127.0.0.1:8413" in page.text
    assert "3,0 MiB" in page.text  # the chart's table, German number format
    assert '<svg viewBox="0 0 600 160" role="img"' in page.text
    english = await logged_in(provider, username="otto", role="read", language="en")
    assert "Contract request from" in (await english.get("/")).text
