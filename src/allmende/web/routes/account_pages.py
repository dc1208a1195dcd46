"""Log-in, log-out, the first owner's set-up and the language switch."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.accounts import service as accounts
from allmende.accounts import setup_code
from allmende.accounts.rate_limit import LoginRateLimit
from allmende.accounts.rules import OWNER
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.settings import SettingsError, update_settings
from allmende.web.forms import FormState
from allmende.web.i18n import LANGUAGES
from allmende.web.security import (
    LANGUAGE_COOKIE,
    Visitor,
    WebDenied,
    checked_form,
    clear_session_cookie,
    make_page,
    safe_next,
    set_session_cookie,
)
from allmende.web.templating import Page, render

router = APIRouter(include_in_schema=False)


def _same_origin(request: Request) -> None:
    """Forms posted before log-in carry no session token: refuse posts from other sites by Origin."""
    origin = request.headers.get("origin")
    if origin is None:  # not a browser, or a same-origin GET-like post of an old browser
        return
    expected = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if origin != expected and origin != node_of(request).base_url:
        raise WebDenied(403, "This form has expired or did not come from this site. Please try again.")


def login_limit(request: Request) -> LoginRateLimit:
    limit: LoginRateLimit | None = getattr(request.app.state, "login_limit", None)
    if limit is None:
        settings = node_of(request).settings
        limit = LoginRateLimit(settings.login_max_failures, settings.login_window_seconds)
        request.app.state.login_limit = limit
    return limit


@router.get("/login")
async def login_form(request: Request, page: Visitor, next: str = "/") -> Response:
    if page.user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    if await in_read(node_of(request), accounts.user_count) == 0:
        return RedirectResponse("/setup", status_code=303)
    return render(request, "login.html", {"form": FormState(), "next": safe_next(next), "failure": ""})


@router.post("/login")
async def login(request: Request, page: Visitor) -> Response:
    _same_origin(request)
    form = await request.form()
    state = FormState.of(form, "username", "password")
    target = safe_next(str(form.get("next") or "/"))
    username = state.get("username").lower()
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username}", f"address:{client}")
    limit = login_limit(request)
    wait = limit.retry_after(*keys)
    if wait:
        message = page.gettext("Too many failed log-ins. Please wait %(minutes)s minutes and try again.") % {
            "minutes": max(1, (wait + 59) // 60)
        }
        state.values.pop("password", None)
        return render(
            request,
            "login.html",
            {"form": state, "next": target, "failure": message},
            status=429,
            headers={"Retry-After": str(wait)},
        )
    node = node_of(request)
    password = state.get("password")
    lifetime = node.settings.session_hours

    def work(session: Session) -> str | None:
        user = accounts.authenticate(session, username, password)
        if user is None:
            return None
        return accounts.open_session(session, user, timedelta(hours=lifetime))

    secret = await in_transaction(node, work)
    if secret is None:
        limit.failed(*keys)
        state.values.pop("password", None)
        failure = page.gettext("User name or password is wrong.")
        return render(request, "login.html", {"form": state, "next": target, "failure": failure}, status=401)
    limit.succeeded(keys[0])
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, secret)
    return response


@router.post("/logout")
async def logout(request: Request, page: Visitor) -> Response:
    response = RedirectResponse("/login", status_code=303)
    if page.user is not None:
        await checked_form(request, page)
        session_hash = page.user.session_hash
        await in_transaction(node_of(request), lambda s: accounts.close_session(s, session_hash))
    clear_session_cookie(request, response)
    return response


@router.get("/language")
async def switch_language(request: Request, page: Visitor, lang: str = "en", next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
        if page.user is not None:
            user_id = page.user.user_id
            await in_transaction(node_of(request), lambda s: accounts.set_language(s, user_id, lang))
    return response


def _setup_state(request: Request, page: Page) -> FormState:
    node = node_of(request)
    return FormState(values={"name": node.name, "language": page.language})


@router.get("/setup")
async def setup_form(request: Request, page: Visitor) -> Response:
    node = node_of(request)
    if await in_read(node, accounts.user_count) > 0:
        return RedirectResponse("/login", status_code=303)
    setup_code.setup_code(node.settings.data_dir)
    context = {"form": _setup_state(request, page), "url_editable": False, "public_url": node.base_url}
    return render(request, "setup.html", context)


@router.post("/setup")
async def setup(request: Request, page: Visitor) -> Response:
    _same_origin(request)
    node = node_of(request)
    if await in_read(node, accounts.user_count) > 0:
        return RedirectResponse("/login", status_code=303)
    form = await request.form()
    state = FormState.of(form, "setup_code", "name", "language", "display_name", "username", "password")
    t = page.gettext
    code = state.require("setup_code", t("Enter the set-up code."))
    if code and not setup_code.matches(node.settings.data_dir, code):
        state.errors["setup_code"] = t("This is not the set-up code of this node.")
    name = state.require("name", t("Enter your company's name."))
    language = state.get("language") if state.get("language") in LANGUAGES else "en"
    state.require("display_name", t("Enter your name."))
    password = state.values.pop("password", "")
    state.values["password"] = ""
    if state.ok:
        try:
            node.settings = update_settings(node.settings.data_dir, {"name": name, "language": language})
        except SettingsError as exc:
            state.errors["name"] = str(exc)
    if state.ok:

        def work(session: Session) -> str:
            user = accounts.create_user(
                session,
                username=state.get("username"),
                display_name=state.get("display_name"),
                password=password,
                role=OWNER,
                actor="set-up",
                language=language,
            )
            return accounts.open_session(session, user, timedelta(hours=node.settings.session_hours))

        try:
            secret = await in_transaction(node, work)
        except accounts.AccountError as exc:
            for problem in exc.problems:
                state.errors[problem.field] = t(problem.message)
        else:
            setup_code.forget(node.settings.data_dir)
            response = RedirectResponse("/", status_code=303)
            set_session_cookie(request, response, secret)
            response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, samesite="lax", path="/")
            return response
    page = make_page(request, None)
    context = {"form": state, "url_editable": False, "public_url": node.base_url}
    return render(request, "setup.html", context, status=400, page=page)
