"""The discussion pages: opening a topic, posting and replying, a topic on another node read and answered
through the pages, reports, hiding and locking with confirmation and reason, roles, German."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from tests.conftest import NodeFactory
from tests.support.web import logged_in

pytestmark = pytest.mark.anyio

_TOPIC = re.compile(r"/discussions/([0-9a-f-]{36})")
_POST = re.compile(r"/discussions/[0-9a-f-]{36}/posts/([0-9a-f-]{36})/hide")


async def test_open_a_topic_post_reply_and_moderate(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8781)
    owner = await logged_in(host, "olga", "owner")
    empty = await owner.get("/discussions")
    assert empty.status_code == 200 and empty.text.count("<h1>") == 1
    assert "This node hosts no topic yet." in empty.text and 'id="title"' in empty.text

    short = await owner.post("/discussions", {"title": "ab"})
    assert short.status_code == 400 and "title needs at least 3 characters" in short.text
    opened = await owner.post(
        "/discussions",
        {"title": "Predictive maintenance", "about": "urn:knowledge:case-17", "description": ""},
    )
    assert opened.status_code == 303
    found = _TOPIC.search(opened.headers["location"])
    assert found
    topic = f"/discussions/{found.group(1)}"
    thread = await owner.get(opened.headers["location"])
    assert "<h1>Predictive maintenance</h1>" in thread.text and thread.text.count("<h1>") == 1
    assert "Share its address" in thread.text and "No one has posted yet." in thread.text

    posted = await owner.post(f"{topic}/posts", {"body": "<script>alert(1)</script> **Sensoren** zuerst"})
    assert posted.status_code == 303, posted.text
    page = await owner.get(posted.headers["location"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert" not in page.text
    assert "<strong>Sensoren</strong>" in page.text and "#1 Olga" in page.text
    post_id = _POST.search(page.text)
    assert post_id
    reply_page = await owner.get(f"{topic}?page_no=1&reply={post_id.group(1)}")
    assert "Reply to #1 by Olga" in reply_page.text
    replied = await owner.post(f"{topic}/posts", {"body": "Which ones?", "parent": post_id.group(1)})
    assert replied.status_code == 303
    assert "in reply to #1" in (await owner.get(topic)).text
    empty_post = await owner.post(f"{topic}/posts", {"body": "   "})
    assert empty_post.status_code == 400 and "body must not be empty" in empty_post.text

    hide_url = f"{topic}/posts/{post_id.group(1)}/hide"
    confirm = await owner.get(hide_url)
    assert "<h1>Hide the post</h1>" in confirm.text and 'id="reason"' in confirm.text
    no_reason = await owner.post(hide_url, {"reason": ""})
    assert no_reason.status_code == 400 and "Give a reason." in no_reason.text
    hidden = await owner.post(hide_url, {"reason": "Werbung"})
    assert hidden.status_code == 303
    shown = await owner.get(topic)
    assert "Hidden by the moderator: Werbung" in shown.text and "Sensoren" not in shown.text

    locked = await owner.post(f"{topic}/lock", {"reason": "Beantwortet"})
    assert locked.status_code == 303
    page = await owner.get(topic)
    assert "This topic is locked: Beantwortet" in page.text and 'name="body"' not in page.text
    refused = await owner.post(f"{topic}/posts", {"body": "late"})
    assert refused.status_code == 409 and "the topic is locked" in refused.text
    assert (await owner.post(f"{topic}/unlock")).status_code == 303
    assert 'name="body"' in (await owner.get(topic)).text
    assert (await owner.get("/discussions/no-such-topic")).status_code == 404


async def test_a_topic_on_another_node_is_read_answered_and_reported(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8782, discussion_posts_per_node=1)
    author = await make_node("Feinteile KG", 8783)
    created = await host.api.post("/api/v1/discussions/topics", json={"title": "OPC UA retrofit"})
    address = created.json()["address"]
    await host.api.post(
        f"/api/v1/discussions/topics/{created.json()['id']}/posts", json={"body": "Start here"}
    )
    carl = await logged_in(author, "carl", "member")

    remote = await carl.get(f"/discussions/remote?address={quote(address)}")
    assert remote.status_code == 200, remote.text
    assert "<h1>OPC UA retrofit</h1>" in remote.text and "signature checked" in remote.text
    sent = await carl.post("/discussions/remote/posts", {"address": address, "body": "We use *Kepware*."})
    assert sent.status_code == 303, sent.text
    after = await carl.get(sent.headers["location"])
    assert "Your post was delivered to the hosting node." in after.text
    assert "<em>Kepware</em>" in after.text and after.text.count("signature checked") == 2

    limited = await carl.post("/discussions/remote/posts", {"address": address, "body": "And OPC Router."})
    assert limited.status_code == 202
    assert "has not accepted the post yet" in limited.text and "too many posts from this node" in limited.text
    overview = await carl.get("/discussions")
    assert (
        "My posts on other nodes" in overview.text
        and "delivered" in overview.text
        and "waiting" in overview.text
    )

    report_link = re.search(r'href="(/discussions/remote/report\?[^"]+)"', after.text)
    assert report_link
    form = await carl.get(report_link.group(1).replace("&amp;", "&"))
    assert "<h1>Report the post</h1>" in form.text
    post_id = re.search(r'name="post" value="([^"]+)"', form.text)
    assert post_id
    reported = await carl.post(
        "/discussions/remote/report", {"address": address, "post": post_id.group(1), "reason": "Off topic"}
    )
    assert reported.status_code == 303, reported.text

    owner = await logged_in(host, "olga", "owner")
    queue = await owner.get("/discussions/reports")
    assert "Off topic" in queue.text and "Start here" in queue.text
    report_id = re.search(r"/discussions/reports/([0-9a-f-]{36})/dismiss", queue.text)
    assert report_id
    assert (await owner.post(f"/discussions/reports/{report_id.group(1)}/dismiss")).status_code == 303
    decided = await owner.get("/discussions/reports")
    assert "No report is waiting." in decided.text and "dismissed" in decided.text
    bad = await carl.get("/discussions/remote?address=ftp://nowhere")
    assert bad.status_code == 400 and "not the address of a topic" in bad.text


async def test_roles_and_german(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8784)
    created = await host.api.post("/api/v1/discussions/topics", json={"title": "Energiemonitoring"})
    topic = f"/discussions/{created.json()['id']}"
    posted = await host.api.post(
        f"/api/v1/discussions/topics/{created.json()['id']}/posts", json={"body": "Hallo"}
    )
    post_id = posted.json()["id"]
    reader = await logged_in(host, "rita", "read", "de")
    page = await reader.get(topic)
    assert page.status_code == 200 and "Beiträge" in page.text and 'name="body"' not in page.text
    assert (await reader.get("/discussions/reports")).status_code == 403
    member = await logged_in(host, "mia", "member", "de")
    assert (await member.get(f"{topic}/posts/{post_id}/hide")).status_code == 403
    assert (await member.get(f"{topic}/lock")).status_code == 403
    german = await member.get("/discussions")
    assert "Diskussionen" in german.text and "Thema eröffnen" in german.text
    thread = await member.get(topic)
    assert "Beitrag schreiben" in thread.text and "Ihr Beitrag" in thread.text


async def test_a_link_from_a_knowledge_item_fills_in_the_topic_form(make_node: NodeFactory) -> None:
    host = await make_node("Kompetenzzentrum", 8789)
    owner = await logged_in(host, "olga", "owner")
    about = "urn:knowledge:case-17"
    page = await owner.get(f"/discussions?about={quote(about)}&title={quote('Sensoren <nachrüsten>')}")
    assert page.status_code == 200
    assert f'value="{about}"' in page.text
    assert 'value="Sensoren &lt;nachrüsten&gt;"' in page.text
