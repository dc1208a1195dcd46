"""Log-in, set-up, log-out, roles, CSRF and the language switch of the web interface."""

from __future__ import annotations

import pytest
from tests.support.web import PASSWORD, Browser, add_user, logged_in

from allmende.accounts.setup_code import SETUP_CODE_FILE

pytestmark = pytest.mark.anyio


async def test_a_new_node_sends_visitors_to_set_up(make_node) -> None:
    running = await make_node("Feinteile KG", 8401)
    browser = Browser(running)
    response = await browser.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/setup"
    page = await browser.get("/setup")
    assert "Set-up code" in page.text
    assert (running.node.settings.data_dir / SETUP_CODE_FILE).is_file()


async def test_set_up_creates_the_owner_and_keeps_what_was_typed_on_error(make_node) -> None:
    running = await make_node("Feinteile KG", 8402)
    browser = Browser(running, language="de")
    await browser.get("/setup")
    form = {
        "setup_code": "wrong",
        "name": "Feinteile KG",
        "language": "de",
        "display_name": "Olga Muster",
        "username": "olga",
        "password": PASSWORD,
    }
    refused = await browser.client.post("/setup", data=form)
    assert refused.status_code == 400
    assert "Das ist nicht der Einrichtungscode dieses Knotens." in refused.text
    assert 'value="Olga Muster"' in refused.text
    assert PASSWORD not in refused.text
    code = (running.node.settings.data_dir / SETUP_CODE_FILE).read_text().strip()
    done = await browser.client.post(
        "/setup", data={**form, "setup_code": code, "name": "Feinteile KG Dresden"}
    )
    assert done.status_code == 303
    assert running.node.name == "Feinteile KG Dresden"
    assert not (running.node.settings.data_dir / SETUP_CODE_FILE).exists()
    dashboard = await browser.get("/")
    assert dashboard.status_code == 200
    assert "Übersicht" in dashboard.text
    # a second set-up is not possible
    again = await browser.client.post("/setup", data={**form, "setup_code": code})
    assert again.status_code == 303 and again.headers["location"] == "/login"


async def test_weak_password_is_refused_next_to_the_field(make_node) -> None:
    running = await make_node("Feinteile KG", 8403)
    browser = Browser(running)
    await browser.get("/setup")
    code = (running.node.settings.data_dir / SETUP_CODE_FILE).read_text().strip()
    response = await browser.client.post(
        "/setup",
        data={"setup_code": code, "name": "F", "display_name": "O", "username": "olga", "password": "short"},
    )
    assert response.status_code == 400
    assert 'id="password-error"' in response.text
    assert "too short" in response.text


async def test_log_in_log_out_and_the_way_back(make_node) -> None:
    running = await make_node("Feinteile KG", 8404)
    add_user(running.node, "olga")
    browser = Browser(running)
    first = await browser.get("/?role=consumer")
    assert first.status_code == 303
    assert first.headers["location"] == "/login?next=%2F%3Frole%3Dconsumer"
    wrong = await browser.client.post("/login", data={"username": "olga", "password": "nope nope nope"})
    assert wrong.status_code == 401
    assert "User name or password is wrong." in wrong.text
    ok = await browser.client.post(
        "/login", data={"username": "olga", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = await browser.get("/")
    assert page.status_code == 200
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options"):
        assert header in page.headers
    out = await browser.post("/logout")
    assert out.status_code == 303
    assert (await browser.get("/")).status_code == 303


async def test_log_in_is_rate_limited(make_node) -> None:
    running = await make_node("Feinteile KG", 8405, login_max_failures=3)
    add_user(running.node, "olga")
    browser = Browser(running)
    for _ in range(3):
        response = await browser.client.post("/login", data={"username": "olga", "password": "wrong wrong"})
        assert response.status_code == 401
    limited = await browser.client.post("/login", data={"username": "olga", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0


async def test_forms_without_the_session_token_change_nothing(make_node) -> None:
    running = await make_node("Feinteile KG", 8406)
    browser = await logged_in(running)
    browser.csrf = "forged"
    response = await browser.post("/logout")
    assert response.status_code == 403
    assert (await browser.get("/")).status_code == 200  # still logged in


async def test_log_in_from_another_site_is_refused(make_node) -> None:
    running = await make_node("Feinteile KG", 8407)
    add_user(running.node, "olga")
    browser = Browser(running)
    response = await browser.client.post(
        "/login",
        data={"username": "olga", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


async def test_language_follows_the_browser_and_the_switch(make_node) -> None:
    running = await make_node("Feinteile KG", 8408)
    browser = await logged_in(running, language="de-DE,de;q=0.9,en;q=0.5")
    german = await browser.get("/")
    assert '<html lang="de">' in german.text and "Übersicht" in german.text
    switched = await browser.get("/language?lang=en&next=/")
    assert switched.status_code == 303
    english = await browser.get("/")
    assert '<html lang="en">' in english.text and "Dashboard" in english.text


async def test_static_files_are_served(make_node) -> None:
    running = await make_node("Feinteile KG", 8409)
    browser = Browser(running)
    htmx = await browser.client.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "htmx" in htmx.text
    css = await browser.client.get("/static/app.css")
    assert css.status_code == 200 and ":focus-visible" in css.text


async def test_an_unknown_page_is_a_page_and_an_unknown_api_path_json(make_node) -> None:
    running = await make_node("Feinteile KG", 8410)
    browser = await logged_in(running, language="de")
    page = await browser.get("/no/such/page")
    assert page.status_code == 404
    assert "Diese Seite gibt es nicht." in page.text
    api = await browser.client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")
