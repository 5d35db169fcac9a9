"""Reusable flows: one image to one clip, and a follow-up instruction to a clip.

Each flow comes twice, as Prefect's integrations ship them: `aimage_to_video` (async, for async flows and
event loops) and `image_to_video` (its sync twin, for scripts and sync flows; inside async code it hands
back the async twin's coroutine). Both have the same Prefect name. Flow parameters are paths and plain
values only (never bytes, never a token), so runs stay small and safe to show in the UI.

The batch flows (`batch_image_to_video`, `convert_folder`) live in `batch_flows.py`; they are re-exported
here, so `prefect_nemo.flows` names every flow, as deployments and the docs import them.
"""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger

from prefect_nemo.artifacts import clip_artifacts
from prefect_nemo.batch import BatchResult, build_jobs
from prefect_nemo.batch_flows import (
    abatch_image_to_video,
    aconvert_folder,
    aconvert_image,
    batch_image_to_video,
    convert_folder,
    convert_image,
)
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.dispatch import NemoFlow, flow, sync_twin
from prefect_nemo.models import ClipResult, ClipSpec
from prefect_nemo.pipeline import ClipJob, make_clip
from prefect_nemo.steps import StepOptions, report_cancellation
from prefect_nemo.storage import ClipStore, Destination

__all__ = [
    "BatchResult",
    "NemoFlow",
    "abatch_image_to_video",
    "aconvert_folder",
    "aconvert_image",
    "aimage_to_video",
    "arefine_clip",
    "batch_image_to_video",
    "convert_folder",
    "convert_image",
    "image_to_video",
    "refine_clip",
]


def _job(
    image: str | Path,
    spec: ClipSpec,
    credentials: NemoCredentials | None,
    out_dir: Destination | None,
    refresh: bool,
    timeout: float | None,
    step_options: StepOptions | None,
) -> ClipJob:
    [job] = build_jobs(
        [image],
        spec.prompt,
        credentials=credentials,
        out_dir=out_dir,
        duration=spec.duration,
        aspect=spec.aspect,
        fps=spec.fps,
        quality=spec.quality,
        refresh=refresh,
        timeout=timeout,
        step_options=step_options,
    )
    return job


@flow(name="image-to-video", log_prints=True, on_cancellation=[report_cancellation])
async def aimage_to_video(
    image: str | Path,
    prompt: str,
    duration: float | None = None,
    aspect: str | None = None,
    fps: int | None = None,
    quality: str = "high",
    out_dir: Destination | None = None,
    credentials: NemoCredentials | None = None,
    refresh: bool = False,
    timeout: float | None = None,
    step_options: StepOptions | None = None,
) -> ClipResult:
    """Turn one still image into a 1080p H.264 MP4 following a plain-language instruction.

    A re-run with the same image bytes, instruction and backend returns the cached clip without any
    request; an interrupted run resumes what it had paid for.

    Args:
        image: Path of a JPG, PNG, GIF or WEBP image.
        prompt: What to make, e.g. "5-second slow push-in, 9:16, title 'Spring Sale'".
        duration: Seconds, appended to the instruction when given.
        aspect: "16:9", "9:16", "1:1" or "4:5", appended to the instruction when given.
        fps: 24, 30 or 60.
        quality: Export quality: "high" (default), "medium" or "low".
        out_dir: Where the MP4 (and its poster and preview) go: a folder, an fsspec URL such as
            `s3://bucket/clips`, or a Prefect file-system Block (default `NEMO_OUTPUT_DIR` or `./clips`).
        credentials: Which backend; default the embedded local one (or `NEMO_API_URL`).
        refresh: Render again even when a cached clip exists.
        timeout: Overall seconds for this clip (stream, export and download).
        step_options: Tags, retries, retry delays and timeouts of the step task runs, and the global
            concurrency limit billed calls hold a slot of (default `nemo-api`, when it exists).

    Returns:
        A `ClipResult` with the MP4's path, sha256, duration, resolution, render id and session id.

    Example:
        ```python
        from prefect import flow
        from prefect_nemo import aimage_to_video, image_to_video

        clip = image_to_video("shoe.png", "5-second slow push-in, 9:16, title 'Spring Sale'")  # script, sync flow
        print(clip.path, clip.resolution)

        @flow
        async def campaign() -> None:
            clip = await aimage_to_video("shoe.png", "5-second slow push-in")  # async flow
        ```
    """
    spec = ClipSpec(prompt=prompt, duration=duration, aspect=aspect, fps=fps, quality=quality)
    job = _job(image, spec, credentials, out_dir, refresh, timeout, step_options)
    logger = get_run_logger()
    result = await make_clip(job, logger=logger)
    await clip_artifacts(result, ClipStore(job.out_dir))
    logger.info("clip ready: %s (%s, %.2f s)", result.path, result.resolution, result.duration)
    return result


@flow(name="refine-clip", log_prints=True, on_cancellation=[report_cancellation])
async def arefine_clip(
    clip: ClipResult,
    instruction: str,
    out_dir: Destination | None = None,
    credentials: NemoCredentials | None = None,
    timeout: float | None = None,
    step_options: StepOptions | None = None,
) -> ClipResult:
    """Send a follow-up instruction to a clip's session ("make the title bigger", "slower zoom") and
    render a new version; earlier versions stay on disk, each with its own result and artifact.

    Example:
        ```python
        from prefect_nemo import arefine_clip, image_to_video, refine_clip

        first = image_to_video("shoe.png", "5-second push-in, title 'Spring Sale'")
        second = refine_clip(first, "make the title bigger")  # in async code: await arefine_clip(...)
        print(second.version, second.path)
        ```
    """
    spec = ClipSpec(prompt=instruction, quality="high")
    beside_first = clip.uri.rsplit("/", 1)[0] if clip.uri else clip.path.parent
    job = _job(clip.source_image, spec, credentials, out_dir or beside_first, False, timeout, step_options)
    job.refine_of = clip
    logger = get_run_logger()
    result = await make_clip(job, logger=logger)
    await clip_artifacts(result, ClipStore(job.out_dir))
    logger.info("version %d ready: %s", result.version, result.path)
    return result


image_to_video = sync_twin(aimage_to_video)
refine_clip = sync_twin(arefine_clip)
