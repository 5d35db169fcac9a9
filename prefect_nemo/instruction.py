"""The instruction a clip sends: refused before any request when the backend would reject it, and the backend's
GUI phrasing rewritten into the API step that follows.

Kept apart from `pipeline` (which imports Prefect's tasks) so the command line can check an instruction, and
start the embedded backend, before paying for Prefect's import.
"""

from __future__ import annotations

import re

from prefect_nemo.errors import NemoInputError
from prefect_nemo.models import ClipSpec

__all__ = ["DURATION_RANGE", "MAX_INSTRUCTION_CHARS", "check_spec", "translate_gui_text"]

MAX_INSTRUCTION_CHARS = 4000
"""The longest instruction the backend takes; checked before any request."""
DURATION_RANGE = (1.0, 60.0)
"""Clip lengths the backend renders, in seconds."""

_GUI_PHRASES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"\b(click|press|tap|hit)\b[^.!?]*\bexport\b[^.!?]*[.!?]?|导出", re.I),
        "prefect-nemo exports it next.",
    ),
    (
        re.compile(r"\b(open|check)\b[^.!?]*\b(panel|timeline|tab)\b[^.!?]*[.!?]?|打开", re.I),
        "(session state queried.)",
    ),
    (re.compile(r"\b(drag|drop)\b[^.!?]*[.!?]?|拖拽", re.I), "(edits are sent as instructions.)"),
    (re.compile(r"\b(click|press|tap)\b[^.!?]*[.!?]?|点击", re.I), "(done through the API.)"),
    (re.compile(r"\bpreview in (the )?timeline\b", re.I), "see the track summary"),
]


def translate_gui_text(text: str) -> str:
    """Rewrite phrases that assume a GUI into the API step that follows (the seed's translation table)."""
    for pattern, replacement in _GUI_PHRASES:
        text = pattern.sub(replacement, text)
    return text


def check_spec(spec: ClipSpec) -> None:
    """Refuse, before any request, an instruction the backend would reject (so nothing is spent on it)."""
    prompt = spec.prompt.strip()
    if not prompt:
        raise NemoInputError("instruction", "is empty; say what the clip should be, e.g. '5-second slow push-in'")
    message = spec.message()
    if len(message) > MAX_INSTRUCTION_CHARS:
        raise NemoInputError(
            "instruction", f"is {len(message):,} characters long; the limit is {MAX_INSTRUCTION_CHARS:,}"
        )
    low, high = DURATION_RANGE
    if spec.duration is not None and not low <= spec.duration <= high:
        raise NemoInputError("duration", f"{spec.duration:g} s is out of range; clips are {low:g}-{high:g} s long")
