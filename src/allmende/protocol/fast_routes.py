"""Node-to-node endpoints without FastAPI's per-request routing and dependency solving.

The DSP endpoints and the other endpoints peers call (benchmark shares, compute jobs, discussions,
the directory, the data plane) are mostly plain ``async def endpoint(<str path params>, request) ->
Response`` functions: they read and validate the message themselves
(:mod:`allmende.protocol.endpoint`). FastAPI still registers them (OpenAPI, and every request this
dispatcher does not take), but matching a request against all routes of the app and solving its
dependencies cost more CPU than a message's own work. :class:`PlainRouteDispatcher` sits inside the
app's middleware stack (so body limits and the error handler for unexpected exceptions apply as
before), matches the paths of those routes against precompiled patterns and calls the same
functions; an exception becomes the answer of the app's handler for it
(:class:`~allmende.protocol.problems.ProtocolProblem`: the DSP error body), as through FastAPI.
Routes that take query parameters, bodies parsed by FastAPI or dependencies stay with FastAPI.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[..., Awaitable[Response]]


@dataclass(frozen=True)
class _FastRoute:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    endpoint: Endpoint
    head: str
    """The path up to its first parameter: only requests under one of these heads are looked at."""


def _plain(route: APIRoute) -> bool:
    """True when the endpoint takes only ``request`` and its path parameters, and answers a Response."""
    signature = inspect.signature(route.endpoint)
    path_params = set(route.param_convertors)
    for name, parameter in signature.parameters.items():
        if name == "request":
            continue
        if name not in path_params or route.param_convertors[name].regex != "[^/]+":
            return False
        if parameter.default is not inspect.Parameter.empty:
            return False
    returns = signature.return_annotation
    text = returns if isinstance(returns, str) else getattr(returns, "__name__", "")
    return (
        "request" in signature.parameters
        and str(text).endswith("Response")
        and not route.dependencies
        and route.dependant.dependencies == []
    )


def fast_routes(routers: Iterable[APIRouter]) -> list[_FastRoute]:
    """The routes of ``routers`` the dispatcher can serve directly (the others stay with FastAPI)."""
    found: list[_FastRoute] = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute) and _plain(route):
                methods, head = frozenset(route.methods or ()), route.path.split("{", 1)[0]
                found.append(_FastRoute(methods, route.path_regex, route.endpoint, head))
    return found


class PlainRouteDispatcher:
    """ASGI middleware: serve requests for the plain routes directly, pass everything else on."""

    def __init__(self, app: ASGIApp, routes: list[_FastRoute]) -> None:
        self.app = app
        self.routes = routes
        self.heads = tuple(sorted({route.head for route in routes}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(self.heads) and not scope.get("root_path"):
            method = scope["method"]
            for route in self.routes:
                match = route.pattern.match(path)
                if match is not None and method in route.methods:
                    await self._serve(route, match.groupdict(), scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _serve(
        route: _FastRoute, params: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["path_params"] = params
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request=request, **params)
        except Exception as exc:
            handler = _handler_for(scope, exc)
            if handler is None:
                raise  # to the app's error handler for unexpected exceptions, as from FastAPI's router
            answer = handler(request, exc)
            response = await answer if inspect.isawaitable(answer) else answer
        await response(scope, receive, send)


def _handler_for(scope: Scope, exc: Exception) -> Callable[..., Any] | None:
    """The app's exception handler for ``exc`` (what FastAPI's ExceptionMiddleware would call)."""
    handlers: dict[Any, Callable[..., Any]] = getattr(scope.get("app"), "exception_handlers", {})
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


def install_plain_dispatcher(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Serve the plain endpoints of ``routers`` through :class:`PlainRouteDispatcher` (innermost
    middleware). The caller makes sure no other route of the app would take the same requests first."""
    app.user_middleware.append(Middleware(PlainRouteDispatcher, routes=fast_routes(routers)))
