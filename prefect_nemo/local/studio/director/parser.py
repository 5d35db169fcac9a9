"""One reader for every language's tables: instruction text -> changes on a ``Clip``, plus notes.

The scanning (quotes set aside, phrases found and blanked out once used) is ``scan.Scanner``'s; this is what
each phrase means. Whatever it cannot honour becomes a note (a reply key and its values), never a silent guess.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .clip import ASPECTS, FADE_IN_MS, FADE_OUT_MS, FPS_CHOICES, LOOP_MS, Clip, nearest_aspect
from .moves import Move, fresh, kind_of, kind_said, modal, preset, scaled, sequence
from .scan import _QUOTES as _QUOTES  # timeline.py reads a slideshow's titles the same way
from .scan import LANGUAGES, Scanner
from .scan import find as _find
from .vocab import STYLES, Style

__all__ = ["LANGUAGES", "MAX_S", "MIN_S", "InstructionRejected", "Reader"]

MIN_S, MAX_S = 1.0, 60.0
_RATIO = r"(?<![\d.])(\d{1,2}(?:\.\d+)?)\s*(?::|/|x|\u00d7|\s+by\s+|比)\s*(\d{1,2})(?![\d%.])"
_RESOLUTION = r"\b(\d{3,4})\s*[x\u00d7]\s*(\d{3,4})\b"
_ZOOM_BY = r"(?:\bzoom\w*\s*(?:in|out)?|放大|缩放)\s*(?:by|to)?\s*((\d+(?:\.\d+)?)\s*(%|x|倍))"
_POINT = r"\bfocus\s*(?:at|on)?\s*\(?\s*([01]?\.\d+|[01])\s*,\s*([01]?\.\d+|[01])\s*\)?"  # a typed Camera's point
_PLAIN = set("some background with the a nice good add and of any qtext louder loud quieter quiet softer lower more "
             "less new different trending viral popular hit my our this".split())  # fmt: skip


class InstructionRejected(ValueError):
    """The instruction cannot be carried out; the message names the offending value."""


class Reader(Scanner):
    """Reads one instruction into changes on a ``Clip``: format, duration, look, life, title, motion, music."""

    def __init__(self, instruction: str) -> None:
        super().__init__(instruction)
        self.music_off = False
        self.moves: list[tuple[int, Move]] = []
        self.aims: list[str | None] = []  # per camera move: what a phrase aimed it at (face, subject, text)
        self.style: Style | None = None
        self.point: tuple[float, float] | None = None
        self.focus_said = False  # the instruction named where the camera heads ("toward the top left")

    def read(self, clip: Clip, fresh: bool) -> Clip:
        self.moves = [(at, Move("push_in", aim)) for at, aim, _ in self.take_rows(self.rows("targets"))]
        self.point = next(((float(m[1]), float(m[2])) for m in self.take(_POINT)), None)
        for what in dict.fromkeys(what for _, what, _ in self.take_rows(self.rows("unsupported"))):  # once each
            self.note("unsupported", what=f"what.{what}")
        clip = self._duration(self._format(clip))
        clip = self._look(self._life(clip))
        clip = self._title(clip, fresh)
        clip = self._motion(clip)
        return self._bars(self._music(clip, fresh))

    def _duration(self, clip: Clip) -> Clip:
        seen: float | None = None
        for voc in LANGUAGES.values():
            for pattern, unit in voc.durations:
                for m in self.take(pattern):
                    seconds = round(float(m[1]) * unit, 3)
                    if not MIN_S <= seconds <= MAX_S:
                        raise InstructionRejected(
                            f"duration {seconds:g} s is outside the supported {MIN_S:g}-{MAX_S:g} s"
                        )
                    if seen is None:
                        seen, clip = seconds, replace(clip, seconds=seconds)
                    elif seconds != seen:
                        self.note("duration_many", used=f"{seen:g}", other=f"{seconds:g}")
        if seen is None and re.search(self.words("length"), self.text):
            self.note("length_needs_number")
        return clip

    def _format(self, clip: Clip) -> Clip:
        for m in self.take(self.words("fps")):
            fps = float(next(g for g in m.groups() if g))
            best = min(FPS_CHOICES, key=lambda f: (abs(f - fps), f))
            if best != fps:
                self.note("fps_nearest", asked=f"{fps:g}", used=best)
            clip = replace(clip, fps=best)
        asks: list[tuple[int, str, str]] = []
        for m in self.take(_RESOLUTION):
            w, h = int(m[1]), int(m[2])
            name = nearest_aspect(w / h)
            full = ASPECTS[name]
            if (w, h) == (full[0] * 2 // 3, full[1] * 2 // 3):
                clip = replace(clip, scale=2 / 3)
            elif (w, h) != full:
                self.note("resolution", asked=f"{w}x{h}", used=f"{full[0]}x{full[1]}", aspect=name)
            asks.append((m.start(), name, m[0]))
        for m in self.take(_RATIO):
            a, b, said = float(m[1]), float(m[2]), f"{m[1]}:{m[2]}"
            if a > 0 and b > 0:
                name = nearest_aspect(a / b)
                if said not in ASPECTS:
                    self.note("ratio", asked=said, aspect=name)
                asks.append((m.start(), name, said))
        platforms = self.take_rows(self.rows("platforms"))
        asks += [(start, name, m[0].strip()) for start, name, m in platforms if not name.endswith("?")]
        guesses = [(start, name.rstrip("?"), m[0].strip()) for start, name, m in platforms if name.endswith("?")]
        if guesses and not asks:  # "instagram" alone: a guess worth saying
            self.note("instagram")
            asks.append(guesses[0])
        for i, (_, name, said) in enumerate(sorted(asks)):
            if i == 0:
                clip = replace(clip, aspect=name)
            elif name != clip.aspect:
                self.note("shapes_many", used=clip.aspect, other=said)
        if self.take(r"\b720p?\b"):
            clip = replace(clip, scale=2 / 3)
        elif self.take(r"\b(?:4k|8k|2160p|1440p|uhd)\b"):
            self.note("max_1080")
            clip = replace(clip, scale=1.0)
        elif self.take(r"\b1080p?\b|\bfull\s+hd\b"):
            clip = replace(clip, scale=1.0)
        return clip

    def _life(self, clip: Clip) -> Clip:
        """Grain, light leaks, bokeh, letterbox bars. Read, not blanked: "cinematic" and "dreamy" also name a
        style or a mood."""
        found = [name for _, what, _ in _find(self.rows("life"), self.text) for name in what.split("+")]
        self.understood |= bool(found)
        return replace(clip, life=tuple(dict.fromkeys([*clip.life, *found]))) if found else clip

    def _bars(self, clip: Clip) -> Clip:
        """Letterbox bars only on a landscape frame: on an upright or square one they are said and left off
        (also when a later instruction turns a letterboxed clip upright)."""
        w, h = clip.size_px
        if "letterbox" in clip.life and w <= h:
            self.note("letterbox_upright", aspect=clip.aspect)
            return replace(clip, life=tuple(name for name in clip.life if name != "letterbox"))
        return clip

    def _look(self, clip: Clip) -> Clip:
        """Style words first (they set defaults), then explicit looks, vignettes and fades."""
        styles = self.take_rows(self.rows("styles"))
        if styles:
            style = STYLES[styles[0][1]]
            if len({s[1] for s in styles}) > 1:
                other = next(s[2][0] for s in styles if s[1] != styles[0][1])
                self.note("styles_many", used=styles[0][2][0].strip(), other=other.strip())
            self.style = style
            clip = replace(clip, look=style.look, vignette=style.vignette, music=True, mood=style.mood)
        looks = self.take_rows(self.rows("looks"))
        if looks:
            clip = replace(clip, look=looks[0][1])
            if len({lk[1] for lk in looks}) > 1:
                other = next(lk[2][0] for lk in looks if lk[1] != looks[0][1])
                self.note("looks_many", used=looks[0][2][0].strip(), other=other.strip())
        for _, strength, _ in self.take_rows(self.rows("vignette"))[:1]:
            clip = replace(clip, vignette=float(strength))
        for _, what, _ in self.take_rows(self.rows("fades")):
            if what in ("fade_in", "fade_both"):
                clip = replace(clip, fade_in=FADE_IN_MS)
            if what in ("fade_out", "fade_both"):
                clip = replace(clip, fade_out=FADE_OUT_MS)
            if what == "loop":
                clip = replace(clip, loop=LOOP_MS)
        return clip

    def _title(self, clip: Clip, fresh: bool) -> Clip:
        text = self.words("text")
        colour_at = [t for voc in LANGUAGES.values() for t in voc.colour_place]
        for pattern, hex_ in self.rows("colours"):  # before positions: "title 'X' at the top in gold"
            if any(re.search(t.format(colour=pattern, text=text), self.text) for t in colour_at):
                self.take(pattern)
                clip = replace(clip, color=hex_)
        for pos_pattern, pos in self.rows("positions"):
            templates = [t for voc in LANGUAGES.values() for t in voc.place]
            if any(self.take(t.format(text=text, pos=pos_pattern)) for t in templates):
                clip = replace(clip, pos=pos)
        asked = bool(re.search(text, self.text))
        if self.take(self.words("no_text")):
            return replace(clip, title=None)
        labelled = [m[1].strip() for m in re.finditer(self.words("labelled"), self.original, re.IGNORECASE) if m[1]]
        self.take(self.words("labelled"))
        texts = self.quotes or labelled
        if texts:
            title = " ".join(texts[0].split())
            if len(title) > 120:
                self.note("title_long", n=len(title))
                title = title[:120].rstrip()
            if len(texts) > 1:
                self.note("title_extra", title=title, other=texts[1])
            clip = replace(clip, title=title)
        elif asked and fresh:
            self.note("title_missing")
        if asked or clip.title:
            size = _find(self.rows("sizes"), self.text)
            if size and asked:
                self.take("|".join(p for p, _ in self.rows("sizes")))
                want = {"big": 0.1, "small": 0.05, "bigger": clip.size * 1.3, "smaller": clip.size * 0.75}[size[0][1]]
                clip = replace(clip, size=round(min(0.2, max(0.03, want)), 4))
        return clip

    def _motion(self, clip: Clip) -> Clip:
        mo = clip.motion
        zooms = list(re.finditer(_ZOOM_BY, self.text))
        for m in zooms:  # blank just the amount, so the volume reader doesn't take it as a percentage
            self.text = self.text[: m.start(1)] + " " * (m.end(1) - m.start(1)) + self.text[m.end(1) :]
        found = [(at, Move(kind_of(name, m[0]))) for at, name, m in self.take_rows(self.rows("moves"))]
        said = sequence([mv for _, mv in sorted(self.moves + found, key=lambda am: am[0])], self.note)
        moves, mode = modal(said, self.note)
        if moves:
            first = moves[0]
            same = first.kind == kind_said(mo) and mode == mo.mode and not mo.then and first.aim is None
            lead = replace(mo if same else preset(first.kind, 1.0, mo.focus), mode=mode, subject=mo.subject)
            mo = replace(lead, then=tuple(preset(mv.kind, 1.0, mo.focus) for mv in moves[1:]), keep=mo.keep)
            self.aims = [mv.aim for mv in moves]
        speed = _find(self.rows("speeds"), self.text)
        if self.style and not speed:
            mo = replace(scaled(fresh(mo), self.style.speed), ease=self.style.ease,
                         then=tuple(replace(scaled(fresh(leg), self.style.speed), ease=self.style.ease)
                                    for leg in mo.then))  # fmt: skip
        if speed:
            self.take("|".join(p for p, _ in self.rows("speeds")))
            how = speed[0][1]
            if len({s[1] for s in speed}) > 1:
                self.note("speeds_two", used=speed[0][2][0].strip())
            factor = {"slow": 0.6, "fast": 1.8, "slower": 0.6, "faster": 1.6}[how]
            base = mo if how in ("slower", "faster") else fresh(mo)
            mo = replace(scaled(base, factor), then=tuple(scaled(leg if how in ("slower", "faster") else fresh(leg),
                                                                    factor) for leg in base.then))  # fmt: skip
            mo = replace(mo, ease="ease_out") if how == "fast" else mo
        ease = self.take_rows(self.rows("eases"))
        if ease:
            mo = replace(mo, ease=ease[0][1], then=tuple(replace(leg, ease=ease[0][1]) for leg in mo.then))
        for m in zooms[:1]:
            z = 1 + float(m[2]) / 100 if m[3] == "%" else float(m[2])
            if not 1.02 <= z <= 2.0:
                self.note("zoom_range", asked=m[1].strip())
                z = min(2.0, max(1.02, z))
            moving = mo.type in ("push_in", "pull_out", "ken_burns")
            mo = replace(mo, zoom=(z, 1.0) if mo.type == "pull_out" else (1.0, z) if moving else (z, z))
        focus = self.take_rows(self.rows("focus"))
        if focus or self.point:
            self.focus_said, point = True, self.point or focus[0][1]
            mo = replace(mo, focus=point, then=tuple(replace(leg, focus=point) for leg in mo.then))
            return replace(clip, motion=mo, aim=None)
        return replace(clip, motion=mo)

    def _music(self, clip: Clip, fresh: bool) -> Clip:
        if self.take(self.words("no_music")):
            self.music_off = True
            return replace(clip, music=False)
        trending = self.take(self.words("trending"))
        said = [m.start() for m in re.finditer(self.words("music"), self.text)]
        if said or trending:
            self.understood = True
            clip = replace(clip, music=True, mood="upbeat" if trending else clip.mood)
            moods = _find(self.rows("moods"), self.text)
            if moods:
                near = said or [m.start() for m in trending]
                clip = replace(clip, mood=min(moods, key=lambda mk: min(abs(mk[0] - s) for s in near))[1])
            if trending:
                self.note("trending", mood=f"mood.{clip.mood}")
            word = re.search(
                r"\b([a-z][\w-]*)\s+(?:background\s+)?(?:music|songs?|soundtrack|tune|beats?)\b", self.text
            )
            known = any(re.search(p, word[1]) for p, _ in self.rows("moods")) if word else True
            if word and not known and word[1] not in _PLAIN and not word[1].isdigit():
                self.note("music_unknown", genre=word[1], mood=f"mood.{clip.mood}")
        for m in self.take(self.words("volume")):
            value = float(next(g for g in m.groups() if g))
            vol = value / 100 if "%" in m[0] or value > 1 else value
            if vol > 1:
                self.note("volume_high", asked=f"{value:g}")
            clip = replace(clip, vol=min(1.0, vol), music=clip.music or fresh)
        louder = _find(self.rows("louder"), self.text)
        if louder and clip.music:
            self.understood = True
            clip = replace(clip, vol=round(min(1.0, max(0.05, clip.vol * (1.5 if louder[0][1] == "up" else 0.6))), 3))
        return clip
