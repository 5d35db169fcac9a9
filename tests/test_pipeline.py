"""Submit once, resume always: the ledger is written before each costly step, and re-runs resume it."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.errors import NemoRenderFailed
from prefect_nemo.ledger import ClipRecord, Ledger, clip_key
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import probe, sha256_file
from prefect_nemo.models import ClipSpec
from prefect_nemo.pipeline import ClipJob, make_clip, translate_gui_text
from prefect_nemo.settings import NemoSettings
from tests.conftest import ServerFactory, write_image

log = logging.getLogger("test")


def counts(server: LocalServer) -> dict[str, int]:
    return dict(httpx.get(f"{server.url}/local/metrics").json()["requests"])


def job_for(image: Path, prompt: str, tmp_path: Path, credentials: NemoCredentials | None = None) -> ClipJob:
    return ClipJob(
        image=image,
        spec=ClipSpec(prompt=prompt),
        credentials=credentials or NemoCredentials(),
        out_dir=tmp_path / "out",
        ledger_path=NemoSettings().ledger_path,
        timeout=120,
        work_dir=tmp_path / "work",
    )


def record_render(job: ClipJob, image: Path, session_id: str, draft: dict[str, Any] | None, render_id: str) -> None:
    """The ledger row of a run that generated its draft and recorded a render id, then died."""
    key = clip_key(sha256_file(image), job.spec.normalized(), "local")
    record = ClipRecord(key, session_id=session_id, uploaded=True, generate_sent=True, generated=True, draft=draft)
    record.render_id, record.render_attempts = render_id, 1
    Ledger(job.ledger_path).save(record)


async def test_instruction_already_sent_is_never_sent_again(
    harness: None, local_server: LocalServer, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "crash-after-send.png", (500, 400))
    job = job_for(image, "1-second pan up", tmp_path)
    # A run that crashed right after sending the instruction: the backend has the draft, the ledger
    # says "sent" but not "generated".
    async with job.credentials.get_client() as client:
        session = await client.create_session()
        await client.upload_file(session.session_id, image)
        await client.generate(session.session_id, job.spec.message())
    key = clip_key(sha256_file(image), job.spec.normalized(), "local")
    Ledger(job.ledger_path).save(ClipRecord(key, session_id=session.session_id, uploaded=True, generate_sent=True))
    before = counts(local_server)
    result = await make_clip(job, logger=log)
    after = counts(local_server)
    assert after["POST /run_sse"] == before["POST /run_sse"]
    assert result.session_id == session.session_id and probe(result.path).codec == "h264"
    assert result.resumed, "the clip says it picked up the earlier run's paid instruction"


async def test_recorded_render_is_resumed_not_resubmitted(
    harness: None, local_server: LocalServer, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "crash-after-export.png", (520, 400))
    job = job_for(image, "1-second push-in", tmp_path)
    async with job.credentials.get_client() as client:
        session = await client.create_session()
        await client.upload_file(session.session_id, image)
        generated = await client.generate(session.session_id, job.spec.message())
        assert generated.draft is not None
        render_id = f"render_{uuid.uuid4().hex}"
        await client.submit_render(session.session_id, generated.draft, render_id)
    record_render(job, image, session.session_id, generated.draft, render_id)
    before = counts(local_server)
    result = await make_clip(job, logger=log)
    after = counts(local_server)
    assert result.render_id == render_id and result.resumed
    assert after["POST /api/render/proxy/lambda"] == before["POST /api/render/proxy/lambda"]
    assert after["POST /run_sse"] == before["POST /run_sse"]


async def test_failed_render_gets_exactly_one_new_id(harness: None, make_server: ServerFactory, tmp_path: Path) -> None:
    server = make_server(faults="render-fail")
    credentials = NemoCredentials(api_url=server.url)
    image = write_image(tmp_path / "always-fails.png", (480, 360))
    with pytest.raises(NemoRenderFailed) as caught:
        await make_clip(job_for(image, "1-second push-in", tmp_path, credentials), logger=log)
    assert counts(server)["POST /api/render/proxy/lambda"] == 2
    assert counts(server)["POST /run_sse"] == 1
    assert caught.value.render_id.startswith("render_")


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (
            "Your clip is ready. Click the Export button to download it.",
            "Your clip is ready. prefect-nemo exports it next.",
        ),
        ("Open the music panel to see it.", "(session state queried.)"),
        ("Drag the clip to the timeline.", "(edits are sent as instructions.)"),
        ("Added a title.", "Added a title."),
    ],
)
def test_gui_phrases_become_api_steps(said: str, expected: str) -> None:
    assert translate_gui_text(said) == expected


def test_chinese_gui_phrases_are_translated_too() -> None:
    text = translate_gui_text("点击导出")
    assert "点击" not in text and "导出" not in text and "exports it next" in text


async def test_recorded_but_never_submitted_render_is_submitted_under_its_id(
    harness: None, local_server: LocalServer, tmp_path: Path
) -> None:
    image = write_image(tmp_path / "crash-before-submit.png", (530, 410))
    job = job_for(image, "1-second pan down", tmp_path)
    async with job.credentials.get_client() as client:
        session = await client.create_session()
        await client.upload_file(session.session_id, image)
        generated = await client.generate(session.session_id, job.spec.message())
    render_id = f"render_{uuid.uuid4().hex}"  # recorded, then the run died before the POST went out
    record_render(job, image, session.session_id, generated.draft, render_id)
    before = counts(local_server)
    result = await make_clip(job, logger=log)
    after = counts(local_server)
    assert result.render_id == render_id
    assert after["POST /api/render/proxy/lambda"] == before["POST /api/render/proxy/lambda"] + 1
