"""NemoClient: the transport for every NemoVideo endpoint - envelopes, tokens, errors, retries.

This module is the transport; the endpoints, one method each, are the `endpoints.Endpoints` it inherits.
All requests pass through `_call`: it adds headers, decodes the answer through `prefect_nemo.envelope`
(the one translation boundary: both envelopes, every failure mapped to `prefect_nemo.errors`), retries
what is safe to retry (`prefect_nemo.retry`), and renews an expired anonymous token with the same client
id. The workflows built on it live beside it: `generate` (the instruction's stream, and recovery when it
fails), `waiting` (drafts and renders), `download`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
from pydantic import SecretStr

from prefect_nemo import envelope, errors
from prefect_nemo.endpoints import Endpoints
from prefect_nemo.identity import TokenStore, resolve_client_id
from prefect_nemo.models import GenerateResult, RenderJob, SessionState
from prefect_nemo.polling import DEFAULT_BACKOFF, Backoff, Deadline
from prefect_nemo.retry import is_transient, retrying
from prefect_nemo.stream import StreamEvent, StreamStats
from prefect_nemo.upload import upload_name

__all__ = ["NemoClient", "upload_name"]

logger = logging.getLogger("prefect_nemo.client")
T = TypeVar("T")

MAX_RENEWALS = 3
"""Token renewals (1001) allowed within one call: a token may expire again while a retry is on its way."""

SKILL_SOURCE = "prefect-nemo"
SKILL_PLATFORM = "prefect"


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client of the process: building one parses the whole CA bundle while
    holding the GIL (about 20-100 ms), and every task opens a client."""
    return httpx.create_ssl_context()


def _version() -> str:
    from prefect_nemo import __version__

    return __version__


class NemoClient(Endpoints):
    """Async client for the NemoVideo API (or the embedded backend, which speaks the same API).

    Args:
        api_url: Base URL of the backend, e.g. `https://mega-api-prod.nemovideo.ai`.
        token: A `nmv_usr_` token; when omitted an anonymous token is acquired (and renewed on 1001).
        client_id: X-Client-Id for anonymous tokens; defaults to `resolve_client_id()`.
        timeout: httpx timeout for ordinary calls; the stream uses `stream_idle_timeout` for reads.
        max_retries: Retries of idempotent calls on transport errors, 408, 429 and 5xx.
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
        http_timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        user_agent = {"User-Agent": f"prefect-nemo/{_version()}"}
        self._http = httpx.AsyncClient(
            base_url=self.api_url,
            timeout=http_timeout,
            transport=transport,
            verify=_tls(),
            headers={
                **user_agent,
                "X-Skill-Source": SKILL_SOURCE,
                "X-Skill-Version": _version(),
                "X-Skill-Platform": SKILL_PLATFORM,
            },
        )
        self._public: httpx.AsyncClient | None = None
        self._public_options: dict[str, Any] = {
            "timeout": http_timeout,
            "transport": transport,
            "headers": user_agent,
            "verify": _tls(),
        }

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._public is not None:
            await self._public.aclose()
        await self._http.aclose()

    @property
    def public_http(self) -> httpx.AsyncClient:
        """For other hosts (a CDN's output URL, a redirect away from the API): no token, no skill headers.

        Made on first use: most clients never download, and each httpx client costs an SSL context."""
        if self._public is None:
            self._public = httpx.AsyncClient(follow_redirects=True, **self._public_options)
        return self._public

    # -- the translation boundary -----------------------------------------------------------------

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
        return envelope.api_error(response, body, self._scrub)

    def _unwrap(self, response: httpx.Response) -> Any:
        return envelope.unwrap(response, self._scrub)

    async def _ensure_token(self, stale: SecretStr | None = None) -> None:
        async with self._token_lock:
            if self._token is not None and self._token is not stale:
                return
            await self.acquire_token()

    async def _authorized(self, send: Callable[[], Awaitable[T]]) -> T:
        """Run `send` with a token; on 1001 renew it (same client id) and run it again."""
        renewals = 0
        while True:
            await self._ensure_token()
            token = self._token
            try:
                return await send()
            except errors.NemoAuthError:
                if self._explicit_token or renewals >= MAX_RENEWALS:
                    raise
                renewals += 1
                logger.info("token rejected (1001); acquiring a new one with the same client id")
                await self._ensure_token(stale=token)

    def _attempts(self, deadline: Deadline | None) -> int | None:
        """Tries per call: `max_retries + 1`, or - for a poll under a clip's deadline - until the deadline."""
        return None if deadline is not None else self.max_retries + 1

    async def _call(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        idempotent: bool = True,
        deadline: Deadline | None = None,
        **kwargs: Any,
    ) -> Any:
        """Send one request, with the retries its kind allows; return the envelope's data."""
        extra_headers: dict[str, str] = kwargs.pop("headers", None) or {}

        async def send() -> Any:
            _rewind(kwargs)
            headers = {**extra_headers, **(self._auth_headers() if auth else {})}
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise self._transport_error(f"{method} {path}", exc) from exc
            return self._unwrap(response)

        async for attempt in retrying(
            attempts=self._attempts(deadline),
            deadline=deadline,
            retry_if=lambda exc: is_transient(exc, idempotent=idempotent),
            rate_limit_wait=self.rate_limit_wait,
        ):
            with attempt:
                return await (self._authorized(send) if auth else send())
        raise AssertionError("unreachable")  # tenacity re-raises the last error

    def _transport_error(self, what: str, exc: httpx.TransportError) -> errors.NemoTransportError:
        sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
        detail = self._scrub(str(exc)) or "no answer"
        return errors.NemoTransportError(f"{what}: {type(exc).__name__}: {detail}", sent=sent)

    # -- endpoints (in `endpoints`, but the stream) ------------------------------------------------

    @property
    def has_token(self) -> bool:
        """Whether a token is configured or stored for this backend and client id."""
        return self._token is not None

    def stream_message(
        self, session_id: str, text: str
    ) -> AbstractAsyncContextManager[tuple[AsyncIterator[StreamEvent], StreamStats]]:
        """Open /run_sse for one instruction: its events and their counts (see `generate.open_stream`)."""
        from prefect_nemo.generate import open_stream

        return open_stream(self, session_id, text)

    # -- workflows (in their own modules) ---------------------------------------------------------

    async def generate(
        self,
        session_id: str,
        text: str,
        *,
        baseline: str | None = None,
        deadline: Deadline | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> GenerateResult:
        """Send one instruction and wait until the session's draft reflects it (see `prefect_nemo.generate`)."""
        from prefect_nemo.generate import generate

        return await generate(self, session_id, text, baseline=baseline, deadline=deadline, backoff=backoff)

    async def wait_for_draft(
        self,
        session_id: str,
        *,
        baseline: str | None = None,
        deadline: Deadline | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
    ) -> SessionState:
        """Poll the session until its draft is ready and differs from `baseline` (section 4's recovery)."""
        from prefect_nemo.waiting import wait_for_draft

        return await wait_for_draft(self, session_id, baseline=baseline, deadline=deadline, backoff=backoff)

    async def wait_for_render(
        self,
        render_id: str,
        *,
        deadline: Deadline | None = None,
        backoff: Backoff = DEFAULT_BACKOFF,
        on_progress: Callable[[RenderJob], None] | None = None,
    ) -> RenderJob:
        """Poll a render until it completes or fails; resumable from nothing but its id."""
        from prefect_nemo.waiting import wait_for_render

        return await wait_for_render(self, render_id, deadline=deadline, backoff=backoff, on_progress=on_progress)

    async def download(
        self, job: RenderJob, dest: Path, *, on_progress: Callable[[int, int | None], None] | None = None
    ) -> Path:
        """Stream the clip to `dest` through a temp file and an atomic rename (see `prefect_nemo.download`)."""
        from prefect_nemo.download import download

        return await download(self, job, dest, on_progress=on_progress)


def _rewind(kwargs: dict[str, Any]) -> None:
    for _, spec in kwargs.get("files") or []:
        handle = spec[1]
        if hasattr(handle, "seek"):
            handle.seek(0)
