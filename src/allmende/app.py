"""The ASGI application of a node: well-known documents, DSP endpoints, the management API and web pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from allmende import __version__
from allmende.api.errors import ApiProblem
from allmende.api.keys import RoleCache
from allmende.api.routes import router as api_router
from allmende.benchmarking.api_routes import router as benchmark_api_router
from allmende.benchmarking.protocol_routes import router as benchmark_router
from allmende.benchmarking.runtime import BenchmarkRuntime
from allmende.catalog.routes import router as catalog_router
from allmende.compute.routes import router as compute_router
from allmende.identity import build_did_document
from allmende.knowledge.discussion_api import router as discussion_api_router
from allmende.knowledge.discussion_routes import router as discussion_router
from allmende.knowledge.publication import router as knowledge_published_router
from allmende.knowledge.routes import router as knowledge_api_router
from allmende.negotiation.routes import consumer_router, provider_router
from allmende.network.directory_routes import router as directory_router
from allmende.node import Node
from allmende.protocol.fast_routes import install_plain_dispatcher
from allmende.protocol.problems import ProtocolProblem
from allmende.transfer.data_routes import router as data_router
from allmende.transfer.push_routes import router as push_router
from allmende.transfer.routes import consumer_router as transfer_consumer_router
from allmende.transfer.routes import provider_router as transfer_provider_router
from allmende.web.install import install_web, is_page_path, unexpected_error_page

log = logging.getLogger(__name__)

PEER_ROUTERS = (
    catalog_router,
    provider_router,
    consumer_router,
    transfer_provider_router,
    transfer_consumer_router,
    data_router,
    push_router,
    directory_router,
    compute_router,
    benchmark_router,
    discussion_router,
    knowledge_published_router,
)
"""The routers other nodes call; their plain endpoints skip FastAPI's routing (``protocol/fast_routes``)."""


def create_app(node: Node, *, manage_lifecycle: bool = True) -> FastAPI:
    """The app serving ``node``. With ``manage_lifecycle`` the app starts and stops the node's sender."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if manage_lifecycle:
            await node.start()
            app.state.benchmarks.start()
        try:
            yield
        finally:
            if manage_lifecycle:
                await app.state.benchmarks.stop()
                await node.stop()

    app = FastAPI(
        title=f"Allmende node {node.name}",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.node = node
    app.state.api_key_roles = RoleCache()
    app.state.benchmarks = BenchmarkRuntime(node)

    @app.get("/.well-known/did.json", tags=["identity"])
    async def did_document() -> JSONResponse:
        """The node's DID document (did:web)."""
        return JSONResponse(build_did_document(node.did, node.keys.all(), node.dsp_url))

    @app.get("/.well-known/dspace-version", tags=["DSP"])
    async def dspace_version() -> JSONResponse:
        """The DSP versions this node speaks (unauthenticated)."""
        return JSONResponse(
            {
                "protocolVersions": [
                    {
                        "version": "2025-1",
                        "path": "/dsp",
                        "binding": "HTTPS",
                        "identifierType": "did:web",
                        "serviceId": f"{node.did}#dsp",
                    }
                ]
            }
        )

    # The management API first: routing tries routes in order, and API clients (polling progress,
    # starting negotiations) call it far more often than anything else FastAPI routes (the DSP
    # messages take the dispatcher below).
    app.include_router(api_router)
    app.include_router(catalog_router)
    app.include_router(provider_router)
    app.include_router(consumer_router)
    app.include_router(transfer_provider_router)
    app.include_router(transfer_consumer_router)
    app.include_router(data_router)
    app.include_router(push_router)
    app.include_router(directory_router)
    app.include_router(compute_router)
    app.include_router(benchmark_router)
    app.include_router(benchmark_api_router)
    app.include_router(discussion_router)
    app.include_router(discussion_api_router)
    app.include_router(knowledge_published_router)
    app.include_router(knowledge_api_router)
    install_web(app)
    install_plain_dispatcher(app, PEER_ROUTERS)

    @app.exception_handler(ProtocolProblem)
    async def protocol_problem(_request: Request, exc: ProtocolProblem) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers or None)

    @app.exception_handler(ApiProblem)
    async def api_problem(_request: Request, exc: ApiProblem) -> JSONResponse:
        return JSONResponse({"error": exc.message, "details": exc.details}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        details: list[Any] = [
            {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg")}
            for err in exc.errors()
        ]
        return JSONResponse({"error": "invalid request", "details": details}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if request.url.path.startswith("/dsp"):
            problem = ProtocolProblem(500, ["internal error; nothing was changed"])
            return JSONResponse(problem.body(), status_code=500)
        if is_page_path(request.url.path):
            return unexpected_error_page(request)
        return JSONResponse({"error": "internal error; nothing was changed"}, status_code=500)

    return app
