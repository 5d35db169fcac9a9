"""Paid steps are exclusive per clip key, one backend serves a data folder, and nothing blocks the event loop."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image
from prefect.context import AsyncClientContext

from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.local.launcher import LocalServer, read_server_file
from prefect_nemo.models import ClipSpec
from prefect_nemo.pipeline import ClipJob, make_clip
from tests.conftest import write_image

log = logging.getLogger("test")
MAX_LAG = 0.75
"""The event loop's longest tick delay allowed while a 49-MP image is checked. Checking it (`preflight`) takes
2.9 to 3.2 s on the 2-core machine: run on the loop, that is the stall. The suite's other xdist worker delays
a tick too, by 133 ms in one full run and past 250 ms in another, so the limit sits at a quarter of the stall."""


def requests(server: LocalServer) -> dict[str, int]:
    return dict(httpx.get(f"{server.url}/local/metrics").json()["requests"])


def job_for(image: Path, prompt: str, tmp_path: Path) -> ClipJob:
    return ClipJob(
        image=image,
        spec=ClipSpec(prompt=prompt),
        credentials=NemoCredentials(),
        out_dir=tmp_path / "out",
        ledger_path=tmp_path / "ledger" / "clips.db",
        timeout=120,
        work_dir=tmp_path / "work",
    )


async def test_duplicates_in_one_batch_generate_once(harness: None, local_server: LocalServer, tmp_path: Path) -> None:
    image = write_image(tmp_path / "twice.png", (400, 300))
    before = requests(local_server).get("POST /run_sse", 0)
    first, second = await asyncio.gather(*(make_clip(job_for(image, "1-second push-in", tmp_path), logger=log)
                                           for _ in range(2)))  # fmt: skip
    assert requests(local_server)["POST /run_sse"] - before == 1
    assert first.sha256 == second.sha256 and sorted([first.cached, second.cached]) == [False, True]


PLUMBING = "1-second push-in, 720p"
"""The huge image's test is about reading it, not rendering: its clips are the cheapest kind."""


async def test_a_huge_image_does_not_stall_the_batch(harness: None, local_server: LocalServer, tmp_path: Path) -> None:
    # 7000 x 7000 = 49 MP, saved as PNG under a .jpg name: preflight decodes all of it (and warns).
    ramp = (np.arange(7000) % 256).astype(np.uint8)
    pixels = np.empty((7000, 7000, 3), np.uint8)
    pixels[..., 0], pixels[..., 1] = ramp[None, :], ramp[:, None]
    pixels[..., 2] = ramp[None, :] + ramp[:, None]  # wraps around: a texture, not a flat field
    huge = tmp_path / "huge.jpg"
    Image.fromarray(pixels).save(huge, format="PNG", compress_level=1)
    del pixels
    small = write_image(tmp_path / "small.png", (360, 280))
    # One clip first: what every process pays once (imports done on first use, Prefect's client) is not a stall.
    await make_clip(job_for(write_image(tmp_path / "warm-up.png", (320, 240)), PLUMBING, tmp_path), logger=log)
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - before - 0.01)

    clock = asyncio.create_task(ticker())
    started = time.monotonic()
    try:
        # As inside a batch flow: its task runs share one Prefect client (each new one parses the CA bundle
        # holding the GIL - Prefect's cost, not a stall of ours).
        async with AsyncClientContext.get_or_create():
            results = await asyncio.gather(
                make_clip(job_for(huge, PLUMBING, tmp_path), logger=log),
                make_clip(job_for(small, PLUMBING, tmp_path), logger=log),
                return_exceptions=True,
            )
    finally:
        done.set()
        await clock
    assert not isinstance(results[0], BaseException), results[0]  # a PNG under .jpg is read as what it is
    assert any("huge.jpg" in w for w in results[0].warnings), results[0].warnings
    assert not isinstance(results[1], BaseException), results[1]
    print(f"batch {time.monotonic() - started:.1f} s, {len(lags)} ticks, max event-loop lag {max(lags) * 1000:.0f} ms")
    assert max(lags) <= MAX_LAG


ENSURE = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from prefect_nemo.local.launcher import ensure_local_server
    from prefect_nemo.local.settings import LocalSettings

    print(ensure_local_server(LocalSettings(data_dir=Path(sys.argv[1]), quality="draft")), flush=True)
    sys.stdin.read()  # keep the process (and the server watching it) alive until the test lets go
    """
)


async def test_one_backend_per_data_folder_across_processes(tmp_path: Path) -> None:
    data = tmp_path / "shared-data"
    starters = [
        subprocess.Popen([sys.executable, "-c", ENSURE, str(data)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    try:
        urls = {(await asyncio.to_thread(p.stdout.readline)).decode().strip() for p in starters if p.stdout}
        assert len(urls) == 1 and next(iter(urls)).startswith("http://127.0.0.1:")
        info = read_server_file(data)
        assert info is not None and str(info["url"]) in urls
        server_pid = int(str(info["pid"]))
    finally:
        for process in starters:
            if process.stdin:
                process.stdin.close()
            process.wait(30)
    # The server watches the process that started it and leaves with it.
    deadline = time.monotonic() + 20
    while _running(server_pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not _running(server_pid)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
