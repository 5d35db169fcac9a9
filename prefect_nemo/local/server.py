"""The embedded NemoVideo-compatible server: the cloud's paths, envelopes, codes and stream.

Routes are thin: they authenticate, call `Backend`, and wrap answers in the envelope the cloud uses
(`{"code", "data"}` for most endpoints, `{"success", "data"}` for the render proxy).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Header, Request, Response
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from PIL import Image
from starlette.datastructures import UploadFile

from prefect_nemo.local.agent import format_sse
from prefect_nemo.local.backend import ApiError, Backend
from prefect_nemo.local.settings import LocalSettings

__all__ = ["ACCEPTED", "create_app"]

logger = logging.getLogger("prefect_nemo.local")

ACCEPTED: dict[str, str] = {
    **dict.fromkeys(["mp4", "mov", "avi", "webm", "mkv"], "video"),
    **dict.fromkeys(["jpg", "jpeg", "png", "gif", "webp"], "image"),
    **dict.fromkeys(["mp3", "wav", "m4a", "aac"], "audio"),
}
"""Extensions the cloud accepts (nemo-api.md section 5) and their file types."""


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
        if exc.envelope == "success":
            body: dict[str, Any] = {"success": False, "error": exc.message, "code": exc.code}
        else:
            body = {"code": exc.code, "message": exc.message, "data": None}
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.middleware("http")
    async def count_and_tag(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if not backend.base_url:
            backend.base_url = str(request.base_url).rstrip("/")
        request_id = uuid.uuid4().hex[:16]
        response = await call_next(request)
        route = request.scope.get("route")
        backend.requests[f"{request.method} {getattr(route, 'path', 'unmatched')}"] += 1
        response.headers["x-request-id"] = request_id
        return response

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
        if int(request.headers.get("content-length") or 0) > limit + 1024 * 1024:
            raise ApiError(4002, f"file too large: the limit is {limit // (1024 * 1024)} MB")
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await _json(request)
            files = [await _fetch_url(str(url), limit) for url in body.get("urls") or []]
        else:
            form = await request.form(max_files=20)
            files = [(f.filename or "upload", f) for f in form.getlist("files") if isinstance(f, UploadFile)]
        if not files:
            raise ApiError(400, "no files: send multipart field 'files' or JSON {'urls': [...]}", 400)
        return ok(
            {"files": [_store_upload(backend, session_id, name, f) for name, f in files], "session_state_applied": True}
        )

    @app.post("/run_sse")
    async def run_sse(request: Request, authorization: str | None = Header(default=None)) -> Response:
        user_id = user(authorization)
        body = await _json(request)
        session = backend.session(str(body.get("session_id")), user_id)
        parts = (body.get("new_message") or {}).get("parts") or []
        message = " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)).strip()
        channel = backend.begin_generation(session, user_id, message)

        async def events() -> AsyncIterator[str]:
            beat = 0
            while (event := await channel.queue.get()) is not None:
                beat += event.kind == "heartbeat"
                yield format_sse(event, settings.dialect, beat)

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    @app.post("/api/render/proxy/lambda")
    async def submit_render(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        user_id = user(authorization)
        return render_answer(backend, backend.submit_render(user_id, await _json(request)))

    @app.get("/api/render/proxy/lambda/{render_id}")
    async def render_status(render_id: str, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        return render_answer(backend, backend.render_status(render_id, user(authorization)))

    @app.get("/api/render/proxy/{render_id}/download")
    async def download(render_id: str, authorization: str | None = Header(default=None)) -> FileResponse:
        path = backend.rendered_file(render_id, user(authorization))
        return FileResponse(path, media_type="video/mp4", filename=f"{render_id}.mp4")

    @app.get("/render-result/{render_id}.mp4")
    async def render_result(render_id: str, exp: int = 0, sig: str = "") -> FileResponse:
        if exp < time.time() or not hmac.compare_digest(sig, backend.sign(render_id, exp)):
            raise ApiError(403, "this link has expired; fetch the render status again for a fresh one", 403)
        return FileResponse(backend.rendered_file(render_id), media_type="video/mp4")

    @app.get("/files/{name}")
    async def files(name: str) -> FileResponse:
        row = backend.store.upload(Path(name).stem)
        if row is None:
            raise ApiError(404, "no such file", 404)
        return FileResponse(row["path"])

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


async def _fetch_url(url: str, limit: int) -> tuple[str, Any]:
    """URL uploads: fetch into a temp file with the same size cap as direct uploads."""
    if not url.startswith(("http://", "https://")):
        raise ApiError(400, f"unsupported URL {url!r}: only http(s) URLs can be fetched", 400)
    handle = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
    try:
        async with httpx.AsyncClient(timeout=30, follow_redirects=True) as client:
            async with client.stream("GET", url) as response:
                if response.status_code >= 400:
                    raise ApiError(400, f"could not fetch {url}: HTTP {response.status_code}", 400)
                size = 0
                async for chunk in response.aiter_bytes(1 << 20):
                    size += len(chunk)
                    if size > limit:
                        raise ApiError(4002, f"file too large: the limit is {limit // (1024 * 1024)} MB")
                    handle.write(chunk)
    except httpx.HTTPError as exc:
        raise ApiError(400, f"could not fetch {url}: {type(exc).__name__}", 400) from exc
    handle.seek(0)
    return url.rsplit("/", 1)[-1].split("?", 1)[0] or "download", handle


def _store_upload(backend: Backend, session_id: str, name: str, source: Any) -> dict[str, Any]:
    """Write an upload under a generated name (no client path reaches the disk) and describe it."""
    ext = Path(name).suffix.lower().lstrip(".")
    file_type = ACCEPTED.get(ext)
    if file_type is None:
        accepted = ", ".join(sorted(ACCEPTED))
        raise ApiError(4001, f"unsupported file type '.{ext}' ({name}); accepted: {accepted}")
    file_id = ("img_" if file_type == "image" else file_type[:3] + "_") + secrets.token_hex(8)
    path = backend.data_dir / "uploads" / f"{file_id}.{ext}"
    stream = source.file if isinstance(source, UploadFile) else source
    stream.seek(0)
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    size = path.stat().st_size
    if size > backend.settings.max_upload_bytes:
        path.unlink()
        raise ApiError(4002, f"file too large: {name} is {size // (1024 * 1024)} MB, the limit is 200 MB")
    info: dict[str, Any] = {"size": size, "hash": _sha256(path)}
    if file_type == "image":
        try:
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                info.update(width=image.width, height=image.height)
        except Exception as exc:
            path.unlink()
            raise ApiError(4001, f"{name} is not a readable image: {exc}") from exc
    backend.store.add_upload(file_id, session_id, Path(name).name[:200], path, file_type, info)
    return {
        "file_id": file_id,
        "filename": Path(name).name,
        "file_type": file_type,
        "cdn_url": f"{backend.base_url}/files/{file_id}.{ext}",
        **{k: info[k] for k in ("width", "height", "hash") if k in info},
    }


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def serve(settings: LocalSettings, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the server on 127.0.0.1 until cancelled; `on_ready` receives its URL once it listens."""
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

    announcer = asyncio.ensure_future(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
