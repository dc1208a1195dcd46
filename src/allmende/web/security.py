"""Who is looking: session cookies, roles per page, CSRF checks and the page context."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from allmende.accounts import service as accounts
from allmende.accounts.rules import can_administer, can_change
from allmende.accounts.service import SignedIn
from allmende.protocol.endpoint import in_read, node_of
from allmende.web.i18n import Formats, choose_language
from allmende.web.templating import Page

SESSION_COOKIE = "allmende_session"
LANGUAGE_COOKIE = "allmende_lang"


class WebRedirect(Exception):
    """Send the browser elsewhere (log-in, set-up); HTMX requests get HX-Redirect."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class WebDenied(Exception):
    """The page is not for this user, or the form is not from this site; ``message`` is a msgid."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def session_cookie_name(request: Request) -> str:
    return "__Host-" + SESSION_COOKIE if node_of(request).base_url.startswith("https:") else SESSION_COOKIE


def set_session_cookie(request: Request, response: Response, secret: str) -> None:
    node = node_of(request)
    response.set_cookie(
        session_cookie_name(request),
        secret,
        max_age=int(node.settings.session_hours * 3600),
        httponly=True,
        secure=node.base_url.startswith("https:"),
        samesite="lax",
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(session_cookie_name(request), path="/")


def make_page(request: Request, user: SignedIn | None) -> Page:
    node = node_of(request)
    language = choose_language(
        request.cookies.get(LANGUAGE_COOKIE),
        user.language if user else None,
        request.headers.get("accept-language"),
        node.settings.language,
    )
    page = Page(
        user=user,
        language=language,
        formats=Formats(language, node.settings.time_zone),
        path=request.url.path,
        node_name=node.name,
    )
    request.state.page = page
    return page


async def current_user(request: Request) -> SignedIn | None:
    secret = request.cookies.get(session_cookie_name(request))
    if not secret:
        return None
    node = node_of(request)
    return await in_read(node, lambda s: accounts.signed_in(s, secret))


async def visitor(request: Request) -> Page:
    """Any visitor, signed in or not (log-in, set-up, error pages)."""
    return make_page(request, await current_user(request))


async def viewer(request: Request) -> Page:
    """A signed-in user of any role; others are sent to log in (or to set-up on a new node)."""
    user = await current_user(request)
    if user is None:
        make_page(request, None)
        node = node_of(request)
        if await in_read(node, accounts.user_count) == 0:
            raise WebRedirect("/setup")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise WebRedirect("/login?next=" + quote(target, safe=""))
    return make_page(request, user)


async def editor(request: Request) -> Page:
    """An owner or member: may publish, negotiate and transfer."""
    page = await viewer(request)
    if page.user is None or not can_change(page.user.role):
        raise WebDenied(403, "Your role may only look, not change anything. Ask an owner of this node.")
    return page


async def owner(request: Request) -> Page:
    """An owner: manages users, keys and the node's identity."""
    page = await viewer(request)
    if page.user is None or not can_administer(page.user.role):
        raise WebDenied(403, "Only an owner of this node may do this.")
    return page


Visitor = Annotated[Page, Depends(visitor)]
Viewer = Annotated[Page, Depends(viewer)]
Editor = Annotated[Page, Depends(editor)]
Owner = Annotated[Page, Depends(owner)]


async def checked_form(request: Request, page: Page) -> FormData:
    """The posted form, after checking its CSRF token against the session's (header or field)."""
    form = await request.form()
    presented = request.headers.get("x-csrf-token") or str(form.get("csrf_token") or "")
    expected = page.csrf_token
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise WebDenied(403, "This form has expired or did not come from this site. Please try again.")
    return form


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to return to after log-in; anything else (other sites, schemes) gives ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
