"""The /run_sse event stream: typed events from either wire dialect.

NemoVideo documents two shapes for a `data:` line (nemo-api.md section 4): the reverted v4.4
reference's `{"type": "text" | "tool_call" | "tool_result" | "heartbeat" | "error", ...}` and Google
ADK's Event JSON (`{"content": {"parts": [{"text"} | {"functionCall"} | {"functionResponse"}]}, ...}`,
errors as `{"error": ...}` or `errorCode`/`errorMessage`/`finishReason`). Both decode to the same events.
Heartbeats come as typed events, empty `data:` lines or SSE comments; all are counted, none shown.
There is no done event: the stream ends when the server closes the connection.

As in httpx-sse, decoding is pure (`SSEDecoder`: text in, blocks out) and `iter_events` is the I/O
shell. Our decoder follows the WHATWG rules httpx-sse does not: a leading BOM is dropped, comments
are reported (they are heartbeats), and a block holding only `id:` or `retry:` is no event at all.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = [
    "ErrorEvent",
    "HeartbeatEvent",
    "SSEBlock",
    "SSEDecoder",
    "StreamEvent",
    "StreamStats",
    "TextEvent",
    "ToolCallEvent",
    "ToolResultEvent",
    "iter_events",
    "parse_data",
]

logger = logging.getLogger("prefect_nemo.stream")

_LINE_END = re.compile(r"\r\n|\r|\n")

NORMAL_FINISH = {"STOP", "FINISH_REASON_UNSPECIFIED"}
"""ADK `finishReason` values of a turn that ended normally; any other one (SAFETY, ...) is an error."""


@dataclass(frozen=True)
class TextEvent:
    """Agent prose for the user; `partial` marks an ADK streaming delta."""

    text: str
    partial: bool = False


@dataclass(frozen=True)
class ToolCallEvent:
    """A tool call; `call_id` (ADK's functionCall id) tells a call repeated by a streaming final event."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    call_id: str | None = None
    partial: bool = False

    @property
    def key(self) -> str:
        return self.call_id or f"{self.name}:{json.dumps(self.args, sort_keys=True, default=str)}"


@dataclass(frozen=True)
class ToolResultEvent:
    name: str
    result: Any = None


@dataclass(frozen=True)
class HeartbeatEvent:
    """The backend is still working; `comment` marks an SSE comment line rather than a data frame."""

    comment: bool = False


@dataclass(frozen=True)
class ErrorEvent:
    """An error the stream reported; `code` is a business code (int) or a name such as "SAFETY"."""

    message: str
    code: int | str | None = None


StreamEvent = TextEvent | ToolCallEvent | ToolResultEvent | HeartbeatEvent | ErrorEvent


def _code(value: Any) -> int | str | None:
    """Numeric codes as ints (so 2001 maps to its exception); named codes kept as they are."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _typed(payload: dict[str, Any]) -> list[StreamEvent]:
    kind = payload["type"]
    if kind == "text":
        return [TextEvent(str(payload.get("content") or payload.get("text") or ""))]
    if kind == "tool_call":
        return [ToolCallEvent(str(payload.get("name", "")), dict(payload.get("args") or {}), payload.get("id"))]
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
    events: list[StreamEvent] = []
    partial = bool(payload.get("partial"))
    content = payload.get("content") or {}
    for part in content.get("parts") or [] if isinstance(content, dict) else []:
        if not isinstance(part, dict):
            continue
        if part.get("text"):
            if not part.get("thought"):
                events.append(TextEvent(str(part["text"]), partial=partial))
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            args = call.get("args") if isinstance(call.get("args"), dict) else {}
            call_id = str(call["id"]) if call.get("id") else None
            events.append(ToolCallEvent(str(call.get("name", "")), dict(args), call_id, partial))
        elif isinstance(part.get("functionResponse"), dict):
            response = part["functionResponse"]
            events.append(ToolResultEvent(str(response.get("name", "")), response.get("response")))
    finish = payload.get("finishReason")
    if payload.get("errorCode") or payload.get("errorMessage"):
        code = _code(payload.get("errorCode"))
        message = payload.get("errorMessage") or f"the agent stopped: {code}"
        events.append(ErrorEvent(str(message), code))
    elif isinstance(finish, str) and finish.upper() not in NORMAL_FINISH:
        events.append(ErrorEvent(f"the agent stopped: {finish}", finish))
    return events


def parse_data(data: str) -> list[StreamEvent]:
    """Decode one `data:` payload of either dialect.

    Empty data is a heartbeat. Data that is not JSON is text, unless it looks like JSON (`{`, `[`): then
    it is a cut-off frame or an end marker such as OpenAI's `[DONE]`, and nothing for the user.
    """
    if not data.strip():
        return [HeartbeatEvent()]
    try:
        payload = json.loads(data)
    except json.JSONDecodeError:
        if data.lstrip()[:1] in ("{", "["):
            logger.debug("ignoring a data frame that is not JSON: %.40r", data)
            return []
        return [TextEvent(data)]
    if not isinstance(payload, dict):
        return [TextEvent(payload)] if isinstance(payload, str) else []
    if "type" in payload:
        return _typed(payload)
    if "error" in payload and "content" not in payload:
        error = payload["error"]
        if isinstance(error, dict):
            message = error.get("message") or error.get("status") or json.dumps(error)
            return [ErrorEvent(str(message), _code(error.get("code")))]
        return [ErrorEvent(str(error), _code(payload.get("code")))]
    return _adk(payload)


@dataclass(frozen=True)
class SSEBlock:
    """One dispatched SSE event (`data` joined by newlines), or a comment line (`comment` set)."""

    data: str = ""
    event: str = "message"
    comment: str | None = None


class SSEDecoder:
    """A pure, incremental WHATWG server-sent-events decoder: feed text, get blocks.

    Line ends are CR, LF or CRLF (a CRLF split across two chunks counts once). A block is dispatched on a
    blank line, and at the end of the stream if it holds data (the spec drops such a block; we keep it, so
    an error in the last frame of a connection the server closed is not lost).
    """

    def __init__(self) -> None:
        self._pending = ""
        self._started = False
        self._skip_lf = False
        self._data: list[str] = []
        self._event = ""

    def feed(self, text: str) -> list[SSEBlock]:
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._skip_lf and text:
            self._skip_lf = False
            text = text.removeprefix("\n")
        blocks: list[SSEBlock] = []
        buffer = self._pending + text
        start = 0
        for end in _LINE_END.finditer(buffer):
            blocks.extend(self._line(buffer[start : end.start()]))
            start = end.end()
        self._pending = buffer[start:]
        self._skip_lf = buffer.endswith("\r")  # its LF, if one comes, starts the next chunk
        return blocks

    def flush(self) -> list[SSEBlock]:
        """The end of the stream: an unterminated last line counts, a block with data is dispatched."""
        blocks = self._line(self._pending) if self._pending else []
        self._pending = ""
        return blocks + self._dispatch()

    def _line(self, line: str) -> list[SSEBlock]:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return [SSEBlock(comment=line[1:])]
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        # `id` and `retry` only set reconnection state, which /run_sse has none of; other fields are ignored.
        return []

    def _dispatch(self) -> list[SSEBlock]:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return []  # no data field: not an event (an `id:`- or `retry:`-only block is not a heartbeat)
        return [SSEBlock(data="\n".join(data), event=event or "message")]


@dataclass
class StreamStats:
    """Counts kept while a stream is read: heartbeats of every form, and SSE comment lines."""

    heartbeats: int = 0
    comments: int = 0
    events: int = 0


def decode_block(block: SSEBlock) -> list[StreamEvent]:
    """The typed events of one SSE block (a comment is a heartbeat)."""
    if block.comment is not None:
        return [HeartbeatEvent(comment=True)]
    if block.event == "error":
        return [ErrorEvent(block.data or "stream error")]
    if block.event != "message":
        logger.debug("ignoring SSE event %r", block.event)  # named events are in neither documented dialect
        return []
    return parse_data(block.data)


async def iter_events(response: httpx.Response, stats: StreamStats) -> AsyncIterator[StreamEvent]:
    """Yield typed events from an open `text/event-stream` response until the server closes it.

    Comments are yielded too (as `HeartbeatEvent(comment=True)`), so whoever reads the stream sees every
    sign of life and can hold its idle limit and deadline however the backend keeps the stream alive.
    """
    decoder = SSEDecoder()

    async def blocks() -> AsyncIterator[SSEBlock]:
        async for text in response.aiter_text():
            for block in decoder.feed(text):
                yield block
        for block in decoder.flush():
            yield block

    async for block in blocks():
        for event in decode_block(block):
            if isinstance(event, HeartbeatEvent):
                if event.comment:
                    stats.comments += 1
                else:
                    stats.heartbeats += 1
            if not (isinstance(event, HeartbeatEvent) and event.comment):
                stats.events += 1
            yield event
