# ruff: noqa: RUF001 - full-width Chinese punctuation belongs in Chinese patterns and replies
"""Several stills -> one draft: the timeline words (slideshow, 合成一个视频 ...) and the multi-shot draft.

An instruction is a timeline when it asks for one video from several images ("a slideshow of these",
"montage", 把这些合成一个视频, 幻灯片). The timeline words (per-shot lengths, transitions) are read here and
blanked out; the rest of the instruction (title, music, shape, look, camera) goes to ``direct`` once per still,
so every shot is framed on its own picture's faces and subject. The draft has one video segment per still, in
upload order, back to back; a segment's ``tr`` is the transition into it, centred on its start, so the clip
lasts exactly the sum of the shots. Schema: docs/draft-schema.md ("Timelines").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..framing import Framing
from ..motion import Motion
from ..transitions import TRANSITIONS
from .moves import preset
from .parser import _QUOTES, LANGUAGES, InstructionRejected
from .replies import say
from .vocab import language_of

if TYPE_CHECKING:
    from . import Direction

__all__ = ["MAX_SHOTS", "TRANSITIONS", "Still", "TimelineAsk", "direct_timeline", "is_timeline", "read_timeline"]

MAX_SHOTS = 50
SHOT_S = (0.5, 60.0)  # one still's length on screen
DEFAULT_SHOT_S, MAX_TOTAL_S = 3.0, 300.0
TRANSITION_MS = 600  # at most half of the shorter of the two shots it joins
_DEFAULT_MOVES = ("push_in", "ken_burns", "pull_out")  # alternated when the instruction names no camera move

_NUM = r"(\d+(?:\.\d+)?)"
_SEC = r"\s*-?\s*(?:s|secs?|seconds?)\b"
_WANTS = (
    r"\bslide[\s-]*shows?\b|\bmontage\b|\bphoto\s+reel\b|(?:\bone|\b1|\ba)\s+(?:single\s+)?(?:video|clip|movie)\s+"
    r"(?:from|of|out\s+of|with)\s+(?:these|them|all|the(?:se)?\s+\d*\s*(?:images|photos|pictures|stills))"
    r"|\b(?:combine|stitch|join|merge)\s+(?:these|them|all|the\s+(?:images|photos))\b[^.,;]*?(?:into\s+one|together)?"
    r"|合成(?:一个|一段|一条)?视频|合成一个|拼成(?:一个)?视频|串成(?:一个)?视频|幻灯片|相册视频|图片集|照片集"
)
_EACH = (
    rf"{_NUM}{_SEC}\s*(?:each|apiece|per\s+(?:image|photo|picture|still|shot|slide))\b"
    rf"|\beach\s+(?:image|photo|picture|still|shot|slide)?\s*(?:for|lasts?|of)?\s*{_NUM}{_SEC}"
    rf"|每(?:张|个|幅)(?:图片?|照片)?\s*{_NUM}\s*秒"
)
_LIST = (
    rf"\b(?:durations?|lengths?|shot\s+lengths?|shots?\s+of|timings?)\s*(?:of|:|=)?\s*"
    rf"((?:\d+(?:\.\d+)?\s*s?\s*(?:,|/|and|then)\s*)+\d+(?:\.\d+)?){_SEC}"
    rf"|(?:时长\s*(?:依次|分别)?|依次|分别)\s*(?:为|是)?\s*((?:\d+(?:\.\d+)?\s*秒?\s*[、,，/和]\s*)+\d+(?:\.\d+)?)\s*秒"
)
_WAY = r"(?:\s+(?:to\s+the\s+)?(left|right|up|down))?"
_FROM = r"\s+(?:in\s+)?from\s+the\s+(left|right|top|bottom)"
# (pattern, transition, blank it): "fade in and out" and 淡入淡出 also tell the director to fade the ends.
_TRANSITIONS: tuple[tuple[str, str, bool], ...] = (
    (r"\bdip(?:s|ping)?\s+to\s+black\b|\bfade\s+through\s+black\b|黑场过渡|闪黑|黑场转场", "dip_to_black", True),
    (r"\bzoom[\s-]*through\b|\bzoom\s+transitions?\b|穿梭转场|缩放转场|推拉转场", "zoom_through", True),
    (r"\bcross[\s-]*fad\w*|\bcross[\s-]*dissolves?\b|\bdissolves?\b|交叉淡化|叠化|溶解", "crossfade", True),
    (r"\bfade[sd]?\s+in\s+and\s+out\b|淡入淡出|渐显渐隐", "crossfade", False),
    (rf"\bslides?\b(?![\s-]*shows?){_FROM}|\bslides?\b(?![\s-]*shows?){_WAY}|滑动转场|滑入|滑动", "slide", True),
    (
        rf"\bpush(?:es)?\b(?![\s-]*(?:in|into|on|closer|toward|towards|forward)\b){_FROM}"
        rf"|\bpush(?:es)?\b(?![\s-]*(?:in|into|on|closer|toward|towards|forward)\b){_WAY}|推移转场|推动转场",
        "push",
        True,
    ),
)
_ZH_WAY = (r"向左|从右", "left"), (r"向右|从左", "right"), (r"向上|从下", "up"), (r"向下|从上", "down")
_OPPOSITE = {"left": "right", "right": "left", "top": "down", "bottom": "up"}
_TRANSITION_WORD = r"\btransitions?\b|\bbetween\s+(?:them|shots|images|photos)\b|转场"

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
    },
}


@dataclass(frozen=True)
class Still:
    """One uploaded image as the timeline director needs it."""

    asset: str
    size: tuple[int, int]
    framing: Framing | None = None


@dataclass
class TimelineAsk:
    """What the timeline words asked for; ``rest`` is the instruction without them, for ``direct``."""

    rest: str
    each: float | None = None
    lengths: list[float] = field(default_factory=list)
    transition: str | None = None
    direction: str = "left"


def _normalised(text: str) -> str:
    """Spelled-out numbers as digits ("两秒", "three seconds"), outside quotes only (titles stay as written)."""
    out, last = [], 0
    for m in _QUOTES.finditer(text):
        out += [_digits(text[last : m.start()]), m[0]]
        last = m.end()
    return "".join([*out, _digits(text[last:])])


def _digits(text: str) -> str:
    for voc in LANGUAGES.values():
        text = voc.digits(text)
    return text


def is_timeline(instruction: str) -> bool:
    """Does the instruction ask for one video from several images?"""
    return bool(re.search(_WANTS, _normalised(instruction), re.IGNORECASE))


def read_timeline(instruction: str) -> TimelineAsk:
    """Take the timeline words out of ``instruction``: shot lengths, the transition and its direction."""
    text = _normalised(instruction)
    ask = TimelineAsk(rest=text)

    def take(pattern: str) -> list[re.Match[str]]:
        found = list(re.finditer(pattern, ask.rest, re.IGNORECASE))
        for m in found:
            ask.rest = ask.rest[: m.start()] + " " * (m.end() - m.start()) + ask.rest[m.end() :]
        return found

    take(_WANTS)
    for m in take(_LIST)[:1]:
        ask.lengths = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", m[1] or m[2])]
    for m in take(_EACH)[:1]:
        ask.each = float(next(g for g in m.groups() if g))
    for pattern, kind, blank in _TRANSITIONS:
        found = list(re.finditer(pattern, ask.rest, re.IGNORECASE))
        if not found:
            continue
        if blank:
            take(pattern)
        ask.transition = ask.transition or kind
        way = next((g.lower() for g in found[0].groups() if g), None)
        ask.direction = _OPPOSITE.get(way, way) if way in _OPPOSITE and "from" in found[0][0].lower() else way or "left"
        ask.direction = next((d for p, d in _ZH_WAY if re.search(p, found[0][0])), ask.direction)
    if take(_TRANSITION_WORD) and ask.transition is None:
        ask.transition = "crossfade"  # "with transitions" and no kind named: the gentlest
    for length in [*ask.lengths, *([ask.each] if ask.each is not None else [])]:
        if not SHOT_S[0] <= length <= SHOT_S[1]:
            raise InstructionRejected(
                f"shot length {length:g} s is outside the supported {SHOT_S[0]:g}-{SHOT_S[1]:g} s"
            )
    return ask


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
    did = _did(lang, first, seconds, ask.transition if tr_ms else None)
    unchanged = {say(code, "no_change", text=rest.strip()[:80]) for code in LANGUAGES}  # said per shot, not whole
    meta["notes"] = [*notes, *(n for n in meta.get("notes", []) if n not in unchanged)]
    meta["did"] = did
    draft = {"d": start, "m": meta, "t": tracks}
    w, h = meta["width"], meta["height"]
    calls = [{"name": "generate_video", "args": {"images": [s.asset for s in stills], "durations_s": seconds,
              "width": w, "height": h, "fps": meta["fps"], "transition": ask.transition}}]  # fmt: skip
    if title is not None or music is not None:
        calls.append({"name": "edit_multitrack", "args": {"title": meta.get("title"), "bgm": music}})
    return Direction(draft=draft, texts=[did, *meta["notes"]], tool_calls=calls, lang=lang)


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


def _did(lang: str, first: dict[str, Any], seconds: list[float], transition: str | None) -> str:
    """One sentence for the whole timeline: its length and shape, the shots, the transitions, then the extras."""
    r, meta = _REPLIES[lang], first["m"]
    same = len(set(seconds)) == 1
    lengths = r["each"].format(seconds=f"{seconds[0]:g}") if same else r["list"].format(
        seconds="/".join(f"{s:g}" for s in seconds))  # fmt: skip
    head = r["make"].format(total=f"{sum(seconds):g}", aspect=meta.get("aspect", ""), n=len(seconds),
                            size=f"{meta['width']}x{meta['height']}", fps=meta["fps"], shots=lengths)  # fmt: skip
    extras = [r["tr"].format(what=r[f"tr.{transition}"]) if transition else r["cut"]]
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
