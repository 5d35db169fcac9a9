"""Wire models accept every documented variant."""

from __future__ import annotations

from prefect_nemo.models import ClipSpec, RenderJob, RenderStatus, SessionState


def test_render_job_from_v44_layout() -> None:
    job = RenderJob.model_validate(
        {"id": "render_1", "status": "completed", "progress": 100, "outputUrl": "https://cdn/x.mp4", "createdAt": 1}
    )
    assert job.status is RenderStatus.COMPLETED and job.output_url == "https://cdn/x.mp4"


def test_render_job_from_skill_451_layout() -> None:
    job = RenderJob.model_validate({"id": "render_1", "status": "completed", "output": {"url": "https://cdn/y.mp4"}})
    assert job.output_url == "https://cdn/y.mp4"


def test_render_job_from_v0_layout() -> None:
    job = RenderJob.model_validate({"taskId": "render_0", "status": "processing", "progress": 40})
    assert job.id == "render_0" and job.status is RenderStatus.PROCESSING


def test_unknown_status_is_kept_by_name() -> None:
    job = RenderJob.model_validate({"id": "r", "status": "throttled"})
    assert job.status is RenderStatus.UNKNOWN and job.status_text == "throttled"


def test_state_ready_only_with_segments() -> None:
    empty = SessionState.model_validate({"state": {"draft": {"t": [{"tt": 0, "sg": []}]}}})
    ready = SessionState.model_validate({"state": {"draft": {"t": [{"tt": 0, "sg": [{"src": "img"}]}]}}})
    assert not empty.is_ready and ready.is_ready
    assert empty.fingerprint != ready.fingerprint


def test_clip_spec_message_appends_overrides() -> None:
    spec = ClipSpec(prompt="  slow   push-in ", duration=5, aspect="9:16", fps=24)
    assert spec.message() == "slow push-in, 5-second, 9:16, 24 fps"
    assert spec.normalized() == ClipSpec(prompt="slow push-in", duration=5.0, aspect="9:16", fps=24).normalized()
