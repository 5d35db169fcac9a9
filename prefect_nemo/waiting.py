"""Waiting for the backend's work: a session's draft, a render's output.

Polls follow `polling.Backoff` under the clip's `Deadline`; each poll's own transient failures are
retried by the client's one retry policy until that same deadline, so a backend restart or a burst of
429/5xx does not end a long wait, and nothing waits past it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from prefect_nemo import errors
from prefect_nemo.models import RenderJob, RenderStatus, SessionState
from prefect_nemo.polling import DEFAULT_BACKOFF, Backoff, Deadline

if TYPE_CHECKING:
    from prefect_nemo.client import NemoClient

__all__ = ["wait_for_draft", "wait_for_render"]


async def wait_for_draft(
    client: NemoClient,
    session_id: str,
    *,
    baseline: str | None = None,
    deadline: Deadline | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> SessionState:
    """Poll the session until its draft is ready and differs from `baseline` (section 4's recovery)."""
    deadline = deadline or Deadline(900)
    polls = 1
    state = await client.state(session_id, deadline=deadline)
    while not (state.is_ready and state.fingerprint != baseline):
        if deadline.expired:
            raise errors.NemoTimeout(f"the draft of session {session_id}", deadline.elapsed, "draft not ready")
        await asyncio.sleep(deadline.clamp(backoff.delay(polls - 1)))
        polls += 1
        state = await client.state(session_id, deadline=deadline)
    state.polls = polls
    return state


async def wait_for_render(
    client: NemoClient,
    render_id: str,
    *,
    deadline: Deadline | None = None,
    backoff: Backoff = DEFAULT_BACKOFF,
    on_progress: Callable[[RenderJob], None] | None = None,
) -> RenderJob:
    """Poll a render until it completes (with an output) or fails; resumable from nothing but its id.

    A status outside the contract's four ("cancelled", "expired") ends the wait at once with
    `NemoUnknownStatus` naming it: polling on would only run into the deadline.
    """
    deadline = deadline or Deadline(900)
    started = time.monotonic()
    attempt = 0
    while True:
        job = await client.render_status(render_id, deadline=deadline)
        if on_progress:
            on_progress(job)
        if job.status is RenderStatus.FAILED:
            raise errors.NemoRenderFailed(render_id, job.error or "no reason given")
        if job.status is RenderStatus.UNKNOWN:
            raise errors.NemoUnknownStatus(render_id, job.status_text)
        if job.status is RenderStatus.COMPLETED:
            return job
        if deadline.expired:
            raise errors.NemoTimeout(f"render {render_id}", deadline.elapsed, f"{job.status.value} {job.progress:.0f}%")
        delay = backoff.delay_for_progress(attempt, time.monotonic() - started, job.progress)
        attempt += 1
        await asyncio.sleep(deadline.clamp(delay))
