"""What `convert` tells a person: one line per finished clip, one table row per input, and, after Ctrl-C, what
finished, what is still rendering and the command that resumes."""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from prefect_nemo.cli.common import shown
from prefect_nemo.inputs import display_path

if TYPE_CHECKING:
    from prefect_nemo.batch import BatchItem
    from prefect_nemo.inputs import Input

__all__ = [
    "Row",
    "clip_line",
    "interrupted_at_start",
    "interrupted_message",
    "pending_renders",
    "results_table",
    "rows",
]

_API_DETAIL = re.compile(r" \(/[^)]*\)| \[(?:code -?\d+)?(?:, )?(?:HTTP \d+)?\]")
"""An API error's path and codes: for a bug report (`--json`, `--verbose`), not for the person reading the table."""
_STYLES = {"ok": "green", "cached": "cyan", "skipped": "yellow", "failed": "red", "ignored": "dim"}


@dataclass
class Row:
    """One input's outcome: a clip made, or the reason there is none."""

    input: Input
    item: BatchItem | None = None

    @property
    def name(self) -> str:
        return display_path(self.input.path.name) or self.input.shown

    @property
    def status(self) -> str:
        if self.item is not None:
            return self.item.status
        return "ignored" if not self.input.named and _is_not_an_image(self.input.reason) else "failed"

    @property
    def mark(self) -> tuple[str, str]:
        result = self.item.result if self.item else None
        if result is not None:
            return ("⚠", "yellow") if result.has_notes else ("✓", _STYLES[self.status])
        return {"failed": ("✗", "red"), "skipped": ("-", "yellow")}.get(self.status, ("-", "dim"))

    @property
    def detail(self) -> str:
        """Why there is no clip, or what to know about the one there is, in short sentences."""
        if self.item is None:
            return self.input.reason or ""
        result = self.item.result
        if result is None:
            return _plain_error(self.item.error or "unknown error", self.item.image)
        said = []
        if result.resumed:
            said.append(f"resumed render {result.render_id}")
        said += [_sentence(n) for n in result.notes]
        return "; ".join(said)

    def json(self) -> dict[str, Any]:
        if self.item is None:
            return {"image": self.input.shown, "status": self.status, "result": None, "error": self.input.reason}
        result = self.item.result
        return {
            "image": self.item.image,
            "status": self.item.status,
            "result": result.model_dump(mode="json") if result else None,
            "error": self.item.error,
        }


def rows(inputs: Sequence[Input], items: Sequence[BatchItem]) -> list[Row]:
    """Inputs in the order named, each with its clip's outcome (usable inputs were run in the same order)."""
    outcomes = iter(items)
    return [Row(i, next(outcomes, None) if i.usable else None) for i in inputs]


def clip_line(item: BatchItem, done: int, total: int, live: bool) -> Text:
    """The line a finished clip leaves above the progress bars (or in a CI log)."""
    row = Row(_input_for(item), item)
    mark, style = row.mark
    result = item.result
    if result is None:
        what = f"{item.status}: {row.detail}"
    elif result.cached:
        what = "from cache"
    elif result.resumed:
        what = f"resumed render {result.render_id}"
    else:
        seconds = f" in {result.render_seconds:.1f} s" if result.render_seconds is not None else ""
        what = f"done{seconds}"
    if result is not None and result.has_notes:
        what += " with notes: " + " ".join(_sentence(n) for n in result.notes)
    line = Text.assemble((f"{mark} ", style), row.name, (f"  {what}", style))
    if not live:
        line.append(f"  ({done}/{total})", style="dim")
    return line


def results_table(table_rows: Sequence[Row]) -> Table:
    table = Table(header_style="bold", expand=False)
    for name in ("Input", "Status", "Clip", "Length", "Size", "Notes"):
        table.add_column(name, overflow="fold", justify="right" if name in ("Length", "Size") else "left")
    for row in table_rows:
        mark, style = row.mark
        status = Text(f"{mark} {row.status}", style)
        result = row.item.result if row.item else None
        if result is None:
            table.add_row(row.name, status, "", "", "", row.detail)
            continue
        size = f"{result.resolution}, {result.size_bytes / 1e6:.2f} MB"
        clip = display_path(shown(result.path))
        table.add_row(row.name, status, clip, f"{result.duration:.2f} s", size, row.detail)
    return table


_IN_FLIGHT = {
    "preflight": "checking the image; nothing spent",
    "session": "opening a session; nothing spent",
    "upload": "uploading; nothing spent",
    "generate": "instruction sent; the next run waits for its draft instead of paying again",
    "render": "rendering on the backend; the next run picks the render up",
    "download": "rendered; the next run downloads it",
}


def interrupted_message(
    console: Console, finished: Sequence[BatchItem], in_flight: dict[str, str], renders: Sequence[str], seconds: float
) -> None:
    """After Ctrl-C: what is done, what the backend is still making (already paid for), and how to resume."""
    total = len(finished) + len(in_flight)
    made = ", ".join(display_path(Path(i.image).name) for i in finished if i.result)
    console.print(
        f"interrupted after {seconds:.1f} s: {len(finished)} of {total} clips finished"
        + (f" ({made})" if made else ""),
        soft_wrap=True,
        markup=False,
    )
    for image, stage in in_flight.items():
        console.print(
            f"  {display_path(Path(image).name)}: {_IN_FLIGHT.get(stage, stage)}", soft_wrap=True, markup=False
        )
    if renders:
        console.print(f"Renders left on the backend: {', '.join(renders)}", soft_wrap=True, markup=False)
    console.print(Text.assemble(("Resume with: ", "bold"), _rerun()), soft_wrap=True)


def interrupted_at_start(console: Console, seconds: float) -> None:
    """After Ctrl-C while starting (the backend, Prefect, the checks): one line, since nothing was under way."""
    console.print(
        f"interrupted after {seconds:.1f} s while starting, before any clip was paid for; run again: {_rerun()}",
        soft_wrap=True,
        markup=False,
    )


def _rerun() -> str:
    """This command line, as a person would type it again."""
    return " ".join(_quoted(a) for a in ["prefect-nemo", *map(display_path, sys.argv[1:])])


def _quoted(arg: str) -> str:
    """As a person would type it: double quotes around text with a single quote in it, when that is safe."""
    if "'" in arg and not any(c in arg for c in '"$`\\!'):
        return f'"{arg}"'
    return shlex.quote(arg)


def pending_renders(ledger_path: Path, since: float) -> list[str]:
    """Render ids recorded by this run and not yet delivered, read from the clip ledger."""
    from prefect_nemo.cli.cache import ledger_rows

    rows = ledger_rows(ledger_path)
    return sorted(
        str(r["render_id"]) for _, r, touched in rows if touched >= since and r.get("render_id") and not r.get("result")
    )


def _input_for(item: BatchItem) -> Input:
    from prefect_nemo.inputs import Input

    return Input(Path(item.image))


def _is_not_an_image(reason: str | None) -> bool:
    return bool(reason) and reason.startswith(("hidden", "a folder inside", "unsupported type"))  # type: ignore[union-attr]


def _plain_error(error: str, image: str) -> str:
    """The reason alone: without the image's path (the row names it), the API path or the codes."""
    error = _API_DETAIL.sub("", error)
    for prefix in (f"{image}: ", f"{Path(image).name}: "):
        if error.startswith(prefix):
            return error[len(prefix) :]
    return error


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
