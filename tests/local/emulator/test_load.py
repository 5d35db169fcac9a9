"""Load on the embedded backend: many concurrent sessions (create, upload, stream, render status polling)
without an error or a stalled request. The light version runs here; `bench/reliability.py` runs the full
one (50 sessions that each generate and render a clip) and prints requests/s and the status p99."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import numpy as np
from PIL import Image

from prefect_nemo.client import NemoClient
from prefect_nemo.identity import TokenStore
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from prefect_nemo.models import RenderStatus
from prefect_nemo.polling import Backoff, Deadline

T = TypeVar("T")
STALL_SECONDS = 10.0
"""A request (or a silence inside a stream) longer than this counts as stalled."""
POLL = Backoff(initial=0.25, factor=1.2, cap=0.5, jitter=0.2)


@dataclass
class LoadReport:
    sessions: int
    seconds: float = 0.0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)
    status_latencies: list[float] = field(default_factory=list)
    stream_gaps: list[float] = field(default_factory=list)
    clips: int = 0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        values = sorted(self.status_latencies)
        if not values:
            return 0.0
        return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]

    def summary(self) -> str:
        p50 = statistics.median(self.status_latencies) if self.status_latencies else 0.0
        gap = max(self.stream_gaps, default=0.0)
        return (
            f"{self.sessions} sessions, {self.requests} requests in {self.seconds:.1f} s = "
            f"{self.requests_per_second:.0f} requests/s; render status p50 {p50 * 1000:.1f} ms, "
            f"p99 {self.percentile(99) * 1000:.1f} ms ({len(self.status_latencies)} polls); "
            f"longest stream silence {gap:.2f} s; clips {self.clips}; "
            f"errors {len(self.errors)}; stalled {len(self.stalled)}"
        )


def load_image(folder: Path, index: int) -> Path:
    rng = np.random.default_rng(index)
    pixels = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    pixels[60:180, 80:240] = (index * 37) % 255
    path = folder / f"load-{index:03d}.png"
    Image.fromarray(pixels).save(path)
    return path


class _Timed:
    """Times every request of one client; anything over STALL_SECONDS is reported as stalled."""

    def __init__(self, report: LoadReport) -> None:
        self.report = report

    async def __call__(self, label: str, work: Awaitable[T]) -> T:
        started = time.monotonic()
        try:
            return await work
        except Exception as exc:
            self.report.errors.append(f"{label}: {type(exc).__name__}: {exc}")
            raise
        finally:
            took = time.monotonic() - started
            self.report.requests += 1
            if label == "render status":
                self.report.status_latencies.append(took)
            if took > STALL_SECONDS:
                self.report.stalled.append(f"{label} took {took:.1f} s")


async def _session(
    url: str, image: Path, report: LoadReport, *, generate: bool, polls: int, known_render: str | None, store: Path
) -> None:
    timed = _Timed(report)
    async with NemoClient(url, token_store=TokenStore(store), client_id="load-test", max_retries=0) as client:
        sid = (await timed("create session", client.create_session())).session_id
        await timed("upload", client.upload_file(sid, image))
        if generate:
            last = time.monotonic()
            async with client.stream_message(sid, "1-second push-in, 1:1, 24 fps") as (events, _):
                async for _event in events:  # every event, heartbeats included, resets the silence
                    now = time.monotonic()
                    report.stream_gaps.append(now - last)
                    last = now
            report.requests += 1
            if max(report.stream_gaps, default=0.0) > STALL_SECONDS:
                report.stalled.append("a stream fell silent")
            state = await client.wait_for_draft(sid, deadline=Deadline(600), backoff=POLL)
            assert state.draft is not None
            render_id = f"render_{uuid.uuid4().hex}"
            await timed("submit render", client.submit_render(sid, state.draft, render_id))
            while not (job := await timed("render status", client.render_status(render_id))).status.is_terminal:
                await asyncio.sleep(POLL.delay(0))
            if job.status is RenderStatus.FAILED:
                report.errors.append(f"render {render_id} failed: {job.error}")
            else:
                report.clips += 1
        else:
            assert known_render is not None
            for _ in range(polls):
                await timed("render status", client.render_status(known_render))
                await asyncio.sleep(POLL.delay(0))


async def run_load(
    url: str,
    folder: Path,
    *,
    sessions: int = 50,
    generating: int = 50,
    polls: int = 20,
    known_render: str | None = None,
) -> LoadReport:
    """`sessions` concurrent sessions: each creates a session and uploads; the first `generating` stream an
    instruction and poll their own render to the end, the others poll `known_render` `polls` times."""
    folder.mkdir(parents=True, exist_ok=True)
    images = [load_image(folder, i) for i in range(sessions)]
    report = LoadReport(sessions)
    started = time.monotonic()
    results = await asyncio.gather(
        *(
            _session(
                url,
                images[i],
                report,
                generate=i < generating,
                polls=polls,
                known_render=known_render,
                store=folder / "tokens.json",
            )
            for i in range(sessions)
        ),
        return_exceptions=True,
    )
    report.seconds = time.monotonic() - started
    for result in results:
        if isinstance(result, BaseException) and not report.errors:
            report.errors.append(f"{type(result).__name__}: {result}")
    return report


async def status_burst(
    url: str, render_id: str, token_store: Path, *, clients: int = 50, seconds: float = 5.0
) -> LoadReport:
    """`clients` pollers hammering one render's status for `seconds`: the status endpoint's throughput."""
    report = LoadReport(clients)
    stop = time.monotonic() + seconds

    async def poller() -> None:
        async with NemoClient(url, token_store=TokenStore(token_store), client_id="load-test", max_retries=0) as client:
            while time.monotonic() < stop:
                started = time.monotonic()
                try:
                    await client.render_status(render_id)
                except Exception as exc:
                    report.errors.append(f"{type(exc).__name__}: {exc}")
                took = time.monotonic() - started
                report.requests += 1
                report.status_latencies.append(took)
                if took > STALL_SECONDS:
                    report.stalled.append(f"status took {took:.1f} s")

    started = time.monotonic()
    await asyncio.gather(*(poller() for _ in range(clients)))
    report.seconds = time.monotonic() - started
    return report


async def finished_render(url: str, folder: Path) -> str:
    """One finished render to poll."""
    async with NemoClient(url, token_store=TokenStore(folder / "tokens.json"), client_id="load-test") as client:
        session = await client.create_session()
        await client.upload_file(session.session_id, load_image(folder, 999))
        generated = await client.generate(session.session_id, "1-second push-in, 1:1, 24 fps", backoff=POLL)
        assert generated.draft is not None
        render_id = f"render_{uuid.uuid4().hex}"
        await client.submit_render(session.session_id, generated.draft, render_id)
        await client.wait_for_render(render_id, deadline=Deadline(300), backoff=POLL)
        return render_id


# -- the light test -------------------------------------------------------------------------------------


async def test_fifty_concurrent_sessions(tmp_path: Path) -> None:
    """50 sessions at once: all create and upload, 4 stream a real generation and render it while the
    other 46 poll a render's status; nothing fails, nothing stalls, streams keep their heartbeat."""
    server = LocalServer(LocalSettings(data_dir=tmp_path / "server", heartbeat_interval=0.5, dialect="typed"))
    try:
        known = await finished_render(server.url, tmp_path)
        report = await run_load(server.url, tmp_path, sessions=50, generating=4, polls=15, known_render=known)
        burst = await status_burst(server.url, known, tmp_path / "tokens.json", clients=50, seconds=3.0)
        metrics = httpx.get(f"{server.url}/local/metrics").json()
    finally:
        server.stop()
    print(report.summary())
    print("status burst:", burst.summary())
    assert not report.errors and not report.stalled, report.errors + report.stalled
    assert not burst.errors and not burst.stalled
    assert report.clips == 4
    assert metrics["requests"]["POST /api/upload-video/nemo_agent/me/{session_id}"] == 51
    assert max(report.stream_gaps) < 5.0  # heartbeats every 0.5 s, even with 46 sessions polling
    assert report.percentile(99) < 2.0 and burst.percentile(99) < 2.0
    assert metrics["errors"] == {}
