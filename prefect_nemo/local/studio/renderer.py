"""Draft + still image (+ audio) -> H.264/AAC MP4, each delivered frame encoded once.

Generate (stage 1) makes only a small preview; export (stage 2) renders the final composite (camera motion,
text, audio) in one pass straight from the still, at the quality asked. ``frames`` makes the pictures,
``encoder`` turns them into the MP4. When the draft asks for letterbox bars, every shot is looked at ahead
first (``sight.look_ahead``), so the bars keep off the faces of every shot, not only the first frame's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import av

from . import looks
from .encoder import X264_THREADS, EncodeSettings, Progress, encode, remux
from .frames import Effect, Planes, Timeline, animate, decoded
from .overlay import TextLayer, mix_audio
from .sight import Sight, look_ahead

__all__ = [
    "X264_THREADS",
    "Effect",
    "EncodeSettings",
    "Planes",
    "render_final",
    "render_motion",
    "render_preview",
]

_Timeline = Timeline  # the name the director's tests use
HIGH = EncodeSettings()  # what an export at quality "high" uses

PREVIEW_LONGEST, PREVIEW_FPS = 480, 15
"""A preview is at most 480 px on its longest side and 15 fps: a few percent of the final render's cost."""


def render_motion(
    image: Path,
    draft: Mapping[str, Any],
    out: Path,
    *,
    settings: EncodeSettings = HIGH,
    progress: Progress | None = None,
) -> None:
    """The camera motion over the still (and the draft's look), at the draft's size/fps/duration; no text/audio."""
    tl = Timeline.parse(draft)
    image_of = _always(Path(image))
    frames = animate(tl, image_of, [], looks.effect(draft, tl.frames / tl.fps, _sight(draft, tl, image_of)))
    encode(Path(out), (tl.width, tl.height), tl.fps, tl.frames, frames, None, settings, progress)


def render_preview(image: Path, draft: Mapping[str, Any], out: Path) -> None:
    """Stage 1 (generate): the motion, small and fast, for the draft's ``generated_media`` (never delivered)."""
    tl = Timeline.parse(draft).scaled(PREVIEW_LONGEST, PREVIEW_FPS)
    image_of = _always(Path(image))
    frames = animate(tl, image_of, [], looks.effect(draft, tl.frames / tl.fps, _sight(draft, tl, image_of)))
    encode(Path(out), (tl.width, tl.height), tl.fps, tl.frames, frames, None, EncodeSettings.for_quality("draft"))


def render_final(
    draft: Mapping[str, Any],
    assets: Mapping[str, Path],
    out: Path,
    *,
    settings: EncodeSettings = HIGH,
    progress: Progress | None = None,
) -> None:
    """Stage 2 (export): the draft's video, text and audio tracks composited and encoded in one pass.

    Frames come from the still. Only when the still is not among the assets is a full-size clip of the
    video segment (its ``clip`` id) used instead: copied unchanged, with any audio muxed beside it, when
    nothing is drawn on it; decoded and re-encoded under the text otherwise.
    """
    tl = Timeline.parse(draft)
    if not tl.video:
        raise ValueError("draft has no video segment (track tt=0) to render")
    looks.effect(draft, tl.frames / tl.fps)  # a bad look fails here, before any work
    rows = looks.picture_rows(draft, (tl.width, tl.height))  # a title sits on the picture, off any bars
    texts = [layer for seg in tl.texts if (layer := TextLayer.build(seg, tl.width, tl.height, rows))]
    audio = mix_audio(tl.audio, assets, tl.frames / tl.fps) if tl.audio else None
    missing = [seg.src for seg in tl.video if seg.src not in assets]
    clip = _matching_clip(tl, assets) if missing else None
    if clip is not None and not texts:
        remux(clip, Path(out), audio)
        if progress:
            progress(1.0)
        return
    if clip is None and missing:
        raise ValueError(f"image asset {missing[0]!r} of the video segment is not among the uploaded files")
    if clip:
        frames = decoded(clip, tl, texts, None)  # a full-size clip of the segment already shows the look
    else:
        image_of = _among(assets)
        frames = animate(tl, image_of, texts, looks.effect(draft, tl.frames / tl.fps, _sight(draft, tl, image_of)))
    encode(Path(out), (tl.width, tl.height), tl.fps, tl.frames, frames, audio, settings, progress)


def _always(image: Path) -> Callable[[str], Path]:
    """The still of every segment: a single image's clip."""
    return lambda _src: image


def _among(assets: Mapping[str, Path]) -> Callable[[str], Path]:
    """The still of a segment: its asset's file."""
    return lambda src: Path(assets[src])


def _sight(draft: Mapping[str, Any], tl: Timeline, image_of: Callable[[str], Path]) -> Sight | None:
    """Every shot looked at ahead when the draft asks for letterbox bars (they must clear every shot's faces);
    ``None`` otherwise (bokeh alone needs only the first frame, which it looks at itself)."""
    return look_ahead(tl, image_of) if looks.picture_rows(draft, (tl.width, tl.height))[0] else None


def _matching_clip(tl: Timeline, assets: Mapping[str, Path]) -> Path | None:
    """The segment's rendered clip, if it shows exactly the draft's picture (same size, fps, frame count)."""
    if len(tl.video) != 1 or tl.video[0].clip not in assets:
        return None
    path = Path(assets[str(tl.video[0].clip)])
    try:
        with av.open(str(path)) as box:
            st = box.streams.video[0]
            ok = (st.codec_context.width, st.codec_context.height) == (tl.width, tl.height)
            return path if ok and st.average_rate == tl.fps and st.frames == tl.frames else None
    except (av.FFmpegError, IndexError):
        return None
