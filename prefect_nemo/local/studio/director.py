"""Instruction text -> draft timeline, for the embedded backend's agent.

A small, deterministic reader of plain English: duration, aspect/platform, frame rate, camera motion,
speed/easing, a quoted title, background music and volume. It never guesses silently: whatever it could
not use, or had to clamp, becomes a line in ``Direction.texts`` (the agent's reply in the stream). With
``previous`` it refines an existing draft, changing only what the instruction mentions, and drops the
stage-1 ``clip`` reference whenever the picture itself changes, so the export re-animates.
The draft schema is documented in docs/draft-schema.md.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .framing import Framing, centre, union
from .motion import Motion

__all__ = ["ASPECTS", "FPS_CHOICES", "Direction", "InstructionRejected", "direct"]

ASPECTS = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080), "4:5": (1080, 1350)}
FPS_CHOICES = (24, 30, 60)
MAX_CHARS = 4000
MIN_S, MAX_S = 1.0, 60.0


class InstructionRejected(ValueError):
    """The instruction cannot be carried out; the message names the offending value."""


@dataclass(frozen=True)
class Direction:
    """The director's answer: the draft, what the agent says, and the tool calls it reports."""

    draft: dict[str, Any]
    texts: list[str]
    tool_calls: list[dict[str, Any]]


@dataclass(frozen=True)
class _Clip:
    """Everything a draft says, flattened: what instructions change and drafts are built from."""

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
    clip: str | None = None
    subject: bool = False  # focus came from the image's saliency (only changes how the summary says it)

    @property
    def size_px(self) -> tuple[int, int]:
        w, h = ASPECTS[self.aspect]
        return round(w * self.scale / 2) * 2, round(h * self.scale / 2) * 2

    def picture(self) -> tuple[Any, ...]:
        """What the stage-1 clip depends on: if this changes, the clip must be re-animated."""
        return self.seconds, self.size_px, self.fps, self.motion


_NUM = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                   "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}  # fmt: skip
_NUM |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_TENS, _ONES = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety", "one|two|three|four|five|six|seven|eight|nine"
_QUOTES = re.compile("\"([^\"]+)\"|\u201c([^\u201d]+)\u201d|\u2018([^\u2019]+)\u2019|(?<![\\w])'([^']+)'(?![\\w])")
_DURATION = r"(?<![\d.:])(\d+(?:\.\d+)?)\s*-?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?)\b"
_RATIO = r"(?<![\d.])(\d{1,2}(?:\.\d+)?)\s*(?::|/|x|\u00d7|\s+by\s+)\s*(\d{1,2})(?![\d%.])"
_RESOLUTION = r"\b(\d{3,4})\s*[x\u00d7]\s*(\d{3,4})\b"
_FPS = r"(\d+(?:\.\d+)?)\s*(?:fps|frames?\s*(?:per|a|/)\s*sec(?:ond)?)\b|\bfps\s*(?:of|=|:|at)?\s*(\d+(?:\.\d+)?)"
_PLATFORMS = [
    (r"\byoutube\s+shorts?\b|\bshorts\b|\btik\s*tok\b|\breels?\b|\bstor(?:y|ies)\b|\bvertical\b|\bportrait\b", "9:16"),
    (r"\binstagram\s+feed\b|\bfeed\s+post\b", "4:5"),
    (r"\bsquare\b|\binstagram\s+post\b|\binsta\s+post\b", "1:1"),
    (r"\byoutube\b|\blandscape\b|\bhorizontal\b|\bwidescreen\b", "16:9"),
]
_MOTIONS = [
    (r"\bken[\s-]*burns\b", "ken_burns"),
    (r"\b(?:orbit\w*|parallax|drift\w*|2\.5d|3d)\b", "orbit"),
    (r"\b(?:pull(?:s|ing)?|zoom(?:s|ing)?|dolly(?:ing)?)[\s-]*(?:out|back)\b|\breveal\b", "pull_out"),
    (r"\b(?:pan(?:s|ning)?|tilt(?:s|ing)?)\s*(?:to\s+the\s+|toward\w*\s+(?:the\s+)?)?(?:left|right|up|down)\b", "pan"),
    (r"\b(?:pan(?:s|ning)?|sweep\w*)\b(?:\s+across)?", "pan?"),
    (r"\b(?:static|no\s+(?:camera\s+)?(?:motion|movement|zoom)|locked[\s-]*off|still\s+camera)\b", "static"),
    (r"\b(?:push(?:es|ing)?|zoom(?:s|ing)?|dolly(?:ing)?|punch(?:es|ing)?|move\s+closer)\b(?:[\s-]*in\b)?", "push_in"),
]
_SPEEDS = [
    (r"\bslower\b", "slower"),
    (r"\bfaster\b", "faster"),
    (r"\b(?:slow|slowly|gentle|gently|subtle|subtly|leisurely)\b", "slow"),
    (r"\b(?:fast|quick|quickly|rapid|rapidly|dramatic|snappy|punchy)\b", "fast"),
]
_EASES = [
    (r"\blinear\b|\bconstant\s+speed\b|\bsteady\b", "linear"),
    (r"\bease[\s-]*in[\s-]*(?:and[\s-]*)?out\b|\bsmooth(?:ly)?\b", "ease_in_out"),
    (r"\bease[\s-]*in\b|\baccelerat\w*", "ease_in"),
    (r"\bease[\s-]*out\b|\bdecelerat\w*|\bsettl\w*", "ease_out"),
]
_TEXT = r"(?:title|caption|text|headline|subtitle|tagline|words?|qtext)"
_TEXT_POS = _TEXT + r"\b[^.;!?]{0,30}?\b(?:at|on|in|to)\s+(?:the\s+)?(top|bottom|cent(?:er|re)|middle|lower\s+third)"
_FOCUS = (r"\b(?:toward\w*|into|onto|on|to|at)\s+(?:the\s+)?(?:(top|bottom|upper|lower)[\s-]*(left|right)?"
          r"|(left|right)|(cent(?:er|re)|middle))\b")  # fmt: skip
_COLOURS = {"white": "#ffffff", "black": "#111111", "yellow": "#ffd23f", "red": "#e63946", "blue": "#3a86ff",
            "green": "#2ec4b6", "orange": "#fb8500", "pink": "#ff70a6", "gold": "#e9c46a"}  # fmt: skip
_MOODS = {
    "lofi": r"lo[\s-]?fi|chill\w*|jazz\w*",
    "upbeat": r"upbeat|happy|energetic|fun|pop|corporate|cheerful|bright|dance|edm|electronic",
    "calm": r"calm|ambient|relax\w*|peaceful|gentle|soft|piano|acoustic|serene|dreamy",
    "cinematic": r"cinematic|epic|dramatic|orchestral|trailer|emotional|inspiring",
}
_MUSIC = r"music|bgm|soundtrack|songs?|tune|beats?|background\s+track|lo[\s-]?fi"
_NO_MUSIC = (rf"\b(?:no|without|zero|remove|drop|delete)\s+(?:the\s+|any\s+)?(?:background\s+)?"
             rf"(?:{_MUSIC}|audio|sound)\b|\b(?:silent|muted?)\b")  # fmt: skip
_UNSUPPORTED = {
    r"voice[\s-]*over|narrat\w*|text[\s-]*to[\s-]*speech": "a voiceover",
    r"transitions?|cross[\s-]*fades?|wipes?": "transitions (the clip is one shot)",
    r"black\s+and\s+white|b&w|sepia|gr[ae]yscale|vintage|colou?r\s*grad\w*|filters?|luts?": "colour filters or grading",
    r"confetti|sparkles?|particles?|snow|rain|fire|glitch\w*|lens\s+flares?|stickers?|emojis?": "visual effects",
    r"logo|watermark": "a logo or watermark",
    r"slow[\s-]*mo(?:tion)?|speed\s+ramp\w*|revers\w*|boomerang": "time effects (slow motion, reverse)",
    r"blur\w*|bokeh|depth\s+of\s+field": "blur effects",
}
_GENERIC = r"\b(?:animate|video|clip|make|create|turn|generate|render|movie|motion)\b"


def _digits(text: str) -> str:
    """Spelled-out numbers up to ninety-nine -> digits, so 'two seconds' reads like '2 seconds'."""
    text = re.sub(r"\bhalf\s+a\s+minute\b", "30 seconds", text)
    text = re.sub(r"\b(?:a|one)\s+minute\b", "60 seconds", text)
    text = re.sub(rf"\b({_TENS})(?:[\s-]({_ONES}))?\b", lambda m: str(_NUM[m[1]] + _NUM.get(m[2] or "", 0)), text)
    return re.sub(r"\b(" + "|".join(_NUM) + r")\b", lambda m: str(_NUM[m[1]]), text)


def _nearest_aspect(ratio: float) -> str:
    """Closest supported aspect in log-ratio; ties go to the same orientation (4:3 -> 16:9, not 1:1)."""

    def key(name: str) -> tuple[float, bool]:
        w, h = ASPECTS[name]
        side = (ratio > 1) - (ratio < 1) != (w > h) - (w < h)
        return round(abs(math.log(ratio * h / w)), 6), side

    return min(ASPECTS, key=key)


def _find(patterns: list[tuple[str, str]], text: str) -> list[tuple[int, str, re.Match[str]]]:
    """Matches of several named patterns in text order; earlier patterns win overlapping spans."""
    hits: list[tuple[int, int, str, re.Match[str]]] = []
    for pattern, name in patterns:
        for m in re.finditer(pattern, text):
            if not any(m.start() < end and start < m.end() for start, end, _, _ in hits):
                hits.append((m.start(), m.end(), name, m))
    return [(start, name, m) for start, _, name, m in sorted(hits, key=lambda h: h[0])]


class _Reader:
    """Reads one instruction into changes on a ``_Clip``; ``notes`` collects what it could not honour."""

    def __init__(self, instruction: str) -> None:
        self.notes: list[str] = []
        self.quotes = [next(g for g in m.groups() if g) for m in _QUOTES.finditer(instruction)]
        self.raw = instruction.lower()
        self.text = _digits(_QUOTES.sub(" qtext ", instruction).lower())  # a token, so "'X' at the top" places X
        self.understood = bool(self.quotes)
        self.music_off = False

    def take(self, pattern: str) -> list[re.Match[str]]:
        """Find and blank out matches, so one phrase ('pan to the left') isn't read twice ('to the left')."""
        found = list(re.finditer(pattern, self.text))
        for m in found:
            self.text = self.text[: m.start()] + " " * (m.end() - m.start()) + self.text[m.end() :]
        self.understood |= bool(found)
        return found

    def read(self, clip: _Clip, saliency: tuple[float, float] | None, fresh: bool) -> _Clip:
        for pattern, what in _UNSUPPORTED.items():
            if self.take(rf"\b(?:{pattern})\b"):
                self.notes.append(f"I can't add {what} here, so I left that out.")
        clip = self._duration(self._format(clip))
        clip = self._title(clip, fresh)
        clip = self._motion(clip, saliency)
        return self._music(clip, fresh)

    def _duration(self, clip: _Clip) -> _Clip:
        seen: float | None = None
        for m in self.take(_DURATION):
            unit = m[2]
            scale = 0.001 if unit.startswith("ms") or unit.startswith("milli") else 60 if unit[0] == "m" else 1
            seconds = float(m[1]) * scale
            if not MIN_S <= seconds <= MAX_S:
                raise InstructionRejected(f"duration {seconds:g} s is outside the supported {MIN_S:g}-{MAX_S:g} s")
            if seen is None:
                seen, clip = seconds, replace(clip, seconds=seconds)
            elif seconds != seen:
                self.notes.append(f"I saw more than one duration; I used {seen:g} s, not {seconds:g} s.")
        if seen is None and re.search(r"\b(?:longer|shorter)\b", self.text):
            self.notes.append("Tell me the length in seconds (e.g. '8 seconds') to change the duration.")
        return clip

    def _format(self, clip: _Clip) -> _Clip:
        for m in self.take(_FPS):
            fps = float(m[1] or m[2])
            best = min(FPS_CHOICES, key=lambda f: (abs(f - fps), f))
            if best != fps:
                self.notes.append(f"{fps:g} fps isn't supported (24, 30 or 60); I used the nearest, {best} fps.")
            clip = replace(clip, fps=best)
        asks: list[tuple[int, str, str]] = []
        for m in self.take(_RESOLUTION):
            w, h = int(m[1]), int(m[2])
            name = _nearest_aspect(w / h)
            full = ASPECTS[name]
            if (w, h) == (full[0] * 2 // 3, full[1] * 2 // 3):
                clip = replace(clip, scale=2 / 3)
            elif (w, h) != full:
                self.notes.append(f"I can't render {w}x{h}; I used {full[0]}x{full[1]} ({name}).")
            asks.append((m.start(), name, m[0]))
        for m in self.take(_RATIO):
            a, b, said = float(m[1]), float(m[2]), f"{m[1]}:{m[2]}"
            if a > 0 and b > 0:
                name = _nearest_aspect(a / b)
                if said not in ASPECTS:
                    self.notes.append(f"I can't make {said}; I used the nearest supported aspect, {name}.")
                asks.append((m.start(), name, said))
        asks += [(start, name, m[0]) for start, name, m in _find(_PLATFORMS, self.text)]
        self.take("|".join(p for p, _ in _PLATFORMS))
        if self.take(r"\binstagram\b") and not asks:
            asks.append((0, "1:1", "instagram"))
            self.notes.append("For Instagram I made a square 1:1 clip; say 'Reels' for 9:16 or '4:5' for the feed.")
        for i, (_, name, said) in enumerate(sorted(asks)):
            if i == 0:
                clip = replace(clip, aspect=name)
            elif name != clip.aspect:
                self.notes.append(f"You asked for more than one shape; I used {clip.aspect}, not '{said}'.")
        if self.take(r"\b720p?\b"):
            clip = replace(clip, scale=2 / 3)
        elif self.take(r"\b(?:4k|8k|2160p|1440p|uhd)\b"):
            self.notes.append("Renders here are at most 1080p; I used 1080p.")
            clip = replace(clip, scale=1.0)
        elif self.take(r"\b1080p?\b|\bfull\s+hd\b"):
            clip = replace(clip, scale=1.0)
        return clip

    def _title(self, clip: _Clip, fresh: bool) -> _Clip:
        for m in self.take(_TEXT_POS):
            clip = replace(
                clip,
                pos={"lower": "bottom", "centre": "center", "middle": "center"}.get(m[1].split()[0], m[1].split()[0]),
            )
        if self.take(r"\bcent(?:er|r)ed\s+" + _TEXT):
            clip = replace(clip, pos="center")
        asked = bool(re.search(rf"\b{_TEXT}\b", self.text))
        if self.take(rf"\b(?:no|without|remove|delete|drop)\s+(?:the\s+|any\s+)?(?:on[\s-]screen\s+)?{_TEXT}\b"):
            return replace(clip, title=None)
        labelled = [m[1].strip() for m in self.take(r"\b(?:title|caption|headline)\s*[:=]\s*([^.;\n]{1,200})")]
        texts = self.quotes or labelled
        if texts:
            title = " ".join(texts[0].split())
            if len(title) > 120:
                self.notes.append(f"The title was {len(title)} characters; I kept the first 120.")
                title = title[:120].rstrip()
            if len(texts) > 1:
                self.notes.append(f"I show one text, “{title}”; I left out “{texts[1]}”.")
            clip = replace(clip, title=title)
        elif asked and fresh:
            self.notes.append("You mentioned a title but gave no text; put it in quotes, e.g. 'Summer Sale'.")
        if asked or clip.title:
            sizes = [(r"\b(?:bigger|larger)\b", "bigger"), (r"\bsmaller\b", "smaller"),
                     (r"\b(?:big|large|huge|giant|bold)\b", "big"), (r"\b(?:small|tiny)\b", "small")]  # fmt: skip
            size = _find(sizes, self.text)
            if size and asked:
                want = {"big": 0.1, "small": 0.05, "bigger": clip.size * 1.3, "smaller": clip.size * 0.75}[size[0][1]]
                clip = replace(clip, size=round(min(0.2, max(0.03, want)), 4))
            names = "|".join(_COLOURS)
            col = re.search(rf"\b({names})\s+{_TEXT}|{_TEXT}\s+in\s+({names})\b", self.text)
            if col:
                clip = replace(clip, color=_COLOURS[col[1] or col[2]])
        return clip

    def _motion(self, clip: _Clip, saliency: tuple[float, float] | None) -> _Clip:
        mo = clip.motion
        zooms = list(re.finditer(r"\bzoom\w*\s*(?:in|out)?\s*(?:by|to)?\s*((\d+(?:\.\d+)?)\s*(%|x))", self.text))
        for m in zooms:  # blank just the amount, so the volume reader doesn't take it as a percentage
            self.text = self.text[: m.start(1)] + " " * (m.end(1) - m.start(1)) + self.text[m.end(1) :]
        moves = _find(_MOTIONS, self.text)
        self.take("|".join(p for p, _ in _MOTIONS))
        kinds = list(dict.fromkeys(_kind(name, m[0]) for _, name, m in moves))
        if kinds:
            if any(name == "pan?" for _, name, _ in moves[:1]):
                self.notes.append("You didn't say which way to pan; I panned left to right.")
            if len(kinds) > 1 and not set(kinds) <= {"ken_burns", "push_in"}:
                rest = ", ".join(k.replace("_", " ") for k in kinds[1:])
                self.notes.append(f"One camera move per clip: I used {kinds[0].replace('_', ' ')}, not {rest}.")
            if kinds[0] != mo.type:
                mo = _preset(kinds[0], 1.0, mo.focus)
        speed = _find(_SPEEDS, self.text)
        if speed:
            self.understood, how = True, speed[0][1]
            if len({s[1] for s in speed}) > 1:
                self.notes.append(f"You asked for two speeds; I went with '{speed[0][2][0]}'.")
            factor = {"slow": 0.6, "fast": 1.8, "slower": 0.6, "faster": 1.6}[how]
            mo = _scaled(mo if how in ("slower", "faster") else _preset(mo.type, 1.0, mo.focus), factor)
            mo = replace(mo, ease="ease_out") if how == "fast" else mo
        ease = _find(_EASES, self.text)
        if ease:
            mo, self.understood = replace(mo, ease=ease[0][1]), True
        for m in zooms[:1]:
            z = 1 + float(m[2]) / 100 if m[3] == "%" else float(m[2])
            if not 1.02 <= z <= 2.0:
                self.notes.append(f"A zoom of {m[1].strip()} is out of range; I clamped it to between 2% and 2x.")
                z = min(2.0, max(1.02, z))
            moving = mo.type in ("push_in", "pull_out", "ken_burns")
            mo = replace(mo, zoom=(z, 1.0) if mo.type == "pull_out" else (1.0, z) if moving else (z, z))
        focus = [m for m in self.take(_FOCUS)]
        if focus:
            v, h1, h2, mid = focus[0].groups()
            x = {"left": 0.25, "right": 0.75}.get(h1 or h2 or "", 0.5)
            y = {"top": 0.25, "upper": 0.25, "bottom": 0.75, "lower": 0.75}.get(v or "", 0.5)
            return replace(clip, motion=replace(mo, focus=(0.5, 0.5) if mid else (x, y)), subject=False)
        if saliency is not None:
            point = (min(1.0, max(0.0, saliency[0])), min(1.0, max(0.0, saliency[1])))
            return replace(clip, motion=replace(mo, focus=point), subject=True)
        return replace(clip, motion=mo)

    def _music(self, clip: _Clip, fresh: bool) -> _Clip:
        if self.take(_NO_MUSIC):
            self.music_off = True
            return replace(clip, music=False)
        said = [m.start() for m in re.finditer(rf"\b(?:{_MUSIC})\b", self.text)]
        if said:
            self.understood = True
            clip = replace(clip, music=True)
            moods = [(m.start(), k) for k, p in _MOODS.items() for m in re.finditer(rf"\b(?:{p})\b", self.text)]
            if moods:
                clip = replace(clip, mood=min(moods, key=lambda mk: min(abs(mk[0] - s) for s in said))[1])
            word = re.search(rf"\b([a-z][\w-]*)\s+(?:background\s+)?(?:{_MUSIC})\b", self.text)
            plain = {
                "some",
                "background",
                "with",
                "the",
                "a",
                "nice",
                "good",
                "add",
                "and",
                "of",
                "any",
                "qtext",
                "louder",
                "loud",
                "quieter",
                "quiet",
                "softer",
                "lower",
                "more",
                "less",
                "new",
                "different",
            }
            known = any(re.fullmatch(p, word[1]) for p in _MOODS.values()) if word else True
            if word and not known and word[1] not in plain and not word[1].isdigit():
                self.notes.append(f"I don't have '{word[1]}' music; I used a {clip.mood} generated bed instead.")
        for m in self.take(r"(\d+(?:\.\d+)?)\s*%|\bvolume\s*(?:of|at|to|=|:)?\s*(\d+(?:\.\d+)?)"):
            value = float(m[1] or m[2])
            vol = value / 100 if m[1] or value > 1 else value
            if vol > 1:
                self.notes.append(f"Volume {value:g}% is above 100%; I used 100%.")
            clip = replace(clip, vol=min(1.0, vol), music=clip.music or fresh)
        louder = _find([(r"\b(?:louder|loud)\b", "up"), (r"\b(?:quieter|quiet|softer|lower)\b", "down")], self.text)
        if louder and clip.music:
            self.understood = True
            clip = replace(clip, vol=round(min(1.0, max(0.05, clip.vol * (1.5 if louder[0][1] == "up" else 0.6))), 3))
        return clip


_TARGETS = {"face": r"face|head|portrait|person|eyes", "text": r"logo|text|writing|words|label|sign",
            "subject": r"product|bottle|subject|object|item|main\s+thing"}  # fmt: skip
_TARGET = (r"\b(?:zoom\w*|push\w*|punch\w*|dolly\w*|move|focus\w*|close[\s-]*up)\s+(?:in\s+)?"
           r"(?:on|into|to|toward\w*)\s+"
           r"(?:the\s+|her\s+|his\s+|their\s+|its\s+)?([a-z]+(?:\s+thing)?)\b")  # fmt: skip


def _frame(clip: _Clip, framing: Framing, reader: _Reader) -> _Clip:
    """Keep the faces and subject whole in every frame; aim a "zoom into the face / the logo" at it."""
    w, h = clip.size_px
    mo = replace(clip.motion, keep=framing.keep(w / h))
    for m in re.finditer(_TARGET, reader.raw):
        what = next((k for k, p in _TARGETS.items() if re.fullmatch(p, m[1])), None)
        if what is None:
            continue
        box = framing.target(what)
        if box is None:
            reader.notes.append(f"I didn't find {'a face' if what == 'face' else 'a ' + m[1]} in the picture, "
                                "so I pushed in toward the centre of interest instead.")  # fmt: skip
            break
        if what == "face" and not framing.fits(box, w / h):  # faces too far apart for one view: the largest
            box = max(framing.faces, key=lambda f: (f[2] - f[0]) * (f[3] - f[1]))
        iw, ih = framing.size
        cover = min(iw, ih * w / h)
        fill = min(cover / ((box[2] - box[0]) * iw), cover * h / w / ((box[3] - box[1]) * ih)) * 0.7
        z = round(min(2.5, max(1.05, fill)), 3)
        kind = mo.type if mo.type in ("push_in", "ken_burns") else "push_in"
        fitting = [
            b for b in (union((*framing.faces, box)), union(framing.faces or (box,)), box) if framing.fits(b, w / h)
        ]
        keep = fitting[0] if fitting else framing.keep(w / h)
        mo = replace(mo, type=kind, zoom=(1.0, z), focus=centre(box), travel=1.0, keep=keep)
        return replace(clip, motion=mo, subject=True)
    return replace(clip, motion=mo)


def _kind(name: str, said: str) -> str:
    if name == "pan":
        way = re.search(r"(left|right|up|down)\b", said)
        return f"pan_{way[1] if way else 'right'}"
    return "pan_right" if name == "pan?" else name


def _preset(kind: str, k: float, focus: tuple[float, float]) -> Motion:
    """Default numbers for each move at speed factor ``k`` (1 = normal)."""
    zoom = {"push_in": (1.0, 1.15), "pull_out": (1.15, 1.0), "ken_burns": (1.02, 1.2), "orbit": (1.12, 1.16),
            "static": (1.0, 1.0)}.get(kind, (1.12, 1.12))  # fmt: skip
    return _scaled(Motion(type=kind, zoom=zoom, focus=focus, travel=0.7, tilt=1.5 if kind == "orbit" else 0.0), k)


def _scaled(mo: Motion, k: float) -> Motion:
    """Scale how far the camera moves (zoom change, pan travel, orbit swing) by ``k``."""
    z0, z1 = mo.zoom
    if mo.type.startswith("pan_"):
        z0 = z1 = min(2.0, 1 + (max(z0, z1) - 1) * min(k, 1.5))
    elif mo.type != "static":
        lo, hi = min(z0, z1), min(2.0, min(z0, z1) + abs(z1 - z0) * k)
        z0, z1 = (hi, lo) if z0 > z1 else (lo, hi)
    return replace(mo, zoom=(round(z0, 4), round(z1, 4)), travel=round(min(1.0, mo.travel * k), 4),
                   tilt=round(min(10.0, mo.tilt * k), 3))  # fmt: skip


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
    before = _from_draft(previous) if previous is not None else _Clip()
    reader = _Reader(instruction)
    saliency = framing.focus if framing is not None and previous is None else None
    after = reader.read(before, saliency, fresh=previous is None)
    if framing is not None:
        after = _frame(after, framing, reader)
    if audio_asset and not reader.music_off:
        after = replace(after, music=True)
    if after.picture() != before.picture():
        after = replace(after, clip=None)  # the stage-1 clip no longer shows this picture
    notes = reader.notes
    if previous is None:
        if not reader.understood and not re.search(_GENERIC, reader.text):
            notes.append(
                f"I didn't find a direction I understand in “{instruction.strip()[:80]}”; I used the defaults."
            )
        w, h = after.size_px
        cover = min(width / w, height / h)
        if cover < 0.5:
            notes.append(f"The image is {width}x{height}; stretched to {w}x{h} it will look soft.")
        if previous is None and height > width * 1.2 and after.aspect == "16:9" and not reader.quotes:
            notes.append("The image is portrait; say 'vertical' for a 9:16 clip that keeps more of it.")
    if after.title and any(ord(c) > 0x24F for c in after.title):
        notes.append("Some title characters may fall back to a plain font or '?' in the local renderer.")
    draft = _build(after, image_asset, audio_asset if after.music else None)
    video_changed = previous is None or after.picture() != before.picture()
    edit_changed = (after.title, after.pos, after.size, after.color, after.music, after.mood, after.vol) != (
        before.title, before.pos, before.size, before.color, before.music, before.mood, before.vol)  # fmt: skip
    calls: list[dict[str, Any]] = []
    if video_changed:
        w, h = after.size_px
        calls.append({"name": "generate_video", "args": {"image": image_asset, "duration_s": after.seconds,
                      "width": w, "height": h, "fps": after.fps, "motion": after.motion.to_draft()}})  # fmt: skip
    if edit_changed or (previous is None and (after.title or after.music)):
        bgm = {"src": audio_asset, "mood": after.mood, "volume": after.vol} if after.music else None
        calls.append({"name": "edit_multitrack", "args": {"title": after.title, "position": after.pos, "bgm": bgm}})
    if previous is not None and not calls:
        notes.append(f"I didn't find a change to make in “{instruction.strip()[:80]}”; the clip stays as it was.")
    summary = _describe(after) if previous is None else _changes(before, after)
    return Direction(draft=draft, texts=[summary, *notes], tool_calls=calls)


def _from_draft(draft: Mapping[str, Any]) -> _Clip:
    """Read an existing draft back into a ``_Clip`` (tolerant: missing fields keep their defaults)."""
    meta = draft.get("m") or {}
    w, h = int(meta.get("width", 1920)), int(meta.get("height", 1080))
    aspect = str(meta["aspect"]) if meta.get("aspect") in ASPECTS else _nearest_aspect(w / h)
    clip = _Clip(seconds=float(draft.get("d", 5000)) / 1000, aspect=aspect, fps=int(meta.get("fps", 30)))
    clip = replace(clip, scale=2 / 3 if w == ASPECTS[aspect][0] * 2 // 3 else 1.0)
    for track in draft.get("t") or []:
        for seg in (track.get("sg") or [])[:1]:
            if track.get("tt") == 0:
                clip = replace(clip, motion=Motion.from_draft(seg.get("mo")), clip=seg.get("clip"))
            elif track.get("tt") == 7:
                clip = replace(clip, title=str(seg.get("text", "")) or None, pos=seg.get("pos", clip.pos),
                               size=float(seg.get("size", clip.size)), color=seg.get("color", clip.color))  # fmt: skip
            elif track.get("tt") == 1:
                clip = replace(clip, music=True, mood=seg.get("mood") or clip.mood, vol=float(seg.get("vol", clip.vol)))
    return clip


def _build(clip: _Clip, image: str, audio: str | None) -> dict[str, Any]:
    ms = round(clip.seconds * 1000)
    w, h = clip.size_px
    video: dict[str, Any] = {"id": "v1", "s": 0, "d": ms, "src": image, "mo": clip.motion.to_draft()}
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
    return {"d": ms, "m": meta, "t": tracks}


def _where(focus: tuple[float, float]) -> str:
    x, y = focus
    col = "left" if x < 0.4 else "right" if x > 0.6 else ""
    row = "top" if y < 0.4 else "bottom" if y > 0.6 else ""
    if row and col:
        return f"the {'upper' if row == 'top' else 'lower'} {col}"
    return f"the {row or col}" if row or col else "the centre"


def _move(mo: Motion, subject: bool = False) -> str:
    delta = abs(mo.zoom[1] - mo.zoom[0]) / 0.15 if mo.type in ("push_in", "pull_out") else mo.travel / 0.7
    pace = "slow" if delta < 0.8 else "quick" if delta > 1.3 else "smooth"
    where = "the subject" if subject else _where(mo.focus)
    return {
        "push_in": f"{pace} push-in toward {where}",
        "pull_out": f"{pace} pull-out from {where}",
        "ken_burns": f"{pace} Ken Burns zoom and pan toward {where}",
        "orbit": f"{pace} orbit-like parallax drift around {where}",
        "static": "steady, motionless shot",
    }.get(mo.type, f"{pace} pan {mo.type.removeprefix('pan_')}")


def _describe(clip: _Clip) -> str:
    w, h = clip.size_px
    move = _move(clip.motion, clip.subject)
    parts = [f"I'll make a {clip.seconds:g}-second {clip.aspect} clip ({w}x{h}, {clip.fps} fps): a {move}"]
    if clip.title:
        parts.append(f"the title “{clip.title}” at the {clip.pos}")
    if clip.music:
        parts.append(f"{clip.mood} background music at {round(clip.vol * 100)}%")
    return ", with ".join([parts[0], " and ".join(parts[1:])]) + "." if len(parts) > 1 else parts[0] + "."


def _changes(before: _Clip, after: _Clip) -> str:
    said = []
    if after.seconds != before.seconds:
        said.append(f"{after.seconds:g} seconds long")
    if after.size_px != before.size_px:
        said.append(f"{after.aspect} ({'x'.join(map(str, after.size_px))})")
    if after.fps != before.fps:
        said.append(f"{after.fps} fps")
    if after.motion != before.motion:
        said.append(f"a {_move(after.motion)}")
    if after.title != before.title:
        said.append(f"the title “{after.title}”" if after.title else "no title")
    elif (after.pos, after.size, after.color) != (before.pos, before.size, before.color):
        how = "bigger" if after.size > before.size else "smaller" if after.size < before.size else "restyled"
        said.append(f"the title {how} at the {after.pos}")
    if (after.music, after.mood, after.vol) != (before.music, before.mood, before.vol):
        said.append(f"{after.mood} music at {round(after.vol * 100)}%" if after.music else "no music")
    return f"I'll update the clip: {', '.join(said)}." if said else "Nothing to change."
