"""What the embedded server keeps of an upload: a file under a generated name, its size, hash and picture size.

Bodies are counted as they arrive (`capped_receive`) and parsed into temp files, URLs are fetched into one,
so an upload never sits in memory; the temp copies are closed (deleted) once the file is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import Request
from PIL import Image
from starlette.datastructures import UploadFile
from starlette.types import Message

from prefect_nemo.local.emulator.errors import ApiError

if TYPE_CHECKING:
    from prefect_nemo.local.emulator.backend import Backend

__all__ = ["ACCEPTED", "capped_receive", "fetch_url", "store_upload"]

ACCEPTED: dict[str, str] = {
    **dict.fromkeys(["mp4", "mov", "avi", "webm", "mkv"], "video"),
    **dict.fromkeys(["jpg", "jpeg", "png", "gif", "webp"], "image"),
    **dict.fromkeys(["mp3", "wav", "m4a", "aac"], "audio"),
}
"""Extensions the cloud accepts (nemo-api.md section 5) and their file types."""


def capped_receive(request: Request, limit: int, error: ApiError) -> Callable[[], Awaitable[Message]]:
    """The request's ASGI receive, raising `error` once the body passes `limit` bytes."""
    received = 0
    receive = request.receive

    async def capped() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise error
        return message

    return capped


async def fetch_url(url: str, limit: int) -> tuple[str, Any]:
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


def store_upload(backend: Backend, session_id: str, name: str, source: Any) -> dict[str, Any]:
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
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
