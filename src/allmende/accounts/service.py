"""Accounts and log-in sessions, in the caller's transaction."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from allmende.accounts import rules
from allmende.accounts.passwords import hash_password, needs_rehash, verify_password
from allmende.accounts.records import UserRecord, WebSessionRecord
from allmende.audit import log as audit
from allmende.clock import utcnow


class AccountError(ValueError):
    """A user could not be created or changed; ``problems`` say which fields were wrong."""

    def __init__(self, problems: list[rules.FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class SignedIn:
    """The user behind a valid session, and the session's CSRF token."""

    user_id: str
    username: str
    display_name: str
    role: str
    language: str | None
    csrf_token: str
    session_hash: str


def _session_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def user_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(UserRecord)).scalar_one())


def create_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    password: str,
    role: str,
    actor: str,
    language: str | None = None,
) -> UserRecord:
    """A new user; raises AccountError naming every field that breaks a rule."""
    username = username.strip().lower()
    problems = [
        p
        for p in (
            rules.check_username(username),
            rules.check_password(password, username=username),
            rules.check_role(role),
        )
        if p is not None
    ]
    if not display_name.strip():
        problems.append(rules.FieldProblem("display_name", "required"))
    if not problems and session.execute(select(UserRecord.id).where(UserRecord.username == username)).first():
        problems.append(rules.FieldProblem("username", "this user name is taken"))
    if problems:
        raise AccountError(problems)
    record = UserRecord(
        id=secrets.token_hex(8),
        username=username,
        display_name=display_name.strip(),
        role=role,
        password_hash=hash_password(password),
        language=language,
        created_at=utcnow(),
    )
    session.add(record)
    audit.append(session, actor=actor, event="user.created", subject=username, detail={"role": role})
    return record


def authenticate(session: Session, username: str, password: str) -> UserRecord | None:
    """The enabled user with this name and password, or None (same cost whether or not it exists)."""
    record = session.execute(
        select(UserRecord).where(UserRecord.username == username.strip().lower())
    ).scalar_one_or_none()
    ok = verify_password(record.password_hash if record is not None else None, password)
    if record is None or not ok or record.disabled_at is not None:
        return None
    if needs_rehash(record.password_hash):
        record.password_hash = hash_password(password)
    return record


def open_session(session: Session, user: UserRecord, lifetime: timedelta) -> str:
    """A new log-in session for ``user``; returns the secret for the cookie (only its hash is stored)."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.execute(delete(WebSessionRecord).where(WebSessionRecord.expires_at < now))
    session.add(
        WebSessionRecord(
            id=_session_hash(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    audit.append(session, actor=user.username, event="user.logged_in", subject=user.username)
    return secret


def signed_in(session: Session, secret: str) -> SignedIn | None:
    """The user of a session cookie, or None when it is unknown, expired or the user is disabled."""
    key = _session_hash(secret)
    row = session.execute(
        select(WebSessionRecord, UserRecord)
        .join(UserRecord, UserRecord.id == WebSessionRecord.user_id)
        .where(WebSessionRecord.id == key)
    ).first()
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= utcnow() or user.disabled_at is not None:
        return None
    return SignedIn(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        language=user.language,
        csrf_token=web_session.csrf_token,
        session_hash=key,
    )


def close_session(session: Session, session_hash: str) -> None:
    session.execute(delete(WebSessionRecord).where(WebSessionRecord.id == session_hash))


def list_users(session: Session) -> list[UserRecord]:
    return list(session.execute(select(UserRecord).order_by(UserRecord.username)).scalars())


def set_disabled(session: Session, user_id: str, disabled: bool, actor: str) -> UserRecord:
    """Disable (ends all the user's sessions) or enable a user; the last enabled owner stays."""
    record = session.get(UserRecord, user_id)
    if record is None:
        raise AccountError([rules.FieldProblem("user", "no such user")])
    if disabled and record.role == rules.OWNER and _enabled_owners(session) <= 1:
        raise AccountError([rules.FieldProblem("user", "the last owner cannot be disabled")])
    record.disabled_at = utcnow() if disabled else None
    if disabled:
        session.execute(delete(WebSessionRecord).where(WebSessionRecord.user_id == user_id))
    audit.append(
        session, actor=actor, event="user.disabled" if disabled else "user.enabled", subject=record.username
    )
    return record


def user_by_name(session: Session, username: str) -> UserRecord | None:
    """The user with this user name (any case), or None."""
    return session.execute(
        select(UserRecord).where(UserRecord.username == username.strip().lower())
    ).scalar_one_or_none()


def change_password(
    session: Session, user_id: str, current: str, new: str, *, keep_session: str | None = None
) -> UserRecord:
    """Set a user's own password after checking the current one; ends every other log-in session.

    ``keep_session`` is the hash of the session to keep (the one the change was made in). Raises
    AccountError for a wrong current password (field ``current_password``) or a new password that
    breaks a rule (field ``new_password``).
    """
    record = session.get(UserRecord, user_id)
    if record is None or record.disabled_at is not None:
        raise AccountError([rules.FieldProblem("user", "no such user")])
    problems: list[rules.FieldProblem] = []
    if not verify_password(record.password_hash, current):
        problems.append(rules.FieldProblem("current_password", "the current password is wrong"))
    broken = rules.check_password(new, username=record.username)
    if broken is not None:
        problems.append(rules.FieldProblem("new_password", broken.message))
    elif new == current:
        problems.append(rules.FieldProblem("new_password", "must differ from the current password"))
    if problems:
        raise AccountError(problems)
    record.password_hash = hash_password(new)
    others = delete(WebSessionRecord).where(WebSessionRecord.user_id == user_id)
    if keep_session is not None:
        others = others.where(WebSessionRecord.id != keep_session)
    session.execute(others)
    audit.append(session, actor=record.username, event="user.password_changed", subject=record.username)
    return record


def set_language(session: Session, user_id: str, language: str) -> None:
    record = session.get(UserRecord, user_id)
    if record is not None:
        record.language = language


def _enabled_owners(session: Session) -> int:
    query = (
        select(func.count())
        .select_from(UserRecord)
        .where(UserRecord.role == rules.OWNER, UserRecord.disabled_at.is_(None))
    )
    return int(session.execute(query).scalar_one())
