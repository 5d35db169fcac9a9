"""Restarts lose nothing: a SIGKILLed embedded server comes back on the same data folder knowing every
render (pending ones resume or fail cleanly, finished ones stay downloadable) and every accepted
instruction; a SIGKILLed batch re-runs from its ledger without submitting anything twice."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psutil  # type: ignore[import-untyped]
from prefect.settings import PREFECT_API_URL

from prefect_nemo.client import NemoClient
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.identity import TokenStore
from prefect_nemo.ledger import Ledger, clip_key
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from prefect_nemo.media import probe, sha256_file
from prefect_nemo.models import ClipSpec, RenderStatus
from prefect_nemo.pipeline import ClipJob, make_clip
from prefect_nemo.polling import Backoff, Deadline
from prefect_nemo.settings import NemoSettings
from tests.conftest import write_image

FAST = Backoff(initial=0.2, factor=1.5, cap=1.0)
log = logging.getLogger("test")


def metrics(url: str) -> dict[str, Any]:
    return dict(httpx.get(f"{url}/local/metrics", timeout=10).json())


async def wait_until(condition: Any, what: str, timeout: float = 120.0) -> None:
    """Poll a condition (never a fixed sleep as synchronisation)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def kill_hard(server: LocalServer) -> list[int]:
    """SIGKILL the server process alone; return the pids of its render workers (which must die with it)."""
    workers = [child.pid for child in psutil.Process(server.process.pid).children(recursive=True)]
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    return workers


def gone(pids: list[int]) -> bool:
    return not [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]


def render_row(data_dir: Path, render_id: str) -> dict[str, Any] | None:
    from prefect_nemo.local.emulator.store import Store

    return Store(data_dir / "state.db").render(render_id)


async def test_server_killed_mid_render_comes_back(harness: None, tmp_path: Path) -> None:
    data = tmp_path / "server"
    server = LocalServer(LocalSettings(data_dir=data, render_latency=4.0))
    port = urlparse(server.url).port
    assert port
    image_done, image_inflight, image_orphan = (
        write_image(tmp_path / f"{n}.png", (400 + 16 * i, 300)) for i, n in enumerate(("done", "inflight", "orphan"))
    )
    client = NemoClient(server.url, token_store=TokenStore(tmp_path / "tokens.json"), client_id="restart-test")
    clip: asyncio.Future[Any] | None = None

    async def rendered(image: Path, prompt: str) -> tuple[str, str, dict[str, Any]]:
        session = await client.create_session()
        await client.upload_file(session.session_id, image)
        generated = await client.generate(session.session_id, prompt, backoff=FAST)
        assert generated.draft is not None
        render_id = f"render_{uuid.uuid4().hex}"
        await client.submit_render(session.session_id, generated.draft, render_id)
        return session.session_id, render_id, generated.draft

    try:
        # 1. A render that finished before the crash, with the URL the client was given.
        _, finished_id, _ = await rendered(image_done, "1-second push-in")
        finished = await client.wait_for_render(finished_id, deadline=Deadline(120), backoff=FAST)
        assert finished.output_url
        polls = metrics(server.url)["requests"]["GET /api/render/proxy/lambda/{render_id}"]
        # 2. A clip in flight through the pipeline (its render id is in the ledger), and 3. a render whose
        #    sources will be gone when the server comes back.
        job = ClipJob(
            image=image_inflight,
            spec=ClipSpec(prompt="1-second pan left"),
            credentials=NemoCredentials(api_url=server.url, client_id="restart-test"),
            out_dir=tmp_path / "out",
            ledger_path=NemoSettings().ledger_path,
            timeout=180,
            work_dir=tmp_path / "work",
        )
        clip = asyncio.ensure_future(make_clip(job, logger=log))
        _, orphan_id, orphan_draft = await rendered(image_orphan, "1-second pan right")
        key = clip_key(sha256_file(image_inflight), job.spec.normalized(), server.url)
        ledger = Ledger(job.ledger_path)
        await wait_until(lambda: ledger.get(key).render_id is not None, "the pipeline's export")
        inflight_id = ledger.get(key).render_id
        assert inflight_id
        await wait_until(
            lambda: (
                (render_row(data, inflight_id) or {}).get("status") == "processing"
                and metrics(server.url)["requests"]["GET /api/render/proxy/lambda/{render_id}"] > polls
            ),
            "the pipeline to be polling a processing render",
        )
        submits_before = metrics(server.url)["requests"]["POST /api/render/proxy/lambda"]

        workers = kill_hard(server)
        await wait_until(lambda: gone(workers), "the render workers to die with the server", timeout=20)
        assert render_row(data, inflight_id)["status"] in ("pending", "processing")  # type: ignore[index]
        for segment in orphan_draft["t"][0]["sg"]:  # the orphan's sources vanish while the server is down
            for asset in (segment.get("clip"), segment.get("src")):
                for file in [*(data / "media").glob(f"{asset}.*"), *(data / "uploads").glob(f"{asset}.*")]:
                    file.unlink()

        server = LocalServer(LocalSettings(data_dir=data, port=port))  # same folder, same URL
        assert server.url == client.api_url

        # The pipeline's polling rode out the outage and picks the resumed render up: no new submit.
        result = await asyncio.wait_for(clip, 180)
        assert result.render_id == inflight_id
        info = probe(result.path)
        assert info.codec == "h264" and abs(info.duration - 1.0) <= 1 / info.fps + 1e-6
        after = metrics(server.url)["requests"]
        assert after.get("POST /api/render/proxy/lambda", 0) == 0 and after.get("POST /run_sse", 0) == 0
        assert submits_before == 3
        # The finished render is still known and downloadable, even by the URL handed out before the crash.
        again = await client.render_status(finished_id)
        assert again.status is RenderStatus.COMPLETED
        async with httpx.AsyncClient() as raw:
            old_link = await raw.get(finished.output_url)
        assert old_link.status_code == 200 and old_link.content[4:8] == b"ftyp"
        path = await client.download(again, tmp_path / "finished.mp4")
        assert probe(path).codec == "h264"
        # The render whose sources vanished failed cleanly, with a reason, instead of hanging.
        await wait_until(
            lambda: (render_row(data, orphan_id) or {}).get("status") == "failed", "the orphan render to fail"
        )
        orphan = await client.render_status(orphan_id)
        assert orphan.status is RenderStatus.FAILED and orphan.error
    finally:
        if clip is not None and not clip.done():
            clip.cancel()
        await client.aclose()
        server.stop()


async def test_instruction_accepted_before_a_crash_is_finished_after_it(tmp_path: Path) -> None:
    data = tmp_path / "server"
    server = LocalServer(LocalSettings(data_dir=data, silent_ratio=0.0))
    port = urlparse(server.url).port
    image = write_image(tmp_path / "accepted.png", (420, 300))
    try:
        async with NemoClient(server.url, token_store=TokenStore(tmp_path / "t.json")) as client:
            session = await client.create_session()
            await client.upload_file(session.session_id, image)
            async with client.stream_message(session.session_id, "1-second push-in") as (events, _):
                async for _event in events:  # the first event: the instruction is accepted and running
                    kill_hard(server)
                    break
            server = LocalServer(LocalSettings(data_dir=data, port=port))
            state = await client.wait_for_draft(session.session_id, deadline=Deadline(120), backoff=FAST)
        assert state.is_ready
        generations = metrics(server.url)["generations"]
        assert list(generations.values()) == [1]  # finished once, never re-sent, never charged twice
        credits = metrics(server.url)
        assert credits["requests"].get("POST /run_sse", 0) == 0
    finally:
        server.stop()


BATCH_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from prefect_nemo.credentials import NemoCredentials
    from prefect_nemo.flows import batch_image_to_video

    async def main() -> None:
        url, out, *images = sys.argv[1:]
        items = await batch_image_to_video(
            images, "1-second push-in", max_concurrency=2, out_dir=out,
            credentials=NemoCredentials(api_url=url, client_id="killed-batch"), allow_failures=True,
        )
        print(json.dumps([
            {"image": i.image, "status": i.status, "error": i.error,
             "render_id": i.result.render_id if i.result else None,
             "path": str(i.result.path) if i.result else None} for i in items
        ]))

    asyncio.run(main())
    """
)


def _run_batch(script: Path, url: str, out: Path, images: list[Path], tag: str) -> subprocess.Popen[bytes]:
    """The batch in a process of its own, its output to files (a pipe nobody drains could block it)."""
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_LOGGING_LEVEL": "WARNING"}
    args = [sys.executable, str(script), url, str(out), *map(str, images)]
    with (script.parent / f"{tag}.out").open("wb") as stdout, (script.parent / f"{tag}.err").open("wb") as stderr:
        return subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr)


async def test_batch_killed_mid_way_reruns_from_its_ledger(harness: None, tmp_path: Path) -> None:
    server = LocalServer(LocalSettings(data_dir=tmp_path / "server", render_latency=3.0))
    images = [write_image(tmp_path / f"batch-{i}.png", (360 + 24 * i, 280)) for i in range(6)]
    script = tmp_path / "batch.py"
    script.write_text(BATCH_SCRIPT)
    out = tmp_path / "out"
    ledger = Ledger(NemoSettings().ledger_path)
    spec = ClipSpec(prompt="1-second push-in")
    keys = [clip_key(sha256_file(i), spec.normalized(), server.url) for i in images]
    try:
        first = _run_batch(script, server.url, out, images, "first")

        def some_done_one_in_flight() -> bool:
            assert first.poll() is None, (tmp_path / "first.err").read_text()[-3000:]
            renders = metrics(server.url)["renders"]
            records = [ledger.get(k) for k in keys]
            return sum(r.result is not None for r in records) >= 2 and renders.get("processing", 0) >= 1

        await wait_until(some_done_one_in_flight, "two clips done and a render in flight", timeout=180)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        records = [ledger.get(k) for k in keys]
        done_before = {k for k, r in zip(keys, records, strict=True) if r.result is not None}
        inflight = {r.render_id for r in records if r.result is None and r.render_id}  # submitted, not delivered
        assert done_before and inflight

        second = _run_batch(script, server.url, out, images, "second")
        assert second.wait(300) == 0, (tmp_path / "second.err").read_text()[-3000:]
        items = json.loads((tmp_path / "second.out").read_text().strip().splitlines()[-1])
        assert all(i["status"] in ("ok", "cached") for i in items), items
        by_key = dict(zip(keys, items, strict=True))
        assert {k for k in keys if by_key[k]["status"] == "cached"} == done_before  # finished ones: from cache
        assert inflight <= {i["render_id"] for i in items}  # the in-flight render was resumed, not redone
        for item in items:
            assert probe(Path(item["path"])).codec == "h264"
        counts = metrics(server.url)
        assert counts["requests"]["POST /run_sse"] == len(images)  # nothing generated twice ...
        assert set(counts["generations"].values()) == {1}
        assert counts["requests"]["POST /api/render/proxy/lambda"] == len(images)  # ... or submitted twice
        assert not list(out.glob("*.part"))
    finally:
        server.stop()
