# ruff: noqa: RUF001 - full-width Chinese punctuation belongs in Chinese replies
"""Several stills -> one draft: one video segment per still, back to back, joined by transitions.

The timeline words (``timeline.py``) give the shots' lengths and the joins; the rest of the instruction goes to
``direct`` once per still, so every shot is framed on its own picture's faces and subject. A segment's ``tr`` is
the transition into it, centred on its start, so the clip lasts exactly the sum of the shots; a title becomes a
title card over the first shot and music one bed under the whole. Letterbox bars are one height for the whole
clip, so what any shot says about them is said for the clip, and a shot with no room for them leaves them off
every shot. With a previous timeline of the same stills, an instruction refines it. Schema: docs/draft-schema.md
("Timelines").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..framing import Framing
from ..motion import Motion
from .moves import preset
from .parser import LANGUAGES, InstructionRejected
from .replies import say
from .timeline import SHOT_S, TimelineAsk, read_timeline
from .vocab import language_of

if TYPE_CHECKING:
    from . import Direction

__all__ = ["MAX_SHOTS", "Still", "direct_timeline"]

MAX_SHOTS = 50
DEFAULT_SHOT_S, MAX_TOTAL_S = 3.0, 300.0
TRANSITION_MS = 600  # at most half of the shorter of the two shots it joins
_DEFAULT_MOVES = ("push_in", "ken_burns", "pull_out")  # alternated when the instruction names no camera move

_REPLIES = {
    "en": {
        "make": "I'll make one {total}-second {aspect} clip ({size}, {fps} fps) from {n} images: {shots}",
        "each": "{seconds} s each",
        "list": "shots of {seconds} s",
        "tr": "{what} between shots",
        "cut": "straight cuts",
        "tr.crossfade": "crossfades",
        "tr.push": "push transitions",
        "tr.slide": "slide transitions",
        "tr.zoom_through": "zoom-through transitions",
        "tr.dip_to_black": "dips to black",
        "count": "I got {asked} shot lengths for {n} images; I used {used}.",
        "tr_short": "Shots are short, so transitions last {ms} ms.",
        "too_many": "A timeline holds at most {n} images; I used the first {n}.",
        "cam.parallax": "a 3D parallax glide on each shot",
        "cam.dolly_zoom": "a dolly zoom on each shot",
        "cam.push_3d": "a 3D push-in on each shot",
        "cam.pop": "each shot's subject popping out",
        "cam.push_in": "a push-in on each shot",
        "cam.pull_out": "a pull-out on each shot",
        "cam.ken_burns": "a Ken Burns move on each shot",
        "cam.orbit": "a rotating orbit on each shot",
        "cam.pan": "a pan on each shot",
        "cam.static": "every shot held still",
    },
    "zh": {
        "make": "我会把{n}张图片合成一个{total}秒的{aspect}视频（{size}，每秒{fps}帧）：{shots}",
        "each": "每张{seconds}秒",
        "list": "各镜头依次{seconds}秒",
        "tr": "镜头之间用{what}",
        "cut": "直接切换",
        "tr.crossfade": "淡入淡出转场",
        "tr.push": "推移转场",
        "tr.slide": "滑动转场",
        "tr.zoom_through": "缩放穿梭转场",
        "tr.dip_to_black": "黑场过渡",
        "count": "给了{asked}个时长，但有{n}张图片；我用了{used}。",
        "tr_short": "镜头较短，转场时长改为{ms}毫秒。",
        "too_many": "一个视频最多{n}张图片；我用了前{n}张。",
        "cam.parallax": "每张做3D视差运镜",
        "cam.dolly_zoom": "每张做希区柯克变焦",
        "cam.push_3d": "每张做3D推进",
        "cam.pop": "每张主体从画面中突出",
        "cam.push_in": "每张推进",
        "cam.pull_out": "每张拉远",
        "cam.ken_burns": "每张做肯·伯恩斯推移",
        "cam.orbit": "每张旋转环绕",
        "cam.pan": "每张平移",
        "cam.static": "每张固定镜头",
    },
}


@dataclass(frozen=True)
class Still:
    """One uploaded image as the timeline director needs it."""

    asset: str
    size: tuple[int, int]
    framing: Framing | None = None


def _lengths(
    ask: TimelineAsk, n: int, total: float | None, note: Callable[..., None], before: list[float]
) -> list[float]:
    """Seconds per shot: the list said, else one length for each, else the total split evenly, else the lengths
    ``before`` (a refinement), else 3 s."""
    if ask.lengths:
        used = (ask.lengths + [ask.lengths[-1]] * n)[:n]
        if len(ask.lengths) != n:
            note("count", asked=len(ask.lengths), n=n, used=", ".join(f"{s:g}" for s in used))
        return used
    if ask.each is not None:
        return [ask.each] * n
    if total is not None:
        return [round(max(SHOT_S[0], total / n), 3)] * n
    return before or [DEFAULT_SHOT_S] * n


def _said(rows: str, text: str) -> bool:
    return any(re.search(p, text) for voc in LANGUAGES.values() for p, _ in getattr(voc, rows))


def direct_timeline(
    instruction: str,
    stills: Sequence[Still],
    *,
    audio_asset: str | None = None,
    previous: dict[str, Any] | None = None,
) -> Direction:
    """Read ``instruction`` into one draft showing every still in order (``Direction`` like ``direct``).

    With ``previous`` (a timeline of the same stills) it refines it: what the instruction does not mention
    (lengths, transitions, each shot's camera, the title and music) stays as it was.

    Raises:
        InstructionRejected: an empty instruction, no stills, or a length out of range.
    """
    from . import Direction, direct  # the package imports this module; this is the other way round

    if not stills:
        raise InstructionRejected("no image in this session: upload the images before asking for one video")
    lang = language_of(instruction)
    notes: list[str] = []

    def note(key: str, **values: Any) -> None:
        notes.append(_REPLIES[lang][key].format(**values))

    if len(stills) > MAX_SHOTS:
        note("too_many", n=MAX_SHOTS)
        stills = stills[:MAX_SHOTS]
    ask = read_timeline(instruction)
    rest = ask.rest + (" 视频" if lang == "zh" else " video")  # the timeline was understood, whatever is left
    said_total = _said("durations", rest.lower())
    low = rest.lower()
    said_move = _said("moves", low) or _said("targets", low)
    before = _shots_of(previous) if previous is not None and len(_shots_of(previous)) == len(stills) else []
    shots = [
        direct(rest, image_asset=s.asset, image_size=s.size, audio_asset=audio_asset, framing=s.framing,
               previous=_one_shot(previous, before[i]) if previous is not None and before else None)
        for i, s in enumerate(stills)
    ]  # fmt: skip
    first = shots[0].draft
    total_said = first["d"] / 1000 if said_total else None
    seconds = _lengths(ask, len(stills), total_said, note, [seg["d"] / 1000 for seg in before])
    joined = next((seg["tr"] for seg in before[1:] if isinstance(seg.get("tr"), dict)), None)
    if ask.transition is None and joined is not None:  # a refinement keeps the joins it does not mention
        ask.transition, ask.direction = joined.get("type"), joined.get("dir", "left")
    if sum(seconds) > MAX_TOTAL_S:
        raise InstructionRejected(f"the timeline would last {sum(seconds):g} s; the limit is {MAX_TOTAL_S:g} s")
    bars, bar_notes = _letterbox(shots, lang)
    segments, start = [], 0
    shortest = min(seconds)
    tr_ms = min(TRANSITION_MS, round(shortest * 1000 / 2)) if ask.transition else 0
    if ask.transition and tr_ms < TRANSITION_MS:
        note("tr_short", ms=tr_ms)
    for i, (still, shot, secs) in enumerate(zip(stills, shots, seconds, strict=True)):
        video = dict(_video(shot.draft))
        ms = round(secs * 1000)
        video.update(id=f"v{i + 1}", s=start, d=ms, src=still.asset)
        video.pop("clip", None)
        if not said_move and not before:
            video["mo"] = _default_move(Motion.from_draft(video["mo"]), i).to_draft()
        if i and ask.transition and tr_ms >= 2:
            video["tr"] = {"type": ask.transition, "d": tr_ms, "dir": ask.direction}
        if i:
            video.pop("fx", None)  # looks and end fades are the whole clip's, carried by the first shot
        elif not bars and "letterbox" in (video.get("fx") or {}).get("life", ()):
            video["fx"] = {**video["fx"], "life": [e for e in video["fx"]["life"] if e != "letterbox"]}
        segments.append(video)
        start += ms
    tracks: list[dict[str, Any]] = [{"tt": 0, "sg": segments}]
    title = next((t["sg"][0] for t in first["t"] if t.get("tt") == 7 and t.get("sg")), None)
    if title is not None:
        card_ms = segments[0]["d"]
        lead, tail = min(300, card_ms // 10), min(200 + tr_ms // 2, card_ms // 4)
        card = {**title, "s": lead, "d": card_ms - lead - tail}
        if not _said("positions", low):
            card["pos"] = "center"
        if not _said("sizes", low):
            card["size"] = 0.09
        tracks.append({"tt": 7, "sg": [card]})
    music = next((t["sg"][0] for t in first["t"] if t.get("tt") == 1 and t.get("sg")), None)
    if music is not None:
        tracks.append({"tt": 1, "sg": [{**music, "s": 0, "d": start, "fo": min(1500, start // 4)}]})
    meta = dict(first["m"])
    camera = _camera(segments[0]["mo"]) if said_move else None
    did = _did(lang, first, seconds, ask.transition if tr_ms else None, camera)
    unchanged = {say(code, "no_change", text=rest.strip()[:80]) for code in LANGUAGES}  # said per shot, not whole
    first_notes = [n for n in meta.get("notes", []) if n not in unchanged]
    meta["notes"] = [*notes, *first_notes, *(n for n in bar_notes if n not in first_notes)]
    meta["did"] = did
    draft = {"d": start, "m": meta, "t": tracks}
    w, h = meta["width"], meta["height"]
    calls = [{"name": "generate_video", "args": {"images": [s.asset for s in stills], "durations_s": seconds,
              "width": w, "height": h, "fps": meta["fps"], "transition": ask.transition}}]  # fmt: skip
    if title is not None or music is not None:
        calls.append({"name": "edit_multitrack", "args": {"title": meta.get("title"), "bgm": music}})
    return Direction(draft=draft, texts=[did, *meta["notes"]], tool_calls=calls, lang=lang)


def _letterbox(shots: list[Direction], lang: str) -> tuple[bool, list[str]]:
    """Whether the clip keeps the letterbox bars the first shot has, and what any shot said about them.

    The renderer draws one bar height for the whole clip (``letterbox.Letterbox``): a shot whose subject has no
    room for the bars leaves them off every shot (as a clip of that still alone would), and a shot whose faces
    thin them thins them for all, so either is said for the clip, not only when the first shot says it.
    """
    said = [say(lang, key) for key in ("letterbox_subject", "letterbox_faces")]
    notes = [note for note in said if any(note in shot.texts[1:] for shot in shots)]
    return said[0] not in notes, notes


def _shots_of(draft: dict[str, Any]) -> list[dict[str, Any]]:
    return next((list(t["sg"]) for t in draft.get("t") or [] if t.get("tt") == 0 and t.get("sg")), [])


def _one_shot(timeline: dict[str, Any], segment: dict[str, Any]) -> dict[str, Any]:
    """One shot of a timeline as a one-still draft (its own camera, the whole clip's look, title and music), so
    ``direct`` refines it like any clip."""
    fx = _shots_of(timeline)[0].get("fx")
    video = {k: v for k, v in segment.items() if k not in ("tr", "s")} | ({"fx": fx} if fx else {})
    others = [t for t in timeline.get("t") or [] if t.get("tt") != 0]
    return {"d": segment["d"], "m": timeline.get("m") or {}, "t": [{"tt": 0, "sg": [video]}, *others]}


def _video(draft: dict[str, Any]) -> dict[str, Any]:
    return next(t["sg"][0] for t in draft["t"] if t.get("tt") == 0)


def _default_move(mo: Motion, i: int) -> Motion:
    """Shot ``i``'s move when none was named: push-in, Ken Burns, pull-out in turn, framed as ``direct`` framed it."""
    return replace(preset(_DEFAULT_MOVES[i % len(_DEFAULT_MOVES)], 1.0, mo.focus), keep=mo.keep, ease=mo.ease)


def _camera(mo: dict[str, Any]) -> str:
    """The ``cam.*`` key naming a shot's move: its 3D mode or pop, else its flat move (any pan is a pan)."""
    mode, kind = mo.get("mode", "flat"), str(mo.get("type", "push_in"))
    return mode if mode != "flat" else "pan" if kind.startswith("pan_") else kind


def _did(lang: str, first: dict[str, Any], seconds: list[float], transition: str | None, camera: str | None) -> str:
    """One sentence for the whole timeline: its length and shape, the shots, the camera when one was asked for,
    the transitions, then the extras."""
    r, meta = _REPLIES[lang], first["m"]
    same = len(set(seconds)) == 1
    lengths = r["each"].format(seconds=f"{seconds[0]:g}") if same else r["list"].format(
        seconds="/".join(f"{s:g}" for s in seconds))  # fmt: skip
    head = r["make"].format(total=f"{sum(seconds):g}", aspect=meta.get("aspect", ""), n=len(seconds),
                            size=f"{meta['width']}x{meta['height']}", fps=meta["fps"], shots=lengths)  # fmt: skip
    extras = [r[f"cam.{camera}"]] if camera and f"cam.{camera}" in r else []
    extras.append(r["tr"].format(what=r[f"tr.{transition}"]) if transition else r["cut"])
    if meta.get("title"):
        extras.append(say(lang, "title", title=meta["title"], pos="pos.center"))
    fx = _video(first).get("fx") or {}
    for track in first["t"]:
        if track.get("tt") == 1 and track.get("sg"):
            bed = track["sg"][0]
            extras.append(
                say(lang, "music", mood=f"mood.{bed.get('mood', 'calm')}", vol=round(bed.get("vol", 0.35) * 100))
            )
    if fx.get("look"):
        extras.append(say(lang, "look", look=f"look.{fx['look']}"))
    extras += [say(lang, key) for key in ("fade_in", "fade_out") if fx.get(key)]
    sep, end = ("，", "。") if lang == "zh" else (", ", ".")
    return head + sep + sep.join(extras) + end
