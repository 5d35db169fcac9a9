"""The /run_sse reader against the WHATWG server-sent-events rules (html.spec.whatwg.org, "Parsing an event
stream"): BOM, CR/LF/CRLF, comments, id/retry-only blocks, multi-line data, the end of the stream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from prefect_nemo.stream import (
    ErrorEvent,
    HeartbeatEvent,
    SSEBlock,
    SSEDecoder,
    StreamEvent,
    StreamStats,
    TextEvent,
    iter_events,
)


def decode(*chunks: str) -> list[SSEBlock]:
    decoder = SSEDecoder()
    blocks = [block for chunk in chunks for block in decoder.feed(chunk)]
    return blocks + decoder.flush()


async def read(raw: bytes, size: int = 5) -> tuple[list[StreamEvent], StreamStats]:
    """Run bytes through `iter_events` in small chunks, as a network delivers them."""

    async def body() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), size):
            yield raw[start : start + size]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    stats = StreamStats()
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        async with http.stream("POST", "http://t/run_sse") as response:
            events = [e async for e in iter_events(response, stats)]
    return events, stats


def texts(events: list[StreamEvent]) -> list[str]:
    return [e.text for e in events if isinstance(e, TextEvent)]


async def test_a_leading_bom_is_dropped() -> None:
    events, _ = await read("\ufeffdata: first\n\ndata: second\n\n".encode())
    assert texts(events) == ["first", "second"]


@pytest.mark.parametrize("end", ["\n", "\r", "\r\n"], ids=["LF", "CR", "CRLF"])
async def test_every_line_end(end: str) -> None:
    raw = f"data: one{end}{end}: ping{end}data: two{end}data: lines{end}{end}".encode()
    for size in (1, 3, 64):  # a CRLF split across reads is one line end
        events, stats = await read(raw, size)
        assert texts(events) == ["one", "two\nlines"] and stats.comments == 1


def test_cr_only_comments_are_counted() -> None:
    blocks = decode(": a\r: b\r\rdata: x\r\r")
    assert [b.comment for b in blocks if b.comment is not None] == [" a", " b"]
    assert [b.data for b in blocks if b.comment is None] == ["x"]


@pytest.mark.parametrize("block", ["retry: 3000\n\n", "id: 42\n\n", "id: 1\nretry: 10\n\n", "event: ping\n\n"])
async def test_a_block_without_data_is_not_a_heartbeat(block: str) -> None:
    events, stats = await read((block + 'data: {"type":"text","content":"hi"}\n\n').encode())
    assert events == [TextEvent("hi")] and stats.heartbeats == 0


async def test_an_empty_data_line_is_a_heartbeat() -> None:
    events, stats = await read(b"data:\n\ndata\n\n")
    assert events == [HeartbeatEvent(), HeartbeatEvent()] and stats.heartbeats == 2


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode("data: a\ndata:b\ndata:  c\n\n") == [SSEBlock(data="a\nb\n c")]


@pytest.mark.parametrize("tail", ["data: last\n", "data: last"], ids=["newline", "no-newline"])
def test_the_last_event_without_a_blank_line_is_kept(tail: str) -> None:
    assert decode("data: first\n\n", tail) == [SSEBlock(data="first"), SSEBlock(data="last")]


async def test_a_truncated_json_frame_is_not_text() -> None:
    events, _ = await read(b'data: {"content":{"parts":[{"text":"Your vi')
    assert events == []


async def test_done_marker_is_not_text() -> None:
    events, _ = await read(b'data: {"type":"text","content":"ok"}\n\ndata: [DONE]\n\n')
    assert texts(events) == ["ok"]


async def test_comments_reach_the_reader_as_heartbeats() -> None:
    events, stats = await read(b": ping\n\n:\n\n")
    assert events == [HeartbeatEvent(comment=True)] * 2 and stats.comments == 2 and stats.heartbeats == 0


async def test_named_error_event() -> None:
    events, _ = await read(b"event: error\ndata: backend exploded\n\n")
    assert events == [ErrorEvent("backend exploded")]


def test_field_without_colon_and_unknown_fields() -> None:
    assert decode("data\nfoo: bar\n\n") == [SSEBlock(data="")]
