"""Instruction text -> draft timeline, for the embedded backend's agent.

A small, deterministic reader of plain English and Chinese (``vocab_en``, ``vocab_zh``: data tables;
``replies_en``, ``replies_zh``: reply templates; ``parser``: the one reader of them; ``clip``: the draft
builder; ``replies``: what it says). It never guesses silently: whatever it could not use, or had to clamp,
becomes a note, said in the instruction's language and kept in the draft's metadata (``m.did``, ``m.notes``)
beside the one-sentence summary. With ``previous`` it refines an existing draft, changing only what the
instruction mentions. With a ``framing`` (the picture's faces, subject and text) every camera path keeps the
faces and subject whole. Schema: docs/draft-schema.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ..framing import Box, Framing, centre, union
from ..letterbox import FACE_MARGIN, RATIOS, bar_rows
from ..overlay import drawable
from .clip import ASPECTS, FPS_CHOICES, Clip, build, from_draft
from .parser import LANGUAGES, InstructionRejected, Reader
from .replies import changes, describe, say
from .storyboard import Still, direct_timeline
from .timeline import is_timeline

__all__ = [
    "ASPECTS",
    "FPS_CHOICES",
    "LANGUAGES",
    "Direction",
    "InstructionRejected",
    "Still",
    "direct",
    "direct_timeline",
    "is_timeline",
]

MAX_CHARS = 4000


@dataclass(frozen=True)
class Direction:
    """The director's answer: the draft, what the agent says (summary first, then notes), its tool calls."""

    draft: dict[str, Any]
    texts: list[str]
    tool_calls: list[dict[str, Any]]
    lang: str = "en"


def direct(
    instruction: str,
    *,
    image_asset: str,
    image_size: tuple[int, int],
    audio_asset: str | None = None,
    framing: Framing | None = None,
    previous: dict[str, Any] | None = None,
) -> Direction:
    """Read ``instruction`` into a draft (or a refined copy of ``previous``) and say what will be made.

    Raises:
        InstructionRejected: empty or over-long instruction, or a duration outside 1-60 s.
    """
    if not isinstance(instruction, str) or not instruction.strip():
        raise InstructionRejected("the instruction is empty; say what the clip should be, e.g. 'a 5-second push-in'")
    if len(instruction) > MAX_CHARS:
        raise InstructionRejected(f"the instruction is {len(instruction)} characters; the limit is {MAX_CHARS}")
    width, height = image_size
    if width <= 0 or height <= 0:
        raise ValueError(f"image_size {image_size!r} must be a positive (width, height)")
    before = from_draft(previous) if previous is not None else Clip()
    reader = Reader(instruction)
    after = reader.read(before, fresh=previous is None)
    if framing is not None and (previous is None or after.picture() != before.picture()):
        after = _frame(after, framing, reader)
    if audio_asset and not reader.music_off:
        after = replace(after, music=True)
    if after.picture() != before.picture():
        after = replace(after, clip=None)  # the stage-1 clip no longer shows this picture
    lang = reader.lang
    if previous is None:
        if not reader.understood and not re.search(reader.words("generic"), reader.text):
            reader.note("not_understood", text=instruction.strip()[:80])
        w, h = after.size_px
        if min(width / w, height / h) < 0.5:
            reader.note("soft", iw=width, ih=height, w=w, h=h)
        if height > width * 1.2 and after.aspect == "16:9" and not reader.quotes:
            reader.note("portrait")
    if after.title and not drawable(after.title):
        reader.note("font")
    video_changed = previous is None or after.picture() != before.picture()
    edit = (after.title, after.pos, after.size, after.color, after.music, after.mood, after.vol)
    edit_changed = edit != (before.title, before.pos, before.size, before.color, before.music, before.mood, before.vol)
    calls: list[dict[str, Any]] = []
    if video_changed:
        w, h = after.size_px
        calls.append({"name": "generate_video", "args": {"image": image_asset, "duration_s": after.seconds,
                      "width": w, "height": h, "fps": after.fps, "motion": after.motion.to_draft()}})  # fmt: skip
    if edit_changed or (previous is None and (after.title or after.music)):
        bgm = {"src": audio_asset, "mood": after.mood, "volume": after.vol} if after.music else None
        calls.append({"name": "edit_multitrack", "args": {"title": after.title, "position": after.pos, "bgm": bgm}})
    if previous is not None and not calls:
        reader.note("no_change", text=instruction.strip()[:80])
    did = describe(lang, after, reader.aims) if previous is None else changes(lang, before, after, reader.aims)
    notes = [say(lang, key, **values) for key, values in reader.notes]
    draft = build(after, image_asset, audio_asset if after.music else None, did, notes)
    return Direction(draft=draft, texts=[did, *notes], tool_calls=calls, lang=lang)


def _frame(clip: Clip, framing: Framing, reader: Reader) -> Clip:
    """Keep faces and subject whole in every frame; head for the subject; aim "zoom into the face" at it."""
    w, h = clip.size_px
    aspect = w / h
    mo = replace(clip.motion, keep=framing.keep(aspect))
    if framing.faces and framing.keep(aspect) is not None and not framing.fits(union(framing.faces), aspect):
        reader.note("faces_cut", aspect=clip.aspect, kept="kept.largest")
    legs = list(mo.moves)
    aim = None
    if not reader.focus_said:
        legs = [replace(leg, focus=framing.focus) for leg in legs]
        aim = "face" if framing.faces else "subject" if framing.subject else None
    for i, what in enumerate(reader.aims[: len(legs)]):
        if what is None:
            continue
        box = framing.target(what)
        if box is None:
            reader.note("no_target", what=f"target.{what}")
            reader.aims[i] = None
            continue
        if what == "face" and not framing.fits(box, aspect):  # faces too far apart for one view: the largest
            box = max(framing.faces, key=lambda f: (f[2] - f[0]) * (f[3] - f[1]))
        legs[i] = replace(legs[i], zoom=(1.0, _fill(framing, box, aspect)), focus=centre(box), travel=1.0)
        mo = replace(mo, keep=_keep_with(framing, box, aspect))
    keep, bars = _between_bars(framing, mo.keep, clip, reader)
    lead = replace(legs[0], keep=keep, then=tuple(legs[1:]), subject=_subject(framing, mo.mode, reader))
    life = clip.life if bars else tuple(effect for effect in clip.life if effect != "letterbox")
    return replace(clip, motion=lead, life=life, aim=aim if not any(reader.aims) else None)


def _between_bars(framing: Framing, keep: Box | None, clip: Clip, reader: Reader) -> tuple[Box | None, bool]:
    """With letterbox bars, the keep box grown so the faces in it (or, with none, the subject and the lines of
    text that continue it, such as a heading over a paragraph) stay between the bars in every frame; and
    whether the bars stay.

    The camera holds the keep box in view; growing the faces' rows by one bar (in image units at the widest
    view, more than a bar covers once zoomed in) and the top of the hair keeps them off the bars. Where the
    scope bars leave no such box on the picture, the next cinema ratio's thinner bars are tried, and the reply
    says the bars give way (the renderer thins or leaves them off where they would cross a face). A subject
    the scope bars cannot leave whole (a bottle nearly as tall as the photograph, a page whose heading sits
    at its top edge) keeps the full frame instead: the bars are left off, and the reply says so. Text lines
    are grown by the bar alone: their boxes hold their letters, with no hair or lid beyond them.
    """
    w, h = clip.size_px
    faces = [f for f in framing.faces if keep and f[0] >= keep[0] and f[1] >= keep[1] and f[2] <= keep[2]
             and f[3] <= keep[3]]  # fmt: skip
    guarded = faces or ([framing.subject] if framing.subject is not None else [])
    if "letterbox" not in clip.life or not bar_rows((w, h)) or keep is None or not guarded:
        return keep, True
    iw, ih = framing.size
    x0, y0, x1, y1 = union(guarded)
    tx0, ty0, tx1, ty1 = union(guarded) if faces else framing.with_text(union(guarded))
    # Above and below what is guarded, room for what the box may leave out: hair above a face (the renderer's
    # margin, and more), a cap or a lid above a product.
    hair = 1.5 * FACE_MARGIN * max(f[3] - f[1] for f in guarded)
    for ratio in RATIOS if faces else RATIOS[:1]:  # the renderer thins the bars for faces only
        bar = bar_rows((w, h), ratio) / h * min(ih, iw * h / w) / ih
        grown = union((keep, (x0, y0 - bar - hair, x1, y1 + bar + hair), (tx0, ty0 - bar, tx1, ty1 + bar)))
        if grown[1] >= 0.0 and grown[3] <= 1.0 and framing.fits(grown, w / h):
            if ratio != RATIOS[0]:
                reader.note("letterbox_faces")
            return grown, True
    if not faces:
        reader.note("letterbox_subject")
        return keep, False
    reader.note("letterbox_faces")
    return keep, True


def _subject(framing: Framing, mode: str, reader: Reader) -> Box | None:
    """The salient subject seeds the depth guess and the cut-out when there is no face (with faces the guess
    finds them itself and takes the body below them); with neither, the guess is said to be one."""
    if mode == "flat" or framing.faces:
        return None
    if framing.subject is None:
        reader.note("depth_guess")
    return framing.subject


def _fill(framing: Framing, box: Box, aspect: float) -> float:
    """The zoom at which ``box`` fills about 70% of the view (the keep box caps it further)."""
    iw, ih = framing.size
    cover = min(iw, ih * aspect)
    fill = min(cover / ((box[2] - box[0]) * iw), cover / aspect / ((box[3] - box[1]) * ih)) * 0.7
    return round(min(2.5, max(1.05, fill)), 3)


def _keep_with(framing: Framing, box: Box, aspect: float) -> Box | None:
    """Keep the target and every face if one view can hold them, else the faces, else the target."""
    for cand in (union((*framing.faces, box)), union(framing.faces or (box,)), box):
        if framing.fits(cand, aspect):
            return cand
    return framing.keep(aspect)
