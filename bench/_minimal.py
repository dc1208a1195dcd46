"""Baseline server: a bare FastAPI app with one route on uvicorn. ``python -m bench._minimal PORT``."""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/.well-known/dspace-version")
async def version() -> JSONResponse:
    return JSONResponse({"protocolVersions": [{"version": "2025-1", "path": "/dsp"}]})


@app.get("/api/v1/node")
async def node() -> JSONResponse:
    return JSONResponse({"name": "minimal"})


if __name__ == "__main__":
    port = int(sys.argv[1])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    asyncio.run(uvicorn.Server(config).serve())
