"""The users page (owners only): add, disable, enable; and every user's own password change."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from tests.conftest import RunningNode
from tests.support.web import PASSWORD, Browser, add_user, logged_in

from allmende.accounts.records import UserRecord, WebSessionRecord
from allmende.audit.records import AuditRecord

pytestmark = pytest.mark.anyio

NEW_PASSWORD = "purple monkey dishwasher"


def user(running: RunningNode, username: str) -> UserRecord | None:
    with running.node.db.read() as session:
        return session.execute(select(UserRecord).where(UserRecord.username == username)).scalar_one_or_none()


def user_id(running: RunningNode, username: str) -> str:
    record = user(running, username)
    assert record is not None
    return record.id


async def test_an_owner_adds_a_user_and_mistakes_are_shown_next_to_the_fields(make_node) -> None:
    running = await make_node("Feinteile KG", 8520)
    browser = await logged_in(running, "olga", "owner")
    page = await browser.get("/users")
    assert page.status_code == 200
    assert "<code>olga</code>" in page.text and "(you)" in page.text
    assert '<option value="member" selected>' in page.text
    assert 'href="/users"' in page.text  # the owner's navigation has the users page
    form = {"display_name": "Max Muster", "username": "Max Muster", "role": "read", "password": "short"}
    refused = await browser.post("/users", form)
    assert refused.status_code == 400
    assert 'id="username-error"' in refused.text and 'id="password-error"' in refused.text
    assert "too short: at least 10 characters" in refused.text
    assert 'value="Max Muster"' in refused.text
    assert '<option value="read" selected>' in refused.text
    assert 'value="short"' not in refused.text  # a password is never sent back
    assert user(running, "max") is None
    taken = await browser.post("/users", {**form, "username": "olga", "password": NEW_PASSWORD})
    assert taken.status_code == 400 and "this user name is taken" in taken.text

    added = await browser.post("/users", {**form, "username": "max", "password": NEW_PASSWORD})
    assert added.status_code == 303
    page = await browser.get(added.headers["location"])
    assert "The user was added and can log in now." in page.text and "<code>max</code>" in page.text
    record = user(running, "max")
    assert record is not None and record.role == "read" and record.display_name == "Max Muster"
    max_browser = Browser(running)
    await max_browser.login("max", NEW_PASSWORD)
    assert (await max_browser.get("/audit")).status_code == 200


async def test_disabling_asks_first_and_ends_the_users_sessions(make_node) -> None:
    running = await make_node("Feinteile KG", 8521)
    browser = await logged_in(running, "olga", "owner", language="de")
    member = await logged_in(running, "max", "member")
    max_id = user_id(running, "max")
    confirm = await browser.get(f"/users/{max_id}/disable")
    assert confirm.status_code == 200
    assert "Max (max) wird überall abgemeldet" in confirm.text
    record = user(running, "max")
    assert record is not None and record.disabled_at is None  # asking changed nothing
    done = await browser.post(f"/users/{max_id}/disable")
    assert done.status_code == 303
    page = await browser.get(done.headers["location"])
    assert "Der Benutzer wurde gesperrt und überall abgemeldet." in page.text
    assert "gesperrt seit" in page.text and "Entsperren" in page.text
    assert (await member.get("/")).status_code == 303  # logged out
    refused = await member.client.post("/login", data={"username": "max", "password": PASSWORD})
    assert refused.status_code == 401

    enabled = await browser.post(f"/users/{max_id}/enable")
    assert enabled.status_code == 303
    assert "Der Benutzer kann sich wieder anmelden." in (await browser.get(enabled.headers["location"])).text
    await member.login("max")
    with running.node.db.read() as session:
        events = list(
            session.execute(select(AuditRecord.event).where(AuditRecord.subject == "max")).scalars()
        )
    assert "user.disabled" in events and "user.enabled" in events
    assert (await browser.get("/users/nobody/disable")).status_code == 404


async def test_the_last_owner_cannot_be_disabled(make_node) -> None:
    running = await make_node("Feinteile KG", 8522)
    browser = await logged_in(running, "olga", "owner")
    olga_id = user_id(running, "olga")
    confirm = await browser.get(f"/users/{olga_id}/disable")
    assert "This is your own account" in confirm.text
    refused = await browser.post(f"/users/{olga_id}/disable")
    assert refused.status_code == 409
    assert "This user cannot be disabled: the last owner cannot be disabled." in refused.text
    record = user(running, "olga")
    assert record is not None and record.disabled_at is None
    assert (await browser.get("/users")).status_code == 200  # still logged in


async def test_members_and_readers_may_not_manage_users(make_node) -> None:
    running = await make_node("Feinteile KG", 8523)
    add_user(running.node, "olga", "owner")
    olga_id = user_id(running, "olga")
    for username, role in (("max", "member"), ("rita", "read")):
        browser = await logged_in(running, username, role)
        dashboard = await browser.get("/")
        assert 'href="/users"' not in dashboard.text
        assert (await browser.get("/users")).status_code == 403
        form = {"display_name": "Eve", "username": "eve", "role": "owner", "password": NEW_PASSWORD}
        assert (await browser.post("/users", form)).status_code == 403
        assert (await browser.post(f"/users/{olga_id}/disable")).status_code == 403
    assert user(running, "eve") is None
    record = user(running, "olga")
    assert record is not None and record.disabled_at is None


async def test_user_forms_need_the_session_token(make_node) -> None:
    running = await make_node("Feinteile KG", 8524)
    browser = await logged_in(running, "olga", "owner")
    await logged_in(running, "max", "member")
    browser.csrf = "forged"
    form = {"display_name": "Eve", "username": "eve", "role": "owner", "password": NEW_PASSWORD}
    assert (await browser.post("/users", form)).status_code == 403
    assert (await browser.post(f"/users/{user_id(running, 'max')}/disable")).status_code == 403
    assert user(running, "eve") is None


async def test_a_user_changes_their_own_password_and_other_sessions_end(make_node) -> None:
    running = await make_node("Feinteile KG", 8525)
    here = await logged_in(running, "rita", "read")
    elsewhere = Browser(running)
    await elsewhere.login("rita")
    form = await here.get("/account/password")
    assert form.status_code == 200 and "Change your password" in form.text
    for data, field, message in (
        ({"current_password": "wrong password", "new_password": NEW_PASSWORD}, "current_password", "wrong"),
        ({"current_password": PASSWORD, "new_password": NEW_PASSWORD}, "new_password_again", "differ"),
        ({"current_password": PASSWORD, "new_password": "aaaaaaaaaaaa"}, "new_password", "too simple"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password", "must differ"),
    ):
        data.setdefault("new_password_again", data["new_password"] if field != "new_password_again" else "x")
        refused = await here.post("/account/password", data)
        assert refused.status_code == 400, field
        assert f'id="{field}-error"' in refused.text and message in refused.text, field
        assert not re.search(r'type="password" value=', refused.text)
    changed = await here.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    page = await here.get(changed.headers["location"])
    assert "Your password was changed." in page.text
    assert (await elsewhere.get("/")).status_code == 303  # the other log-in ended
    assert (await here.get("/")).status_code == 200  # this one goes on
    with running.node.db.read() as session:
        sessions = list(session.execute(select(WebSessionRecord)).scalars())
    assert len(sessions) == 1
    old = await Browser(running).client.post("/login", data={"username": "rita", "password": PASSWORD})
    assert old.status_code == 401
    await Browser(running).login("rita", NEW_PASSWORD)


async def test_the_password_page_speaks_german_and_needs_the_token(make_node) -> None:
    running = await make_node("Feinteile KG", 8526)
    browser = await logged_in(running, "max", "member", language="de")
    page = await browser.get("/account/password")
    assert "Passwort ändern" in page.text and "Aktuelles Passwort" in page.text
    refused = await browser.post("/account/password", {"current_password": "nope nope nope"})
    assert refused.status_code == 400
    assert "Geben Sie ein neues Passwort ein." in refused.text
    browser.csrf = "forged"
    data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD}
    assert (await browser.post("/account/password", data)).status_code == 403
    await Browser(running).login("max")  # the password is unchanged
