"""The flows under Prefect's test harness, against the embedded backend (api_url="local")."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prefect import flow
from prefect.client.orchestration import get_client

from prefect_nemo import (
    ClipResult,
    NemoCredentials,
    StepOptions,
    acreate_session,
    aimage_to_video,
    batch_image_to_video,
    create_session,
    image_to_video,
    refine_clip,
)
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from prefect_nemo.media import probe
from tests.conftest import SHORT, artifact_keys, write_image

ROOT = Path(__file__).resolve().parents[1]
COSTLY = ("POST /run_sse", "POST /api/upload-video/nemo_agent/me/{session_id}", "POST /api/render/proxy/lambda")


def costly_requests(server: LocalServer) -> dict[str, int]:
    counts: dict[str, int] = httpx.get(f"{server.url}/local/metrics").json()["requests"]
    return {k: counts.get(k, 0) for k in COSTLY}


class TestImageToVideo:
    async def test_one_image_to_a_verified_clip(self, harness: None, local_server: LocalServer, tmp_path: Path) -> None:
        image = write_image(tmp_path / "spring.png", (1200, 800))
        result = await image_to_video(image, "2-second slow push-in, title 'Spring Sale'", out_dir=tmp_path / "out")
        assert isinstance(result, ClipResult)
        info = probe(result.path)
        assert (info.codec, info.width, info.height) == ("h264", 1920, 1080)
        assert abs(info.duration - 2.0) <= 1 / info.fps + 1e-6
        assert result.path.parent == (tmp_path / "out").resolve()
        assert result.render_id.startswith("render_") and result.session_id.isdigit()
        assert not result.cached and not result.resumed
        assert result.credits_used == LocalSettings().generate_cost  # the balance before minus after
        assert result.workspace_url is None  # the embedded backend stops with the run: no dead link
        assert result.preview == str(result.path.with_suffix(".webp")) and Path(result.preview).is_file()
        assert result.poster == str(result.path.with_suffix(".jpg")) and Path(result.poster).is_file()
        keys = await artifact_keys("nemo-clip-spring%")
        assert any(k.endswith("-link") for k in keys) and any(not k.endswith("-link") for k in keys)

    async def test_rerun_is_served_from_cache_without_requests(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        image = write_image(tmp_path / "cache-me.png", (800, 600))
        first = await image_to_video(image, "1-second pan left, 720p", aspect="9:16", out_dir=tmp_path)
        before = costly_requests(local_server)
        moved = tmp_path / "elsewhere" / "renamed.png"  # the cache keys on bytes, not on the path
        moved.parent.mkdir()
        shutil.copy(image, moved)
        second = await image_to_video(moved, "1-second pan left, 720p", aspect="9:16", out_dir=tmp_path / "second")
        assert costly_requests(local_server) == before
        assert second.cached and second.sha256 == first.sha256 and first.path.is_file()
        # placed in the folder asked for, under the new image's name, with its poster and preview; no render
        assert second.path.parent == (tmp_path / "second").resolve() and second.path.name.startswith("renamed-")
        assert second.path.read_bytes() == first.path.read_bytes()
        assert second.preview and Path(second.preview).is_file() and second.poster and Path(second.poster).is_file()
        assert (second.width, second.height) == (720, 1280)

    async def test_deleted_clip_is_made_again(self, harness: None, local_server: LocalServer, tmp_path: Path) -> None:
        image = write_image(tmp_path / "gone.png", (640, 640))
        first = await image_to_video(image, SHORT, out_dir=tmp_path)
        first.path.unlink()
        before = costly_requests(local_server)
        second = await image_to_video(image, SHORT, out_dir=tmp_path)
        after = costly_requests(local_server)
        assert not second.cached and second.path.is_file()
        assert after["POST /api/render/proxy/lambda"] == before["POST /api/render/proxy/lambda"] + 1
        assert after["POST /run_sse"] == before["POST /run_sse"]  # the paid generation is reused

    async def test_changed_instruction_misses_the_cache(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        image = write_image(tmp_path / "twice.png", (640, 480))
        first = await image_to_video(image, SHORT, out_dir=tmp_path)
        second = await image_to_video(image, "1-second pull-out, 720p", out_dir=tmp_path)
        assert not second.cached and second.path != first.path


class TestRefine:
    async def test_refine_makes_a_new_version_and_keeps_the_old(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        image = write_image(tmp_path / "refine-me.png", (900, 600))
        first = await image_to_video(image, "1-second push-in, title 'Spring Sale', 720p", out_dir=tmp_path)
        before = costly_requests(local_server)
        second = await refine_clip(first, "make the title bigger")
        after = costly_requests(local_server)
        assert second.version == 2 and first.version == 1
        assert second.session_id == first.session_id
        assert second.path != first.path and first.path.is_file() and second.path.is_file()
        assert second.sha256 != first.sha256
        assert after["POST /run_sse"] == before["POST /run_sse"] + 1
        assert (
            after["POST /api/upload-video/nemo_agent/me/{session_id}"]
            == before["POST /api/upload-video/nemo_agent/me/{session_id}"]
        )
        again = await refine_clip(first, "make the title bigger")  # the same refinement is cached
        assert again.cached and again.path == second.path


class TestSyncAndAsync:
    """The same flow and task names work from a sync flow, an async flow and a plain script."""

    def test_sync_flow_calls_the_sync_forms(self, harness: None, local_server: LocalServer, tmp_path: Path) -> None:
        image = write_image(tmp_path / "sync.png", (640, 400))

        @flow
        def campaign() -> tuple[ClipResult, str]:
            session = create_session(NemoCredentials())
            return image_to_video(image, SHORT, out_dir=tmp_path), session.session_id

        clip, session_id = campaign()
        assert isinstance(clip, ClipResult) and probe(clip.path).codec == "h264" and session_id.isdigit()

    async def test_async_flow_awaits_either_name(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        image = write_image(tmp_path / "async.png", (656, 400))

        @flow
        async def campaign() -> tuple[ClipResult, ClipResult, str]:
            session = await acreate_session(NemoCredentials())
            first = await aimage_to_video(image, SHORT, out_dir=tmp_path)
            again = await image_to_video(image, SHORT, out_dir=tmp_path)  # dispatches to the async twin
            return first, again, session.session_id

        first, again, session_id = await campaign()
        assert not first.cached and again.cached and again.sha256 == first.sha256 and session_id.isdigit()
        async with get_client() as client:
            runs = await client.read_flow_runs()
            names = {(await client.read_flow(run.flow_id)).name for run in runs}
        assert "image-to-video" in names and "aimage-to-video" not in names  # one name in the UI for both

    def test_plain_script(self, harness: None, local_server: LocalServer, tmp_path: Path) -> None:
        from prefect.settings import PREFECT_API_URL

        image = write_image(tmp_path / "script.png", (672, 400))
        code = (
            "from prefect_nemo import image_to_video\n"
            f"clip = image_to_video({str(image)!r}, {SHORT!r}, out_dir={str(tmp_path)!r})\n"
            "print(type(clip).__name__, clip.path.suffix, clip.codec)\n"
        )
        env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.strip().splitlines()[-1] == "ClipResult .mp4 h264"


class TestControls:
    async def test_step_runs_are_named_after_the_image_tagged_and_take_the_callers_retries(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        image = write_image(tmp_path / "named.png", (688, 400))
        options = StepOptions(tags=("campaign",), retries=5, retry_delay_seconds=1)
        state = await image_to_video(image, SHORT, out_dir=tmp_path, step_options=options, return_state=True)
        async with get_client() as client:
            run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
            runs = {run.name: run for run in await client.read_task_runs(flow_run_filter=run_filter)}
        for verb in ("session", "upload", "generate", "export", "render", "download"):
            assert f"{verb} named.png" in runs, sorted(runs)
            assert {"nemo", "campaign"} <= set(runs[f"{verb} named.png"].tags)
        assert runs["upload named.png"].empirical_policy.retries == 5
        assert runs["generate named.png"].empirical_policy.retries == 0  # a second send is a second charge


def test_with_options_configures_both_twins() -> None:
    from prefect_nemo import upload_image
    from prefect_nemo.dispatch import NemoFlow, NemoTask

    task = upload_image.with_options(retries=7)
    assert isinstance(task, NemoTask) and task.aio is not None
    assert (task.retries, task.aio.retries, task.name, task.aio.name) == (
        7,
        7,
        "nemo-upload-image",
        "nemo-upload-image",
    )
    flow_copy = batch_image_to_video.with_options(log_prints=False)
    assert isinstance(flow_copy, NemoFlow) and flow_copy.aio is not None and not flow_copy.aio.log_prints
    assert flow_copy.name == flow_copy.aio.name == "batch-image-to-video" and not flow_copy.isasync


def test_a_cancellation_says_what_was_in_flight_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    from prefect_nemo.steps import _in_flight, for_clip, report_cancellation

    with for_clip("mug.png", None):
        _in_flight["mug.png"] = "render"
        with caplog.at_level("WARNING", logger="prefect_nemo"):
            report_cancellation(None, None, None)
    [record] = [r for r in caplog.records if r.name == "prefect_nemo"]
    assert record.getMessage() == (
        "cancelled (mug.png: render); run the same inputs again to resume: paid steps are picked up from the ledger"
    )


def test_the_clip_card_shows_the_preview_what_was_done_and_the_links() -> None:
    from prefect_nemo.artifacts import ClipLinks, _clip_markdown

    clip = ClipResult(
        path=Path("/staged/mug-0123456789.mp4"),
        sha256="0" * 64,
        size_bytes=1_200_000,
        duration=3.0,
        width=1920,
        height=1080,
        fps=30.0,
        codec="h264",
        render_id="render_1",
        session_id="42",
        source_image="photos/mug.png",
        image_sha256="1" * 64,
        instruction="3-second push-in | title 'Mug'",
        summary="A 3-second push-in toward the mug.",
        notes=["The title font was not available; a similar one was used."],
        credits_used=100,
        uri="s3://campaign/clips/mug-0123456789.mp4",
    )
    links = ClipLinks("s3://campaign/clips/mug-0123456789.mp4", "https://s3/mp4?sig", "https://s3/webp?sig", None)
    card = _clip_markdown(clip, links)
    assert "\n![Animated preview of the clip](https://s3/webp?sig)\n" in card
    assert "| MP4 | [mug-0123456789.mp4](https://s3/mp4?sig) |" in card
    assert "A 3-second push-in toward the mug." in card and "- The title font was not available" in card
    assert "| Credits used | 100 |" in card and "push-in \\| title" in card and "workspace" not in card
    cached = _clip_markdown(clip.model_copy(update={"cached": True, "credits_used": 100}), links)
    assert "| Credits used | 0 (from cache) |" in cached
