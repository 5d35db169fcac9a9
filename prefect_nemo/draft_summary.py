"""A session's draft as the one line people read, as NemoVideo's skill shows it ("Timeline (2 tracks): ...").

Wording, not a wire shape, so it lives apart from `models.py`; `SessionState.summary` (what `prefect-nemo
state` prints) delegates here.
"""

from __future__ import annotations

from typing import Any

__all__ = ["timeline_summary"]


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
    join = segment.get("tr")  # the transition into this shot, on a timeline of several
    if isinstance(join, dict) and join.get("type"):
        return f"{label} ({span}, {join['type']} {_seconds(float(join.get('d') or 0))}s in)"
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
        if kind == 0 and len(segments) > 1:
            name = f"{name} ({len(segments)} shots)"
        parts.append(f"{number}. {name}: {body}")
    return f"Timeline ({len(tracks)} track{'s' if len(tracks) != 1 else ''}): " + " ".join(parts)
