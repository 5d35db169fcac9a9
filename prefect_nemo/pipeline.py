"""The path of one image (DESIGN.md): pre-flight, cache, session, upload, generate, export, wait,
download, verify - each step a task, each costly step recorded in the ledger before it is taken."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from prefect_nemo import tasks
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.errors import (
    NemoAPIError,
    NemoDownloadError,
    NemoServerError,
    NemoSessionNotFound,
    NemoStreamError,
    NemoTransportError,
)
from prefect_nemo.export import export_and_wait
from prefect_nemo.instruction import DURATION_RANGE, MAX_INSTRUCTION_CHARS, check_spec, translate_gui_text
from prefect_nemo.ledger import ClipRecord, Ledger, clip_key
from prefect_nemo.media import PreparedImage, display_path, preflight, probe, sha256_file
from prefect_nemo.metering import after_generate, before_generate
from prefect_nemo.models import ClipResult, ClipSpec
from prefect_nemo.polling import Deadline
from prefect_nemo.progress import report
from prefect_nemo.steps import StepOptions, for_clip, step
from prefect_nemo.storage import ClipStore, Destination, clip_name, deliver

__all__ = ["DURATION_RANGE", "MAX_INSTRUCTION_CHARS", "ClipJob", "check_spec", "make_clip", "translate_gui_text"]


@dataclass
class ClipJob:
    """Everything one clip needs, picklable so it can travel to a Dask or Ray worker."""

    image: Path
    spec: ClipSpec
    credentials: NemoCredentials
    out_dir: Destination
    """A local folder, an fsspec URL (`s3://bucket/clips`) or a Prefect file-system Block."""
    ledger_path: Path
    refresh: bool = False
    timeout: float = 900.0
    session_id: str | None = None
    cache_expiration: float | None = None
    work_dir: Path = field(default_factory=lambda: Path(".nemo-work"))
    staging_dir: Path = field(default_factory=lambda: Path(".nemo-work/staged"))
    """Where a clip is downloaded and checked before it is put in `out_dir` (kept for remote outputs)."""
    refine_of: ClipResult | None = None
    """Set for a refinement: a follow-up instruction in this clip's session, rendered as a new version."""
    step_options: StepOptions | None = None
    """Tags, retries, timeouts and the concurrency limit of this clip's step task runs."""
    more_images: tuple[Path, ...] = ()
    """A timeline: the stills after `image`, uploaded in order into the same session, for one clip of them all."""

    @property
    def version(self) -> int:
        return self.refine_of.version + 1 if self.refine_of else 1


_step = step


def _valid_cached(record: ClipRecord) -> ClipResult | None:
    """A cached clip counts only if its MP4 is still there, whole."""
    result = record.result
    if result is None or not result.path.is_file() or result.path.stat().st_size != result.size_bytes:
        return None
    return result.model_copy(update={"cached": True})


async def make_clip(job: ClipJob, *, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> ClipResult:
    """Turn one image into a verified MP4, resuming whatever an earlier run already paid for."""
    with for_clip(display_path(job.image.name), job.step_options):
        return await _make_clip(job, logger)


async def _make_clip(job: ClipJob, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]) -> ClipResult:
    name = str(job.image)
    report(name, "preflight")
    check_spec(job.spec)
    request = job.spec.normalized()
    if job.refine_of:
        # The image is already in the clip's session; the source file need not exist any more.
        source = job.refine_of
        prepared = PreparedImage(job.image, job.image, source.image_sha256, source.width, source.height)
        request["refine_of"] = source.sha256
    else:
        prepared = await asyncio.to_thread(preflight, job.image, job.work_dir)
    more = [await asyncio.to_thread(preflight, image, job.work_dir) for image in job.more_images]
    for note in [*prepared.warnings, *(w for p in more for w in p.warnings)]:
        logger.warning(note)
    credentials = job.credentials
    api_url = await asyncio.to_thread(credentials.resolved_url)
    content = prepared.sha256 if not more else "+".join(p.sha256 for p in (prepared, *more))  # order counts
    key = clip_key(content, request, api_url if not credentials.is_local else "local")
    ledger = await asyncio.to_thread(Ledger, job.ledger_path, expire_after=job.cache_expiration)
    try:
        async with ledger.claim(key):  # one paid generate per clip key, across tasks and processes
            return await _claimed(job, ledger, key, [prepared, *more], logger)
    finally:
        await asyncio.to_thread(ledger.close)  # its SQLite connection, not left to the garbage collector


async def _claimed(
    job: ClipJob,
    ledger: Ledger,
    key: str,
    images: list[PreparedImage],
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> ClipResult:
    """The clip under its claim: delivered from the ledger's record if still valid, else made (resumed)."""
    name = str(job.image)
    record = await asyncio.to_thread(ledger.get, key)
    if job.refine_of and record.session_id is None:
        record.session_id, record.uploaded = job.refine_of.session_id, True
    if job.refresh:
        record = ClipRecord(key, session_id=record.session_id, task_id=record.task_id, uploaded=record.uploaded)
    elif cached := await asyncio.to_thread(_valid_cached, record):
        cached = await deliver(cached, ClipStore(job.out_dir), clip_filename(job, key), keep=True)
        logger.info("cached: %s -> %s", display_path(job.image.name), cached.uri or cached.path)
        report(name, "cached", 1.0)
        return cached
    elif record.result is not None:
        # The paid generation is still in the session: export it again (exports cost no credits).
        logger.warning("the cached clip %s is gone; exporting it again", record.result.path)
        record.result, record.render_id, record.render_attempts = None, None, 0
    deadline = Deadline(job.timeout)
    started = time.monotonic()
    for attempt in range(2):
        try:
            return await _run(job, images, record, ledger, deadline, started, logger)
        except NemoSessionNotFound:
            if attempt:
                raise
            logger.warning("session %s is gone (1002); starting a new session", record.session_id)
            record = ClipRecord(key)
            await asyncio.to_thread(ledger.save, record)
    raise AssertionError("unreachable")


async def _run(
    job: ClipJob,
    stills: list[PreparedImage],
    record: ClipRecord,
    ledger: Ledger,
    deadline: Deadline,
    started: float,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
) -> ClipResult:
    credentials = job.credentials
    name = str(job.image)
    resumed = record.generate_sent or record.generated  # an earlier run paid for the instruction: pick it up
    prepared = stills[0]
    report(name, "session")
    if len(stills) > 1 and not record.uploaded and not job.session_id:
        record.session_id = None  # some stills may be in the old session already: their order must be exact
    if record.session_id is None:
        if job.session_id:
            record.session_id = job.session_id
        else:
            session = await _step(tasks.create_session)(credentials)
            record.session_id, record.task_id = session.session_id, session.task_id
        await asyncio.to_thread(ledger.save, record)
    session_id = record.session_id
    if not record.uploaded:
        report(name, "upload")
        for still in stills:  # each upload's task run named after its own image
            upload = _step(tasks.upload_image, display_path(still.source.name))
            await upload(credentials, session_id, still.upload_path)
        record.uploaded = True
        await asyncio.to_thread(ledger.save, record)
    if not record.generated:
        report(name, "generate")
        if record.generate_sent:
            # An earlier run sent the instruction and stopped before the draft was ready: never re-send,
            # wait for the draft the backend is (or was) making.
            logger.info("instruction for %s was already sent; waiting for its draft", display_path(job.image.name))
            async with credentials.get_client() as client:
                state = await client.wait_for_draft(session_id, baseline=record.baseline, deadline=deadline)
            record.draft = state.draft
        else:
            if job.refine_of or job.session_id:
                # The session already has a draft: the new one must differ from it.
                record.baseline = (await _step(tasks.get_state)(credentials, session_id)).fingerprint
            record.generate_sent = True
            await asyncio.to_thread(ledger.save, record)
            balance_before = await before_generate(credentials)
            try:
                generated = await _step(tasks.generate_clip)(
                    credentials, session_id, job.spec.message(), baseline=record.baseline, timeout=deadline.remaining
                )
            except (NemoAPIError, NemoStreamError, NemoTransportError) as exc:
                if not exc.accepted and not isinstance(exc, NemoServerError) and not getattr(exc, "sent", False):
                    # The backend said it did not run the instruction (refused, rejected, out of credits, or
                    # failed with no draft): a later run may send it again without paying twice.
                    record.generate_sent = False
                    await asyncio.to_thread(ledger.save, record)
                raise
            record.credits_used = await after_generate(credentials, balance_before)
            record.texts = [translate_gui_text(t) for t in generated.texts]
            for text in record.texts:
                logger.info("NemoVideo: %s", text)
            record.draft = generated.draft
            if generated.stream_error:
                note = f"the stream reported an error, but the draft was ready: {generated.stream_error}"
                logger.warning(note)
                record.warnings.append(note)
        record.generated = True
        await asyncio.to_thread(ledger.save, record)
    assert record.draft is not None
    job_status = await export_and_wait(job, record, ledger, deadline, logger)
    dest = job.staging_dir / clip_filename(job, record.key)
    await _step(tasks.download_clip)(credentials, job_status, dest, progress_key=name)
    try:
        info = await asyncio.to_thread(probe, dest)
    except ValueError as exc:
        dest.unlink(missing_ok=True)
        raise NemoDownloadError(job_status.id, str(exc)) from exc
    result = ClipResult(
        path=dest.resolve(),
        sha256=await asyncio.to_thread(sha256_file, dest),
        size_bytes=(await asyncio.to_thread(dest.stat)).st_size,
        duration=info.duration,
        width=info.width,
        height=info.height,
        fps=info.fps,
        codec=info.codec,
        render_id=job_status.id,
        session_id=session_id,
        source_image=display_path(job.image),
        source_images=[display_path(p) for p in (job.image, *job.more_images)] if job.more_images else [],
        image_sha256=prepared.sha256,
        instruction=job.spec.message(),
        texts=record.texts,
        render_seconds=round(time.monotonic() - started, 2),
        warnings=[*(w for p in stills for w in p.warnings), *record.warnings],
        workspace_url=await _workspace_link(credentials, record),
        version=job.version,
        resumed=resumed,
        summary=_summary(record),
        notes=_notes(record),
        credits_used=record.credits_used,
    )
    result = await deliver(result, ClipStore(job.out_dir), dest.name, keep=False)
    record.result = result
    await asyncio.to_thread(ledger.save, record)
    report(name, "done", 1.0)
    return result


async def _workspace_link(credentials: NemoCredentials, record: ClipRecord) -> str | None:
    if credentials.is_local or not (record.task_id and record.session_id):
        return None  # the embedded backend stops with the run: its link would be dead in the UI
    try:
        async with credentials.get_client() as client:
            return await client.claim_link(record.task_id, record.session_id)
    except Exception:  # a missing link must never fail a paid clip
        return None


def clip_filename(job: ClipJob, key: str) -> str:
    """The MP4's name: the image's name (letters of any script kept), the clip key, the version."""
    version = f"-v{job.version}" if job.version > 1 else ""
    return f"{_safe_stem(job.image)}-{key[:10]}{version}.mp4"


def _safe_stem(path: Path) -> str:
    return clip_name(path.stem)


def _summary(record: ClipRecord) -> str | None:
    """What the backend did, in one sentence: its own `did` when the draft carries one, else its first words."""
    meta = (record.draft or {}).get("m") or {}
    did = meta.get("did") if isinstance(meta, dict) else None
    if isinstance(did, str) and did.strip():
        return did.strip()
    return record.texts[0] if record.texts else None


def _notes(record: ClipRecord) -> list[str]:
    meta = (record.draft or {}).get("m") or {}
    notes = meta.get("notes") if isinstance(meta, dict) else None
    return [str(n) for n in notes if str(n).strip()] if isinstance(notes, list) else []
