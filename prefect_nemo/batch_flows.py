"""The batch flows: many images with bounded concurrency (`batch_image_to_video`), and a folder or manifest
of them (`convert_folder`, the nightly deployment's flow).

`batch.py` is the batch itself, with no Prefect in it; this wraps it with Prefect's logging, artifacts, states
and task runners, so the same flow spreads over Dask or Ray. Like `flows.py`, each flow comes as an async form
and its sync twin, under one Prefect name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import cast

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner

from prefect_nemo import tasks
from prefect_nemo.artifacts import BatchProgress, artifact_key, batch_table, clip_artifacts
from prefect_nemo.batch import BatchItem, build_jobs, clip_budget, run_batch
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.dispatch import flow, sync_twin
from prefect_nemo.errors import NemoBatchFailed, NemoInputError
from prefect_nemo.media import display_path
from prefect_nemo.models import ClipResult
from prefect_nemo.pipeline import ClipJob, make_clip
from prefect_nemo.sources import images_in_folder, read_manifest
from prefect_nemo.steps import StepOptions, report_cancellation
from prefect_nemo.storage import ClipStore, Destination

__all__ = [
    "abatch_image_to_video",
    "aconvert_folder",
    "aconvert_image",
    "batch_image_to_video",
    "convert_folder",
    "convert_image",
]


def _convert_run_name() -> str:
    from prefect.runtime import task_run

    job = task_run.parameters.get("job")
    return f"convert {display_path(job.image.name)}" if isinstance(job, ClipJob) else "convert"


@task(name="nemo-convert-image", cache_policy=NO_CACHE, task_run_name=_convert_run_name)
async def aconvert_image(job: ClipJob) -> ClipResult:
    """The whole path of one image as one task, for batches mapped over a task runner (threads, Dask, Ray).

    `batch_image_to_video` builds the `ClipJob`s and submits this task when its task runner is not the
    thread pool; call it yourself only to compose a different batch.

    Example:
        ```python
        future = convert_image.submit(job)  # job: a prefect_nemo.pipeline.ClipJob; aconvert_image in async code
        clip = future.result()
        ```
    """
    from prefect import get_run_logger as run_logger

    result = await make_clip(job, logger=run_logger())
    await clip_artifacts(result, ClipStore(job.out_dir))
    return result


@flow(name="batch-image-to-video", log_prints=True, on_cancellation=[report_cancellation])
async def abatch_image_to_video(
    images: Sequence[str | Path],
    prompt: str | Sequence[str],
    max_concurrency: int = 4,
    duration: float | None = None,
    aspect: str | None = None,
    quality: str = "high",
    out_dir: Destination | None = None,
    credentials: NemoCredentials | None = None,
    max_credits: int | None = None,
    share_session: bool = False,
    refresh: bool = False,
    timeout: float | None = None,
    allow_failures: bool = False,
    step_options: StepOptions | None = None,
) -> list[BatchItem]:
    """Convert many images with bounded concurrency; one failing image never sinks the others.

    Args:
        images: Image paths.
        prompt: One instruction for all images, or one per image.
        max_concurrency: Clips in flight at once.
        max_credits: Stop submitting new clips once this many credits would be spent (checked against
            the balance before starting); finished clips are kept.
        share_session: One session for the whole batch, clips made one after another (the seed's
            "batch style"); by default each clip has its own session and they render in parallel.
        allow_failures: End Completed even when clips failed or were skipped (by default the run ends
            Failed, after every item has finished and the batch table is written).

    Returns:
        One `BatchItem` per input, in order: `ok`, `cached`, `skipped` or `failed` (with the reason).

    Raises:
        NemoBatchFailed: Some clips failed or were skipped (and `allow_failures` is off); its `items`
            are the same `BatchItem`s.

    Example:
        ```python
        from prefect_nemo import abatch_image_to_video, batch_image_to_video

        items = batch_image_to_video(["a.png", "b.jpg"], "5-second push-in", max_concurrency=8)
        print([item.status for item in items])  # in async code: await abatch_image_to_video(...)
        ```
    """
    logger = get_run_logger()
    credentials = credentials or NemoCredentials()
    await tasks.aacquire_token(credentials)
    budget = await _budget(credentials, max_credits, len(images), logger)
    session_id = (await tasks.acreate_session(credentials)).session_id if share_session else None
    jobs = build_jobs(
        images,
        prompt,
        credentials=credentials,
        out_dir=out_dir,
        duration=duration,
        aspect=aspect,
        quality=quality,
        refresh=refresh,
        timeout=timeout,
        session_id=session_id,
        step_options=step_options,
    )
    run_key = artifact_key("nemo-batch", _run_name())
    progress = BatchProgress(len(jobs))
    await progress.start(artifact_key(run_key, "progress"))

    async def advance(item: BatchItem) -> None:
        await progress.advance()

    items = await run_batch(
        jobs,
        _run_one,
        concurrency=1 if share_session else max_concurrency,
        budget=budget,
        on_item=advance,
        logger=logger,
    )
    await batch_table(items, run_key)
    if items.failed and not allow_failures:
        raise NemoBatchFailed(items.summary(), items)
    logger.info(items.summary())
    return items


async def _run_one(job: ClipJob) -> ClipResult:
    """Run one clip in this event loop, or through the flow's task runner when it is not the thread pool
    (Dask, Ray), so the same flow spreads over a cluster."""
    context = FlowRunContext.get()
    runner = context.task_runner if context else None
    if runner is None or isinstance(runner, ThreadPoolTaskRunner):
        return await aconvert_image(job)
    future = aconvert_image.submit(job)
    return cast(ClipResult, await asyncio.to_thread(future.result))


async def _budget(credentials: NemoCredentials, max_credits: int | None, count: int, logger: object) -> int | None:
    """How many clips may be submitted: limited by `max_credits` and by the balance."""
    if max_credits is None:
        return None
    balance = await tasks.aget_credits(credentials)
    allowed = clip_budget(max_credits, balance.available)
    if allowed < count:
        get_run_logger().warning(
            "credit budget allows %d of %d clips (max_credits=%d, available=%d)",
            allowed,
            count,
            max_credits,
            balance.available,
        )
    return allowed


def _run_name() -> str:
    context = FlowRunContext.get()
    return context.flow_run.name if context and context.flow_run else "local"


@flow(name="convert-folder", log_prints=True, on_cancellation=[report_cancellation])
async def aconvert_folder(
    folder: Destination | None = None,
    manifest: str | None = None,
    prompt: str = "5-second slow push-in",
    max_concurrency: int = 4,
    out_dir: Destination | None = None,
    quality: str = "high",
    max_credits: int | None = None,
    credentials: NemoCredentials | None = None,
    allow_failures: bool = False,
    step_options: StepOptions | None = None,
) -> list[BatchItem]:
    """Convert every image in a folder, or every row of a manifest (CSV or JSONL of image + prompt).

    Scheduled nightly, only new images cost anything: clips already made come from the cache.

    Like `batch_image_to_video`, the run ends Failed when any clip failed, unless `allow_failures`.

    Example:
        ```python
        from prefect_nemo.flows import aconvert_folder, convert_folder

        convert_folder(folder="photos/new", prompt="5-second push-in, 9:16")  # async: await aconvert_folder(...)
        ```
    """
    if bool(folder) == bool(manifest):
        raise NemoInputError("folder/manifest", "give exactly one of folder or manifest")
    if manifest:
        rows = read_manifest(manifest)
        images: list[str | Path] = [r.image for r in rows]
        prompts: str | list[str] = [r.prompt or prompt for r in rows]
    else:
        images = list(images_in_folder(folder))
        prompts = prompt
    if not images:
        get_run_logger().info("no images to convert")
        return []
    items = await abatch_image_to_video(
        images,
        prompts,
        max_concurrency=max_concurrency,
        out_dir=out_dir,
        quality=quality,
        max_credits=max_credits,
        credentials=credentials,
        allow_failures=allow_failures,
        step_options=step_options,
    )
    return cast(list[BatchItem], items)


convert_image = sync_twin(aconvert_image)
batch_image_to_video = sync_twin(abatch_image_to_video)
convert_folder = sync_twin(aconvert_folder)
