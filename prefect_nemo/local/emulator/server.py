"""The embedded NemoVideo-compatible server: the cloud's paths, envelopes, codes and stream.

Routes are thin: they authenticate, call `Backend`, and wrap answers in the envelope the cloud uses
(`{"code", "data"}` for most endpoints, `{"success", "data"}` for the render proxy). What stands in front of
them (request ids, counts, error answers, injected HTTP faults) is `gateway.py`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from prefect_nemo.local.emulator.agent import Event, format_sse
from prefect_nemo.local.emulator.backend import ApiError, Backend
from prefect_nemo.local.emulator.faults import StreamFate
from prefect_nemo.local.emulator.gateway import FaultsAndCounters, StreamDropped, cut_short, error_response
from prefect_nemo.local.emulator.uploads import ACCEPTED, capped_receive, fetch_url, store_upload
from prefect_nemo.local.settings import LocalSettings

__all__ = ["ACCEPTED", "create_app"]

logger = logging.getLogger("prefect_nemo.local")


def ok(data: Any) -> dict[str, Any]:
    return {"code": 0, "message": "success", "data": data}


def render_answer(backend: Backend, data: dict[str, Any]) -> dict[str, Any]:
    if backend.settings.render_envelope == "flat":
        flat = {k: v for k, v in data.items() if k != "outputUrl"}
        if "outputUrl" in data:
            flat["output"] = {"url": data["outputUrl"]}
        return flat
    return {"success": True, "data": data}


def create_app(settings: LocalSettings) -> FastAPI:
    backend = Backend(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        backend.start()
        yield
        await backend.stop()

    app = FastAPI(title="NemoVideo-compatible local backend", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.backend = backend

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(backend, exc)

    app.add_middleware(FaultsAndCounters, backend=backend)

    def user(authorization: str | None) -> str:
        return backend.user(authorization)

    @app.post("/api/auth/anonymous-token")
    async def anonymous_token(x_client_id: str | None = Header(default=None)) -> dict[str, Any]:
        return ok(backend.anonymous_token(x_client_id))

    @app.post("/api/tasks/me/with-session/nemo_agent")
    async def create_session(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        user_id = user(authorization)
        body = await _json(request)
        return ok(backend.create_session(user_id, body.get("language")))

    @app.post("/api/auth/claim-token")
    async def claim_token(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        user_id = user(authorization)
        body = await _json(request)
        session = backend.session(str(body.get("session_id")), user_id)
        claim = "clm_" + secrets.token_urlsafe(16)
        backend.store.add_claim(claim, session["task_id"], session["session_id"])
        url = f"{backend.base_url}/workspace/claim?ct={claim}"
        return ok({"claim_token": claim, "expires_in": 604800, "url": url})

    @app.get("/api/credits/balance/simple")
    async def credits(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        return ok(backend.credits(user(authorization)))

    @app.get("/api/state/nemo_agent/me/{session_id}/latest")
    async def state(session_id: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        return ok(backend.state(session_id, user(authorization)))

    @app.post("/api/upload-video/nemo_agent/me/{session_id}")
    async def upload(
        session_id: str, request: Request, authorization: str | None = Header(default=None)
    ) -> dict[str, Any]:
        user_id = user(authorization)
        backend.session(session_id, user_id)
        limit = settings.max_upload_bytes
        too_large = ApiError(4002, f"file too large: the limit is {limit // (1024 * 1024)} MB")
        if int(request.headers.get("content-length") or 0) > limit + 1024 * 1024:
            raise too_large
        # The body is counted as it arrives (chunked uploads announce no length) and parsed by Starlette
        # into temp files that spill to disk past 1 MB: an upload never sits in memory.
        request = Request(request.scope, capped_receive(request, limit + 1024 * 1024, too_large))
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await _json(request)
            files = [await fetch_url(str(url), limit) for url in body.get("urls") or []]
        else:
            form = await request.form(max_files=20)
            files = [(f.filename or "upload", f) for f in form.getlist("files") if isinstance(f, UploadFile)]
        try:
            if not files:
                raise ApiError(400, "no files: send multipart field 'files' or JSON {'urls': [...]}", 400)
            stored = [await asyncio.to_thread(store_upload, backend, session_id, name, f) for name, f in files]
        finally:
            for _, handle in files:  # the parsed body's temp copies, deleted now rather than at GC
                await handle.close() if isinstance(handle, UploadFile) else handle.close()
        return ok({"files": stored, "session_state_applied": True})

    @app.post("/run_sse")
    async def run_sse(request: Request, authorization: str | None = Header(default=None)) -> Response:
        user_id = user(authorization)
        body = await _json(request)
        session = backend.session(str(body.get("session_id")), user_id)
        if backend.faults.lose_session():
            backend.store.drop_session(session["session_id"])
            raise ApiError(1002, f"session {session['session_id']} not found; create a new session")
        parts = (body.get("new_message") or {}).get("parts") or []
        message = " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)).strip()
        fate = backend.faults.stream_fate()
        channel = backend.begin_generation(session, user_id, message, fate)
        if fate is StreamFate.GATEWAY_ERROR:  # accepted and running, but the answer is lost on the way
            raise ApiError(502, "bad gateway (injected)", 502)

        async def events() -> AsyncIterator[str]:
            beat = 0
            while (event := await channel.queue.get()) is not None:
                beat += event.kind == "heartbeat"
                yield format_sse(event, settings.dialect, beat)
                if fate is StreamFate.DROP:
                    raise StreamDropped("stream cut mid-way (injected fault stream-drop)")

        async def heartbeats_only() -> AsyncIterator[str]:
            for beat in range(int(900 / settings.heartbeat_interval)):  # the cloud's 15-minute hard limit
                await asyncio.sleep(settings.heartbeat_interval)
                yield format_sse(Event("heartbeat"), settings.dialect, beat)

        stream = heartbeats_only() if fate is StreamFate.HEARTBEATS else events()
        return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.post("/api/render/proxy/lambda")
    async def submit_render(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        user_id = user(authorization)
        return render_answer(backend, await backend.submit_render(user_id, await _json(request)))

    @app.get("/api/render/proxy/lambda/{render_id}")
    async def render_status(render_id: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        return render_answer(backend, backend.render_status(render_id, user(authorization)))

    @app.get("/api/render/proxy/{render_id}/download")
    async def download(render_id: str, authorization: str | None = Header(default=None)) -> Response:
        path = backend.rendered_file(render_id, user(authorization))
        if cut := backend.faults.download_cut():
            return cut_short(path, cut)
        return FileResponse(path, media_type="video/mp4", filename=f"{render_id}.mp4", background=_released(render_id))

    @app.get("/render-result/{render_id}.mp4")
    async def render_result(render_id: str, exp: int = 0, sig: str = "") -> Response:
        if exp < time.time() or not hmac.compare_digest(sig, backend.sign(render_id, exp)):
            raise ApiError(403, "this link has expired; fetch the render status again for a fresh one", 403)
        path = backend.rendered_file(render_id)
        if cut := backend.faults.download_cut():
            return cut_short(path, cut)
        return FileResponse(path, media_type="video/mp4", background=_released(render_id))

    @app.get("/files/{name}")
    async def files(name: str) -> FileResponse:
        row = backend.store.upload(Path(name).stem)
        if row is None or not Path(row["path"]).exists():
            raise ApiError(404, "no such file (previews are released once their clip is downloaded)", 404)
        return FileResponse(row["path"])

    def _released(render_id: str) -> BackgroundTask:
        """Once a clip was sent whole, its session's intermediates go (``Backend.downloaded``)."""
        return BackgroundTask(backend.downloaded, render_id)

    @app.get("/local/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "pid": os.getpid(), "data_dir": str(settings.data_dir), "faults": backend.faults.describe()}

    @app.get("/local/metrics")
    async def metrics() -> dict[str, Any]:
        return backend.metrics()

    return app


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


async def serve(
    settings: LocalSettings, on_ready: Callable[[str], None] | None = None, stop: asyncio.Event | None = None
) -> None:
    """Run the server on 127.0.0.1 until `stop` is set (a graceful uvicorn shutdown) or the task is cancelled;
    `on_ready` receives its URL once it listens."""
    import socket

    import uvicorn

    if settings.host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the embedded backend binds loopback only, not {settings.host!r}")
    sock = socket.socket(socket.AF_INET6 if settings.host == "::1" else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    host, port = sock.getsockname()[:2]
    url = f"http://{'[::1]' if settings.host == '::1' else host}:{port}"
    app = create_app(settings)
    app.state.backend.base_url = url
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:
            await asyncio.sleep(0.02)
        if on_ready:
            on_ready(url)

    async def shut_down_on_stop() -> None:
        if stop is not None:
            await stop.wait()
            server.should_exit = True

    helpers = [asyncio.ensure_future(announce()), asyncio.ensure_future(shut_down_on_stop())]
    try:
        await server.serve(sockets=[sock])
    finally:
        for helper in helpers:
            helper.cancel()
