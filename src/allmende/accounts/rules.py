"""Roles and the rules for user names and passwords (pure functions, no framework)."""

from __future__ import annotations

import re
from dataclasses import dataclass

OWNER = "owner"
MEMBER = "member"
READ = "read"
ROLES = (OWNER, MEMBER, READ)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class FieldProblem:
    """A rule a value broke: the field it belongs to and a message id (translated by the caller)."""

    field: str
    message: str


def can_change(role: str) -> bool:
    """Owners and members may publish, negotiate and transfer; read-only users may only look."""
    return role in (OWNER, MEMBER)


def can_administer(role: str) -> bool:
    """Only owners manage users, keys and the node's identity."""
    return role == OWNER


def check_username(username: str) -> FieldProblem | None:
    if not _USERNAME.match(username):
        return FieldProblem(
            "username",
            "2 to 64 characters: lower-case letters, digits, dot, dash or underscore, "
            "starting with a letter or digit",
        )
    return None


def check_password(password: str, *, username: str = "") -> FieldProblem | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return FieldProblem("password", "too short: at least 10 characters")  # MIN_PASSWORD_LENGTH
    if len(password) > MAX_PASSWORD_LENGTH:
        return FieldProblem("password", "too long: at most 1024 characters")  # MAX_PASSWORD_LENGTH
    if username and username.lower() in password.lower():
        return FieldProblem("password", "must not contain the user name")
    if len(set(password)) < 4:
        return FieldProblem("password", "too simple: use more different characters")
    return None


def check_role(role: str) -> FieldProblem | None:
    if role not in ROLES:
        return FieldProblem("role", "unknown role")
    return None
