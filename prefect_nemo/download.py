"""Download a finished render: temp file, fsync, verify, atomic rename - so what lands is always whole.

The output URL (a public CDN) is tried first, then the authenticated download endpoint. Redirects
(302 to a CDN) are followed, but the token and the skill headers go only to the API's own origin.
Every download writes its own temp file (pid + random suffix), so two downloads to one destination
never share one; file work runs in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

from prefect_nemo import errors
from prefect_nemo.envelope import json_or_none
from prefect_nemo.models import RenderJob
from prefect_nemo.retry import retrying

if TYPE_CHECKING:
    from prefect_nemo.client import NemoClient

__all__ = ["MAX_REDIRECTS", "download"]

logger = logging.getLogger("prefect_nemo.download")

MAX_REDIRECTS = 5
ProgressFn = Callable[[int, int | None], None]


class _Incomplete(errors.NemoError):
    """A download that arrived incomplete: worth another try."""

    retryable = True


class _Failed(errors.NemoError):
    """A download that cannot succeed from this source (a local write error, a redirect loop)."""


async def download(client: NemoClient, job: RenderJob, dest: Path, *, on_progress: ProgressFn | None = None) -> Path:
    """Stream the clip to `dest`; an expired URL (403) moves on to the next source at once, a transient
    failure (transport error, 429, 5xx, a body cut short) is retried under the client's retry policy."""
    await asyncio.to_thread(dest.parent.mkdir, parents=True, exist_ok=True)
    sources: list[tuple[str, bool]] = []
    if job.output_url:
        sources.append((job.output_url, False))
    sources.append((f"{client.api_url}/api/render/proxy/{job.id}/download", True))
    reasons: list[str] = []
    for url, auth in sources:
        where = "download endpoint" if auth else "output URL"
        tries = 0
        try:
            async for attempt in retrying(attempts=client.max_retries + 1, rate_limit_wait=client.rate_limit_wait):
                with attempt:
                    tries += 1
                    await _fetch_once(client, url, dest, auth=auth, on_progress=on_progress)
                    return dest
        except errors.NemoError as exc:
            reason = client._scrub(str(exc))
            logger.warning("download of %s from the %s failed: %s", job.id, where, reason)
            reasons.append(f"{where}" + (f" (after {tries} tries)" if tries > 1 else "") + f": {reason}")
    raise errors.NemoDownloadError(job.id, "; ".join(reasons))


async def _fetch_once(client: NemoClient, url: str, dest: Path, *, auth: bool, on_progress: ProgressFn | None) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}-{uuid.uuid4().hex[:12]}.part")
    try:
        if auth:
            await client._authorized(lambda: _fetch(client, url, tmp, auth=True, on_progress=on_progress))
        else:
            await _fetch(client, url, tmp, auth=False, on_progress=on_progress)
        await asyncio.to_thread(os.replace, tmp, dest)
    except httpx.TransportError as exc:
        raise client._transport_error(f"GET {httpx.URL(url).path}", exc) from exc
    except OSError as exc:
        raise _Failed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        await asyncio.to_thread(tmp.unlink, missing_ok=True)


def _same_origin(url: httpx.URL, base: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)


async def _open(client: NemoClient, url: str, *, auth: bool) -> httpx.Response:
    """GET `url` as a stream, following redirects by hand: credentials only while on the API's origin."""
    target = httpx.URL(url)
    api = httpx.URL(client.api_url)
    for _ in range(MAX_REDIRECTS + 1):
        if auth and _same_origin(target, api):
            request = client._http.build_request("GET", target, headers=client._auth_headers())
            response = await client._http.send(request, stream=True, follow_redirects=False)
        else:
            response = await client._public.send(client._public.build_request("GET", target), stream=True)
        if not response.is_redirect:
            return response
        await response.aclose()
        target = response.url.join(response.headers["location"])
    raise _Failed(f"more than {MAX_REDIRECTS} redirects from {httpx.URL(url).path}")


async def _fetch(client: NemoClient, url: str, tmp: Path, *, auth: bool, on_progress: ProgressFn | None) -> None:
    response = await _open(client, url, auth=auth)
    received = 0
    try:
        if response.status_code >= 400:
            await response.aread()
            raise client._error(response, json_or_none(response))
        length = response.headers.get("content-length")
        expected = int(length) if length and length.isdigit() else None
        out: IO[bytes] = await asyncio.to_thread(tmp.open, "wb")
        try:
            try:
                async for chunk in response.aiter_bytes(1 << 20):
                    await asyncio.to_thread(out.write, chunk)
                    received += len(chunk)
                    if on_progress:
                        on_progress(received, expected)
            except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                raise _Incomplete(f"cut short after {received} bytes ({type(exc).__name__})") from exc
            await asyncio.to_thread(_sync, out)
        finally:
            await asyncio.to_thread(out.close)
    finally:
        await response.aclose()
    if expected is not None and received != expected:
        raise _Incomplete(f"cut short: {received} of {expected} bytes")
    from prefect_nemo.media import mp4_problem

    if problem := await asyncio.to_thread(mp4_problem, tmp):
        raise _Incomplete(f"not a whole MP4: {problem}")


def _sync(out: IO[bytes]) -> None:
    out.flush()
    os.fsync(out.fileno())
