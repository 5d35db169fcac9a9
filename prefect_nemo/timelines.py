# ruff: noqa: RUF001, RUF002 - Chinese words are written with Chinese punctuation
"""One clip from several images: the `images_to_video` flow (the seed's timeline workflow).

The stills go, in order, into one session, and one instruction asks for one video of them all; the backend lays
them out on its video track, one segment per still, joined by transitions, under one music track and a title
card. The cloud takes plain language only, so per-image lengths and the transition are sent as words (in the
prompt's language). The clip is cached like any other, keyed on every image's bytes in order and the words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from prefect import get_run_logger

from prefect_nemo.artifacts import clip_artifacts
from prefect_nemo.batch import build_jobs
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.dispatch import flow, sync_twin
from prefect_nemo.errors import NemoInputError
from prefect_nemo.media import display_path
from prefect_nemo.models import ClipResult
from prefect_nemo.pipeline import ClipJob, make_clip
from prefect_nemo.steps import StepOptions, report_cancellation
from prefect_nemo.storage import ClipStore, Destination

__all__ = ["MAX_IMAGES", "SHOT_SECONDS", "TRANSITIONS", "aimages_to_video", "images_to_video", "timeline_job"]

TRANSITIONS = ("crossfade", "push", "slide", "zoom_through", "dip_to_black")
"""How one still gives way to the next."""
SHOT_SECONDS = (0.5, 60.0)
"""How long one still may stay on screen."""
MAX_IMAGES = 50

_HAN = re.compile(r"[\u3400-\u9fff]")
_WORDS = {
    "en": {
        "all": "one video from these {n} images",
        "each": "{s} seconds each",
        "list": "durations {s} seconds",
        "crossfade": "crossfade",
        "push": "push transitions",
        "slide": "slide transitions",
        "zoom_through": "zoom through",
        "dip_to_black": "dip to black",
    },
    "zh": {
        "all": "把这{n}张图片合成一个视频",
        "each": "每张{s}秒",
        "list": "时长依次为{s}秒",
        "crossfade": "交叉淡化",
        "push": "推移转场",
        "slide": "滑动转场",
        "zoom_through": "缩放转场",
        "dip_to_black": "黑场过渡",
    },
}


def _lengths(durations: float | Sequence[float] | None, count: int) -> list[float]:
    if durations is None:
        return []
    lengths = [float(durations)] if isinstance(durations, int | float) else [float(d) for d in durations]
    if len(lengths) not in (1, count):
        raise NemoInputError("durations", f"{len(lengths)} lengths for {count} images; give one, or one per image")
    low, high = SHOT_SECONDS
    for length in lengths:
        if not low <= length <= high:
            raise NemoInputError("durations", f"{length:g} s is out of range; each image shows for {low:g}-{high:g} s")
    return lengths


def timeline_message(
    prompt: str, count: int, durations: float | Sequence[float] | None = None, transition: str | None = None
) -> str:
    """The instruction for one clip of ``count`` images: the prompt, then the timeline words it needs.

    Example:
        ```python
        from prefect_nemo.timelines import timeline_message

        assert timeline_message("title 'Our Spring Line'", 3, 2.5, "crossfade") == (
            "title 'Our Spring Line', one video from these 3 images, 2.5 seconds each, crossfade"
        )
        assert timeline_message("淡入淡出", 2, [2, 3]) == "淡入淡出，把这2张图片合成一个视频，时长依次为2、3秒"
        ```
    """
    if transition is not None and transition not in TRANSITIONS:
        raise NemoInputError("transition", f"{transition!r} is not one of {', '.join(TRANSITIONS)}")
    lang = "zh" if _HAN.search(prompt) else "en"
    words = _WORDS[lang]
    lengths = _lengths(durations, count)
    parts = [" ".join(prompt.split()), words["all"].format(n=count)]
    if len(lengths) == 1 or (lengths and len(set(lengths)) == 1):
        parts.append(words["each"].format(s=f"{lengths[0]:g}"))
    elif lengths:
        parts.append(words["list"].format(s=("、" if lang == "zh" else ", ").join(f"{s:g}" for s in lengths)))
    if transition:
        parts.append(words[transition])
    return ("，" if lang == "zh" else ", ").join(p for p in parts if p)


def timeline_job(
    images: Sequence[str | Path],
    prompt: str,
    *,
    durations: float | Sequence[float] | None = None,
    transition: str | None = None,
    aspect: str | None = None,
    fps: int | None = None,
    quality: str = "high",
    credentials: NemoCredentials | None = None,
    out_dir: Destination | None = None,
    refresh: bool = False,
    timeout: float | None = None,
    step_options: StepOptions | None = None,
) -> ClipJob:
    """The `ClipJob` of one clip made of ``images`` in order (checked here: nothing is sent for a bad one)."""
    paths = [Path(image) for image in images]
    if not paths:
        raise NemoInputError("images", "no images given; a timeline needs at least one")
    if len(paths) > MAX_IMAGES:
        raise NemoInputError("images", f"{len(paths)} images; one clip takes at most {MAX_IMAGES}")
    message = timeline_message(prompt, len(paths), durations, transition)
    [first] = build_jobs(
        paths[:1],
        message,
        credentials=credentials,
        out_dir=out_dir,
        aspect=aspect,
        fps=fps,
        quality=quality,
        refresh=refresh,
        timeout=timeout,
        step_options=step_options,
    )
    return replace(first, more_images=tuple(paths[1:]))


@flow(name="images-to-video", log_prints=True, on_cancellation=[report_cancellation])
async def aimages_to_video(
    images: Sequence[str | Path],
    prompt: str,
    durations: float | Sequence[float] | None = None,
    transition: str | None = None,
    aspect: str | None = None,
    fps: int | None = None,
    quality: str = "high",
    out_dir: Destination | None = None,
    credentials: NemoCredentials | None = None,
    refresh: bool = False,
    timeout: float | None = None,
    step_options: StepOptions | None = None,
) -> ClipResult:
    """Make one MP4 of several still images in order, joined by transitions, under one music track.

    Every image is checked before anything is sent; a re-run with the same images (bytes, in the same order),
    prompt and options returns the cached clip without any request.

    Args:
        images: Paths of JPG, PNG, GIF or WEBP images, in the order they appear.
        prompt: What to make, in English or Chinese, e.g. "a slideshow, title 'Our Spring Line', calm music"
            or "把这些合成一个视频，每张2秒，淡入淡出".
        durations: Seconds each image shows (one number for all, or one per image; 0.5-60 s).
        transition: "crossfade", "push", "slide", "zoom_through" or "dip_to_black" (default: what the prompt
            says, else straight cuts).
        aspect: "16:9", "9:16", "1:1" or "4:5".
        fps: 24, 30 or 60.
        quality: Export quality: "high" (default), "medium" or "low".
        out_dir: Where the MP4 goes (a folder, an fsspec URL or a file-system Block).
        credentials: Which backend; default the embedded local one (or `NEMO_API_URL`).
        refresh: Render again even when a cached clip exists.
        timeout: Overall seconds (stream, export and download).
        step_options: Tags, retries and timeouts of the step task runs.

    Returns:
        One `ClipResult`; its `source_images` lists the stills in order.

    Example:
        ```python
        from prefect_nemo import images_to_video

        clip = images_to_video(["a.jpg", "b.jpg", "c.jpg"], "a slideshow, title 'Our Spring Line'",
                               durations=3, transition="crossfade")  # in async code: await aimages_to_video(...)
        print(clip.path, clip.duration)
        ```
    """
    job = timeline_job(
        images,
        prompt,
        durations=durations,
        transition=transition,
        aspect=aspect,
        fps=fps,
        quality=quality,
        credentials=credentials,
        out_dir=out_dir,
        refresh=refresh,
        timeout=timeout,
        step_options=step_options,
    )
    logger = get_run_logger()
    result = await make_clip(job, logger=logger)
    await clip_artifacts(result, ClipStore(job.out_dir))
    shown = ", ".join(display_path(Path(p).name) for p in result.source_images or [result.source_image])
    logger.info("clip of %s ready: %s (%.2f s)", shown, result.path, result.duration)
    return result


images_to_video = sync_twin(aimages_to_video)
