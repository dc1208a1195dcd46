"""Discussions from the command line, on the node's data folder: the topics it hosts, their threads,
posting (signed with the node's key), hiding, locking and the reports queue.

A post to a topic on another node is signed here and queued in the outbox; the running node sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from allmende.cli.context import DataDirOption, JsonOption, database, fail, print_json, settings_for
from allmende.clock import utcnow
from allmende.identity import KeyStore, did_from_url
from allmende.knowledge import discussion_service as service
from allmende.knowledge.discussion_posting import (
    delivery_of,
    outgoing_view,
    parse_address,
    post_here,
    queue_post,
)
from allmende.knowledge.discussion_rules import REPORT_STATES, DiscussionError, topic_draft
from allmende.messaging.postbox import Postbox
from allmende.settings import NodeSettings

app = typer.Typer(help="Discussions this node hosts, and posts to other nodes' topics.", no_args_is_help=True)
console = Console()
T = TypeVar("T")
ReasonOption = typer.Option(..., "--reason", help="Why (shown with the hidden post or locked topic).")


@dataclass
class _LocalNode:
    """The node as the CLI sees it: settings, DID and keys from the data folder."""

    settings: NodeSettings
    did: str
    base_url: str
    keys: KeyStore

    @property
    def name(self) -> str:
        return str(self.settings.name)


def _local(data_dir: Path) -> _LocalNode:
    settings = settings_for(data_dir)
    base_url = str(settings.public_url).rstrip("/")
    return _LocalNode(settings, did_from_url(base_url), base_url, KeyStore.load(settings.data_dir / "keys"))


def _actor(data_dir: Path) -> str:
    return f"owner (cli on {settings_for(data_dir).data_dir})"


def _write(data_dir: Path, work: Callable[[Session], T]) -> T:
    with database(data_dir) as db:
        try:
            with db.transaction() as session:
                return work(session)
        except DiscussionError as error:
            fail(error.reason)


def _read(data_dir: Path, work: Callable[[Session], T]) -> T:
    with database(data_dir) as db:
        try:
            with db.read() as session:
                return work(session)
        except DiscussionError as error:
            fail(error.reason)


@app.command("topics")
def topics(
    about: str | None = typer.Option(None, "--about", help="Only topics about this knowledge item."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """List the topics this node hosts, most recently active first."""
    base_url = _local(data_dir).base_url
    views = _read(
        data_dir, lambda s: [service.topic_view(t, base_url) for t in service.list_topics(s, about)]
    )
    if as_json:
        print_json(views)
        return
    table = Table("id", "title", "posts", "state", "about")
    for view in views:
        table.add_row(
            view["id"],
            view["title"],
            str(view["postCount"]),
            "locked" if view["locked"] else "open",
            view["about"],
        )
    console.print(table)


@app.command("new")
def new_topic(
    title: str = typer.Option(..., "--title", help="The topic's title."),
    about: str = typer.Option("", "--about", help="The knowledge item it is about (IRI or id)."),
    description: str = typer.Option("", "--description", help="What the topic is for."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Open a topic on this node."""
    try:
        draft = topic_draft(title, about, description)
    except DiscussionError as error:
        fail(error.reason)
    actor, base_url = _actor(data_dir), _local(data_dir).base_url
    view = _write(
        data_dir,
        lambda s: service.topic_view(service.create_topic(s, draft, actor=actor, now=utcnow()), base_url),
    )
    print_json(view) if as_json else console.print(f"topic {view['id']} opened: {view['address']}")


@app.command("show")
def show(
    topic_id: str = typer.Argument(..., help="The topic's id."),
    page: int = typer.Option(1, "--page", help="Page of the thread (50 posts each)."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Show a page of a topic hosted here."""
    base_url = _local(data_dir).base_url
    view = _read(data_dir, lambda s: service.thread_view(service.thread(s, topic_id, page), base_url))
    if as_json:
        print_json(view)
        return
    topic = view["topic"]
    locked = f"  (locked: {topic['lockReason']})" if topic["locked"] else ""
    console.print(f"{topic['title']}{locked}", markup=False, style="bold")
    for post in view["posts"]:
        reply = f" ↳ #{post['parentSeq']}" if post["parentSeq"] else ""
        console.print(
            f"#{post['seq']}{reply} {post['authorName']} ({post['authorDid']}) {post['created']}",
            f" id {post['id']}",
            markup=False,
        )
        console.print(
            f"  hidden by the moderator: {post['hiddenReason']}" if post["hidden"] else post["body"],
            markup=False,
        )
    console.print(f"page {view['page']} of {view['lastPage']} ({view['total']} posts)")


@app.command("post")
def post(
    topic: str = typer.Argument(..., help="A topic's id here, or the address of a topic on another node."),
    body: str = typer.Option(..., "--body", help="The text (plain text with a little markdown)."),
    parent: str | None = typer.Option(None, "--reply-to", help="The id of the post this one answers."),
    author: str | None = typer.Option(
        None, "--as", help="The author's name shown (default: the node's name)."
    ),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Post to a topic: stored at once when this node hosts it, else signed and queued for its host."""
    local = _local(data_dir)
    name = author or local.name
    now = utcnow()
    if "/" not in topic:
        limits = service.limits_of(local.settings)
        record = _write(
            data_dir,
            lambda s: service.post_view(
                post_here(
                    s,
                    local,
                    limits=limits,
                    topic_id=topic,
                    author_name=name,
                    body=body,
                    parent_id=parent,
                    now=now,
                ),
                {},
            ),
        )
        print_json(record) if as_json else console.print(f"posted #{record['seq']} ({record['id']})")
        return
    try:
        address = parse_address(topic)
    except DiscussionError as error:
        fail(error.reason)
    postbox = Postbox(float(local.settings.peer_deadline_seconds))

    def queue(session: Session) -> dict[str, object]:
        record = queue_post(
            session, local, postbox, address=address, author_name=name, body=body, parent_id=parent, now=now
        )
        session.flush()
        return outgoing_view(record, delivery_of(session, record.id))

    view = _write(data_dir, queue)
    if as_json:
        print_json(view)
    else:
        console.print(f"post {view['id']} queued for {address.page_url}; the running node delivers it")


@app.command("hide")
def hide(
    post_id: str = typer.Argument(..., help="The post's id."),
    reason: str = ReasonOption,
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Hide a post of a topic hosted here (shown as hidden by the moderator, with the reason)."""
    actor = _actor(data_dir)
    view = _write(
        data_dir,
        lambda s: service.post_view(
            service.hide_post(s, post_id, reason=reason, actor=actor, now=utcnow()), {}
        ),
    )
    print_json(view) if as_json else console.print(f"post #{view['seq']} hidden")


@app.command("lock")
def lock(
    topic_id: str = typer.Argument(..., help="The topic's id."),
    reason: str = ReasonOption,
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Lock a topic hosted here: it takes no new posts."""
    _lock(data_dir, topic_id, True, reason, as_json)


@app.command("unlock")
def unlock(
    topic_id: str = typer.Argument(..., help="The topic's id."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Open a locked topic again."""
    _lock(data_dir, topic_id, False, "", as_json)


def _lock(data_dir: Path, topic_id: str, locked: bool, reason: str, as_json: bool) -> None:
    actor, base_url = _actor(data_dir), _local(data_dir).base_url
    view = _write(
        data_dir,
        lambda s: service.topic_view(
            service.set_lock(s, topic_id, lock=locked, reason=reason, actor=actor, now=utcnow()), base_url
        ),
    )
    print_json(view) if as_json else console.print(f"topic {topic_id} {'locked' if locked else 'unlocked'}")


@app.command("reports")
def reports(
    state: str = typer.Option("open", "--state", help="open, hidden, dismissed or all"),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """The reports of posts hosted here (open ones wait for a decision)."""
    if state not in (*REPORT_STATES, "all"):
        fail(f"unknown state {state!r}; known: {', '.join(REPORT_STATES)}, all")
    views = _read(
        data_dir,
        lambda s: [
            service.report_view(r, p) for r, p in service.list_reports(s, None if state == "all" else state)
        ],
    )
    if as_json:
        print_json(views)
        return
    table = Table("report", "state", "post", "author", "reason", "reported by")
    for view in views:
        table.add_row(
            view["id"],
            view["state"],
            view["post"]["id"],
            view["post"]["authorName"],
            view["reason"],
            view["reporterDid"],
        )
    console.print(table)


@app.command("dismiss")
def dismiss(
    report_id: str = typer.Argument(..., help="The report's id."),
    data_dir: Path = DataDirOption,
    as_json: bool = JsonOption,
) -> None:
    """Close an open report without hiding the post."""
    actor = _actor(data_dir)
    report = _write(data_dir, lambda s: service.dismiss_report(s, report_id, actor=actor, now=utcnow()).id)
    print_json({"id": report, "state": "dismissed"}) if as_json else console.print(
        f"report {report} dismissed"
    )
