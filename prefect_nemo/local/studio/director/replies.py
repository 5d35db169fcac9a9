"""What the director says, in the instruction's language: the summary of a clip or of a change, and notes."""

from __future__ import annotations

from typing import Any

from ..motion import DEPTH_MODES, Motion
from .clip import Clip
from .parser import LANGUAGES

__all__ = ["changes", "describe", "say"]


def say(lang: str, key: str, **values: Any) -> str:
    """The reply template ``key`` in ``lang``, filled in; values naming another key ("mood.calm") are translated."""
    replies = LANGUAGES[lang].replies
    filled = {k: replies.get(v, v) if isinstance(v, str) else v for k, v in values.items()}
    return replies[key].format(**filled)


def _where(focus: tuple[float, float]) -> str:
    x, y = focus
    col = "left" if x < 0.4 else "right" if x > 0.6 else ""
    row = "top" if y < 0.4 else "bottom" if y > 0.6 else ""
    if row and col:
        return f"where.{row}_{col}"
    return f"where.{row or col}" if row or col else "where.centre"


def _move(lang: str, mo: Motion, aim: str | None) -> str:
    flat_zoom = mo.type in ("push_in", "pull_out") and mo.mode not in DEPTH_MODES
    delta = abs(mo.zoom[1] - mo.zoom[0]) / 0.15 if flat_zoom else mo.travel / 0.7
    pace = "pace.slow" if delta < 0.8 else "pace.quick" if delta > 1.3 else "pace.smooth"
    where = f"where.{aim}" if aim else _where(mo.focus)
    if mo.mode in DEPTH_MODES:
        return say(lang, f"move.{mo.mode}", pace=pace, where=where)
    if mo.type.startswith("pan_"):
        return say(lang, "move.pan", pace=pace, way=f"way.{mo.type.removeprefix('pan_')}")
    return say(lang, f"move.{mo.type}", pace=pace, where=where)


def _moves(lang: str, clip: Clip, aims: list[str | None]) -> str:
    legs = clip.motion.moves
    aims = [*aims, *[None] * len(legs)][: len(legs)]
    aims[0] = aims[0] or clip.aim
    said = say(lang, "then").join(_move(lang, mo, aim) for mo, aim in zip(legs, aims, strict=True))
    return say(lang, "move.pop", move=said) if clip.motion.mode == "pop" else said


def _extras(lang: str, clip: Clip) -> list[str]:
    parts = []
    if clip.title:
        parts.append(say(lang, "title", title=clip.title, pos=f"pos.{clip.pos}"))
    if clip.music:
        parts.append(say(lang, "music", mood=f"mood.{clip.mood}", vol=round(clip.vol * 100)))
    if clip.look:
        parts.append(say(lang, "look", look=f"look.{clip.look}"))
    if clip.vignette:
        parts.append(say(lang, "vignette"))
    for key in ("fade_in", "fade_out", "loop"):
        if getattr(clip, key):
            parts.append(say(lang, key))
    return parts + [say(lang, f"life.{name}") for name in clip.life]


def describe(lang: str, clip: Clip, aims: list[str | None]) -> str:
    """One sentence saying the whole clip that will be made."""
    w, h = clip.size_px
    head = say(lang, "make", seconds=f"{clip.seconds:g}", aspect=clip.aspect, size=f"{w}x{h}", fps=clip.fps,
               moves=_moves(lang, clip, aims))  # fmt: skip
    extras = _extras(lang, clip)
    if not extras:
        return head + say(lang, "end")
    tail = say(lang, "list").join(extras[:-1]) + say(lang, "and") + extras[-1] if len(extras) > 1 else extras[0]
    return head + say(lang, "with") + tail + say(lang, "end")


def changes(lang: str, before: Clip, after: Clip, aims: list[str | None]) -> str:
    """One sentence saying what a refinement changes."""
    said = []
    if after.seconds != before.seconds:
        said.append(say(lang, "seconds", seconds=f"{after.seconds:g}"))
    if after.size_px != before.size_px:
        said.append(f"{after.aspect} ({'x'.join(map(str, after.size_px))})")
    if after.fps != before.fps:
        said.append(say(lang, "fps", fps=after.fps))
    if after.motion != before.motion:
        said.append(_moves(lang, after, aims))
    if after.title != before.title:
        said.append(
            say(lang, "title", title=after.title, pos=f"pos.{after.pos}") if after.title else say(lang, "no_title")
        )
    elif (after.pos, after.size, after.color) != (before.pos, before.size, before.color):
        how = "bigger" if after.size > before.size else "smaller" if after.size < before.size else "restyled"
        said.append(say(lang, "title.restyled", how=f"how.{how}", pos=f"pos.{after.pos}"))
    if (after.music, after.mood, after.vol) != (before.music, before.mood, before.vol):
        music = say(lang, "music", mood=f"mood.{after.mood}", vol=round(after.vol * 100))
        said.append(music if after.music else say(lang, "no_music"))
    if after.look != before.look:
        said.append(say(lang, "look", look=f"look.{after.look}") if after.look else say(lang, "no_look"))
    if after.vignette != before.vignette and after.vignette:
        said.append(say(lang, "vignette"))
    for key in ("fade_in", "fade_out", "loop"):
        if getattr(after, key) and not getattr(before, key):
            said.append(say(lang, key))
    said += [say(lang, f"life.{name}") for name in after.life if name not in before.life]
    return say(lang, "update", changes=say(lang, "list").join(said)) if said else say(lang, "nothing")
