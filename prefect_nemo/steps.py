"""How a pipeline step runs as a Prefect task: named after its image (`upload product.jpg`), tagged `nemo`
plus the caller's tags, with the caller's retries and timeouts, and - for the billed calls (generate, render
submit) - holding a slot of a Prefect global concurrency limit, so runs on many workers share one API quota.

Outside a flow or task run a step is the plain async function: a script or the CLI needs no Prefect API.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, cast

from prefect_nemo.dispatch import NemoTask

__all__ = ["DEFAULT_LIMIT", "StepOptions", "for_clip", "in_flight", "report_cancellation", "step"]

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_LIMIT = "nemo-api"
"""The global concurrency limit billed calls hold a slot of, if it exists (`prefect gcl create nemo-api --limit 2`)."""

VERBS = {
    "nemo-create-session": "session",
    "nemo-upload-image": "upload",
    "nemo-session-state": "state",
    "nemo-generate": "generate",
    "nemo-export": "export",
    "nemo-wait-for-render": "render",
    "nemo-download-clip": "download",
}
BILLED = frozenset({"nemo-generate", "nemo-export"})


@dataclass(frozen=True)
class StepOptions:
    """What a caller may set on every step of a clip (None keeps the task's own default).

    Attributes:
        tags: Added to `nemo` on every step's task run (tag concurrency limits and filters use them).
        retries: Retries of the steps that are safe to repeat (never `generate`: a second send is a second charge).
        retry_delay_seconds: Seconds between those retries (default: exponential backoff from 2 s, jittered).
        timeout_seconds: Prefect's timeout of each step's task run (default none: each clip has its own deadline).
        concurrency_limit: The global concurrency limit billed calls hold a slot of; no wait when it does not
            exist; None to never ask.
    """

    tags: tuple[str, ...] = ()
    retries: int | None = None
    retry_delay_seconds: float | None = None
    timeout_seconds: float | None = None
    concurrency_limit: str | None = DEFAULT_LIMIT


_clip: ContextVar[tuple[str, StepOptions]] = ContextVar("nemo_clip", default=("", StepOptions()))
_in_flight: dict[str, str] = {}


@contextmanager
def for_clip(image_name: str, options: StepOptions | None) -> Iterator[None]:
    """Steps called inside are named after `image_name` and run with `options`."""
    token = _clip.set((image_name, options or StepOptions()))
    try:
        yield
    finally:
        _clip.reset(token)
        _in_flight.pop(image_name, None)


def in_flight() -> dict[str, str]:
    """The step each clip of this process is in right now (what a cancellation interrupts)."""
    return dict(_in_flight)


def report_cancellation(flow: Any, flow_run: Any, state: Any) -> None:
    """On cancellation, one line in the run's log: what was in flight, and that running the same inputs again
    resumes it (the ledger recorded each paid step before taking it, so nothing is sent or rendered twice)."""
    from prefect.logging.loggers import flow_run_logger

    logger = flow_run_logger(flow_run, flow) if flow_run is not None else logging.getLogger("prefect_nemo")
    busy = in_flight()
    doing = "; ".join(f"{image}: {verb}" for image, verb in sorted(busy.items())) or "no clip step in this process"
    logger.warning(
        "cancelled (%s); run the same inputs again to resume: paid steps are picked up from the ledger", doing
    )


def step(task: NemoTask[P, R], image: str | None = None) -> Callable[P, Awaitable[R]]:
    """The step to call: its async Prefect task, configured for this clip, or the plain function outside a run.

    Its run is named after ``image`` when given (the upload of one still of a timeline), else the clip's image.
    """
    from prefect.context import FlowRunContext, TaskRunContext

    async_task: Any = task.aio or task
    clip, options = _clip.get()
    verb = VERBS.get(async_task.name, async_task.name)
    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        return cast(Callable[P, Awaitable[R]], _tracked(async_task.fn, clip, verb, None))
    overrides: dict[str, Any] = {"tags": {"nemo", *options.tags}}
    if image or clip:
        overrides["task_run_name"] = f"{verb} {image or clip}".replace("{", "{{").replace("}", "}}")
    if async_task.retries and options.retries is not None:
        overrides["retries"] = options.retries
    if async_task.retries and options.retry_delay_seconds is not None:
        overrides["retry_delay_seconds"] = options.retry_delay_seconds
    if options.timeout_seconds is not None:
        overrides["timeout_seconds"] = options.timeout_seconds
    limit = options.concurrency_limit if async_task.name in BILLED else None
    return cast(Callable[P, Awaitable[R]], _tracked(async_task.with_options(**overrides), clip, verb, limit))


def _tracked(call: Callable[..., Awaitable[Any]], image: str, verb: str, limit: str | None) -> Callable[..., Any]:
    async def run(*args: Any, **kwargs: Any) -> Any:
        _in_flight[image] = verb
        if limit and await _limit_exists(limit):
            from prefect.concurrency.asyncio import concurrency

            async with concurrency(limit, occupy=1, strict=False, raise_on_lease_renewal_failure=False):
                return await call(*args, **kwargs)
        return await call(*args, **kwargs)

    return run


async def _limit_exists(name: str) -> bool:
    """Whether the user created this global concurrency limit (asked each time: it may appear at any moment)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        async with get_client() as client:
            await client.read_global_concurrency_limit_by_name(name)
    except ObjectNotFound:
        return False
    return True
