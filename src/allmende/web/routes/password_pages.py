"""Every signed-in user changes their own password here; their other log-in sessions end."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from allmende.accounts import service as accounts
from allmende.protocol.endpoint import in_transaction, node_of
from allmende.web.forms import FormState
from allmende.web.security import Viewer, checked_form
from allmende.web.templating import render

router = APIRouter(include_in_schema=False)
FIELDS = ("current_password", "new_password", "new_password_again")


@router.get("/account/password")
async def password_form(request: Request, page: Viewer, done: str = "") -> Response:
    notice = page.gettext("Your password was changed. Your other log-in sessions have ended.") if done else ""
    return render(request, "account_password.html", {"form": FormState(), "notice": notice})


@router.post("/account/password")
async def change_password(request: Request, page: Viewer) -> Response:
    form = await checked_form(request, page)
    # Trimmed like the log-in form trims them, so the new password is the one that logs in.
    typed = {name: str(form.get(name) or "").strip() for name in FIELDS}
    state = FormState()
    t = page.gettext
    if not typed["current_password"]:
        state.errors["current_password"] = t("Enter your current password.")
    if not typed["new_password"]:
        state.errors["new_password"] = t("Enter a new password.")
    elif typed["new_password_again"] != typed["new_password"]:
        state.errors["new_password_again"] = t("The two new passwords differ.")
    if state.ok and page.user is not None:
        user = page.user

        def work(session: Session) -> None:
            accounts.change_password(
                session,
                user.user_id,
                typed["current_password"],
                typed["new_password"],
                keep_session=user.session_hash,
            )

        try:
            await in_transaction(node_of(request), work)
        except accounts.AccountError as exc:
            for problem in exc.problems:
                state.errors.setdefault(problem.field, t(problem.message))
        else:
            return RedirectResponse("/account/password?done=changed", status_code=303)
    return render(request, "account_password.html", {"form": state, "notice": ""}, status=400)
