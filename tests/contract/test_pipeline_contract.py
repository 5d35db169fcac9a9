"""`make_clip` end to end against a scripted backend in the cloud's shapes (ADK stream, flat render status
without `id`, a 302 download): the flow's promises hold against the contract, not only against our emulator."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.errors import NemoBadRequest
from prefect_nemo.ledger import Ledger
from prefect_nemo.models import ClipSpec
from prefect_nemo.pipeline import ClipJob, make_clip
from tests.contract.scripted import API, CDN, Backend, adk, ok, reply, sse, state

log = logging.getLogger("contract")
SID = "5529798706024415232"


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real one-second H.264 MP4, made with PyAV (the pipeline probes what it downloads)."""
    path = tmp_path_factory.mktemp("mp4") / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 12)
        for index in range(12):
            frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), index * 20, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path.read_bytes()


def cloud(clip: bytes, *stream_frames: str) -> Backend:
    backend = Backend()
    backend.on("POST /api/tasks/me/with-session/nemo_agent", ok({"task_id": "task_1", "session_id": SID}))
    backend.on(f"POST /api/upload-video/nemo_agent/me/{SID}", ok({"files": [{"filename": "shoe.png"}]}))
    backend.on("POST /run_sse", sse(*stream_frames))
    backend.on(f"GET /api/state/nemo_agent/me/{SID}/latest", state())
    backend.on("POST /api/render/proxy/lambda", reply(200, {"success": True, "data": {"status": "pending"}}))
    backend.on("POST /api/auth/claim-token", ok({"claim_token": "clm_1"}))
    return backend


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[Backend]]:
    """Every client the pipeline opens talks to the scripted backend in `holder[0]`."""
    holder: list[Backend] = []
    monkeypatch.setattr(NemoCredentials, "get_client", lambda self: holder[0].client(tmp_path, max_retries=0))
    yield holder


def job(tmp_path: Path) -> ClipJob:
    image = tmp_path / "shoe.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (120, 160, 3), np.uint8)).save(image)
    return ClipJob(
        image=image,
        spec=ClipSpec(prompt="2-second push-in"),
        credentials=NemoCredentials(api_url=API, token="nmv_usr_contract"),  # type: ignore[arg-type]
        out_dir=tmp_path / "out",
        ledger_path=tmp_path / "ledger" / "clips.db",
        timeout=60,
        work_dir=tmp_path / "work",
    )


async def test_a_stream_error_with_a_ready_draft_is_a_warning_on_the_clip(
    harness: None, scripted: list[Backend], clip_bytes: bytes, tmp_path: Path
) -> None:
    backend = cloud(clip_bytes, adk([{"text": "Rendering your clip."}]), adk([], errorCode="SAFETY"))
    # SKILL >= 4.5.1's flat status without `id`, no output URL; the download endpoint redirects to a CDN.
    status = {"status": "completed", "progress": None, "createdAt": "2026-03-13T17:40:13Z"}
    backend.on("GET /api/render/proxy/lambda/*", reply(200, status))
    backend.on("GET /api/render/proxy/*", reply(302, headers={"Location": f"{CDN}/render-result/clip.mp4"}))
    backend.on("GET /render-result/clip.mp4", lambda request: httpx.Response(200, content=clip_bytes))
    scripted.append(backend)
    result = await make_clip(job(tmp_path), logger=log)
    assert any("SAFETY" in warning for warning in result.warnings)
    assert result.path.read_bytes() == clip_bytes and result.codec == "h264"
    assert len(backend.sent("POST /run_sse")) == 1


async def test_a_failure_after_the_instruction_was_taken_keeps_generate_sent(
    harness: None, scripted: list[Backend], clip_bytes: bytes, tmp_path: Path
) -> None:
    backend = cloud(clip_bytes)  # the stream closes silently; then the state poll is refused
    backend.on(f"GET /api/state/nemo_agent/me/{SID}/latest", reply(400, {"message": "state unavailable"}))
    scripted.append(backend)
    clip = job(tmp_path)
    with pytest.raises(NemoBadRequest):
        await make_clip(clip, logger=log)
    (key,) = [r[0] for r in Ledger(clip.ledger_path)._conn.execute("SELECT key FROM clips")]
    assert Ledger(clip.ledger_path).get(key).generate_sent  # a re-run waits for the draft, never pays again
