"""Both /run_sse dialects decode to the same typed events; heartbeats of every form are counted."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from prefect_nemo.stream import (
    ErrorEvent,
    HeartbeatEvent,
    StreamStats,
    TextEvent,
    ToolCallEvent,
    ToolResultEvent,
    iter_events,
    parse_data,
)


class TestTypedDialect:
    def test_text(self) -> None:
        assert parse_data('{"type":"text","content":"Working on it"}') == [TextEvent("Working on it")]

    def test_tool_call_and_result(self) -> None:
        call = parse_data('{"type":"tool_call","name":"generate_video_with_seedance","args":{"d":5}}')
        result = parse_data('{"type":"tool_result","name":"generate_video_with_seedance","result":{"ok":true}}')
        assert call == [ToolCallEvent("generate_video_with_seedance", {"d": 5})]
        assert result == [ToolResultEvent("generate_video_with_seedance", {"ok": True})]

    def test_heartbeat(self) -> None:
        assert parse_data('{"type":"heartbeat"}') == [HeartbeatEvent()]

    def test_error_keeps_code(self) -> None:
        assert parse_data('{"type":"error","message":"out of credits","code":2001}') == [
            ErrorEvent("out of credits", 2001)
        ]

    def test_unknown_type_is_ignored(self) -> None:
        assert parse_data('{"type":"thinking","content":"hmm"}') == []


class TestAdkDialect:
    def test_text_parts(self) -> None:
        payload = {"content": {"role": "model", "parts": [{"text": "Here is"}, {"text": " your clip"}]}, "author": "a"}
        assert parse_data(json.dumps(payload)) == [TextEvent("Here is"), TextEvent(" your clip")]

    def test_partial_text(self) -> None:
        payload = {"content": {"parts": [{"text": "Par"}]}, "partial": True}
        assert parse_data(json.dumps(payload)) == [TextEvent("Par", partial=True)]

    def test_function_call_and_response(self) -> None:
        payload = {
            "content": {
                "parts": [
                    {"functionCall": {"id": "1", "name": "edit_multitrack", "args": {"title": "Sale"}}},
                    {"functionResponse": {"id": "1", "name": "edit_multitrack", "response": {"status": "ok"}}},
                ]
            }
        }
        assert parse_data(json.dumps(payload)) == [
            ToolCallEvent("edit_multitrack", {"title": "Sale"}, call_id="1"),
            ToolResultEvent("edit_multitrack", {"status": "ok"}),
        ]

    @pytest.mark.parametrize(
        ("payload", "expected"),
        [
            ({"error": "boom"}, ErrorEvent("boom")),
            ({"errorCode": "2001", "errorMessage": "no credits"}, ErrorEvent("no credits", 2001)),
            ({"error": {"message": "bad", "code": 1002}}, ErrorEvent("bad", 1002)),
        ],
    )
    def test_errors(self, payload: dict[str, object], expected: ErrorEvent) -> None:
        assert parse_data(json.dumps(payload)) == [expected]


def test_empty_data_is_a_heartbeat() -> None:
    assert parse_data("") == [HeartbeatEvent()]


def test_non_json_data_is_text() -> None:
    assert parse_data("plain words") == [TextEvent("plain words")]


async def test_iter_events_counts_every_heartbeat_form() -> None:
    body = (
        ": keepalive\n\n"
        'data: {"type":"text","content":"hello"}\n\n'
        "data:\n\n"
        ": ping\n\n"
        'data: {"type":"heartbeat"}\n\n'
        'data: {"content":{"parts":[{"text":"adk"}]}}\n\n'
    )

    async def chunks() -> AsyncIterator[bytes]:
        data = body.encode()
        for start in range(0, len(data), 7):  # small chunks: lines split across reads
            yield data[start : start + 7]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=chunks())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        async with http.stream("POST", "http://test/run_sse") as response:
            stats = StreamStats()
            events = [e async for e in iter_events(response, stats)]
    assert [e for e in events if isinstance(e, TextEvent)] == [TextEvent("hello"), TextEvent("adk")]
    assert stats.heartbeats == 2  # the empty data line and the typed heartbeat
    assert stats.comments == 2  # both SSE comment lines
