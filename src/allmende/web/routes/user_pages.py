"""The node's users (owners only): list, add, disable and enable.

A user's own password is changed on ``/account/password`` (``password_pages``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.accounts import service as accounts
from allmende.accounts.records import UserRecord
from allmende.accounts.rules import MEMBER, ROLES
from allmende.protocol.endpoint import in_read, in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.routes.identity_view import actor_of
from allmende.web.security import Owner, WebDenied, checked_form
from allmende.web.templating import N_, Page, render

router = APIRouter(include_in_schema=False)

ROLE_NAMES = {
    "owner": N_("Owner"),
    "member": N_("Member"),
    "read": N_("Read-only"),
}
ROLE_HINTS = {
    "owner": N_("manages users, keys and the node's identity, and may do everything a member may"),
    "member": N_("publishes offers, negotiates and transfers data"),
    "read": N_("may look at everything but change nothing"),
}
NOTICES = {
    "added": N_("The user was added and can log in now."),
    "disabled": N_("The user was disabled and logged out everywhere."),
    "enabled": N_("The user can log in again."),
}
FIELDS = ("display_name", "username", "role", "password")
NO_SUCH_USER = N_("There is no such user.")


def role_options(page: Page) -> list[tuple[str, str]]:
    """The roles for a select: name and what the role may do."""
    return [(role, f"{page.gettext(ROLE_NAMES[role])}: {page.gettext(ROLE_HINTS[role])}") for role in ROLES]


async def _users_page(
    request: Request, page: Page, form: FormState, status: int = 200, notice: str = ""
) -> Response:
    users = await in_read(node_of(request), accounts.list_users)
    context: dict[str, Any] = {
        "users": users,
        "role_names": {role: page.gettext(name) for role, name in ROLE_NAMES.items()},
        "roles": role_options(page),
        "form": form,
        "notice": notice,
    }
    return render(request, "users.html", context, status=status)


@router.get("/users")
async def users(request: Request, page: Owner, done: str = "") -> Response:
    notice = page.gettext(NOTICES[done]) if done in NOTICES else ""
    return await _users_page(request, page, FormState(values={"role": MEMBER}), notice=notice)


@router.post("/users")
async def add_user(request: Request, page: Owner) -> Response:
    form = await checked_form(request, page)
    state = FormState.of(form, *FIELDS)
    password = state.values.pop("password", "")
    actor = actor_of(page)

    def work(session: Session) -> None:
        accounts.create_user(
            session,
            username=state.get("username"),
            display_name=state.get("display_name"),
            password=password,
            role=state.get("role"),
            actor=actor,
        )

    try:
        await in_transaction(node_of(request), work)
    except accounts.AccountError as exc:
        for problem in exc.problems:
            state.errors.setdefault(problem.field, page.gettext(problem.message))
        return await _users_page(request, page, state, status=400)
    return RedirectResponse("/users?done=added", status_code=303)


async def _user(request: Request, user_id: str) -> UserRecord:
    record = await in_read(node_of(request), lambda session: session.get(UserRecord, user_id))
    if record is None:
        raise WebDenied(404, NO_SUCH_USER)
    return record


def _own(page: Page, record: UserRecord) -> bool:
    return page.user is not None and page.user.user_id == record.id


@router.get("/users/{user_id}/disable")
async def disable_form(request: Request, page: Owner, user_id: str) -> Response:
    record = await _user(request, user_id)
    return render(request, "users_disable.html", {"user": record, "failure": "", "own": _own(page, record)})


@router.post("/users/{user_id}/disable")
async def disable(request: Request, page: Owner, user_id: str) -> Response:
    await checked_form(request, page)
    record = await _user(request, user_id)
    actor = actor_of(page)
    try:
        await in_transaction(
            node_of(request), lambda session: accounts.set_disabled(session, user_id, True, actor)
        )
    except accounts.AccountError as exc:
        reasons = "; ".join(page.gettext(problem.message) for problem in exc.problems)
        failure = page.gettext("This user cannot be disabled: %(reason)s.") % {"reason": reasons}
        context = {"user": record, "failure": failure, "own": _own(page, record)}
        return render(request, "users_disable.html", context, status=409)
    return RedirectResponse("/users?done=disabled", status_code=303)


@router.post("/users/{user_id}/enable")
async def enable(request: Request, page: Owner, user_id: str) -> Response:
    await checked_form(request, page)
    await _user(request, user_id)
    actor = actor_of(page)
    await in_transaction(
        node_of(request), lambda session: accounts.set_disabled(session, user_id, False, actor)
    )
    return RedirectResponse("/users?done=enabled", status_code=303)
