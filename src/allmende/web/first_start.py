"""First start: ``allmende serve`` on an empty data folder asks in the browser who this node is.

Until the form is sent, the server answers only the set-up page (guarded by the set-up code printed
on the console), its static files and the language switch. The form creates the node exactly as
``allmende init`` does, plus its first owner, starts the node and from then on hands every request
to the node's full app — no restart, no file to edit.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from allmende.accounts import rules, setup_code
from allmende.accounts import service as accounts
from allmende.accounts.rules import OWNER
from allmende.app import create_app
from allmende.node import Node
from allmende.settings import load_settings
from allmende.setup_node import InitError, init_node
from allmende.web.forms import FormState
from allmende.web.i18n import LANGUAGES, Formats, choose_language
from allmende.web.security import LANGUAGE_COOKIE, SESSION_COOKIE, safe_next
from allmende.web.templating import Page, render

log = logging.getLogger(__name__)


class FirstStart:
    """The ASGI app of a data folder without a node; becomes the node's app once set up."""

    def __init__(self, data_dir: Path, default_url: str, port: int) -> None:
        self.data_dir = data_dir
        self.default_url = default_url.rstrip("/")
        self.port = port
        self.node: Node | None = None
        self._node_app: object | None = None
        self._setup_app = Starlette(
            routes=[
                Route("/setup", self._form, methods=["GET"]),
                Route("/setup", self._create, methods=["POST"]),
                Route("/language", self._language, methods=["GET"]),
                Mount("/static", StaticFiles(packages=[("allmende.web", "static")])),
                Route("/{path:path}", self._not_yet, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )
        data_dir.mkdir(parents=True, exist_ok=True)
        self.code = setup_code.setup_code(data_dir)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if self._node_app is not None:
            await self._node_app(scope, receive, send)  # type: ignore[operator]
            return
        await self._setup_app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.node is not None:
                    await self.node.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _page(self, request: Request) -> Page:
        language = choose_language(
            request.cookies.get(LANGUAGE_COOKIE), None, request.headers.get("accept-language"), "en"
        )
        return Page(
            user=None,
            language=language,
            formats=Formats(language, "Europe/Berlin"),
            path=request.url.path,
            node_name="Allmende",
        )

    async def _not_yet(self, request: Request) -> Response:
        path = request.url.path
        if path.startswith(("/api/", "/dsp", "/.well-known/", "/data/", "/push/")):
            return JSONResponse({"error": "this node is not set up yet"}, status_code=503)
        return RedirectResponse("/setup", status_code=303)

    async def _language(self, request: Request) -> Response:
        lang = request.query_params.get("lang", "en")
        response = RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        if lang in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
        return response

    def _show(self, request: Request, page: Page, form: FormState, status: int = 200) -> Response:
        context = {"form": form, "url_editable": True, "public_url": form.get("public_url")}
        return render(request, "setup.html", context, status=status, page=page)

    async def _form(self, request: Request) -> Response:
        page = self._page(request)
        form = FormState(values={"public_url": self.default_url, "language": page.language})
        return self._show(request, page, form)

    async def _create(self, request: Request) -> Response:
        page = self._page(request)
        t = page.gettext
        origin = request.headers.get("origin")
        if origin is not None and origin != f"{request.url.scheme}://{request.headers.get('host', '')}":
            return JSONResponse({"error": "form posted from another site"}, status_code=403)
        posted = await request.form()
        form = FormState.of(
            posted, "setup_code", "name", "public_url", "language", "display_name", "username", "password"
        )
        password = form.values.pop("password", "")
        form.values["password"] = ""
        code = form.require("setup_code", t("Enter the set-up code."))
        if code and not setup_code.matches(self.data_dir, code):
            form.errors["setup_code"] = t("This is not the set-up code of this node.")
        name = form.require("name", t("Enter your company's name."))
        url = form.require("public_url", t("Enter the address under which other nodes reach this one."))
        parts = urlsplit(url)
        if url and (parts.scheme not in ("http", "https") or not parts.hostname):
            form.errors["public_url"] = t(
                "Enter a full address starting with https:// (or http:// for a test)."
            )
        language = form.get("language") if form.get("language") in LANGUAGES else "en"
        form.require("display_name", t("Enter your name."))
        for problem in (
            rules.check_username(form.get("username").lower()),
            rules.check_password(password, username=form.get("username")),
        ):
            if problem is not None:
                form.errors[problem.field] = t(problem.message)
        if not form.ok:
            return self._show(request, page, form, status=400)

        def create() -> tuple[Node, str]:
            init_node(self.data_dir, name=name, public_url=url, language=language, port=self.port)
            node = Node(load_settings(self.data_dir))
            with node.db.transaction() as session:
                user = accounts.create_user(
                    session,
                    username=form.get("username"),
                    display_name=form.get("display_name"),
                    password=password,
                    role=OWNER,
                    actor="set-up",
                    language=language,
                )
                secret = accounts.open_session(session, user, timedelta(hours=node.settings.session_hours))
            return node, secret

        if self.node is not None:  # a second form sent while the first was being handled
            return RedirectResponse("/login", status_code=303)
        try:
            node, secret = await anyio.to_thread.run_sync(create)
        except InitError as exc:
            form.errors["public_url"] = str(exc)
            return self._show(request, page, form, status=400)
        setup_code.forget(self.data_dir)
        await node.start()
        self.node = node
        self._node_app = create_app(node, manage_lifecycle=False)
        log.info("node %s set up as %s", node.name, node.did)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            "__Host-" + SESSION_COOKIE if url.startswith("https:") else SESSION_COOKIE,
            secret,
            max_age=int(node.settings.session_hours * 3600),
            httponly=True,
            secure=url.startswith("https:"),
            samesite="lax",
            path="/",
        )
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/")
        return response
