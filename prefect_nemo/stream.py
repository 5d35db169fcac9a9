"""The /run_sse event stream: typed events from either wire dialect.

NemoVideo documents two shapes for a `data:` line (nemo-api.md section 4): the reverted v4.4
reference's `{"type": "text" | "tool_call" | "tool_result" | "heartbeat" | "error", ...}` and Google
ADK's Event JSON (`{"content": {"parts": [{"text"} | {"functionCall"} | {"functionResponse"}]}, ...}`,
errors as `{"error": ...}` or `errorCode`/`errorMessage`). Both decode to the same events here.
Heartbeats come as typed events, empty `data:` lines or SSE comments; all are counted, none shown.
There is no done event: the stream ends when the server closes the connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource

__all__ = [
    "ErrorEvent",
    "HeartbeatEvent",
    "StreamEvent",
    "StreamStats",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "iter_events",
    "parse_data",
]

logger = logging.getLogger("prefect_nemo.stream")


@dataclass(frozen=True)
class TextEvent:
    """Agent prose for the user; `partial` marks an ADK streaming delta."""

    text: str
    partial: bool = False


@dataclass(frozen=True)
class ToolCallEvent:
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResultEvent:
    name: str
    result: Any = None


@dataclass(frozen=True)
class HeartbeatEvent:
    """The backend is still working."""


@dataclass(frozen=True)
class ErrorEvent:
    message: str
    code: int | None = None


StreamEvent = TextEvent | ToolCallEvent | ToolResultEvent | HeartbeatEvent | ErrorEvent


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _typed(payload: dict[str, Any]) -> list[StreamEvent]:
    kind = payload["type"]
    if kind == "text":
        return [TextEvent(str(payload.get("content") or payload.get("text") or ""))]
    if kind == "tool_call":
        return [ToolCallEvent(str(payload.get("name", "")), dict(payload.get("args") or {}))]
    if kind == "tool_result":
        return [ToolResultEvent(str(payload.get("name", "")), payload.get("result"))]
    if kind in ("heartbeat", "ping"):
        return [HeartbeatEvent()]
    if kind == "error":
        message = payload.get("message") or payload.get("error") or payload.get("content") or "stream error"
        return [ErrorEvent(str(message), _code(payload.get("code")))]
    logger.debug("ignoring unknown stream event type %r", kind)
    return []


def _adk(payload: dict[str, Any]) -> list[StreamEvent]:
    if payload.get("errorCode") or payload.get("errorMessage"):
        message = payload.get("errorMessage") or str(payload.get("errorCode"))
        return [ErrorEvent(str(message), _code(payload.get("errorCode")))]
    events: list[StreamEvent] = []
    partial = bool(payload.get("partial"))
    content = payload.get("content") or {}
    for part in content.get("parts") or []:
        if not isinstance(part, dict):
            continue
        if part.get("text"):
            events.append(TextEvent(str(part["text"]), partial=partial))
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            events.append(ToolCallEvent(str(call.get("name", "")), dict(call.get("args") or {})))
        elif isinstance(part.get("functionResponse"), dict):
            response = part["functionResponse"]
            events.append(ToolResultEvent(str(response.get("name", "")), response.get("response")))
    return events


def parse_data(data: str) -> list[StreamEvent]:
    """Decode one `data:` payload of either dialect; empty data is a heartbeat."""
    if not data.strip():
        return [HeartbeatEvent()]
    try:
        payload = json.loads(data)
    except json.JSONDecodeError:
        return [TextEvent(data)]
    if not isinstance(payload, dict):
        return [TextEvent(str(payload))]
    if "type" in payload:
        return _typed(payload)
    if "error" in payload and "content" not in payload:
        error = payload["error"]
        if isinstance(error, dict):
            return [ErrorEvent(str(error.get("message", error)), _code(error.get("code")))]
        return [ErrorEvent(str(error), _code(payload.get("code")))]
    return _adk(payload)


@dataclass
class StreamStats:
    """Counts kept while a stream is read: heartbeats of every form, and SSE comment lines."""

    heartbeats: int = 0
    comments: int = 0
    events: int = 0


class _CommentCounter(httpx.AsyncByteStream):
    """Counts SSE comment lines (`: ping`) as they pass; httpx-sse drops them before we could."""

    def __init__(self, inner: httpx.AsyncByteStream, stats: StreamStats) -> None:
        self._inner = inner
        self._stats = stats
        self._line_start = True

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            if chunk:
                count = chunk.count(b"\n:") + (1 if self._line_start and chunk[:1] == b":" else 0)
                self._stats.comments += count
                self._line_start = chunk[-1:] == b"\n"
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


async def iter_events(response: httpx.Response, stats: StreamStats) -> AsyncIterator[StreamEvent]:
    """Yield typed events from an open `text/event-stream` response until the server closes it."""
    if isinstance(response.stream, httpx.AsyncByteStream):
        response.stream = _CommentCounter(response.stream, stats)
    async for sse in EventSource(response).aiter_sse():
        if sse.event not in ("message", "error", ""):
            # Named events other than errors are not part of either documented dialect.
            logger.debug("ignoring SSE event %r", sse.event)
            continue
        events = parse_data(sse.data)
        if sse.event == "error":
            events = [ErrorEvent(sse.data or "stream error")]
        for event in events:
            stats.events += 1
            if isinstance(event, HeartbeatEvent):
                stats.heartbeats += 1
            yield event
