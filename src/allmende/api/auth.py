"""Management API authentication: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
from fastapi import Request

from allmende.api import keys
from allmende.api.errors import ApiProblem
from allmende.protocol.endpoint import node_of


@dataclass(frozen=True)
class ApiCaller:
    """Who calls the API: the role of the presented key and the actor name for the audit log."""

    role: str
    actor: str


async def _caller(request: Request) -> ApiCaller:
    presented = request.headers.get("x-api-key")
    if presented is None:
        scheme, _, value = (request.headers.get("authorization") or "").partition(" ")
        presented = value.strip() if scheme.lower() == "bearer" else None
    if not presented:
        raise ApiProblem(401, "an API key is required (Authorization: Bearer <key> or X-API-Key)")
    node = node_of(request)
    cache: keys.RoleCache = request.app.state.api_key_roles
    role = cache.role(presented)
    if role is None:

        def lookup() -> str | None:
            with node.db.read() as session:
                return keys.role_of(session, presented)

        role = await anyio.to_thread.run_sync(lookup)
        if role is None:
            raise ApiProblem(401, "unknown or revoked API key")
        cache.remember(presented, role)
    return ApiCaller(role=role, actor=f"owner ({role} key {presented.split('_')[1]})")


async def reader(request: Request) -> ApiCaller:
    """Any valid key (admin or read-only)."""
    return await _caller(request)


async def admin(request: Request) -> ApiCaller:
    """An admin key; read-only keys get 403."""
    caller = await _caller(request)
    if caller.role != "admin":
        raise ApiProblem(403, "this action needs an admin API key")
    return caller
