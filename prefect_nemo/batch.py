"""A batch of clips, with no Prefect in it: bounded concurrency, a credit budget, one outcome per input.

The `batch_image_to_video` flow wraps this with Prefect's logging, artifacts and states; the command line
runs it directly when no Prefect API is configured, so a conversion never waits for a temporary server.
Nothing here needs a Prefect run, API or server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.errors import NemoError, NemoInputError, NemoOutOfCredits
from prefect_nemo.media import display_path
from prefect_nemo.models import ClipResult, ClipSpec
from prefect_nemo.pipeline import ClipJob
from prefect_nemo.progress import report
from prefect_nemo.settings import NemoSettings
from prefect_nemo.steps import StepOptions
from prefect_nemo.storage import Destination

__all__ = ["CREDITS_PER_CLIP", "BatchItem", "BatchResult", "build_jobs", "clip_budget", "run_batch"]

CREDITS_PER_CLIP = 100
"""A generation costs about 100 credits (nemo-api.md section 6); exports are free."""


def clip_budget(max_credits: int, available: int) -> int:
    """How many clips may be submitted with `max_credits`, and no more than the balance allows."""
    return min(max_credits, available) // CREDITS_PER_CLIP


Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]


@dataclass
class BatchItem:
    """One input's outcome in a batch: ok, cached, skipped or failed, with a reason."""

    image: str
    status: str
    result: ClipResult | None = None
    error: str | None = None

    def row(self) -> dict[str, Any]:
        r = self.result
        return {
            "image": Path(self.image).name,
            "status": self.status,
            "clip": (r.uri or str(r.path)) if r else "",
            "duration_s": round(r.duration, 2) if r else "",
            "resolution": r.resolution if r else "",
            "reason": self.error or "",
        }


class BatchResult(list[BatchItem]):
    """Every input with its outcome, in input order."""

    @property
    def ok(self) -> list[ClipResult]:
        return [i.result for i in self if i.result is not None]

    @property
    def failed(self) -> list[BatchItem]:
        return [i for i in self if i.status in ("failed", "skipped")]

    def counts(self) -> dict[str, int]:
        """How many inputs ended in each status, in a fixed order."""
        return {s: sum(1 for i in self if i.status == s) for s in ("ok", "cached", "skipped", "failed")}

    def summary(self, first: int = 3) -> str:
        """One line for a run's state and log: the counts, then the first failures by name and reason."""
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n or s in ("ok", "failed"))
        line = f"{len(self)} images: {counts}"
        failed = self.failed
        if failed:
            named = "; ".join(_reason(i) for i in failed[:first])
            more = f"; and {len(failed) - first} more" if len(failed) > first else ""
            line += f". First failures: {named}{more}"
        return line


def _reason(item: BatchItem) -> str:
    name = Path(item.image).name
    error = item.error or item.status
    return error if name in error else f"{name}: {error}"


def build_jobs(
    images: Sequence[str | Path],
    prompt: str | Sequence[str],
    *,
    credentials: NemoCredentials | None = None,
    out_dir: Destination | None = None,
    duration: float | None = None,
    aspect: str | None = None,
    fps: int | None = None,
    quality: str = "high",
    refresh: bool = False,
    timeout: float | None = None,
    session_id: str | None = None,
    step_options: StepOptions | None = None,
) -> list[ClipJob]:
    """One `ClipJob` per image: one prompt for all, or one per image."""
    prompts = [prompt] * len(images) if isinstance(prompt, str) else list(prompt)
    if len(prompts) != len(images):
        raise NemoInputError("prompt", f"{len(prompts)} prompts for {len(images)} images; give one or one per image")
    settings = NemoSettings()
    credentials = credentials or NemoCredentials()
    return [
        ClipJob(
            image=Path(image),
            spec=ClipSpec(prompt=text, duration=duration, aspect=aspect, fps=fps, quality=quality),
            credentials=credentials,
            out_dir=out_dir if out_dir is not None else settings.output_dir,
            ledger_path=settings.ledger_path,
            refresh=refresh,
            timeout=timeout or settings.timeout,
            session_id=session_id,
            cache_expiration=settings.cache_expiration,
            work_dir=settings.cache_dir / "prepared",
            staging_dir=settings.cache_dir / "staged",
            step_options=step_options,
        )
        for image, text in zip(images, prompts, strict=True)
    ]


async def run_batch(
    jobs: Sequence[ClipJob],
    convert: Callable[[ClipJob], Awaitable[ClipResult]],
    *,
    concurrency: int = 4,
    budget: int | None = None,
    on_item: Callable[[BatchItem], Awaitable[None]] | None = None,
    logger: Logger | None = None,
) -> BatchResult:
    """Convert every job with at most `concurrency` in flight; one failing clip never sinks the others.

    Args:
        convert: Makes one clip (`pipeline.make_clip` directly, or a Prefect task around it).
        budget: How many clips may be submitted (cached clips do not count); the rest are `skipped`.
        on_item: Called as each input finishes (a progress artifact, a progress bar).
    """
    log = logger or logging.getLogger("prefect_nemo.batch")
    items = BatchResult(BatchItem(display_path(j.image), "pending") for j in jobs)
    stop = asyncio.Event()
    gate = asyncio.Semaphore(max(1, concurrency))
    spent = 0

    async def one(index: int, job: ClipJob) -> None:
        nonlocal spent
        async with gate:
            item = items[index]
            if stop.is_set() or (budget is not None and spent >= budget):
                item.status, item.error = "skipped", "not submitted: out of credits or over max_credits"
            else:
                spent += 1
                await _convert_one(item, job, convert, stop, log)
                if item.status == "cached":
                    spent -= 1
            if item.error:
                log.error("%s: %s", Path(item.image).name, item.error)
            if on_item is not None:
                await on_item(item)

    await asyncio.gather(*(one(i, job) for i, job in enumerate(jobs)))
    return items


async def _convert_one(
    item: BatchItem,
    job: ClipJob,
    convert: Callable[[ClipJob], Awaitable[ClipResult]],
    stop: asyncio.Event,
    log: Logger,
) -> None:
    try:
        item.result = await convert(job)
        item.status = "cached" if item.result.cached else "ok"
        return
    except NemoOutOfCredits as exc:
        stop.set()
        item.error = f"out of credits: {exc}"
    except NemoError as exc:
        item.error = str(exc)
    except Exception as exc:  # a bug in one clip must not sink the batch; name it, keep going
        item.error = f"internal error (please report it): {type(exc).__name__}: {exc}"
        log.exception("unexpected failure converting %s", Path(item.image).name)
    item.status = "failed"
    report(item.image, "failed")
