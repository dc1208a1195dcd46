"""Adds the web interface to a node's app: static files, pages and their error handling."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from allmende.web.routes import (
    account_pages,
    agreement_pages,
    audit_pages,
    benchmark_actions,
    benchmark_pages,
    browse,
    compute_pages,
    dashboard,
    discussion_moderation,
    discussion_pages,
    identity_pages,
    identity_trust,
    knowledge_pages,
    knowledge_publish,
    negotiation_actions,
    negotiation_counter,
    negotiation_pages,
    network_directory,
    network_memberships,
    network_search,
    offerings,
    password_pages,
    transfer_pages,
    user_pages,
)
from allmende.web.security import WebDenied, WebRedirect, make_page
from allmende.web.templating import page_of, render

log = logging.getLogger(__name__)

ROUTERS = (
    account_pages.router,
    dashboard.router,
    transfer_pages.router,
    audit_pages.router,
    identity_pages.router,
    identity_trust.router,
    password_pages.router,
    user_pages.router,
    offerings.router,
    browse.router,
    negotiation_pages.router,
    negotiation_actions.router,
    negotiation_counter.router,
    agreement_pages.router,
    network_search.router,
    network_memberships.router,
    network_directory.router,
    discussion_moderation.router,  # before the pages: /discussions/reports is no topic id
    discussion_pages.router,
    compute_pages.router,
    benchmark_actions.router,  # before the pages: /benchmarks/new and /join are no ids
    benchmark_pages.router,
    knowledge_publish.router,
    knowledge_pages.router,
)


def install_web(app: FastAPI) -> None:
    """Mount ``/static`` and every page router; map the web's exceptions to pages and redirects."""
    app.mount("/static", StaticFiles(packages=[("allmende.web", "static")]), name="static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(WebRedirect)
    async def redirect(request: Request, exc: WebRedirect) -> Response:
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": exc.location})
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def not_found(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and is_page_path(request.url.path):
            return error_page(request, 404, "This page does not exist.")
        return await http_exception_handler(request, exc)

    @app.exception_handler(WebDenied)
    async def denied(request: Request, exc: WebDenied) -> HTMLResponse:
        return error_page(request, exc.status, exc.message)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An error as a page in the user's language (``message`` is a msgid)."""
    if getattr(request.state, "page", None) is None:
        make_page(request, None)
    page = page_of(request)
    titles = {
        403: page.gettext("Not allowed"),
        404: page.gettext("Not found"),
        429: page.gettext("Too many attempts"),
        500: page.gettext("Something went wrong"),
    }
    title = titles.get(status, page.gettext("Something went wrong"))
    return render(request, "error.html", {"title": title, "message": page.gettext(message)}, status=status)


def unexpected_error_page(request: Request) -> HTMLResponse:
    """The page shown when a page's code failed (the error itself is logged)."""
    return error_page(request, 500, "An unexpected error occurred; nothing was changed.")


def is_page_path(path: str) -> bool:
    """Paths of the web interface (everything but the API, DSP, data plane, well-known documents and the
    open list of knowledge items, which machines read)."""
    return not path.startswith(
        ("/api/", "/dsp", "/.well-known/", "/data/", "/push/", "/static/", "/compute/v1/", "/knowledge/items")
    )
