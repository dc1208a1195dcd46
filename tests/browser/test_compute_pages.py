"""Compute-to-data in a real browser, on two live nodes: the provider offers a dataset for algorithms only,
the consumer gets the agreement and submits an SQL job from the form, the provider reviews code and
preview and releases the result, and the consumer's page follows the state by itself and downloads it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from allmende.compute.algorithm import make_bundle
from tests.browser.conftest import PageFactory
from tests.browser.nodes import served_nodes
from tests.browser.pages import check_page, choose, reload_until_visible, set_up, shoot_both

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Spindle load"
JOB = "Average spindle load per shift"
CODE = "SELECT shift, count(*) AS n, round(avg(load), 1) AS avg_load FROM data GROUP BY shift ORDER BY shift"


def visit(page: Page, name: str) -> None:
    check_page(page)
    shoot_both(page, name)


def test_submit_review_release_and_download_a_job(new_page: PageFactory, tmp_path: Path) -> None:
    data = tmp_path / "spindle.csv"
    shifts = ("early", "late", "night")
    data.write_text(
        "machine,shift,load\n" + "".join(f"m{i % 4},{shifts[i % 3]},{40 + i % 50}\n" for i in range(300)),
        encoding="utf-8",
    )
    with served_nodes(tmp_path, "Maschinenbau Muster GmbH", "Feinteile KG") as (provider, consumer):
        p = new_page("en")
        set_up(p, provider)
        c = new_page("en")
        set_up(c, consumer, username="carl", display_name="Carl Consumer")

        # The provider offers the file for algorithms only (template with its default conditions).
        p.goto(f"{provider.url}/offerings/new")
        p.get_by_role("textbox", name="Title", exact=True).fill(TITLE)
        p.get_by_role("textbox", name="Description", exact=True).fill("Spindle load per machine and shift")
        choose(p, "source_kind", "path")
        p.get_by_role("textbox", name="Path", exact=True).fill(str(data))
        choose(p, "template", "compute-only")
        p.get_by_role("button", name="Publish", exact=True).click()
        expect(p.get_by_role("status")).to_be_visible()

        # The consumer gets the agreement; its page offers a job, not a transfer.
        c.goto(f"{consumer.url}/browse?address={quote(provider.url, safe='')}")
        c.get_by_role("article").filter(has_text=TITLE).locator("a[href*='/browse/offer']").first.click()
        c.get_by_role("button", name="Request a contract").click()
        expect(c.locator("main .badge.state-FINALIZED").first).to_be_visible(timeout=20_000)
        c.locator("main a[href^='/agreements/']").first.click()
        expect(c.get_by_role("button", name="Get the data")).to_have_count(0)
        c.get_by_role("link", name="Run a job on this data").click()
        expect(c.get_by_role("heading", level=1)).to_have_text("Run a job on a partner's data")
        expect(c.get_by_role("main")).to_contain_text("every group of a result must count at least 5 records")
        visit(c, "compute-new")  # (switching the language loads the form afresh: fill it in after)
        c.get_by_label("Title").fill(JOB)
        c.get_by_label("Code").fill(CODE)
        digest = make_bundle("sql", CODE, "duckdb-sql/1").digest
        expect(c.locator("#digest")).to_contain_text(digest)  # HTMX, while typing
        c.get_by_role("button", name="Send the job").click()
        expect(c.get_by_role("status")).to_contain_text("The job was sent to the provider.")
        expect(c.get_by_role("heading", level=1)).to_have_text(JOB)
        job_url = c.url.split("?")[0]
        visit(c, "compute-job-waiting")

        # The provider finds it in the review queue, reads code and preview, and releases it.
        p.goto(f"{provider.url}/compute")
        row = p.get_by_role("row").filter(has_text=JOB)
        reload_until_visible(p, row.locator(".badge.job-awaiting-release"))
        visit(p, "compute-jobs")
        row.get_by_role("link", name=JOB).click()
        expect(p.locator("main pre").first).to_contain_text("GROUP BY shift")
        expect(p.get_by_role("main")).to_contain_text("at least 5 records")
        expect(p.get_by_role("cell", name="early", exact=True)).to_be_visible()
        visit(p, "compute-review")
        p.get_by_role("link", name="Release…").click()
        visit(p, "compute-release")
        p.get_by_role("button", name="Release the result").click()
        expect(p.get_by_role("status")).to_contain_text("The result was released to the consumer.")
        expect(p.locator("main .badge.job-released")).to_be_visible()

        # The consumer's page follows by itself (HTMX polling), shows the result and downloads it.
        c.goto(job_url)
        expect(c.locator("main .badge.job-released")).to_be_visible(timeout=20_000)
        expect(c.get_by_role("cell", name="night", exact=True)).to_be_visible()
        visit(c, "compute-job-released")
        with c.expect_download() as started:
            c.get_by_role("link", name="Download CSV").click()
        download = started.value
        assert download.failure() is None
        assert download.suggested_filename == "Average-spindle-load-per-shift.csv"
        assert Path(download.path()).read_text(encoding="utf-8").startswith("shift,n,avg_load")

        # The owner pre-approves the algorithm from the job's page; the algorithms page lists it.
        p.get_by_label("Name").fill(JOB)
        p.get_by_role("button", name="Pre-approve", exact=True).click()
        expect(p.get_by_role("status")).to_contain_text("The algorithm is pre-approved")
        p.goto(f"{provider.url}/compute/algorithms")
        expect(p.get_by_role("row").filter(has_text=digest)).to_contain_text(JOB)
        expect(p.get_by_role("main")).to_contain_text("SQL jobs run on duckdb-sql/1.")
        visit(p, "compute-algorithms")
        c.goto(f"{consumer.url}/compute")
        expect(c.get_by_role("row").filter(has_text=JOB)).to_contain_text("released")
        assert re.search(r"/compute/jobs/", c.content())
        visit(c, "compute-jobs-consumer")
