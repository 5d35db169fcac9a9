"""Export: submit the draft's render under an id recorded first, wait for it, and resume it by that id.

A render id is written to the ledger before its submit, so a run that stops anywhere resumes the same render
instead of paying for a second; a failed render gets one new id, once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from prefect_nemo import tasks
from prefect_nemo.errors import NemoBadRequest, NemoRenderFailed, NemoTimeout
from prefect_nemo.ledger import ClipRecord, Ledger
from prefect_nemo.models import RenderJob
from prefect_nemo.polling import Deadline
from prefect_nemo.progress import report
from prefect_nemo.steps import step

if TYPE_CHECKING:
    from prefect_nemo.pipeline import ClipJob

__all__ = ["export_and_wait", "new_render_id", "submit_if_never_received"]


def new_render_id() -> str:
    """A caller-chosen render id, unique per submit (the backend refuses a second job with one id)."""
    return f"render_{uuid.uuid4().hex}"


async def export_and_wait(
    job: ClipJob,
    record: ClipRecord,
    ledger: Ledger,
    deadline: Deadline,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> RenderJob:
    """Export under a recorded id, resume it if one exists; one new id after a failed render."""
    assert record.session_id is not None and record.draft is not None
    while True:
        if record.render_id is None:
            record.render_id = new_render_id()
            record.render_attempts += 1
            # recorded before submitting, so a crash resumes instead of re-submitting
            await asyncio.to_thread(ledger.save, record)
            await step(tasks.export_clip)(
                job.credentials, record.session_id, record.draft, record.render_id, job.spec.quality
            )
        else:
            logger.info("resuming render %s", record.render_id)
            await submit_if_never_received(job, record)
        try:
            if deadline.expired:
                raise NemoTimeout(f"render {record.render_id}", deadline.elapsed)
            report(str(job.image), "render")
            return await step(tasks.wait_for_render)(
                job.credentials, record.render_id, timeout=deadline.remaining, progress_key=str(job.image)
            )
        except NemoRenderFailed as exc:
            if record.render_attempts >= 2:
                raise
            logger.warning("%s; retrying once with a new render id", exc)
            record.render_id = None
            await asyncio.to_thread(ledger.save, record)


async def submit_if_never_received(job: ClipJob, record: ClipRecord) -> None:
    """A recorded render id the backend does not know means the run stopped between recording the id and
    submitting it: submit it now, under the same id (the backend refuses a second job with one id)."""
    assert record.session_id is not None and record.draft is not None and record.render_id is not None
    async with job.credentials.get_client() as client:
        try:
            await client.render_status(record.render_id)
            return
        except NemoBadRequest as exc:
            if exc.status_code != 404:
                raise
    await step(tasks.export_clip)(job.credentials, record.session_id, record.draft, record.render_id, job.spec.quality)
