# ruff: noqa: RUF001 - full-width Chinese punctuation belongs in Chinese patterns
"""The timeline words, English and Chinese: does an instruction ask for one video of several images, and with
what shot lengths and transitions.

"a slideshow of these", "montage", "one video from these 3 images", 把这些合成一个视频 and 幻灯片 ask for a timeline;
"3 seconds each", "durations 2, 3 and 4 seconds", 每张2秒 and 时长依次为2、3、4秒 set the shots' lengths; "crossfade",
"push left", "slide in from the right", "zoom through", "dip to black", 淡入淡出 and 黑场过渡 the joins. What is read
is blanked out of the instruction, so ``direct`` reads the rest (title, music, shape, camera) for every shot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..transitions import TRANSITIONS
from .parser import _QUOTES, LANGUAGES, InstructionRejected

__all__ = ["SHOT_S", "TRANSITIONS", "TimelineAsk", "is_timeline", "read_timeline"]

SHOT_S = (0.5, 60.0)  # one still's length on screen

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
