"""The client against nemo-api.md section 7: both render layouts with and without `id`, every timestamp
form, null fields, unknown statuses, and downloads through redirects and concurrent writers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from prefect_nemo import errors
from prefect_nemo.models import RenderJob, RenderStatus
from prefect_nemo.polling import Backoff, Deadline
from tests.contract.scripted import API, CDN, TOKEN, Backend, chunked, mp4_bytes, reply

STATUS = "GET /api/render/proxy/lambda/render_1"
DOWNLOAD = "GET /api/render/proxy/render_1/download"
CLIP = "GET /render-result/render_1.mp4"
FAST = Backoff(initial=0.05, factor=1.0, cap=0.05)

LAYOUTS: dict[str, dict[str, Any]] = {
    "v4.4 enveloped with id": {"success": True, "data": {"id": "render_1", "status": "completed", "progress": 100,
                                                          "outputUrl": f"{CDN}/x.mp4"}},
    "v4.4 enveloped without id": {"success": True, "data": {"status": "completed", "outputUrl": f"{CDN}/x.mp4"}},
    "SKILL 4.5.1 flat with id": {"id": "render_1", "status": "completed", "output": {"url": f"{CDN}/x.mp4"}},
    "SKILL 4.5.1 flat without id": {"status": "completed", "output": {"url": f"{CDN}/x.mp4", "size": 9}},
    "v0.x taskId": {"taskId": "render_1", "status": "completed", "output": {"url": f"{CDN}/x.mp4"}},
}  # fmt: skip


@pytest.mark.parametrize("layout", LAYOUTS)
async def test_render_status_in_every_layout(layout: str, tmp_path: Path) -> None:
    backend = Backend().on(STATUS, reply(200, LAYOUTS[layout]))
    async with backend.client(tmp_path) as client:
        job = await client.render_status("render_1")
    assert (job.id, job.status, job.output_url) == ("render_1", RenderStatus.COMPLETED, f"{CDN}/x.mp4")


@pytest.mark.parametrize(
    "created_at", [1773423613616, "1773423613616", "2026-03-13T17:40:13.616Z", "2026-03-13T17:40:13.616"]
)
def test_created_at_in_every_form(created_at: object) -> None:
    job = RenderJob.model_validate({"id": "r", "status": "completed", "createdAt": created_at})
    assert job.created_at == pytest.approx(1773423613616, abs=1)


def test_null_fields_read_as_absent() -> None:
    body = {"id": "r", "status": "processing", "progress": None, "outputUrl": None, "error": None, "createdAt": None}
    job = RenderJob.model_validate(body)
    assert (job.progress, job.output_url, job.error, job.created_at) == (0, None, None, None)


async def test_status_case_is_ignored(tmp_path: Path) -> None:
    backend = Backend().on(STATUS, reply(200, {"success": True, "data": {"status": "COMPLETED"}}))
    async with backend.client(tmp_path) as client:
        assert (await client.render_status("render_1")).status is RenderStatus.COMPLETED


@pytest.mark.parametrize("status", ["cancelled", "expired"])
async def test_an_unknown_status_ends_the_wait_at_once(status: str, tmp_path: Path) -> None:
    backend = Backend().on(STATUS, reply(200, {"success": True, "data": {"status": status, "progress": None}}))
    async with backend.client(tmp_path) as client:
        started = time.monotonic()
        with pytest.raises(errors.NemoUnknownStatus, match=status) as caught:
            await client.wait_for_render("render_1", deadline=Deadline(30), backoff=FAST)
    assert time.monotonic() - started < 2 and caught.value.status == status
    assert isinstance(caught.value, errors.NemoRenderFailed) and len(backend.sent(STATUS)) == 1


async def test_failed_names_the_reason(tmp_path: Path) -> None:
    backend = Backend().on(STATUS, reply(200, {"status": "failed", "error": "codec crashed"}))
    async with backend.client(tmp_path) as client:
        with pytest.raises(errors.NemoRenderFailed, match="render_1 failed: codec crashed"):
            await client.wait_for_render("render_1", deadline=Deadline(30), backoff=FAST)


async def test_pending_then_processing_then_completed(tmp_path: Path) -> None:
    answers = [
        reply(200, {"success": True, "data": {"status": "pending", "progress": None}}),
        reply(200, {"success": True, "data": {"status": "processing", "progress": 50}}),
        reply(200, {"success": True, "data": {"status": "completed", "progress": 100, "outputUrl": f"{CDN}/x"}}),
    ]
    backend = Backend().on(STATUS, *answers)
    async with backend.client(tmp_path) as client:
        job = await client.wait_for_render("render_1", deadline=Deadline(30), backoff=FAST)
    assert job.status is RenderStatus.COMPLETED and len(backend.sent(STATUS)) == 3


async def test_409_on_submit_resumes_the_same_id(tmp_path: Path) -> None:
    backend = Backend()
    backend.on("POST /api/render/proxy/lambda", reply(409, {"success": False, "error": "duplicate id"}))
    backend.on(STATUS, reply(200, {"status": "processing", "progress": 10}))
    async with backend.client(tmp_path) as client:
        job = await client.submit_render("s1", {"t": []}, "render_1")
    assert job.id == "render_1" and job.status is RenderStatus.PROCESSING


class TestDownload:
    async def test_302_from_the_download_endpoint_to_a_cdn(self, tmp_path: Path) -> None:
        backend = Backend()
        backend.on(DOWNLOAD, reply(302, headers={"Location": f"{CDN}/render-result/render_1.mp4"}))
        backend.on(CLIP, lambda request: httpx.Response(200, content=mp4_bytes()))
        async with backend.client(tmp_path) as client:
            dest = await client.download(RenderJob(id="render_1", status=RenderStatus.COMPLETED), tmp_path / "c.mp4")
        assert dest.read_bytes() == mp4_bytes()
        (cdn,) = [r for r in backend.requests if r.url.host == "cdn.nemo.test"]
        assert "authorization" not in cdn.headers and not any(h.startswith("x-skill") for h in cdn.headers)
        (api,) = backend.sent(DOWNLOAD)
        assert api.headers["authorization"] == f"Bearer {TOKEN}" and api.headers["x-skill-source"]

    async def test_the_output_url_never_gets_credentials(self, tmp_path: Path) -> None:
        backend = Backend().on(CLIP, reply(302, headers={"Location": "/render-result/moved.mp4"}))
        backend.on("GET /render-result/moved.mp4", lambda request: httpx.Response(200, content=mp4_bytes()))
        job = RenderJob(id="render_1", status=RenderStatus.COMPLETED, outputUrl=f"{CDN}/render-result/render_1.mp4")
        async with backend.client(tmp_path) as client:
            await client.download(job, tmp_path / "c.mp4")
        assert all("authorization" not in r.headers for r in backend.requests)
        assert all(not any(h.startswith("x-skill") for h in r.headers) for r in backend.requests)

    async def test_an_expired_output_url_falls_back_to_the_endpoint(self, tmp_path: Path) -> None:
        backend = Backend().on(CLIP, reply(403, text="expired"))
        backend.on(DOWNLOAD, lambda request: httpx.Response(200, content=mp4_bytes()))
        job = RenderJob(id="render_1", status=RenderStatus.COMPLETED, outputUrl=f"{CDN}/render-result/render_1.mp4")
        async with backend.client(tmp_path) as client:
            dest = await client.download(job, tmp_path / "c.mp4")
        assert dest.stat().st_size == len(mp4_bytes()) and len(backend.sent(CLIP)) == 1

    async def test_a_body_cut_short_is_retried_and_never_lands(self, tmp_path: Path) -> None:
        whole = mp4_bytes(4000)
        cut = lambda request: httpx.Response(200, content=whole[:100], headers={"content-length": str(len(whole))})  # noqa: E731
        backend = Backend().on(DOWNLOAD, cut)
        async with backend.client(tmp_path, max_retries=1) as client:
            with pytest.raises(errors.NemoDownloadError, match="after 2 tries"):
                await client.download(RenderJob(id="render_1"), tmp_path / "c.mp4")
        assert list(tmp_path.glob("*.mp4")) == [] and list(tmp_path.glob(".*part")) == []

    async def test_two_downloads_to_one_destination_do_not_share_a_temp_file(self, tmp_path: Path) -> None:
        data = mp4_bytes(2000)
        backend = Backend().on(DOWNLOAD, lambda request: httpx.Response(200, content=chunked(data, 200, 0.01)))
        async with backend.client(tmp_path) as client:
            job = RenderJob(id="render_1", status=RenderStatus.COMPLETED)
            results = await asyncio.gather(*(client.download(job, tmp_path / "c.mp4") for _ in range(2)))
        assert results == [tmp_path / "c.mp4"] * 2 and (tmp_path / "c.mp4").read_bytes() == data
        assert len(backend.sent(DOWNLOAD)) == 2 and list(tmp_path.glob(".*part")) == []

    async def test_the_token_never_appears_in_a_download_error(self, tmp_path: Path) -> None:
        backend = Backend().on(DOWNLOAD, reply(400, {"message": f"bad token {TOKEN}"}))
        async with backend.client(tmp_path) as client:
            with pytest.raises(errors.NemoDownloadError) as caught:
                await client.download(RenderJob(id="render_1"), tmp_path / "c.mp4")
        assert TOKEN not in str(caught.value) and API not in str(caught.value)
