"""Pipeline benchmark (issue 4): caching, concurrency, orchestration overhead and detection lag.

Runs against an embedded backend whose exports take a fixed latency L, so waits dominate as on the cloud.
Prints each figure, then a one-line summary. Usage: `python bench/pipeline.py [--latency 10]`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(tempfile.mkdtemp(prefix="nemo-bench-"))
os.environ.update(
    {
        "PREFECT_HOME": str(ROOT / "prefect"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "NEMO_HOME": str(ROOT / "nemo"),
        "XDG_CONFIG_HOME": str(ROOT / "config"),
        "NEMO_OUTPUT_DIR": str(ROOT / "clips"),
        "NEMO_LOCAL_DATA_DIR": str(ROOT / "local"),
        "NEMO_LOCAL_QUALITY": "draft",
        "NEMO_LOCAL_HEARTBEAT_INTERVAL": "0.5",
    }
)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

from prefect_nemo.client import NemoClient  # noqa: E402
from prefect_nemo.flows import batch_image_to_video  # noqa: E402
from prefect_nemo.local.launcher import LocalServer  # noqa: E402
from prefect_nemo.local.settings import LocalSettings  # noqa: E402

PROMPT = "1-second push-in, 24 fps"
COSTLY = ("POST /run_sse", "POST /api/upload-video/nemo_agent/me/{session_id}", "POST /api/render/proxy/lambda")


def make_images(folder: Path, count: int, tag: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(tag))
    paths = []
    for i in range(count):
        pixels = rng.integers(0, 255, (360, 480, 3), dtype=np.uint8)
        pixels[100:200, 150:300] = (i * 7) % 255
        path = folder / f"{tag}-{i:02d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def costly(url: str) -> int:
    counts = httpx.get(f"{url}/local/metrics").json()["requests"]
    return sum(counts.get(k, 0) for k in COSTLY)


async def plain_httpx(url: str, images: list[Path], concurrency: int, out: Path) -> None:
    """The same requests as the flow, hand-written with httpx: the peer the flow is measured against."""
    out.mkdir(parents=True, exist_ok=True)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        grant = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": f"plain-{uuid.uuid4()}"})
        auth = {"Authorization": f"Bearer {grant.json()['data']['token']}"}
        gate = asyncio.Semaphore(concurrency)

        async def call(method: str, path: str, **kwargs: Any) -> Any:
            response = await http.request(method, path, headers=auth, **kwargs)
            return response.json()["data"]

        async def one(image: Path) -> None:
            async with gate:
                session = await call("POST", "/api/tasks/me/with-session/nemo_agent", json={"task_name": "project"})
                sid = session["session_id"]
                with image.open("rb") as handle:
                    files = {"files": (image.name, handle, "image/png")}
                    await call("POST", f"/api/upload-video/nemo_agent/me/{sid}", files=files)
                message = {"parts": [{"text": PROMPT}]}
                body = {"app_name": "nemo_agent", "user_id": "me", "session_id": sid, "new_message": message}
                async with http.stream("POST", "/run_sse", json=body, headers=auth) as response:
                    async for _ in response.aiter_lines():
                        pass
                while not (draft := (await call("GET", f"/api/state/nemo_agent/me/{sid}/latest"))["state"]["draft"]):
                    await asyncio.sleep(0.5)
                rid = f"render_{uuid.uuid4().hex}"
                await call("POST", "/api/render/proxy/lambda", json={"id": rid, "sessionId": sid, "draft": draft})
                while (job := await call("GET", f"/api/render/proxy/lambda/{rid}"))["status"] != "completed":
                    await asyncio.sleep(1.0)
                video = await http.get(job["outputUrl"])
                (out / f"{rid}.mp4").write_bytes(video.content)

        await asyncio.gather(*(one(i) for i in images))


async def main(latency: float) -> None:
    server = LocalServer(LocalSettings(render_latency=latency))
    url = server.url
    detected: dict[str, float] = {}
    original = NemoClient.wait_for_render

    async def timed(self: NemoClient, render_id: str, **kwargs: object) -> object:
        job = await original(self, render_id, **kwargs)  # type: ignore[arg-type]
        detected[render_id] = time.time()
        return job

    NemoClient.wait_for_render = timed  # type: ignore[method-assign, assignment]
    try:
        with prefect_test_harness(server_startup_timeout=120):
            for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
                logging.getLogger(name).setLevel(logging.WARNING)
            warm = make_images(ROOT / "warm", 1, "warm")
            await batch_image_to_video(warm, PROMPT)  # start-up costs are not what we measure

            twenty = make_images(ROOT / "twenty", 20, "twenty")
            t0 = time.perf_counter()
            await batch_image_to_video(twenty, PROMPT, max_concurrency=8)
            first = time.perf_counter() - t0
            before = costly(url)
            t0 = time.perf_counter()
            items = await batch_image_to_video(twenty, PROMPT, max_concurrency=8)
            cached = time.perf_counter() - t0
            requests = costly(url) - before
            assert all(i.status == "cached" for i in items), [i.status for i in items]
            print(f"20-image batch: first run {first:.1f} s, cached re-run {cached:.2f} s")
            share = 100 * cached / first
            print(f"cached re-run: {requests} generate/upload/render requests, wall {share:.1f}% of the first run")

            thirty_two = make_images(ROOT / "batch32", 32, "b32")
            t0 = time.perf_counter()
            items = await batch_image_to_video(thirty_two, PROMPT, max_concurrency=8)
            flow_wall = time.perf_counter() - t0
            assert all(i.status == "ok" for i in items), [(i.status, i.error) for i in items]
            ideal = flow_wall / (4 * latency)
            print(f"32 images at concurrency 8 with L={latency:g} s: {flow_wall:.1f} s = {ideal:.2f}x the ideal 4L")

            plain_images = make_images(ROOT / "plain32", 32, "p32")
            t0 = time.perf_counter()
            await plain_httpx(url, plain_images, 8, ROOT / "plain-out")
            plain_wall = time.perf_counter() - t0
            print(f"plain httpx script, same requests and concurrency: {plain_wall:.1f} s")
            print(f"orchestration overhead (flow/plain): {flow_wall / plain_wall:.2f}")

            lags = []
            async with NemoClient(url) as client:  # the same persisted client id as the flows: the renders' owner
                for render_id, seen in detected.items():
                    job = await client.render_status(render_id)
                    if job.completed_at:
                        lags.append(seen - job.completed_at / 1000)
            median = statistics.median(lags)
            print(f"completion-to-detection lag over {len(lags)} renders: median {median:.2f} s, max {max(lags):.2f} s")
            print(
                f"summary: cached {requests} requests at {share:.1f}% wall; 32@8 {ideal:.2f}x ideal; "
                f"overhead {flow_wall / plain_wall:.2f}; median lag {median:.2f} s"
            )
    finally:
        NemoClient.wait_for_render = original  # type: ignore[method-assign]
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=20.0, help="fixed export latency L, s (cloud: 30-90 s)")
    asyncio.run(main(parser.parse_args().latency))
