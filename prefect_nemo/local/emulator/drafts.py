"""What the embedded backend reads in a draft: its assets, its video segment, whether its picture changed."""

from __future__ import annotations

from typing import Any

__all__ = ["assets_of", "needs_motion", "refines", "stills_of", "video_segment"]


def assets_of(draft: dict[str, Any]) -> set[str]:
    """Every asset id a draft refers to (`src` and `clip` of any segment)."""
    found: set[str] = set()
    for track in draft.get("t") or []:
        for segment in track.get("sg") or []:
            for key in ("src", "clip"):
                if isinstance(segment.get(key), str):
                    found.add(segment[key])
    return found


def video_segment(draft: dict[str, Any] | None) -> dict[str, Any] | None:
    for track in (draft or {}).get("t") or []:
        if track.get("tt") == 0 and track.get("sg"):
            segment: dict[str, Any] = track["sg"][0]
            return segment
    return None


def stills_of(draft: dict[str, Any] | None) -> list[str]:
    """The image of every video segment, in order: several for a timeline."""
    for track in (draft or {}).get("t") or []:
        if track.get("tt") == 0 and track.get("sg"):
            return [str(segment.get("src")) for segment in track["sg"]]
    return []


def refines(draft: dict[str, Any] | None, image_id: str) -> dict[str, Any] | None:
    """The draft an instruction edits: the session's, if it animates the session's latest image."""
    video = video_segment(draft)
    return draft if video is not None and video.get("src") == image_id else None


def needs_motion(draft: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    """Stage 1 re-renders only when the picture's motion, size or timing changed, not for a title or music edit."""
    before, after = video_segment(previous), video_segment(draft)
    if before is None or after is None or not before.get("clip"):
        return True

    def shape(d: dict[str, Any], segment: dict[str, Any]) -> Any:
        return (
            d.get("d"),
            d.get("m", {}).get("width"),
            d.get("m", {}).get("height"),
            d.get("m", {}).get("fps"),
            {k: v for k, v in segment.items() if k != "clip"},
        )

    assert previous is not None
    return bool(shape(draft, after) != shape(previous, before))
