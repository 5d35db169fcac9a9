"""What a user sees while clips are made: a bar per clip in flight, and Prefect's logs cut to one line each."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Column
from rich.text import Text

from prefect_nemo.inputs import display_path
from prefect_nemo.progress import Stage

__all__ = ["ClipProgress", "quiet_prefect"]

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

    def __init__(self, console: Console, images: Sequence[str], *, lines_from_items: bool = False) -> None:
        self.console = console
        self.lines_from_items = lines_from_items
        """The caller prints each finished clip's line (it knows its outcome); the bars only report stages."""
        self.stages: dict[str, str] = {}
        """Each clip in flight and its stage, for the message after Ctrl-C."""
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
        self.overall = self.progress.add_task("", total=self.total, name="[bold]all clips[/] (starting)", stage="")
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
        name = display_path(Path(image).name)
        with self._lock:
            if stage in _FINAL:
                self.stages.pop(image, None)
                if self.lines_from_items:
                    if image in self.bars:
                        self.progress.update(self.bars.pop(image), visible=False)
                    return
                self._finish(image, name, stage)
                return
            self.stages[image] = stage
            low, high = _STAGE_SPAN.get(stage, (0.0, 0.0))
            label = f"{stage} {fraction:.0%}" if stage in ("render", "download") else stage
            completed = 100 * (low + (high - low) * max(0.0, min(1.0, fraction)))
            if image not in self.bars:
                self.bars[image] = self.progress.add_task("", total=100, name=name, stage=label)
                self.progress.update(self.overall, name="[bold]all clips", stage=self._count())
            self.progress.update(self.bars[image], completed=completed, stage=label)

    def item_done(self, line: Text) -> None:
        """A clip finished (in `lines_from_items` mode): count it and print its line above the bars."""
        with self._lock:
            self.finished += 1
            self.progress.update(self.overall, completed=self.finished, stage=self._count())
            self.console.print(line, soft_wrap=True)

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


class _ConsoleLogHandler(logging.Handler):
    """Warnings through our console (so they print above the progress bars), one line each.

    Failures of clips are left out unless `--verbose`: the summary names each one once, with its reason.
    """

    def __init__(self, console: Console, verbose: bool, debug: bool) -> None:
        super().__init__(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)
        self.console = console
        self.verbose = verbose
        self.debug = debug
        self._said: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        run_logger = record.name.startswith(("prefect.flow_runs", "prefect.task_runs", "prefect_nemo.run"))
        if run_logger and record.levelno >= logging.ERROR and not self.verbose and not self.debug:
            return
        try:
            message = record.getMessage()
            if not self.debug:
                message = message.splitlines()[0] if message else message
            if record.levelno == logging.WARNING:
                if message in self._said:  # the same warning from a task and its flow: say it once
                    return
                self._said.add(message)
            style = {logging.WARNING: "yellow", logging.ERROR: "red", logging.CRITICAL: "red"}.get(record.levelno)
            self.console.print(
                Text.assemble((f"{record.levelname.lower()}: ", style or "dim"), message), soft_wrap=True
            )
            if self.debug and record.exc_info:
                self.console.print(logging.Formatter().formatException(record.exc_info), markup=False)
        except Exception:
            self.handleError(record)


def quiet_prefect(console: Console, verbose: bool, debug: bool = False) -> None:
    """Swap Prefect's console handler for ours, for the rest of the process (its API handler is untouched)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__name__ in ("PrefectConsoleHandler", "_ConsoleLogHandler"):
            root.removeHandler(handler)
    root.addHandler(_ConsoleLogHandler(console, verbose, debug))
