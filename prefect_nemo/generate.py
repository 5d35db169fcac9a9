"""Generate: send one instruction, read its stream, and recover the draft however the stream ends.

`open_stream` opens /run_sse (sent again only when the backend surely did not take it); `generate` reads it.

The instruction is sent once and never again (a second send is a second charge). The stream is read
for the agent's texts and tool calls under two clocks that hold whatever arrives: the idle limit (time
since the last meaningful event - heartbeats of any form do not reset it) and the clip's deadline. A
stream that closes silently, drops, or goes idle is recovered by polling the session state. An error
the stream reported is never turned into a silent success: if the draft is nevertheless ready, the
result carries the error in `stream_error` and a warning is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from prefect_nemo import errors
from prefect_nemo.models import GenerateResult
from prefect_nemo.polling import DEFAULT_BACKOFF, Backoff, Deadline
from prefect_nemo.retry import retrying
from prefect_nemo.stream import (
    ErrorEvent,
    HeartbeatEvent,
    StreamEvent,
    StreamStats,
    TextEvent,
    ToolCallEvent,
    iter_events,
)
from prefect_nemo.waiting import wait_for_draft

if TYPE_CHECKING:
    from prefect_nemo.client import NemoClient

__all__ = ["Transcript", "generate", "open_stream"]

logger = logging.getLogger("prefect_nemo.generate")


@dataclass
class Transcript:
    """What a stream said, with ADK's streaming repetitions folded.

    With `"streaming": true` ADK sends text deltas marked `partial` and then the whole text once more in
    a final event, and repeats a function call in a partial event and again in the final one: a text
    counts when final, a tool call once per call id (or name and arguments).
    """

    texts: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    tool_calls: list[str] = field(default_factory=list)
    error: ErrorEvent | None = None
    _calls_seen: set[str] = field(default_factory=set)

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, TextEvent):
            if event.partial:
                self.partial.append(event.text)
            else:
                self.partial.clear()
                self.texts.append(event.text)
        elif isinstance(event, ToolCallEvent):
            if event.key not in self._calls_seen:
                self._calls_seen.add(event.key)
                self.tool_calls.append(event.name)
        elif isinstance(event, ErrorEvent) and self.error is None:
            self.error = event


async def generate(
    client: NemoClient,
    session_id: str,
    text: str,
    *,
    baseline: str | None = None,
    deadline: Deadline | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> GenerateResult:
    """Send one instruction and wait until the session's draft reflects it.

    Errors raised once the backend has taken the instruction (an error event without a new draft, the
    deadline, a failed state poll) are marked `accepted`: a re-run must wait for the draft rather than send
    the instruction again. A refusal with a business code (2001, 1002) charged nothing and is not marked.
    """
    deadline = deadline or Deadline(900)
    result = GenerateResult()
    transcript = Transcript()
    try:
        await _read(client, session_id, text, deadline, transcript, result)
    except errors.NemoTransportError as exc:
        if not exc.sent:
            raise
        _dropped(result, session_id, exc)
    except errors.NemoServerError as exc:
        _dropped(result, session_id, exc)  # the instruction may have been taken: look for its draft
    try:
        return await _recover(client, session_id, baseline, deadline, backoff, transcript, result)
    except errors.NemoError as exc:
        exc.accepted = True
        raise


async def _read(
    client: NemoClient,
    session_id: str,
    text: str,
    deadline: Deadline,
    transcript: Transcript,
    result: GenerateResult,
) -> None:
    """Read the stream to its end, an error event, the idle limit or the deadline."""
    idle = client.stream_idle_timeout
    loop = asyncio.get_running_loop()
    watchdog: asyncio.Timeout | None = None
    try:
        async with asyncio.timeout(deadline.remaining):
            async with client.stream_message(session_id, text) as (events, stats):
                try:
                    async with asyncio.timeout(idle) as watchdog:
                        async for event in events:
                            if isinstance(event, HeartbeatEvent):
                                continue
                            watchdog.reschedule(loop.time() + idle)
                            transcript.add(event)
                            if isinstance(event, ErrorEvent):
                                _raise_business(client, event)
                                break
                finally:
                    result.heartbeats = stats.heartbeats + stats.comments
    except TimeoutError:
        if watchdog is not None and watchdog.expired() and not deadline.expired:
            logger.warning("nothing but heartbeats for %.0f s; checking the session state", idle)
            result.dropped = True
            return
        exc = errors.NemoTimeout(f"the draft of session {session_id}", deadline.elapsed, "streaming")
        exc.accepted = watchdog is not None  # the stream had opened: the backend took the instruction
        raise exc from None
    except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
        _dropped(result, session_id, exc)


def _raise_business(client: NemoClient, event: ErrorEvent) -> None:
    """A business code in the stream (2001 out of credits, 1002 no session) raises its own exception.

    These are the backend refusing the instruction (nothing is charged), so they are not `accepted`.
    """
    cls = errors.BUSINESS_CODES.get(event.code) if isinstance(event.code, int) else None
    if cls is not None:
        raise cls(client._scrub(event.message), code=event.code, endpoint="POST /run_sse")


def _dropped(result: GenerateResult, session_id: str, exc: BaseException) -> None:
    logger.warning(
        "the stream for session %s ended early (%s); checking the session state, not re-sending",
        session_id,
        type(exc).__name__,
    )
    result.dropped = True


async def _recover(
    client: NemoClient,
    session_id: str,
    baseline: str | None,
    deadline: Deadline,
    backoff: Backoff,
    transcript: Transcript,
    result: GenerateResult,
) -> GenerateResult:
    result.texts = transcript.texts
    result.tool_calls = transcript.tool_calls
    if transcript.partial:
        result.partial_text = "".join(transcript.partial)
        logger.warning("the stream ended mid-text; %r is kept as unfinished, not as the agent's answer",
                       result.partial_text[:80])  # fmt: skip
    result.silent = not result.texts
    error = transcript.error
    if error is not None:
        # The cloud sometimes ends a finished edit with "I encountered a temporary issue": the draft
        # decides. One look at the state: a new, ready draft means the work was done - and we say so.
        message = client._scrub(error.message)
        state = await client.state(session_id, deadline=deadline)
        if not (state.is_ready and state.fingerprint != baseline):
            raise errors.NemoStreamError(message, session_id=session_id, code=error.code)
        code = f" [{error.code}]" if error.code is not None else ""
        result.stream_error = f"{message}{code}"
        logger.warning(
            "the stream for session %s reported an error (%s) but the draft is ready; going on",
            session_id,
            result.stream_error,
        )
        result.draft = state.draft
        return result
    state = await wait_for_draft(client, session_id, baseline=baseline, deadline=deadline, backoff=backoff)
    result.recovered_by_polling = state.polls > 1
    result.draft = state.draft
    return result


@asynccontextmanager
async def open_stream(
    client: NemoClient, session_id: str, text: str
) -> AsyncIterator[tuple[AsyncIterator[StreamEvent], StreamStats]]:
    """Open /run_sse for one instruction (`NemoClient.stream_message`).

    Sent again only when the backend surely did not take it: the connection was refused, the answer
    was 429 (rate limited before any work), or 1001 (token expired; renewed with the same client id).
    Any other error is raised; a 5xx or a lost connection may mean the instruction was taken, so the
    caller recovers by polling the session state instead of sending it again.
    """
    body = {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": text}]},
    }
    connect = client._http.timeout.connect
    timeout = httpx.Timeout(connect, read=client.stream_idle_timeout, connect=connect)

    async def send() -> httpx.Response:
        headers = {**client._auth_headers(), "Accept": "text/event-stream", "Cache-Control": "no-store"}
        request = client._http.build_request("POST", "/run_sse", json=body, headers=headers, timeout=timeout)
        try:
            response = await client._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise client._transport_error("POST /run_sse", exc) from exc
        if "text/event-stream" in response.headers.get("content-type", ""):
            return response
        try:
            await response.aread()
        finally:
            await response.aclose()
        client._unwrap(response)  # raises the mapped error
        raise errors.NemoStreamError("the backend answered /run_sse without an event stream", session_id=session_id)

    def not_taken(exc: BaseException) -> bool:
        refused = isinstance(exc, errors.NemoTransportError) and not exc.sent
        return refused or isinstance(exc, errors.NemoRateLimited)

    response: httpx.Response | None = None
    async for attempt in retrying(
        attempts=client.max_retries + 1, retry_if=not_taken, rate_limit_wait=client.rate_limit_wait
    ):
        with attempt:
            response = await client._authorized(send)
    assert response is not None
    stats = StreamStats()
    try:
        yield iter_events(response, stats), stats
    finally:
        await response.aclose()
