"""Prefect tasks, one per NemoVideo step: thin wrappers over `NemoClient`.

Every task takes the credentials Block (never a client, never a raw token) so it stays picklable for
Dask or Ray workers, and returns a small model. Retries follow the contract's idempotency table:
idempotent steps retry transient failures; `generate` never retries (a second send is a second charge);
`export` is re-submitted only under the same render id. Tasks are not cached by Prefect: the clip
ledger (`prefect_nemo.ledger`) decides what is already done, by content.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff

from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.dispatch import sync_twin
from prefect_nemo.errors import NemoError
from prefect_nemo.models import Credits, GenerateResult, RenderJob, Session, SessionState, TokenInfo, UploadedFile
from prefect_nemo.polling import Deadline
from prefect_nemo.progress import report

__all__ = [
    "aacquire_token",
    "acquire_token",
    "acreate_session",
    "adownload_clip",
    "aexport_clip",
    "agenerate_clip",
    "aget_credits",
    "aget_state",
    "aupload_image",
    "await_for_render",
    "create_session",
    "download_clip",
    "export_clip",
    "generate_clip",
    "get_credits",
    "get_state",
    "retry_transient",
    "upload_image",
    "wait_for_render",
]


def retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only failures that another attempt can fix (transport errors, 429, 5xx); never 4xx."""
    try:
        state.result(_sync=True)  # type: ignore[call-overload]
    except NemoError as exc:
        return exc.retryable
    except Exception:
        return False
    return False


_transient: dict[str, Any] = {
    "retries": 1,  # x the client's own HTTP retries (max_retries + 1 tries): at most 2 x 4 = 8 requests
    "retry_delay_seconds": exponential_backoff(backoff_factor=2),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_transient,
    "cache_policy": NO_CACHE,
}


@task(name="nemo-acquire-token", cache_policy=NO_CACHE)
async def aacquire_token(credentials: NemoCredentials) -> TokenInfo:
    """Make sure a token is at hand - the configured one, the one stored for this client id, or a new
    anonymous starter token - and return what it grants, never the token itself.

    The cloud grants one anonymous token per client id per 7 days, so a stored token is reused
    (and checked with a credits call) rather than asked for again.

    Example:
        ```python
        info = await aacquire_token(NemoCredentials())
        print(info.credits)
        ```
    """
    async with credentials.get_client() as client:
        if not client.has_token:
            return await client.acquire_token()
        balance = await client.credits()  # renews an expired anonymous token (1001) on the way
        return TokenInfo(credits=balance.available, client_id=client.client_id)


@task(name="nemo-create-session", **_transient)
async def acreate_session(credentials: NemoCredentials, language: str = "en") -> Session:
    """Start an editing session: one per clip, so clips render in parallel.

    Example:
        ```python
        session = await acreate_session(NemoCredentials())
        ```
    """
    async with credentials.get_client() as client:
        return await client.create_session(language)


@task(name="nemo-upload-image", **_transient)
async def aupload_image(credentials: NemoCredentials, session_id: str, image: Path) -> UploadedFile:
    """Upload one image to a session, streamed from disk (safe to repeat).

    Example:
        ```python
        uploaded = await aupload_image(credentials, session.session_id, Path("shoe.png"))
        ```
    """
    async with credentials.get_client() as client:
        return await client.upload_file(session_id, Path(image))


@task(name="nemo-generate", retries=0, cache_policy=NO_CACHE)
async def agenerate_clip(
    credentials: NemoCredentials, session_id: str, instruction: str, baseline: str | None = None, timeout: float = 900
) -> GenerateResult:
    """Send the instruction once and wait until the session's draft reflects it.

    Never retried: a second send is a second charge. Silent or dropped streams are recovered by
    polling the session state.

    Example:
        ```python
        result = await agenerate_clip(credentials, session.session_id, "5-second slow push-in, 9:16")
        ```
    """
    async with credentials.get_client() as client:
        return await client.generate(session_id, instruction, baseline=baseline, deadline=Deadline(timeout))


@task(name="nemo-export", **_transient)
async def aexport_clip(
    credentials: NemoCredentials, session_id: str, draft: dict[str, Any], render_id: str, quality: str = "high"
) -> RenderJob:
    """Submit the draft for rendering under a caller-chosen id (record it first; a retry reuses it).

    Example:
        ```python
        job = await aexport_clip(credentials, session.session_id, result.draft, "render_1234")
        ```
    """
    async with credentials.get_client() as client:
        return await client.submit_render(session_id, draft, render_id, quality=quality)


@task(name="nemo-wait-for-render", cache_policy=NO_CACHE)  # a poll must always ask the backend
async def await_for_render(
    credentials: NemoCredentials, render_id: str, timeout: float = 900, progress_key: str | None = None
) -> RenderJob:
    """Poll a render with capped, jittered backoff until it completes; raises typed errors naming the id.

    Example:
        ```python
        job = await await_for_render(credentials, "render_1234", timeout=600)
        ```
    """
    async with credentials.get_client() as client:
        on_progress = (lambda job: report(progress_key, "render", job.progress / 100)) if progress_key else None
        return await client.wait_for_render(render_id, deadline=Deadline(timeout), on_progress=on_progress)


@task(name="nemo-download-clip", **_transient)
async def adownload_clip(
    credentials: NemoCredentials, job: RenderJob, dest: Path, progress_key: str | None = None
) -> Path:
    """Download a finished render to `dest` atomically (temp file, fsync, rename).

    Example:
        ```python
        path = await adownload_clip(credentials, job, Path("clips/shoe.mp4"))
        ```
    """
    async with credentials.get_client() as client:
        on_progress = (
            (lambda got, total: report(progress_key, "download", got / total if total else 0.0))
            if progress_key
            else None
        )
        return await client.download(job, Path(dest), on_progress=on_progress)


@task(name="nemo-credits", **_transient)
async def aget_credits(credentials: NemoCredentials) -> Credits:
    """The account's credit balance: `available`, `frozen` (reserved by running jobs) and `total`.

    Example:
        ```python
        balance = await aget_credits(NemoCredentials())
        print(balance.available)
        ```
    """
    async with credentials.get_client() as client:
        return await client.credits()


@task(name="nemo-session-state", **_transient)
async def aget_state(credentials: NemoCredentials, session_id: str) -> SessionState:
    """The session's current timeline (`draft`, `video_infos`, `canvas_config`).

    Example:
        ```python
        state = await aget_state(NemoCredentials(), clip.session_id)
        print(state.is_ready, state.draft)
        ```
    """
    async with credentials.get_client() as client:
        return await client.state(session_id)


# The sync twins (`async_dispatch`): the same tasks for sync flows and scripts; in async code they run the above.
acquire_token = sync_twin(aacquire_token)
create_session = sync_twin(acreate_session)
upload_image = sync_twin(aupload_image)
generate_clip = sync_twin(agenerate_clip)
export_clip = sync_twin(aexport_clip)
wait_for_render = sync_twin(await_for_render)
download_clip = sync_twin(adownload_clip)
get_credits = sync_twin(aget_credits)
get_state = sync_twin(aget_state)
