"""`generate` against Google ADK api_server output (google/adk-python `adk api_server`, /run_sse): partial
and final texts, function calls repeated by `"streaming": true`, `errorCode`/`finishReason`, `{"error"}`
objects, HTTP 404 "Session not found", `[DONE]`, and heartbeats of every form under the idle limit and
the clip's deadline."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from prefect_nemo import errors
from prefect_nemo.models import GenerateResult
from prefect_nemo.polling import Backoff, Deadline
from tests.contract.scripted import READY_DRAFT, TOKEN, Backend, adk, reply, sse, state

RUN = "POST /run_sse"
STATE = "GET /api/state/nemo_agent/me/s1/latest"
FAST = Backoff(initial=0.05, factor=1.0, cap=0.05)
SEEDANCE = {"id": "adk-call-1", "name": "generate_video_with_seedance", "args": {"duration": 5}}


def backend_with(*frames: str, draft: dict[str, object] | None = READY_DRAFT) -> Backend:
    return Backend().on(RUN, sse(*frames)).on(STATE, state(draft))


async def run(backend: Backend, tmp_path: Path, seconds: float = 20, **kwargs: object) -> GenerateResult:
    async with backend.client(tmp_path, **kwargs) as client:
        return await client.generate("s1", "5-second push-in", deadline=Deadline(seconds), backoff=FAST)


async def test_partial_deltas_then_the_final_text(tmp_path: Path) -> None:
    frames = [
        adk([{"text": "Your video "}], partial=True),
        adk([{"text": "is ready."}], partial=True),
        adk([{"text": "Your video is ready."}], turnComplete=True),
    ]
    result = await run(backend_with(*frames), tmp_path)
    assert result.texts == ["Your video is ready."] and result.partial_text is None


async def test_a_leftover_partial_is_not_a_finished_text(tmp_path: Path) -> None:
    result = await run(backend_with(adk([{"text": "Your video "}], partial=True)), tmp_path)
    assert result.texts == [] and result.silent and result.partial_text == "Your video "


async def test_a_function_call_repeated_by_streaming_counts_once(tmp_path: Path) -> None:
    frames = [
        adk([{"functionCall": SEEDANCE}], partial=True),
        adk([{"functionCall": SEEDANCE}]),
        adk([{"functionResponse": {"id": "adk-call-1", "name": SEEDANCE["name"], "response": {"ok": True}}}]),
        adk([{"text": "Done."}]),
    ]
    result = await run(backend_with(*frames), tmp_path)
    assert result.tool_calls == ["generate_video_with_seedance"]


async def test_two_distinct_calls_both_count(tmp_path: Path) -> None:
    second = {**SEEDANCE, "id": "adk-call-2", "name": "edit_multitrack"}
    result = await run(backend_with(adk([{"functionCall": SEEDANCE}, {"functionCall": second}])), tmp_path)
    assert result.tool_calls == ["generate_video_with_seedance", "edit_multitrack"]


@pytest.mark.parametrize(
    "frame",
    [
        adk([], errorCode="SAFETY", errorMessage="blocked by the safety filter"),
        adk([{"text": "I can't"}], finishReason="SAFETY"),
        f"data: {json.dumps({'error': 'I encountered a temporary issue'})}\n\n",
        f"data: {json.dumps({'error': {'code': 'UNAVAILABLE', 'message': 'model overloaded'}})}\n\n",
    ],
    ids=["errorCode", "finishReason", "error-string", "error-object"],
)
async def test_an_error_then_a_ready_draft_is_success_that_says_so(
    frame: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="prefect_nemo"):
        result = await run(backend_with(frame), tmp_path)
    assert result.stream_error and result.draft == READY_DRAFT
    assert any("reported an error" in r.getMessage() for r in caplog.records)


async def test_an_error_without_a_new_draft_keeps_its_string_code(tmp_path: Path) -> None:
    backend = backend_with(adk([], errorCode="SAFETY", errorMessage="blocked"), draft=None)
    with pytest.raises(errors.NemoStreamError, match="blocked") as caught:
        await run(backend, tmp_path)
    assert caught.value.code == "SAFETY" and caught.value.accepted


@pytest.mark.parametrize("code", [2001, "2001"])
async def test_out_of_credits_in_the_stream(code: object, tmp_path: Path) -> None:
    frame = adk([], errorCode=code, errorMessage="out of credits")
    with pytest.raises(errors.NemoOutOfCredits) as caught:
        await run(backend_with(frame), tmp_path)
    assert not caught.value.accepted  # a refusal: nothing was charged, a later run may send it again


async def test_404_session_not_found_on_run_sse(tmp_path: Path) -> None:
    backend = Backend().on(RUN, reply(404, {"detail": "Session not found"})).on(STATE, state())
    with pytest.raises(errors.NemoSessionNotFound) as caught:
        await run(backend, tmp_path)
    assert not caught.value.accepted and len(backend.sent(RUN)) == 1


async def test_done_marker_is_not_a_text(tmp_path: Path) -> None:
    result = await run(backend_with(adk([{"text": "Here it is."}]), "data: [DONE]\n\n"), tmp_path)
    assert result.texts == ["Here it is."]


async def test_a_silent_close_is_recovered_from_the_state(tmp_path: Path) -> None:
    backend = Backend().on(RUN, sse(adk([{"functionCall": SEEDANCE}])))
    backend.on(STATE, state(None), state(None), state())
    result = await run(backend, tmp_path)
    assert result.silent and result.recovered_by_polling and result.draft == READY_DRAFT
    assert len(backend.sent(RUN)) == 1


@pytest.mark.parametrize("beat", [b": ping\n\n", b"\r:\r\r", b"data:\n\n", b'data: {"type":"heartbeat"}\n\n'])
async def test_heartbeats_of_every_form_do_not_defeat_the_idle_limit(beat: bytes, tmp_path: Path) -> None:
    backend = Backend().on(RUN, sse(adk([{"text": "Working."}]), forever=beat)).on(STATE, state())
    started = time.monotonic()
    result = await run(backend, tmp_path, stream_idle_timeout=0.4)
    assert result.dropped and result.draft == READY_DRAFT and result.heartbeats > 0
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("beat", [b": ping\n\n", b"data:\n\n"])
async def test_the_deadline_holds_while_heartbeats_flow(beat: bytes, tmp_path: Path) -> None:
    backend = Backend().on(RUN, sse(forever=beat)).on(STATE, state())
    started = time.monotonic()
    with pytest.raises(errors.NemoTimeout) as caught:
        await run(backend, tmp_path, seconds=0.6, stream_idle_timeout=60)
    assert time.monotonic() - started < 3 and caught.value.accepted


async def test_the_deadline_holds_while_events_keep_coming(tmp_path: Path) -> None:
    chatter = adk([{"text": "still "}], partial=True).encode()
    backend = Backend().on(RUN, sse(forever=chatter)).on(STATE, state())
    started = time.monotonic()
    with pytest.raises(errors.NemoTimeout):
        await run(backend, tmp_path, seconds=0.6, stream_idle_timeout=60)
    assert time.monotonic() - started < 3


async def test_the_typed_dialect_too(tmp_path: Path) -> None:
    frames = [
        'data: {"type":"text","content":"I\'ll generate your video now..."}\n\n',
        'data: {"type":"tool_call","name":"generate_video_with_seedance","args":{}}\n\n',
        'data: {"type":"heartbeat"}\n\n',
        'data: {"type":"tool_result","name":"generate_video_with_seedance","result":{}}\n\n',
    ]
    result = await run(backend_with(*frames), tmp_path)
    assert result.tool_calls == ["generate_video_with_seedance"] and result.heartbeats == 1


async def test_the_instruction_is_sent_once_with_the_documented_body(tmp_path: Path) -> None:
    backend = backend_with(adk([{"text": "ok"}]))
    await run(backend, tmp_path)
    (request,) = backend.sent(RUN)
    body = json.loads(request.content)
    assert body == {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": "s1",
        "new_message": {"parts": [{"text": "5-second push-in"}]},
    }
    assert request.headers["accept"] == "text/event-stream" and request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_failed_state_poll_after_the_stream_is_marked_accepted(tmp_path: Path) -> None:
    backend = Backend().on(RUN, sse()).on(STATE, reply(400, {"message": "state unavailable"}))
    with pytest.raises(errors.NemoBadRequest) as caught:
        await run(backend, tmp_path)
    assert caught.value.accepted  # the instruction was taken: a re-run must not send it again
