"""Helpers for page tests: users made directly in a node's database, clients logged in via the form."""

from __future__ import annotations

import re

import httpx

from allmende.accounts import service as accounts
from allmende.loopback import InProcessNetwork

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def add_user(node: object, username: str, role: str = "owner", password: str = PASSWORD) -> None:
    """Create a user in ``node``'s database (a RunningNode's ``.node``)."""
    with node.db.transaction() as session:  # type: ignore[attr-defined]
        accounts.create_user(
            session,
            username=username,
            display_name=username.title(),
            password=password,
            role=role,
            actor="test",
        )


class Browser:
    """An HTTP client that keeps cookies like a browser and knows the page's CSRF token."""

    def __init__(self, running: object, language: str = "en") -> None:
        self.running = running
        base_url = running.node.base_url  # type: ignore[attr-defined]
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=running.app),  # type: ignore[attr-defined]
            base_url=base_url,
            headers={"Accept-Language": language, "Origin": base_url},
        )
        self.csrf = ""

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        response = await self.client.get(path, **kwargs)  # type: ignore[arg-type]
        found = _CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, str] | None = None, **kwargs: object) -> httpx.Response:
        """Post a form with the current CSRF token (fetch a page first)."""
        form = {"csrf_token": self.csrf, **(data or {})}
        return await self.client.post(path, data=form, **kwargs)  # type: ignore[arg-type]

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        response = await self.client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 303, response.text
        await self.get("/")
        return response

    async def aclose(self) -> None:
        await self.client.aclose()


async def logged_in(
    running: object, username: str = "olga", role: str = "owner", language: str = "en"
) -> Browser:
    """A new user of ``role`` on the node, logged in through the log-in form."""
    add_user(running.node, username, role)  # type: ignore[attr-defined]
    browser = Browser(running, language)
    await browser.login(username)
    return browser


__all__ = ["PASSWORD", "Browser", "InProcessNetwork", "add_user", "logged_in"]
