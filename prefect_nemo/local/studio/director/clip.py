"""The clip as the director sees it (every value a draft holds, flattened), and the draft builder.

Instructions change a ``Clip``; a draft is built from it, and a previous draft is read back into one, so a
refinement changes only what the new instruction mentions. The draft schema is docs/draft-schema.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..motion import Motion

__all__ = ["ASPECTS", "FPS_CHOICES", "Clip", "build", "from_draft", "nearest_aspect"]

ASPECTS = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080), "4:5": (1080, 1350)}
FPS_CHOICES = (24, 30, 60)
FADE_IN_MS, FADE_OUT_MS, LOOP_MS = 600, 800, 700


@dataclass(frozen=True)
class Clip:
    """Everything a draft says: what instructions change and drafts are built from."""

    seconds: float = 5.0
    aspect: str = "16:9"
    scale: float = 1.0  # 720p renders at 2/3 of the 1080p sizes
    fps: int = 30
    motion: Motion = field(default_factory=Motion)
    title: str | None = None
    pos: str = "bottom"
    size: float = 0.07
    color: str = "#ffffff"
    music: bool = False
    mood: str = "calm"
    vol: float = 0.35
    look: str | None = None
    vignette: float = 0.0
    fade_in: int = 0  # ms from black
    fade_out: int = 0  # ms to black
    loop: int = 0  # ms of the end crossfading into the start
    life: tuple[str, ...] = ()  # life in the frame: grain, light_leak, bokeh, letterbox
    clip: str | None = None
    aim: str | None = None  # what the camera heads for, if the picture's analysis chose it: subject/face/text

    @property
    def size_px(self) -> tuple[int, int]:
        w, h = ASPECTS[self.aspect]
        return round(w * self.scale / 2) * 2, round(h * self.scale / 2) * 2

    def picture(self) -> tuple[Any, ...]:
        """What the stage-1 clip depends on: if this changes, the clip must be re-animated."""
        return self.seconds, self.size_px, self.fps, self.motion, self.fx()

    def fx(self) -> dict[str, Any]:
        """The video segment's ``fx`` (looks, fades, life effects), only the parts that are on."""
        fx: dict[str, Any] = {"look": self.look, "vignette": round(self.vignette, 3), "fade_in": self.fade_in,
                              "fade_out": self.fade_out, "loop": self.loop, "life": list(self.life)}  # fmt: skip
        return {k: v for k, v in fx.items() if v}


def nearest_aspect(ratio: float) -> str:
    """Closest supported aspect in log-ratio; ties go to the same orientation (4:3 -> 16:9, not 1:1)."""

    def key(name: str) -> tuple[float, bool]:
        w, h = ASPECTS[name]
        side = (ratio > 1) - (ratio < 1) != (w > h) - (w < h)
        return round(abs(math.log(ratio * h / w)), 6), side

    return min(ASPECTS, key=key)


def from_draft(draft: Mapping[str, Any]) -> Clip:
    """Read an existing draft back into a ``Clip`` (tolerant: missing fields keep their defaults)."""
    meta = draft.get("m") or {}
    w, h = int(meta.get("width", 1920)), int(meta.get("height", 1080))
    aspect = str(meta["aspect"]) if meta.get("aspect") in ASPECTS else nearest_aspect(w / h)
    clip = Clip(seconds=float(draft.get("d", 5000)) / 1000, aspect=aspect, fps=int(meta.get("fps", 30)))
    clip = replace(clip, scale=2 / 3 if w == ASPECTS[aspect][0] * 2 // 3 else 1.0)
    for track in draft.get("t") or []:
        for seg in (track.get("sg") or [])[:1]:
            if track.get("tt") == 0:
                fx = seg.get("fx") or {}
                clip = replace(clip, motion=Motion.from_draft(seg.get("mo")), clip=seg.get("clip"),
                               look=fx.get("look"), vignette=float(fx.get("vignette", 0)),
                               fade_in=int(fx.get("fade_in", 0)), fade_out=int(fx.get("fade_out", 0)),
                               loop=int(fx.get("loop", 0)), life=tuple(fx.get("life") or ()))  # fmt: skip
            elif track.get("tt") == 7:
                clip = replace(clip, title=str(seg.get("text", "")) or None, pos=seg.get("pos", clip.pos),
                               size=float(seg.get("size", clip.size)), color=seg.get("color", clip.color))  # fmt: skip
            elif track.get("tt") == 1:
                clip = replace(clip, music=True, mood=seg.get("mood") or clip.mood, vol=float(seg.get("vol", clip.vol)))
    return clip


def build(clip: Clip, image: str, audio: str | None, did: str, notes: list[str]) -> dict[str, Any]:
    """The draft for ``clip``; ``did`` and ``notes`` (what was done, what was not) travel in its metadata."""
    ms = round(clip.seconds * 1000)
    w, h = clip.size_px
    video: dict[str, Any] = {"id": "v1", "s": 0, "d": ms, "src": image, "mo": clip.motion.to_draft()}
    if clip.fx():
        video["fx"] = clip.fx()
    if clip.clip:
        video["clip"] = clip.clip
    meta: dict[str, Any] = {"width": w, "height": h, "fps": clip.fps, "aspect": clip.aspect}
    tracks: list[dict[str, Any]] = [{"tt": 0, "sg": [video]}]
    if clip.title:
        meta["title"] = clip.title
        lead, tail = min(300, ms // 10), min(200, ms // 20)
        fade = min(400, ms // 5)
        tracks.append({"tt": 7, "sg": [{"id": "t1", "s": lead, "d": ms - lead - tail, "text": clip.title,
                       "pos": clip.pos, "size": clip.size, "color": clip.color, "fi": fade, "fo": fade}]})  # fmt: skip
    if clip.music:
        tracks.append({"tt": 1, "sg": [{"id": "a1", "s": 0, "d": ms, "src": audio, "mood": clip.mood,
                       "vol": round(clip.vol, 3), "fi": min(300, ms // 10), "fo": min(800, ms // 4)}]})  # fmt: skip
    meta["did"], meta["notes"] = did, list(notes)
    return {"d": ms, "m": meta, "t": tracks}
