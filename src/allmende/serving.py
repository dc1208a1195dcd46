"""Running a node's app with uvicorn until SIGINT/SIGTERM (used by ``allmende serve`` and bench/)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp

from allmende.app import create_app
from allmende.node import Node
from allmende.store.schema_version import needs_migration


def prepare(node: Node) -> None:
    """Bring the database schema up to date (alembic is imported only when there is work)."""
    if needs_migration(node.db):
        from allmende.store import migrate

        migrate.upgrade(node.db)


def serve(node: Node, host: str, port: int) -> None:
    """Serve ``node`` on ``host:port`` until a signal; uvloop is used when installed."""
    serve_app(create_app(node), host, port)


def serve_app(app: ASGIApp, host: str, port: int) -> None:
    """Serve any ASGI app (a node's, or the first-start set-up) until a signal."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve_until_signal(server))


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _serve_until_signal(server: uvicorn.Server) -> None:
    """Serve until SIGINT/SIGTERM, then shut down gracefully (no traceback on Ctrl-C)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]  # ours replace them
    await server.serve()
