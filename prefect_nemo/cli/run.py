"""How `convert` runs a batch: the slow start (imports, credentials, the embedded backend) in a thread while the
images are checked, then the batch core in this process, or the `batch_image_to_video` flow when a Prefect API
is configured or `--prefect` is asked (a flow without an API would wait seconds for Prefect's temporary server).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from prefect_nemo.cli.common import resolve_credentials

if TYPE_CHECKING:
    from prefect_nemo.batch import BatchItem
    from prefect_nemo.credentials import NemoCredentials

__all__ = ["RUN_LOGGER", "Options", "Startup", "run_batch_direct", "run_batch_flow"]

RUN_LOGGER = "prefect_nemo.run"
"""The logger clips report to when no Prefect run is active (the console handler treats it as a run logger)."""


@dataclass(frozen=True)
class Options:
    """What the command line asked of every clip."""

    prompt: str
    out_dir: Path
    duration: float | None = None
    aspect: str | None = None
    quality: str = "high"
    concurrency: int = 4
    max_credits: int | None = None
    share_session: bool = False
    refresh: bool = False
    timeout: float | None = None


class Startup(threading.Thread):
    """Everything slow that does not depend on the images, started while they are checked: check the
    instruction, start or find the embedded backend, import the pipeline (and with it Prefect), resolve the
    credentials.

    The instruction is checked before the backend starts, so a bad one starts nothing. The embedded backend
    (chosen by `--api-url` or NEMO_API_URL, not by a Block) starts in a thread of its own before Prefect's
    import, so the two overlap instead of adding up.
    """

    def __init__(self, options: Options, api_url: str | None, block: str | None, client_id: str | None) -> None:
        super().__init__(name="prefect-nemo-startup", daemon=True)
        self.options, self.api_url, self.block, self.client_id = options, api_url, block, client_id
        self.credentials: NemoCredentials | None = None
        self.url = ""
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            from prefect_nemo.instruction import check_spec
            from prefect_nemo.models import ClipSpec

            o = self.options
            check_spec(ClipSpec(prompt=o.prompt, duration=o.duration, aspect=o.aspect, quality=o.quality))
            backend = self._start_local_backend()
            self.credentials = resolve_credentials(self.api_url, self.block, self.client_id)
            import prefect_nemo.batch
            import prefect_nemo.pipeline  # noqa: F401 - imported while the backend starts, not after

            if backend is not None:
                backend.result()  # resolved_url below then finds the server it started
            self.url = self.credentials.resolved_url()
        except BaseException as exc:  # handed to the main thread, which reports it as any other error
            self.error = exc

    def _start_local_backend(self) -> Future[str] | None:
        """Start the embedded backend now when the flag or NEMO_API_URL asks for it (a Block is read later)."""
        from prefect_nemo.settings import NemoSettings

        if self.block is not None or (self.api_url or NemoSettings().api_url).strip().lower() != "local":
            return None
        from prefect_nemo.local import launcher

        launcher.wait_at_exit = False  # the command returns while the backend shuts down (its workers go with it)

        started: Future[str] = Future()
        starter = threading.Thread(target=_settle, args=(started, launcher.ensure_local_server), daemon=True)
        starter.start()
        return started

    def result(self) -> tuple[NemoCredentials, str]:
        self.join()
        if self.error is not None:
            raise self.error
        assert self.credentials is not None
        return self.credentials, self.url


def _settle(future: Future[str], start: Callable[[], str]) -> None:
    try:
        future.set_result(start())
    except BaseException as exc:  # raised again where the result is read
        future.set_exception(exc)


async def run_batch_direct(
    images: Sequence[Path],
    options: Options,
    credentials: NemoCredentials,
    on_item: Callable[[BatchItem], Awaitable[None]],
) -> list[BatchItem]:
    """The batch core in this event loop: no Prefect run, API or server."""
    from prefect_nemo.batch import build_jobs, clip_budget, run_batch
    from prefect_nemo.pipeline import make_clip

    logger = logging.getLogger(RUN_LOGGER)
    budget = None
    session_id = None
    async with credentials.get_client() as client:
        if options.max_credits is not None:
            available = (await client.credits()).available
            budget = clip_budget(options.max_credits, available)
            if budget < len(images):
                logger.warning(
                    "the credit budget allows %d of %d clips (--max-credits %d, %d available)",
                    budget,
                    len(images),
                    options.max_credits,
                    available,
                )
        if options.share_session:
            session_id = (await client.create_session()).session_id
    jobs = build_jobs(
        images,
        options.prompt,
        credentials=credentials,
        out_dir=options.out_dir,
        duration=options.duration,
        aspect=options.aspect,
        quality=options.quality,
        refresh=options.refresh,
        timeout=options.timeout,
        session_id=session_id,
    )
    return await run_batch(
        jobs,
        lambda job: make_clip(job, logger=logger),
        concurrency=1 if options.share_session else options.concurrency,
        budget=budget,
        on_item=on_item,
        logger=logger,
    )


def run_batch_flow(images: Sequence[Path], options: Options, credentials: NemoCredentials) -> list[BatchItem]:
    """The same batch as a Prefect flow run: logs, artifacts and states in the Prefect UI."""
    from prefect_nemo.batch_flows import abatch_image_to_video

    return asyncio.run(
        abatch_image_to_video(
            [str(p) for p in images],
            options.prompt,
            max_concurrency=options.concurrency,
            duration=options.duration,
            aspect=options.aspect,
            quality=options.quality,
            out_dir=options.out_dir,
            credentials=credentials,
            max_credits=options.max_credits,
            share_session=options.share_session,
            refresh=options.refresh,
            timeout=options.timeout,
            allow_failures=True,  # the command line reports failures itself, one line each, and sets the exit code
        )
    )
