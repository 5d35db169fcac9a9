"""What stands between a client and the embedded server's routes, as the cloud's gateway does.

Every request gets a request id and is counted per route, every error is answered in its endpoint's envelope
and counted by code (both for `/local/metrics`), and the HTTP faults are injected here: errors, delays, answers
lost after the work was done, streams and downloads cut mid-way. The routes themselves are `server.py`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from prefect_nemo.local.emulator.errors import ApiError
from prefect_nemo.local.emulator.faults import DownloadCut

if TYPE_CHECKING:
    from prefect_nemo.local.emulator.backend import Backend

__all__ = ["FaultsAndCounters", "StreamDropped", "cut_short", "error_response"]


class StreamDropped(Exception):
    """Raised inside a response body to cut the connection mid-way (fault injection)."""


def error_response(backend: Backend, exc: ApiError) -> JSONResponse:
    """An error in the envelope its endpoint uses, counted by code for `/local/metrics`."""
    backend.errors[str(exc.code)] += 1
    if exc.envelope == "success":
        body: dict[str, Any] = {"success": False, "error": exc.message, "code": exc.code}
    else:
        body = {"code": exc.code, "message": exc.message, "data": None}
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


class FaultsAndCounters:
    """ASGI middleware: counts requests per route, tags answers with a request id, injects HTTP faults.

    Plain ASGI rather than `BaseHTTPMiddleware`, so an exception inside a streamed body reaches the
    server and cuts the connection (a real drop) instead of ending the body cleanly.
    """

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        backend = self.backend
        if not backend.base_url:
            backend.base_url = str(Request(scope).base_url).rstrip("/")
        request_id = uuid.uuid4().hex[:16]
        method, path = scope["method"], scope["path"]

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-request-id", request_id)
            await send(message)

        async def discard(message: Message) -> None:
            pass

        fault = backend.faults.on_request(method, path)
        try:
            if fault and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault is None or fault.status is None:
                await self.app(scope, receive, tagged)
                return
            envelope = "success" if path.startswith("/api/render/") else "code"
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            message = f"injected fault {fault.name}: HTTP {fault.status}"
            injected = ApiError(fault.status, message, fault.status, envelope=envelope, headers=headers)
            if fault.after:  # the work is done, but the gateway loses the answer
                await self.app(scope, receive, discard)
            await error_response(backend, injected)(scope, receive, tagged)
        finally:
            backend.requests[f"{method} {getattr(scope.get('route'), 'path', 'unmatched')}"] += 1


def cut_short(path: Path, cut: DownloadCut) -> StreamingResponse:
    """Serve the first part of a file only: with the full Content-Length announced (the connection then
    drops), or chunked with a clean end (only the file's own structure shows it is incomplete)."""
    size = path.stat().st_size
    limit = max(1, int(size * cut.fraction))

    async def body() -> AsyncIterator[bytes]:
        with path.open("rb") as handle:
            sent = 0
            while sent < limit:
                chunk = handle.read(min(1 << 16, limit - sent))
                if not chunk:
                    break
                sent += len(chunk)
                yield chunk
        if cut.declared_length:
            raise StreamDropped(f"download cut after {sent} of {size} bytes (injected fault download-cut)")

    headers = {"Content-Length": str(size)} if cut.declared_length else None
    return StreamingResponse(body(), media_type="video/mp4", headers=headers)
