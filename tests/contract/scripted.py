"""A scripted NemoVideo backend for the contract suite: answers written from nemo-api.md and from Google ADK's
api_server, served through `httpx.MockTransport` - never through `prefect_nemo.local`, so our own emulator
cannot define the contract by accident."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from prefect_nemo.client import NemoClient
from prefect_nemo.identity import TokenStore

API = "https://api.nemo.test"
CDN = "https://cdn.nemo.test"
TOKEN = "nmv_usr_contract-secret-token-0123456789"
READY_DRAFT = {"d": 2000, "t": [{"tt": 0, "sg": [{"s": 0, "d": 2000, "src": "img_1"}]}]}

Reply = Callable[[httpx.Request], httpx.Response]


def reply(
    status: int = 200, body: Any = None, *, headers: dict[str, str] | None = None, text: str | None = None
) -> Reply:
    """A fresh response per request (httpx responses are read once)."""

    def make(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return make


def ok(data: Any) -> Reply:
    return reply(200, {"code": 0, "data": data})


def state(draft: dict[str, Any] | None = READY_DRAFT) -> Reply:
    return ok({"session_id": "s1", "task_id": "t1", "state": {"draft": draft, "video_infos": []}})


def sse(*frames: str | bytes, delay: float = 0.0, forever: bytes | None = None, every: float = 0.05) -> Reply:
    """An event stream of raw frames (sent as written: choose the line ends), then optionally one frame
    repeated forever (a stream kept alive by heartbeats)."""

    async def body() -> AsyncIterator[bytes]:
        for frame in frames:
            if delay:
                await asyncio.sleep(delay)
            yield frame.encode() if isinstance(frame, str) else frame
        while forever is not None:
            await asyncio.sleep(every)
            yield forever

    def make(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    return make


def adk(parts: list[dict[str, Any]], **extra: Any) -> str:
    """One ADK Event as `data:` (camelCase, nulls dropped) and its blank line."""
    event = {"content": {"role": "model", "parts": parts}, "author": "nemo_agent", "invocationId": "e-1", **extra}
    return f"data: {json.dumps(event)}\n\n"


@dataclass
class Backend:
    """Routes `METHOD path` to replies, in order (the last one repeats); records every request."""

    routes: dict[str, list[Reply]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, route: str, *replies: Reply) -> Backend:
        self.routes[route] = list(replies)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        """The replies of `METHOD /exact/path`, else of the longest `METHOD /prefix*` route that matches."""
        self.requests.append(request)
        route = f"{request.method} {request.url.path}"
        replies = self.routes.get(route)
        if replies is None:
            prefixes = [r for r in self.routes if r.endswith("*") and route.startswith(r[:-1])]
            replies = self.routes[max(prefixes, key=len)] if prefixes else None
        if not replies:
            return httpx.Response(404, json={"detail": "Not Found"})
        return (replies.pop(0) if len(replies) > 1 else replies[0])(request)

    def sent(self, route: str) -> list[httpx.Request]:
        method, path = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def client(self, tmp_path: Path, *, token: str | None = TOKEN, **kwargs: Any) -> NemoClient:
        options: dict[str, Any] = {"max_retries": 2, "rate_limit_wait": 0.0, "stream_idle_timeout": 30.0, **kwargs}
        return NemoClient(
            API,
            token=SecretStr(token) if token else None,
            client_id="contract-client",
            token_store=TokenStore(tmp_path / "tokens.json"),
            transport=httpx.MockTransport(self.handler),
            **options,
        )


def mp4_bytes(payload: int = 64) -> bytes:
    """The smallest byte string our download check accepts as a whole MP4: ftyp, moov, mdat boxes."""

    def box(kind: bytes, body: bytes) -> bytes:
        return (8 + len(body)).to_bytes(4, "big") + kind + body

    return box(b"ftyp", b"isom\x00\x00\x02\x00isom") + box(b"moov", b"\x00" * 16) + box(b"mdat", b"\x01" * payload)


def chunked(data: bytes, size: int = 16, pause: float = 0.01) -> Iterable[bytes] | AsyncIterator[bytes]:
    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(data), size):
            await asyncio.sleep(pause)
            yield data[start : start + size]

    return body()
