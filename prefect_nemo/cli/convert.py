"""`prefect-nemo convert`: images in, MP4 clips out.

Everything that can fail locally is checked before anything slow starts or anything is paid for; the slow start
(Prefect's import, the embedded backend) runs in a thread while the images are checked; the batch then runs in
this process, or as a Prefect flow when a Prefect API is configured or `--prefect` is asked.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from prefect_nemo.cli import checks
from prefect_nemo.cli import one_clip as one
from prefect_nemo.cli.common import (
    ApiUrl,
    AsJson,
    BlockName,
    ClientId,
    connect,
    debugging,
    err,
    out,
    prefect_api_configured,
    print_json,
)
from prefect_nemo.cli.errors import UsageError, print_error
from prefect_nemo.inputs import Input, account

if TYPE_CHECKING:
    from prefect_nemo.batch import BatchItem
    from prefect_nemo.cli.interrupt import CtrlC
    from prefect_nemo.cli.run import Options, Startup
    from prefect_nemo.credentials import NemoCredentials

__all__ = ["Aspect", "Quality", "Transition", "convert"]


class Aspect(StrEnum):
    wide = "16:9"
    tall = "9:16"
    square = "1:1"
    portrait = "4:5"


class Transition(StrEnum):
    crossfade = "crossfade"
    push = "push"
    slide = "slide"
    zoom_through = "zoom_through"
    dip_to_black = "dip_to_black"


class Quality(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


def convert(
    ctx: typer.Context,
    images: Annotated[list[Path], typer.Argument(help="Image files, or folders of images.", show_default=False)],
    prompt: Annotated[
        str, typer.Option("--prompt", "-p", help="What to make of each image.")
    ] = "5-second slow push-in",
    duration: Annotated[
        float | None, typer.Option(min=1, max=60, help="Clip length in seconds.", show_default=False)
    ] = None,
    aspect: Annotated[Aspect | None, typer.Option(help="Aspect ratio of the clip.", show_default=False)] = None,
    quality: Annotated[Quality, typer.Option(help="Export quality.")] = Quality.high,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default NEMO_OUTPUT_DIR, else ./clips).", show_default=False),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Clips in flight at once.")] = 4,
    max_credits: Annotated[
        int | None, typer.Option(min=0, help="Stop submitting clips past this many credits.", show_default=False)
    ] = None,
    share_session: Annotated[bool, typer.Option(help="One session for all clips, made one after another.")] = False,
    refresh: Annotated[bool, typer.Option(help="Render again even when a cached clip exists.")] = False,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per clip (default NEMO_TIMEOUT, 900).", show_default=False)
    ] = None,
    one_clip: Annotated[
        bool, typer.Option("--one-clip", help="One clip of all the images in order; --duration is then per image.")
    ] = False,
    transition: Annotated[
        Transition | None, typer.Option(help="With --one-clip: how each image gives way to the next.")
    ] = None,
    use_prefect: Annotated[
        bool, typer.Option("--prefect", help="Run as the batch-image-to-video Prefect flow (the default with an API).")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show every clip's log lines.")] = False,
    as_json: AsJson = False,
    api_url: ApiUrl = None,
    block: BlockName = None,
    client_id: ClientId = None,
) -> None:
    """Convert images into MP4 clips.

    Runs in this process; with a Prefect API configured (PREFECT_API_URL) or --prefect, as the
    batch-image-to-video flow. Exit code 0 when every clip was made or found in the cache, 1 when any input
    failed or was skipped, 2 for a bad command line, 130 when interrupted.
    """
    checks.check_prompt(prompt)
    checks.check_api_url(api_url)
    inputs = account(images)
    if one_clip:
        one.refuse_unusable(inputs)
    named = [i for i in inputs if i.usable]
    if not named:
        _nothing_to_convert(inputs)
    out_dir = checks.check_out_dir(out_dir or checks.default_out_dir())  # creates it: only for a sound command
    checks.check_disk(out_dir, len(named), duration)
    checks.check_ledger()
    from prefect_nemo.cli.interrupt import ctrl_c_deferred
    from prefect_nemo.cli.progress import quiet_prefect
    from prefect_nemo.cli.report import results_table, rows
    from prefect_nemo.cli.run import Options, Startup

    options = Options(
        prompt=prompt,
        out_dir=out_dir,
        duration=duration,
        aspect=aspect.value if aspect else None,
        quality=quality.value,
        concurrency=concurrency,
        max_credits=max_credits,
        share_session=share_session,
        refresh=refresh,
        timeout=timeout,
    )
    startup = Startup(options, api_url, block, client_id)
    begun = time.monotonic()
    try:
        with ctrl_c_deferred() as ctrl_c:  # raised where it lands, Ctrl-C could hang the start (see the module)
            startup.start()
            _check_contents(inputs, ctrl_c)
            if one_clip:
                one.refuse_unusable(inputs)
            usable = [i.path for i in inputs if i.usable]
            if not usable:
                _nothing_to_convert(inputs)
            credentials, url = _started(startup, ctrl_c)
    except KeyboardInterrupt:  # Typer would turn it into a silent exit 130
        from prefect_nemo.cli.report import interrupted_at_start

        interrupted_at_start(err, time.monotonic() - begun)
        raise typer.Exit(130) from None
    connect(credentials, url)
    flow = use_prefect or prefect_api_configured()
    if one_clip:
        quiet_prefect(err, verbose, debugging(ctx))
        raise typer.Exit(one.make_one_clip(usable, options, transition, credentials, flow, as_json))
    err.print(Text.assemble(("Prefect: ", "bold"), _prefect_label(flow, use_prefect)), soft_wrap=True)
    quiet_prefect(err, verbose, debugging(ctx))
    started = time.monotonic()
    items = _run(usable, options, credentials, flow)
    table_rows = rows(inputs, items)
    if as_json:
        print_json([row.json() for row in table_rows])
    else:
        out.print(results_table(table_rows))
    statuses = [row.status for row in table_rows]
    counts = {s: statuses.count(s) for s in ("ok", "cached", "skipped", "failed", "ignored")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    noun = "input" if len(table_rows) == 1 else "inputs"
    err.print(f"{len(table_rows)} {noun} in {time.monotonic() - started:.1f} s: {tally}", soft_wrap=True, markup=False)
    raise typer.Exit(1 if counts["failed"] or counts["skipped"] else 0)


def _run(usable: list[Path], options: Options, credentials: NemoCredentials, flow: bool) -> list[BatchItem]:
    """Make the clips with a progress display; after Ctrl-C, say where each clip got to and exit 130."""
    import asyncio

    from prefect_nemo.cli.progress import ClipProgress
    from prefect_nemo.cli.report import clip_line, interrupted_message, pending_renders
    from prefect_nemo.cli.run import run_batch_direct, run_batch_flow
    from prefect_nemo.progress import listen

    started, started_at = time.monotonic(), time.time()
    finished: list[BatchItem] = []
    progress = ClipProgress(err, [str(p) for p in usable], lines_from_items=not flow)

    async def on_item(item: BatchItem) -> None:
        finished.append(item)
        progress.item_done(clip_line(item, len(finished), progress.total, progress.live))

    try:
        with progress, listen(progress):
            if flow:
                return run_batch_flow(usable, options, credentials)
            return asyncio.run(run_batch_direct(usable, options, credentials, on_item))
    except KeyboardInterrupt:
        from prefect_nemo.settings import NemoSettings

        renders = pending_renders(NemoSettings().ledger_path, started_at)
        interrupted_message(err, finished, dict(progress.stages), renders, time.monotonic() - started)
        raise typer.Exit(130) from None


def _started(startup: Startup, ctrl_c: CtrlC) -> tuple[NemoCredentials, str]:
    """Wait for the slow start, or for Ctrl-C; an instruction it refused is a bad command line like the others."""
    from prefect_nemo.errors import NemoInputError

    try:
        if startup.is_alive() and err.is_terminal:
            with err.status("starting the embedded backend…"):
                ctrl_c.wait_for(startup)
        ctrl_c.wait_for(startup)
        return startup.result()
    except NemoInputError as exc:
        raise UsageError("-p" if exc.input == "instruction" else f"--{exc.input}", exc.reason) from None


def _check_contents(inputs: list[Input], ctrl_c: CtrlC) -> None:
    """Pre-flight each usable image now, while the backend starts: a damaged or hostile file is named before
    any clip is paid for (the pipeline checks it again, as any caller of `make_clip` gets)."""
    from prefect_nemo.errors import NemoInputError
    from prefect_nemo.media import preflight
    from prefect_nemo.settings import NemoSettings

    work_dir = NemoSettings().cache_dir / "prepared"
    for entry in inputs:
        if entry.usable:
            ctrl_c.check()
            try:
                preflight(entry.path, work_dir)
            except NemoInputError as exc:
                entry.reason = exc.reason


def _nothing_to_convert(inputs: list[Input]) -> None:
    """No input is usable: name each one and its reason, start nothing."""
    if len(inputs) == 1:
        print_error(f"{inputs[0].shown}: {inputs[0].reason}")
    else:
        for entry in inputs:
            err.print(Text.assemble(("not used: ", "yellow"), f"{entry.shown}: {entry.reason}"), soft_wrap=True)
        print_error(f"no usable images among the {len(inputs)} inputs named; nothing was converted")
    raise typer.Exit(2)  # a bad command line, as Click's own usage errors


def _prefect_label(flow: bool, asked: bool) -> str:
    if not flow:
        return "not used: clips are made in this process (set PREFECT_API_URL or pass --prefect to run a flow)"
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    where = f"API at {url}" if url else "a temporary local server (PREFECT_API_URL is not set)"
    return "the batch-image-to-video flow" + (" (--prefect)" if asked else "") + f", {where}"
