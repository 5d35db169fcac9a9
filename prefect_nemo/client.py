"""NemoClient: one async httpx client for every NemoVideo endpoint.

All requests pass through `_call`, the one place that adds headers, decodes both envelopes
(`{"code", "data"}` and `{"success", "data"}`), maps failures to `prefect_nemo.errors`, retries what is
safe to retry, and renews an expired anonymous token with the same client id. Methods return models.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import os
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
from pydantic import SecretStr

from prefect_nemo import errors
from prefect_nemo.identity import TokenStore, resolve_client_id
from prefect_nemo.models import (
    Credits,
    GenerateResult,
    RenderJob,
    RenderStatus,
    Session,
    SessionState,
    TokenInfo,
    UploadedFile,
)
from prefect_nemo.polling import DEFAULT_BACKOFF, Backoff, Deadline
from prefect_nemo.stream import (
    ErrorEvent,
    HeartbeatEvent,
    StreamEvent,
    StreamStats,
    TextEvent,
    ToolCallEvent,
    iter_events,
)

__all__ = ["NemoClient", "upload_name"]

logger = logging.getLogger("prefect_nemo.client")
T = TypeVar("T")

MAX_RENEWALS = 3
"""Token renewals (1001) allowed within one call: a token may expire again while a retry is on its way."""

SKILL_SOURCE = "prefect-nemo"
SKILL_PLATFORM = "prefect"
MIME_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
    ".mp4": "video/mp4", ".mov": "video/quicktime", ".avi": "video/x-msvideo", ".webm": "video/webm",
    ".mkv": "video/x-matroska", ".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4", ".aac": "audio/aac",
}  # fmt: skip


def _version() -> str:
    from prefect_nemo import __version__

    return __version__


class NemoClient:
    """Async client for the NemoVideo API (or the embedded backend, which speaks the same API).

    Args:
        api_url: Base URL of the backend, e.g. `https://mega-api-prod.nemovideo.ai`.
        token: A `nmv_usr_` token; when omitted an anonymous token is acquired (and renewed on 1001).
        client_id: X-Client-Id for anonymous tokens; defaults to `resolve_client_id()`.
        timeout: httpx timeout for ordinary calls; the stream uses `stream_idle_timeout` for reads.
        max_retries: Retries of idempotent calls on transport errors, 429 and 5xx.
        rate_limit_wait: Seconds to wait on a 429 without Retry-After (the contract says 30).
        transport: An httpx transport, for tests.

    Example:
        ```python
        async with NemoClient("https://mega-api-prod.nemovideo.ai") as client:
            session = await client.create_session()
        ```
    """

    def __init__(
        self,
        api_url: str,
        *,
        token: SecretStr | None = None,
        client_id: str | None = None,
        timeout: float = 30.0,
        stream_idle_timeout: float = 600.0,
        max_retries: int = 3,
        rate_limit_wait: float = 30.0,
        token_store: TokenStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.client_id = resolve_client_id(client_id)
        self.stream_idle_timeout = stream_idle_timeout
        self.max_retries = max_retries
        self.rate_limit_wait = rate_limit_wait
        self._explicit_token = token is not None
        self._token_store = token_store or TokenStore()
        self._token: SecretStr | None = token or self._token_store.get(self.api_url, self.client_id)
        self._token_lock = asyncio.Lock()
        self._seen_tokens: set[str] = set()  # every token this client held, scrubbed from every message
        self._http = httpx.AsyncClient(
            base_url=self.api_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            headers={
                "User-Agent": f"prefect-nemo/{_version()}",
                "X-Skill-Source": SKILL_SOURCE,
                "X-Skill-Version": _version(),
                "X-Skill-Platform": SKILL_PLATFORM,
            },
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- plumbing ---------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        if self._token is not None:
            self._seen_tokens.add(self._token.get_secret_value())
        for secret in self._seen_tokens:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _auth_headers(self) -> dict[str, str]:
        assert self._token is not None
        return {"Authorization": f"Bearer {self._token.get_secret_value()}"}

    def _error(self, response: httpx.Response, body: Any) -> errors.NemoAPIError:
        code: int | None = None
        message = f"HTTP {response.status_code} {response.reason_phrase}"
        if isinstance(body, dict):
            raw = body.get("code")
            code = raw if isinstance(raw, int) and raw != 0 else None
            text = body.get("message") or body.get("msg") or body.get("error") or body.get("detail")
            if text:
                message = str(text)
        path = response.request.url.path
        cls = errors.error_for(code, response.status_code if response.status_code >= 400 else None, path)
        kwargs: dict[str, Any] = {
            "code": code,
            "status_code": response.status_code,
            "request_id": response.headers.get("x-request-id"),
            "endpoint": f"{response.request.method} {path}",
        }
        if cls is errors.NemoRateLimited:
            kwargs["retry_after"] = _retry_after(response)
        return cls(self._scrub(message), **kwargs)

    def _unwrap(self, response: httpx.Response) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise self._error(response, body)
        if not isinstance(body, dict):
            raise errors.NemoBadRequest(
                f"expected a JSON object, got {response.headers.get('content-type')!r}",
                status_code=response.status_code,
                endpoint=f"{response.request.method} {response.request.url.path}",
            )
        if "code" in body:
            if body["code"] not in (0, "0"):
                raise self._error(response, body)
            return body.get("data")
        if "success" in body:
            if not body["success"]:
                raise self._error(response, body)
            return body.get("data")
        return body  # an unwrapped layout (render status in SKILL >= 4.5.1)

    async def _ensure_token(self, stale: SecretStr | None = None) -> None:
        async with self._token_lock:
            if self._token is not None and self._token is not stale:
                return
            await self.acquire_token()

    async def _call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Send one request, with the retries its kind allows; return the envelope's data."""
        attempt = 0
        renewals = 0
        extra_headers: dict[str, str] = kwargs.pop("headers", None) or {}  # kept for every attempt
        while True:
            if auth:
                await self._ensure_token()
            token = self._token
            headers = {**extra_headers, **(self._auth_headers() if auth else {})}
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
                return self._unwrap(response)
            except httpx.TransportError as exc:
                sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                error: errors.NemoError = errors.NemoTransportError(
                    f"{method} {path}: {type(exc).__name__}: {self._scrub(str(exc)) or 'no answer'}", sent=sent
                )
                if sent and not idempotent:
                    raise error from exc
            except errors.NemoAuthError:
                if not auth or self._explicit_token or renewals >= MAX_RENEWALS:
                    raise
                renewals += 1
                logger.info("token rejected (1001); acquiring a new one with the same client id")
                await self._ensure_token(stale=token)
                self._rewind(kwargs)
                continue
            except errors.NemoAPIError as exc:
                if not exc.retryable:
                    raise
                error = exc
            if attempt >= self.max_retries:
                raise error
            delay = min(8.0, 0.5 * 2**attempt)
            if isinstance(error, errors.NemoRateLimited):
                delay = error.retry_after if error.retry_after is not None else self.rate_limit_wait
            attempt += 1
            logger.warning("%s; retry %d/%d in %.1f s", error, attempt, self.max_retries, delay)
            await asyncio.sleep(delay)
            self._rewind(kwargs)

    @staticmethod
    def _rewind(kwargs: dict[str, Any]) -> None:
        for _, spec in kwargs.get("files") or []:
            handle = spec[1]
            if hasattr(handle, "seek"):
                handle.seek(0)

    # -- endpoints --------------------------------------------------------------------------------

    @property
    def has_token(self) -> bool:
        """Whether a token is configured or stored for this backend and client id."""
        return self._token is not None

    async def acquire_token(self) -> TokenInfo:
        """POST /api/auth/anonymous-token: a free starter token for this client id (stored, never returned)."""
        data = await self._call(
            "POST", errors.ANONYMOUS_TOKEN_PATH, auth=False, headers={"X-Client-Id": self.client_id}
        )
        token = SecretStr(str(data["token"]))
        info = TokenInfo.model_validate({**data, "client_id": self.client_id})
        if self._token is not None:
            self._seen_tokens.add(self._token.get_secret_value())
        self._seen_tokens.add(token.get_secret_value())
        self._token = token
        self._token_store.put(self.api_url, self.client_id, token, info.expires_at)
        return info

    async def create_session(self, language: str = "en") -> Session:
        data = await self._call(
            "POST", "/api/tasks/me/with-session/nemo_agent", json={"task_name": "project", "language": language}
        )
        return Session.model_validate(data)

    async def upload_file(self, session_id: str, path: Path) -> UploadedFile:
        """Upload one local file, streamed from disk (multipart field `files`).

        The name sent is a safe ASCII form of the file's name (a non-UTF-8 or very long local name
        neither breaks the request nor leaves the machine).
        """
        mime = MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")
        with path.open("rb") as handle:
            data = await self._call(
                "POST",
                f"/api/upload-video/nemo_agent/me/{session_id}",
                files=[("files", (upload_name(path), handle, mime))],
            )
        return UploadedFile.model_validate(data["files"][0])

    async def upload_urls(self, session_id: str, urls: list[str]) -> list[UploadedFile]:
        data = await self._call(
            "POST", f"/api/upload-video/nemo_agent/me/{session_id}", json={"urls": urls, "source_type": "url"}
        )
        return [UploadedFile.model_validate(f) for f in data["files"]]

    async def credits(self) -> Credits:
        return Credits.model_validate(await self._call("GET", "/api/credits/balance/simple"))

    async def state(self, session_id: str) -> SessionState:
        return SessionState.model_validate(await self._call("GET", f"/api/state/nemo_agent/me/{session_id}/latest"))

    async def claim_link(self, task_id: str, session_id: str) -> str:
        """A browser link to the session's workspace (section 3); it carries a claim token, never the API token."""
        data = await self._call("POST", "/api/auth/claim-token", json={"task_id": task_id, "session_id": session_id})
        web = os.environ.get("NEMO_WEB_URL", "https://nemovideo.com")
        return str(data.get("url") or f"{web}/workspace/claim?ct={data['claim_token']}")

    async def submit_render(
        self, session_id: str, draft: dict[str, Any], render_id: str, *, quality: str = "high"
    ) -> RenderJob:
        """POST /api/render/proxy/lambda with a caller-chosen id, so a lost answer can be resumed by id."""
        body = {
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": quality},
        }
        try:
            data = await self._call("POST", "/api/render/proxy/lambda", json=body)
        except errors.NemoBadRequest as exc:
            if exc.status_code == 409:  # our earlier submit of this id got through: resume it
                return await self.render_status(render_id)
            raise
        return RenderJob.model_validate({"id": render_id, **(data or {})})

    async def render_status(self, render_id: str) -> RenderJob:
        return RenderJob.model_validate(await self._call("GET", f"/api/render/proxy/lambda/{render_id}"))

    @asynccontextmanager
    async def stream_message(
        self, session_id: str, text: str
    ) -> AsyncIterator[tuple[AsyncIterator[StreamEvent], StreamStats]]:
        """Open /run_sse for one instruction.

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
        stats = StreamStats()
        refused = rate_limited = renewals = 0
        while True:
            await self._ensure_token()
            token = self._token
            headers = {**self._auth_headers(), "Accept": "text/event-stream", "Cache-Control": "no-store"}
            timeout = httpx.Timeout(
                self._http.timeout.connect, read=self.stream_idle_timeout, connect=self._http.timeout.connect
            )
            request = self._http.build_request("POST", "/run_sse", json=body, headers=headers, timeout=timeout)
            try:
                response = await self._http.send(request, stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if refused < 1:
                    refused += 1
                    continue  # it never reached the server: the one safe retry
                raise errors.NemoTransportError(f"POST /run_sse: {type(exc).__name__}", sent=False) from exc
            except httpx.TransportError as exc:
                raise errors.NemoTransportError(f"POST /run_sse: {type(exc).__name__}", sent=True) from exc
            if "text/event-stream" in response.headers.get("content-type", ""):
                break
            try:
                await response.aread()
            finally:
                await response.aclose()
            try:
                self._unwrap(response)  # raises the mapped error
            except errors.NemoRateLimited as exc:
                if rate_limited >= self.max_retries:
                    raise
                rate_limited += 1
                delay = exc.retry_after if exc.retry_after is not None else self.rate_limit_wait
                logger.warning("instruction refused (HTTP 429, not run); sending it again in %.1f s", delay)
                await asyncio.sleep(delay)
                continue
            except errors.NemoAuthError:
                if self._explicit_token or renewals >= MAX_RENEWALS:
                    raise
                renewals += 1
                logger.info("token rejected (1001) before the instruction ran; renewing it with the same client id")
                await self._ensure_token(stale=token)
                continue
            raise errors.NemoStreamError("the backend answered /run_sse without an event stream", session_id=session_id)
        try:
            yield iter_events(response, stats), stats
        finally:
            await response.aclose()

    async def generate(
        self,
        session_id: str,
        text: str,
        *,
        baseline: str | None = None,
        deadline: Deadline | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> GenerateResult:
        """Send one instruction and wait until the session's draft reflects it.

        The stream is read for the agent's texts and tool calls. When it closes without text (the
        cloud does so for ~30% of edits), drops mid-way, or sends only heartbeats past the idle limit,
        the session state is polled until the draft is ready and differs from `baseline` (a
        `SessionState.fingerprint` taken before sending). The instruction itself is never re-sent.
        """
        deadline = deadline or Deadline(900)
        result = GenerateResult()
        partial: list[str] = []
        stream_error: ErrorEvent | None = None
        try:
            async with self.stream_message(session_id, text) as (events, stats):
                last_meaningful = time.monotonic()
                async for event in events:
                    if isinstance(event, HeartbeatEvent):
                        if time.monotonic() - last_meaningful > self.stream_idle_timeout:
                            logger.warning(
                                "only heartbeats for %.0f s; checking the session state", self.stream_idle_timeout
                            )
                            result.dropped = True
                            break
                        continue
                    last_meaningful = time.monotonic()
                    if isinstance(event, TextEvent):
                        if event.partial:
                            partial.append(event.text)
                        else:
                            partial.clear()
                            result.texts.append(event.text)
                    elif isinstance(event, ToolCallEvent):
                        result.tool_calls.append(event.name)
                    elif isinstance(event, ErrorEvent):
                        cls = errors.BUSINESS_CODES.get(event.code or 0)
                        if cls is not None:
                            raise cls(self._scrub(event.message), code=event.code, endpoint="POST /run_sse")
                        stream_error = event
                        break
                    if deadline.expired:
                        raise errors.NemoTimeout(f"the draft of session {session_id}", deadline.elapsed, "streaming")
                result.heartbeats = stats.heartbeats + stats.comments
        except (httpx.ReadError, httpx.RemoteProtocolError, httpx.ReadTimeout) as exc:
            logger.warning(
                "the stream for session %s dropped (%s); checking the session state", session_id, type(exc).__name__
            )
            result.dropped = True
        except (errors.NemoServerError, errors.NemoTransportError) as exc:
            if isinstance(exc, errors.NemoTransportError) and not exc.sent:
                raise
            # The instruction may have been taken: never send it again, look for its draft instead.
            logger.warning("no stream for session %s (%s); checking the session state, not re-sending", session_id, exc)
            result.dropped = True
        if partial:
            result.texts.append("".join(partial))
        result.silent = not result.texts
        if stream_error is not None:
            # The cloud sometimes ends a finished edit with "I encountered a temporary issue": the draft
            # decides. One look at the state: a new, ready draft means the work was done.
            state = await self._tolerant(lambda: self.state(session_id), deadline)
            if not (state.is_ready and state.fingerprint != baseline):
                raise errors.NemoStreamError(
                    self._scrub(stream_error.message), session_id=session_id, code=stream_error.code
                )
            logger.warning(
                "the stream for session %s ended with an error (%s) but the draft is ready; going on",
                session_id,
                self._scrub(stream_error.message),
            )
            result.draft = state.draft
            return result
        state = await self.wait_for_draft(session_id, baseline=baseline, deadline=deadline, backoff=backoff)
        result.recovered_by_polling = state.polls > 1
        result.draft = state.draft
        return result

    async def wait_for_draft(
        self,
        session_id: str,
        *,
        baseline: str | None = None,
        deadline: Deadline | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> SessionState:
        """Poll the session until its draft is ready and differs from `baseline` (section 4's recovery)."""
        deadline = deadline or Deadline(900)
        polls = 1
        state = await self._tolerant(lambda: self.state(session_id), deadline)
        while not (state.is_ready and state.fingerprint != baseline):
            if deadline.expired:
                raise errors.NemoTimeout(f"the draft of session {session_id}", deadline.elapsed, "draft not ready")
            await asyncio.sleep(deadline.clamp(backoff.delay(polls - 1)))
            polls += 1
            state = await self._tolerant(lambda: self.state(session_id), deadline)
        state.polls = polls
        return state

    async def _tolerant(self, poll: Callable[[], Awaitable[T]], deadline: Deadline) -> T:
        """One poll of something idempotent; transient failures (after `_call`'s own retries) are waited
        out until the deadline, so a backend restart or a burst of 429/5xx does not end a long wait."""
        attempt = 0
        while True:
            try:
                return await poll()
            except errors.NemoError as exc:
                if not exc.retryable or deadline.expired:
                    raise
                delay = deadline.clamp(min(5.0, 0.5 * 2**attempt))
                attempt += 1
                logger.warning("%s; polling again in %.1f s", exc, delay)
                await asyncio.sleep(delay)

    async def wait_for_render(
        self,
        render_id: str,
        *,
        deadline: Deadline | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        on_progress: Callable[[RenderJob], None] | None = None,
    ) -> RenderJob:
        """Poll a render until it completes (with an output) or fails; resumable from nothing but its id."""
        deadline = deadline or Deadline(900)
        started = time.monotonic()
        attempt = 0
        while True:
            job = await self._tolerant(lambda: self.render_status(render_id), deadline)
            if on_progress:
                on_progress(job)
            if job.status is RenderStatus.FAILED:
                raise errors.NemoRenderFailed(render_id, job.error or "no reason given")
            if job.status is RenderStatus.COMPLETED:
                return job
            if deadline.expired:
                raise errors.NemoTimeout(
                    f"render {render_id}", deadline.elapsed, f"{job.status.value} {job.progress:.0f}%"
                )
            delay = backoff.delay_for_progress(attempt, time.monotonic() - started, job.progress)
            attempt += 1
            await asyncio.sleep(deadline.clamp(delay))

    async def download(
        self, job: RenderJob, dest: Path, *, on_progress: Callable[[int, int | None], None] | None = None
    ) -> Path:
        """Stream the clip to `dest` through a temp file and an atomic rename.

        The output URL is tried first, then the authenticated download endpoint; an expired URL (403) moves
        on at once, a transient failure (transport error, 429, 5xx, a body cut short) is retried. What lands
        at `dest` is always whole: the byte count matches and the MP4's boxes are complete.
        """
        dest.parent.mkdir(parents=True, exist_ok=True)
        sources: list[tuple[str, bool]] = []
        if job.output_url:
            sources.append((job.output_url, False))
        sources.append((f"{self.api_url}/api/render/proxy/{job.id}/download", True))
        reasons: list[str] = []
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
        for url, auth in sources:
            where = "download endpoint" if auth else "output URL"
            renewals = 0
            attempt = 0
            reason = ""
            while True:
                token = self._token
                try:
                    await self._fetch(url, tmp, auth=auth, on_progress=on_progress)
                    os.replace(tmp, dest)
                    return dest
                except errors.NemoAuthError as exc:
                    reason = str(exc)
                    if auth and not self._explicit_token and renewals < MAX_RENEWALS:
                        renewals += 1
                        await self._ensure_token(stale=token)
                        continue
                    retry = False
                except errors.NemoError as exc:
                    reason, retry = str(exc), exc.retryable
                except _Incomplete as exc:
                    reason, retry = str(exc), True
                except httpx.HTTPError as exc:
                    reason, retry = f"{type(exc).__name__}: {exc}", isinstance(exc, httpx.TransportError)
                except OSError as exc:
                    reason, retry = f"{type(exc).__name__}: {exc}", False
                finally:
                    tmp.unlink(missing_ok=True)
                reason = self._scrub(reason)
                logger.warning("download of %s from the %s failed: %s", job.id, where, reason)
                if not retry or attempt >= self.max_retries:
                    break
                attempt += 1
                await asyncio.sleep(min(4.0, 0.5 * 2 ** (attempt - 1)))
            tries = f" (after {attempt + 1} tries)" if attempt else ""
            reasons.append(f"{where}{tries}: {reason}")
        raise errors.NemoDownloadError(job.id, "; ".join(reasons))

    async def _fetch(
        self, url: str, tmp: Path, *, auth: bool, on_progress: Callable[[int, int | None], None] | None
    ) -> None:
        if auth:
            await self._ensure_token()
        headers = self._auth_headers() if auth else {}
        # A CDN URL on another host must not receive our token or skill headers.
        client = self._http if auth else httpx.AsyncClient(timeout=self._http.timeout, transport=None)
        received = 0
        expected: int | None = None
        try:
            async with client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._error(response, _json_or_none(response))
                expected = int(response.headers["content-length"]) if "content-length" in response.headers else None
                with tmp.open("wb") as out:
                    try:
                        async for chunk in response.aiter_bytes(1 << 20):
                            out.write(chunk)
                            received += len(chunk)
                            if on_progress:
                                on_progress(received, expected)
                    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                        raise _Incomplete(f"cut short after {received} bytes ({type(exc).__name__})") from exc
                    out.flush()
                    os.fsync(out.fileno())
        finally:
            if not auth:
                await client.aclose()
        if expected is not None and received != expected:
            raise _Incomplete(f"cut short: {received} of {expected} bytes")
        from prefect_nemo.media import mp4_problem

        if problem := mp4_problem(tmp):
            raise _Incomplete(f"not a whole MP4: {problem}")


class _Incomplete(Exception):
    """A download that arrived incomplete: worth another try."""


def upload_name(path: Path) -> str:
    """A safe ASCII file name for a multipart upload: the stem transliterated, at most 80 characters."""
    stem = unicodedata.normalize("NFKD", path.stem.encode("utf-8", "replace").decode("utf-8"))
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem.encode("ascii", "ignore").decode()).strip("-.")
    suffix = re.sub(r"[^A-Za-z0-9.]+", "", path.suffix.lower())[:8]
    return f"{(stem or 'image')[:80]}{suffix}"


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return min(120.0, max(0.0, float(value)))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return min(120.0, max(0.0, parsed.timestamp() - time.time()))
