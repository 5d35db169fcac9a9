"""The `prefect-nemo` command line: convert images, run the embedded backend, look at credits, clips and drafts.

Built on Typer (commands and `--help` from type hints) and Rich (progress bars and tables), both already
installed with Prefect. Conventions, as in `uv` and `prefect`: results on stdout (`--json` for scripts),
progress, the backend in use and errors on stderr; an error is one line with the reason and what to do,
and a traceback only with `--debug`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column, Table
from rich.text import Text

from prefect_nemo import __version__, errors
from prefect_nemo.credentials import CLOUD_URL, NemoCredentials
from prefect_nemo.media import ACCEPTED_IMAGES
from prefect_nemo.progress import Stage, listen
from prefect_nemo.settings import NemoSettings

__all__ = ["app", "main", "timeline_summary"]

app = typer.Typer(
    name="prefect-nemo",
    help="Turn still images into MP4 clips with NemoVideo, as Prefect flows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)
_debug = False


# -- options shared by the commands that talk to a backend ------------------------------------------

ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help='Backend URL, or "local" for the embedded backend. Overrides the Block and NEMO_API_URL.',
        show_default=False,
    ),
]
BlockName = Annotated[
    str | None,
    typer.Option("--credentials", help="Name of a saved NemoCredentials Block to use.", show_default=False),
]
ClientId = Annotated[
    str | None,
    typer.Option("--client-id", help="X-Client-Id for anonymous tokens (default NEMO_CLIENT_ID).", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of text.")]


class Aspect(StrEnum):
    wide = "16:9"
    tall = "9:16"
    square = "1:1"
    portrait = "4:5"


class Quality(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class Dialect(StrEnum):
    adk = "adk"
    typed = "typed"


class RenderEnvelope(StrEnum):
    success = "success"
    flat = "flat"


def resolve_credentials(api_url: str | None, block: str | None, client_id: str | None) -> NemoCredentials:
    """Flag > Block field > `NEMO_*` environment variable > default (the Block's defaults read the env)."""
    credentials = asyncio.run(NemoCredentials.aload(block)) if block else NemoCredentials()
    updates = {key: value for key, value in (("api_url", api_url), ("client_id", client_id)) if value}
    return credentials.model_copy(update=updates) if updates else credentials


def backend_label(credentials: NemoCredentials, url: str) -> str:
    if credentials.is_local:
        return f"embedded local backend at {url}"
    if url.rstrip("/") == CLOUD_URL:
        return f"NemoVideo cloud at {url}"
    return f"NemoVideo-compatible backend at {url}"


def connect(credentials: NemoCredentials) -> str:
    """Resolve the backend (starting the embedded one if needed) and say which one is in use, on stderr."""
    if credentials.is_local and err.is_terminal:
        with err.status("starting the embedded backend…"):
            url = credentials.resolved_url()
    else:
        url = credentials.resolved_url()
    line = Text.assemble(("Backend: ", "bold"), backend_label(credentials, url))
    if credentials.is_local:
        line.append(f" (NEMO_API_URL={CLOUD_URL} switches to the cloud)", style="dim")
    err.print(line, soft_wrap=True)
    return url


def prefect_api_label() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    return f"API at {url}" if url else "temporary local server, started for this run (PREFECT_API_URL is not set)"


# -- Prefect's console logging, kept to what a CLI user needs -----------------------------------------


class _ConsoleLogHandler(logging.Handler):
    """Warnings through our console (so they print above the progress bars), one line each.

    Failures of clips are left out unless `--verbose`: the summary names each one once, with its reason.
    """

    def __init__(self, console: Console, verbose: bool) -> None:
        super().__init__(logging.DEBUG if _debug else logging.INFO if verbose else logging.WARNING)
        self.console = console
        self.verbose = verbose

    def emit(self, record: logging.LogRecord) -> None:
        run_logger = record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))
        if run_logger and record.levelno >= logging.ERROR and not self.verbose and not _debug:
            return
        try:
            message = record.getMessage()
            if not _debug:
                message = message.splitlines()[0] if message else message
            style = {logging.WARNING: "yellow", logging.ERROR: "red", logging.CRITICAL: "red"}.get(record.levelno)
            self.console.print(
                Text.assemble((f"{record.levelname.lower()}: ", style or "dim"), message), soft_wrap=True
            )
            if _debug and record.exc_info:
                self.console.print(logging.Formatter().formatException(record.exc_info), markup=False)
        except Exception:
            self.handleError(record)


@contextmanager
def quiet_prefect(console: Console, verbose: bool) -> Iterator[None]:
    """Swap Prefect's console handler for ours while a command runs (its API handler is untouched)."""
    root = logging.getLogger()
    replaced = [h for h in root.handlers if type(h).__name__ == "PrefectConsoleHandler"]
    for handler in replaced:
        root.removeHandler(handler)
    ours = _ConsoleLogHandler(console, verbose)
    root.addHandler(ours)
    try:
        yield
    finally:
        root.removeHandler(ours)
        for handler in replaced:
            root.addHandler(handler)


# -- convert ------------------------------------------------------------------------------------------

# How far through a clip each stage is, for the clip's bar (render and download fill their share).
_STAGE_SPAN: dict[str, tuple[float, float]] = {
    "preflight": (0.0, 0.02),
    "session": (0.02, 0.05),
    "upload": (0.05, 0.1),
    "generate": (0.1, 0.3),
    "render": (0.3, 0.85),
    "download": (0.85, 1.0),
}
_FINAL: dict[str, tuple[str, str]] = {"done": ("✓", "green"), "cached": ("✓", "cyan"), "failed": ("✗", "red")}


class ClipProgress:
    """One bar per clip in flight (its stage, render % and download %) and one for the batch.

    A finished clip leaves its bar and becomes one line above the bars. Without a terminal there are
    no bars: each finished clip prints one line, which reads well in CI logs.
    """

    def __init__(self, console: Console, images: Sequence[str]) -> None:
        self.console = console
        self.total = len(dict.fromkeys(images))
        self.finished = 0
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("{task.fields[name]}", table_column=Column(width=30, no_wrap=True, overflow="ellipsis")),
            BarColumn(bar_width=30),
            TextColumn("{task.fields[stage]}", table_column=Column(width=14, no_wrap=True)),
            TimeElapsedColumn(),
            console=console,
            refresh_per_second=8,
        )
        self.overall = self.progress.add_task("", total=self.total, name="[bold]all clips", stage=self._count())
        self.bars: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def _count(self) -> str:
        return f"{self.finished}/{self.total} done"

    def __enter__(self) -> ClipProgress:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.progress.stop()

    def __call__(self, image: str, stage: Stage, fraction: float) -> None:
        name = Path(image).name
        with self._lock:
            if stage in _FINAL:
                self._finish(image, name, stage)
                return
            low, high = _STAGE_SPAN.get(stage, (0.0, 0.0))
            label = f"{stage} {fraction:.0%}" if stage in ("render", "download") else stage
            completed = 100 * (low + (high - low) * max(0.0, min(1.0, fraction)))
            if image not in self.bars:
                self.bars[image] = self.progress.add_task("", total=100, name=name, stage=label)
            self.progress.update(self.bars[image], completed=completed, stage=label)

    def _finish(self, image: str, name: str, stage: str) -> None:
        if image in self.bars:
            self.progress.update(self.bars.pop(image), visible=False)
        self.finished += 1
        self.progress.update(self.overall, completed=self.finished, stage=self._count())
        mark, style = _FINAL[stage]
        line = Text.assemble((f"{mark} ", style), name, (f"  {stage}", style))
        if not self.live:
            line.append(f"  ({self.finished}/{self.total})", style="dim")
        self.console.print(line, soft_wrap=True)


def expand_images(paths: Sequence[Path]) -> list[str]:
    """Files as given; folders become their images (sorted). Missing files stay, to fail with their name."""
    images: list[str] = []
    for path in paths:
        if path.is_dir():
            images.extend(str(p) for p in sorted(path.iterdir()) if p.suffix.lower() in ACCEPTED_IMAGES)
        else:
            images.append(str(path))
    return images


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _summary(items: Sequence[Any]) -> Table:
    table = Table(title=None, header_style="bold", expand=False)
    table.add_column("Image", overflow="fold")
    table.add_column("Status")
    table.add_column("Clip", overflow="fold")
    table.add_column("Length", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Time", justify="right")
    styles = {"ok": "green", "cached": "cyan", "skipped": "yellow", "failed": "red"}
    for item in items:
        result = item.result
        if result is None:
            table.add_row(Path(item.image).name, Text(item.status, styles.get(item.status, "")), "", "", "", "")
            continue
        seconds = result.render_seconds
        table.add_row(
            Path(item.image).name,
            Text(item.status, styles.get(item.status, "")),
            _shown(result.path),
            f"{result.duration:.2f} s",
            f"{result.resolution}, {result.size_bytes / 1e6:.2f} MB",
            f"{seconds:.1f} s" if seconds is not None and not result.cached else "",
        )
    return table


def _error_line(image: str, error: str | None) -> str:
    reason = error or "unknown error"
    return reason if reason.startswith(image) else f"{Path(image).name}: {reason}"


@app.command()
def convert(
    images: Annotated[list[Path], typer.Argument(help="Image files, or folders of images.", show_default=False)],
    prompt: Annotated[
        str, typer.Option("--prompt", "-p", help="What to make of each image.")
    ] = "5-second slow push-in",
    duration: Annotated[
        float | None, typer.Option(min=0.5, max=60, help="Clip length in seconds.", show_default=False)
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
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's run logs.")] = False,
    as_json: AsJson = False,
    api_url: ApiUrl = None,
    block: BlockName = None,
    client_id: ClientId = None,
) -> None:
    """Convert images into MP4 clips (runs the batch-image-to-video flow).

    Exit code 0 when every clip was made or found in the cache, 1 when any failed or was skipped.
    """
    from prefect_nemo.flows import batch_image_to_video

    files = expand_images(images)
    if not files:
        raise typer.BadParameter("no images found (accepted: " + ", ".join(ACCEPTED_IMAGES) + ")", param_hint="IMAGES")
    credentials = resolve_credentials(api_url, block, client_id)
    connect(credentials)
    err.print(Text.assemble(("Prefect: ", "bold"), prefect_api_label()), soft_wrap=True)
    started = time.monotonic()
    with quiet_prefect(err, verbose), ClipProgress(err, files) as progress, listen(progress):
        items = asyncio.run(
            batch_image_to_video(
                files,
                prompt,
                max_concurrency=concurrency,
                duration=duration,
                aspect=aspect.value if aspect else None,
                quality=quality.value,
                out_dir=out_dir,
                credentials=credentials,
                max_credits=max_credits,
                share_session=share_session,
                refresh=refresh,
                timeout=timeout,
            )
        )
    if as_json:
        rows = [
            {**asdict(item), "result": item.result.model_dump(mode="json") if item.result else None} for item in items
        ]
        out.print_json(json.dumps(rows), highlight=False)
    else:
        out.print(_summary(items))
    counts = {s: sum(1 for i in items if i.status == s) for s in ("ok", "cached", "skipped", "failed")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    err.print(f"{len(items)} clips in {time.monotonic() - started:.1f} s: {tally}", soft_wrap=True, markup=False)
    for item in items:
        if item.status in ("failed", "skipped"):
            err.print(Text.assemble(("error: ", "bold red"), _error_line(item.image, item.error)), soft_wrap=True)
    raise typer.Exit(1 if counts["failed"] or counts["skipped"] else 0)


# -- local-server -------------------------------------------------------------------------------------


def _faults_help() -> str:
    from prefect_nemo.local.faults import FAULTS

    return "Fault injection, e.g. 'render-fail=0.3,credits-after=5'. Known: " + "; ".join(
        f"{name} ({what})" for name, what in FAULTS.items()
    )


@app.command("local-server")
def local_server(
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port (0 = any free one). Default NEMO_LOCAL_PORT, else 8765."),
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default 127.0.0.1).", show_default=False)] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for state, uploads and renders (default NEMO_LOCAL_DATA_DIR).", show_default=False),
    ] = None,
    faults: Annotated[str | None, typer.Option(help=_faults_help(), show_default=False)] = None,
    dialect: Annotated[
        Dialect | None, typer.Option(help="Wire form of /run_sse events (default adk).", show_default=False)
    ] = None,
    render_envelope: Annotated[
        RenderEnvelope | None,
        typer.Option(help="Render status layout: {success,data} or flat status + output.url.", show_default=False),
    ] = None,
    silent_ratio: Annotated[
        float | None,
        typer.Option(
            min=0, max=1, help="Share of generations that end with no text (default 0.3).", show_default=False
        ),
    ] = None,
    render_workers: Annotated[
        int | None, typer.Option(min=1, help="Processes that render clips (default 2).", show_default=False)
    ] = None,
    quality: Annotated[
        str | None, typer.Option(help="Override every export's quality, e.g. draft.", show_default=False)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the backend's randomness.", show_default=False)] = None,
) -> None:
    """Run the embedded NemoVideo-compatible backend in the foreground (Ctrl+C stops it).

    Settings: a flag here > its NEMO_LOCAL_* variable > the default. Flows with api_url="local" and the
    same data folder find and reuse this server.
    """
    from prefect_nemo.local.__main__ import run
    from prefect_nemo.local.faults import Faults
    from prefect_nemo.local.settings import LocalSettings

    given: dict[str, Any] = {
        "port": port if port is not None else (None if "NEMO_LOCAL_PORT" in os.environ else 8765),
        "host": host,
        "data_dir": data_dir,
        "faults": faults,
        "dialect": dialect.value if dialect else None,
        "render_envelope": render_envelope.value if render_envelope else None,
        "silent_ratio": silent_ratio,
        "render_workers": render_workers,
        "quality": quality,
        "seed": seed,
    }
    settings = LocalSettings(**{k: v for k, v in given.items() if v is not None})
    try:
        Faults.parse(settings.faults, seed=settings.seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    shown = settings.faults or "none"
    err.print(
        f"Starting the embedded backend: data {settings.data_dir}, dialect {settings.dialect}, "
        f"render envelope {settings.render_envelope}, faults {shown}. Ctrl+C stops it.",
        soft_wrap=True,
        markup=False,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(settings, announce=True))


# -- read commands ------------------------------------------------------------------------------------


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@app.command()
def credits(
    as_json: AsJson = False, api_url: ApiUrl = None, block: BlockName = None, client_id: ClientId = None
) -> None:
    """Show the credit balance of the token in use."""
    credentials = resolve_credentials(api_url, block, client_id)
    url = connect(credentials)

    async def fetch() -> Any:
        async with credentials.get_client() as client:
            return await client.credits()

    balance = asyncio.run(fetch())
    if as_json:
        _print_json({**balance.model_dump(mode="json"), "backend": url})
        return
    total = balance.total if balance.total is not None else balance.available + balance.frozen
    out.print(f"{balance.available:,} credits available, {balance.frozen:,} frozen, {total:,} total", markup=False)


_TRACK_NAMES = {0: "Video", 1: "BGM", 7: "Title"}


def _seconds(ms: float) -> str:
    return f"{round(ms / 1000, 1):g}"


def _segment_text(kind: int | None, segment: dict[str, Any], total: float, files: dict[str, str]) -> str:
    start = float(segment.get("s") or 0)
    length = float(segment.get("d") or max(0.0, total - start))
    span = f"{_seconds(start)}-{_seconds(start + length)}s"
    source = segment.get("src")
    if kind == 7:
        return f'"{segment.get("text", "")}" ({span})'
    if kind == 1:
        name = files.get(str(source)) if source else None
        label = name or segment.get("name") or segment.get("mood") or "music"
        volume = segment.get("vol")
        return f"{label} ({span}" + (f", {round(float(volume) * 100)}%)" if volume is not None else ")")
    label = files.get(str(source)) or segment.get("name") or source or "media"
    return f"{label} ({span})"


def timeline_summary(draft: dict[str, Any] | None, files: dict[str, str] | None = None) -> str:
    """The draft as one line, as NemoVideo's skill shows it.

    `files` maps uploaded file ids (a segment's `src`) to their file names.

    Example:
        ```python
        draft = {"d": 5000, "t": [{"tt": 0, "sg": [{"s": 0, "d": 5000, "src": "img_1"}]},
                                  {"tt": 7, "sg": [{"s": 0, "d": 3000, "text": "Spring Sale"}]}]}
        timeline_summary(draft, {"img_1": "shoe.png"})
        # 'Timeline (2 tracks): 1. Video: shoe.png (0-5s) 2. Title: "Spring Sale" (0-3s)'
        ```
    """
    tracks = [t for t in (draft or {}).get("t") or [] if isinstance(t, dict)]
    if not tracks:
        return "Timeline (0 tracks): empty - nothing generated yet"
    total = float((draft or {}).get("d") or 0)
    parts = []
    for number, track in enumerate(tracks, 1):
        kind = track.get("tt")
        name = _TRACK_NAMES.get(kind, f"Track type {kind}") if isinstance(kind, int) else "Track"
        segments = [s for s in track.get("sg") or [] if isinstance(s, dict)]
        body = ", ".join(_segment_text(kind, s, total, files or {}) for s in segments) or "(empty)"
        parts.append(f"{number}. {name}: {body}")
    return f"Timeline ({len(tracks)} track{'s' if len(tracks) != 1 else ''}): " + " ".join(parts)


@app.command()
def state(
    session: Annotated[str, typer.Argument(help="Session id (see `prefect-nemo sessions`).", show_default=False)],
    as_json: AsJson = False,
    api_url: ApiUrl = None,
    block: BlockName = None,
    client_id: ClientId = None,
) -> None:
    """Show a session's timeline: its tracks and segments."""
    credentials = resolve_credentials(api_url, block, client_id)
    connect(credentials)

    async def fetch() -> Any:
        async with credentials.get_client() as client:
            return await client.state(session)

    current = asyncio.run(fetch())
    files = {str(f.get("file_id")): str(f.get("filename")) for f in current.video_infos if f.get("file_id")}
    summary = timeline_summary(current.draft, files)
    if as_json:
        _print_json({"summary": summary, "ready": current.is_ready, **current.model_dump(mode="json")})
        return
    meta = (current.draft or {}).get("m") or {}
    out.print(f"Session {current.session_id or session}" + (f" (task {current.task_id})" if current.task_id else ""))
    out.print(summary, soft_wrap=True, markup=False)
    if meta:
        size = f"{meta.get('width')}x{meta.get('height')}" if meta.get("width") else "size unknown"
        fps = f", {meta['fps']} fps" if meta.get("fps") else ""
        out.print(f"Canvas: {size}{fps}", markup=False)
    if not current.is_ready:
        out.print("Not ready for export: send an instruction first (prefect-nemo convert).", markup=False)


@app.command()
def sessions(
    limit: Annotated[int, typer.Option(min=1, help="How many recent clips to list.")] = 20,
    as_json: AsJson = False,
) -> None:
    """List recent clips and their sessions, newest first, from the local clip ledger."""
    from prefect_nemo.ledger import Ledger

    path = NemoSettings().ledger_path
    results = Ledger(path).results(limit) if path.exists() else []
    if as_json:
        _print_json([r.model_dump(mode="json") for r in results])
        return
    err.print(Text.assemble(("Ledger: ", "bold"), str(path)), soft_wrap=True)
    if not results:
        out.print("No clips yet: make one with `prefect-nemo convert IMAGE`.", markup=False)
        return
    table = Table(header_style="bold")
    for name, justify in (("Image", "left"), ("Session", "left"), ("Render", "left"), ("Clip", "left")):
        table.add_column(name, overflow="fold", justify=justify)  # type: ignore[arg-type]
    table.add_column("Length", justify="right")
    table.add_column("Size", justify="right")
    for result in results:
        table.add_row(
            Path(result.source_image).name + (f" (v{result.version})" if result.version > 1 else ""),
            result.session_id,
            result.render_id,
            _shown(result.path) + ("" if result.path.is_file() else " (missing)"),
            f"{result.duration:.2f} s",
            result.resolution,
        )
    out.print(table)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _check_codecs() -> Check:
    import av

    found, missing = [], []
    for name in ("libx264", "aac"):
        try:
            av.codec.Codec(name, "w")
            found.append(name)
        except Exception:
            missing.append(name)
    detail = f"PyAV {av.__version__}, encoders: {', '.join(found) or 'none'}"
    if missing:
        detail += f"; missing {', '.join(missing)}: reinstall PyAV from its wheels (pip install --force-reinstall av)"
    return Check("PyAV codecs", not missing, detail)


def _check_prefect() -> Check:
    import prefect
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return Check("Prefect API", True, f"Prefect {prefect.__version__}; " + prefect_api_label())
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=5)
        ok = response.status_code == 200
        reason = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    detail = f"Prefect {prefect.__version__}; API at {url}: " + (
        "healthy" if ok else f"not reachable ({reason}); start it (prefect server start) or unset PREFECT_API_URL"
    )
    return Check("Prefect API", ok, detail)


def _check_backend(credentials: NemoCredentials) -> list[Check]:
    try:
        url = credentials.resolved_url()
    except Exception as exc:
        return [Check("Backend", False, f"{_first_line(exc)}; see prefect-nemo local-server --help")]
    checks = []
    try:
        health = "/local/health" if credentials.is_local else "/"
        response = httpx.get(url + health, timeout=10)
        checks.append(
            Check("Backend", True, f"{backend_label(credentials, url)} (answered HTTP {response.status_code})")
        )
    except httpx.HTTPError as exc:
        detail = f"{backend_label(credentials, url)} is not reachable ({type(exc).__name__}); check the URL and network"
        return [Check("Backend", False, detail)]

    async def fetch() -> Any:
        async with credentials.get_client() as client:
            return await client.credits()

    token = "token from the Block or NEMO_TOKEN" if credentials.token else "anonymous token for the client id"
    try:
        balance = asyncio.run(fetch())
        checks.append(Check("Credits", True, f"{balance.available:,} available ({token})"))
    except errors.NemoError as exc:
        checks.append(Check("Credits", False, f"{exc} ({token}); {hint(exc)}"))
    return checks


def _check_client_id(credentials: NemoCredentials, flag: str | None) -> Check:
    from prefect_nemo.identity import client_id_path, resolve_client_id

    if flag:
        source = "--client-id"
    elif credentials.client_id and credentials.client_id != os.environ.get("NEMO_CLIENT_ID"):
        source = "the Block"
    elif os.environ.get("NEMO_CLIENT_ID"):
        source = "NEMO_CLIENT_ID"
    else:
        source = str(client_id_path())
    return Check("Client id", True, f"{resolve_client_id(credentials.client_id)} (from {source})")


def _check_folders() -> Check:
    settings = NemoSettings()
    try:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.output_dir / ".prefect-nemo-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return Check(
            "Folders", False, f"output folder {settings.output_dir} is not writable ({exc}); set NEMO_OUTPUT_DIR"
        )
    return Check("Folders", True, f"clips to {settings.output_dir}, clip ledger {settings.ledger_path}")


@app.command()
def doctor(
    as_json: AsJson = False, api_url: ApiUrl = None, block: BlockName = None, client_id: ClientId = None
) -> None:
    """Check the install: PyAV encoders, the Prefect API, the backend and its credits, the client id."""
    credentials = resolve_credentials(api_url, block, client_id)
    checks = [
        Check("prefect-nemo", True, f"{__version__} on Python {platform.python_version()}"),
        _check_codecs(),
        _check_prefect(),
        *_check_backend(credentials),
        _check_client_id(credentials, client_id),
        _check_folders(),
    ]
    if as_json:
        _print_json([asdict(c) for c in checks])
    else:
        for check in checks:
            mark = Text("✓ ", "green") if check.ok else Text("✗ ", "red")
            out.print(Text.assemble(mark, (f"{check.name}: ", "bold"), check.detail), soft_wrap=True)
    failed = [c.name for c in checks if not c.ok]
    if failed and not as_json:
        err.print(Text.assemble(("error: ", "bold red"), f"failed: {', '.join(failed)}"), soft_wrap=True)
    raise typer.Exit(1 if failed else 0)


# -- errors -------------------------------------------------------------------------------------------

_HINTS: list[tuple[type[BaseException], str]] = [
    (errors.NemoAuthError, "the token is invalid or expired: set a valid NEMO_TOKEN, or unset it for an anonymous one"),
    (errors.NemoSessionNotFound, "that session does not exist for this token; list yours with `prefect-nemo sessions`"),
    (errors.NemoOutOfCredits, "register or top up at nemovideo.com; `prefect-nemo credits` shows the balance"),
    (errors.NemoUnsupportedFile, "use a JPG, PNG, GIF or WEBP image"),
    (errors.NemoFileTooLarge, "use an image under 200 MB"),
    (errors.NemoMissingClientId, "set NEMO_CLIENT_ID to a stable id (a UUID)"),
    (errors.NemoExportBlocked, "the plan does not allow export: use a token of a plan that does"),
    (errors.NemoRateLimited, "too many requests: wait a minute and run the same command again"),
    (errors.NemoServerError, "the backend failed: run the same command again later"),
    (errors.NemoBadRequest, "the backend refused the request; report it with the request id if it persists"),
    (errors.NemoTransportError, "check that the backend is running and reachable: `prefect-nemo doctor`"),
    (errors.NemoInputError, "fix or remove that input and run again"),
    (errors.NemoStreamError, "run the same command again: steps already paid for are resumed, not repeated"),
    (errors.NemoRenderFailed, "run the same command again: the render is retried, the generation is not re-sent"),
    (errors.NemoTimeout, "run the same command again (it resumes), or raise --timeout / NEMO_TIMEOUT"),
    (errors.NemoDownloadError, "run the same command again: the download restarts, nothing is rendered twice"),
]
"""What to do about each failure; the first matching class wins (subclasses come before their bases)."""


def hint(exc: BaseException) -> str:
    for cls, text in _HINTS:
        if isinstance(exc, cls):
            return text
    message = str(exc)
    if "Failed to reach API" in message or isinstance(exc, httpx.ConnectError):
        return "is the Prefect server running? Start it (prefect server start) or unset PREFECT_API_URL"
    if "Unable to find block document" in message:
        return "save the Block first, e.g. NemoCredentials(api_url=...).save(NAME), or drop --credentials"
    return "run again with --debug for the traceback"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0].rstrip(":") if text else ""
    if isinstance(exc, errors.NemoError):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def main() -> None:
    """Entry point of the `prefect-nemo` script. `--debug` is accepted anywhere on the line."""
    global _debug
    args = sys.argv[1:]
    end = args.index("--") if "--" in args else len(args)
    _debug = "--debug" in args[:end]
    if _debug:
        args = [a for i, a in enumerate(args) if not (a == "--debug" and i < end)]
    try:
        app(args=args, prog_name="prefect-nemo")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if _debug:
            raise
        err.print(Text.assemble(("error: ", "bold red"), f"{_first_line(exc)}; {hint(exc)}"), soft_wrap=True)
        sys.exit(1)


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (accepted anywhere on the line).")] = False,
) -> None:
    """Turn still images into MP4 clips with NemoVideo, as Prefect flows.

    Uses the embedded local backend unless NEMO_API_URL (or --api-url, or a NemoCredentials Block) names another.
    """
    global _debug
    _debug = _debug or debug
    if version:
        out.print(f"prefect-nemo {__version__}", markup=False)
        raise typer.Exit()


if __name__ == "__main__":
    main()
