"""The shape of a language's vocabulary, and the language-neutral choices the words map to.

A language is a module (``vocab_en``, ``vocab_zh``) holding a ``VOCABULARY``: tables of regular expressions
and what each means, plus the reply templates from its ``replies_<code>`` module. The parser reads every
registered table (people mix languages: "15秒TikTok视频"), and the reply is written in the instruction's
language. Adding a language is those two modules and one line in ``LANGUAGES``; adding a look or style is a
row here and in each table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["LOOKS", "POSITIONS", "STYLES", "Style", "Table", "Vocabulary", "language_of"]

Table = tuple[tuple[str, str], ...]  # (regular expression, what it means), earlier rows win overlaps

LOOKS = ("bw", "warm", "cool", "vintage", "contrast")
POSITIONS = ("top_left", "top", "top_right", "left", "center", "right", "bottom_left", "bottom", "bottom_right")


@dataclass(frozen=True)
class Style:
    """What a style word ("premium") chooses; explicit words in the same instruction override each part."""

    speed: float  # camera speed factor (1 = normal)
    ease: str
    look: str | None
    vignette: float
    mood: str  # the generated music bed's mood; a style word adds music


STYLES = {
    "premium": Style(0.7, "ease_in_out", "warm", 0.25, "cinematic"),
    "luxury": Style(0.6, "ease_in_out", "contrast", 0.35, "cinematic"),
    "energetic": Style(1.8, "ease_out", "contrast", 0.0, "upbeat"),
    "playful": Style(1.4, "ease_in_out", "warm", 0.0, "upbeat"),
    "cinematic": Style(0.8, "ease_in_out", "contrast", 0.3, "cinematic"),
    "calm": Style(0.6, "ease_in_out", None, 0.15, "calm"),
}


@dataclass(frozen=True)
class Vocabulary:
    """One language's words. Patterns are matched on lower-cased text whose numbers ``digits`` normalised."""

    code: str
    digits: Callable[[str], str]  # spelled-out numbers -> digits ("five seconds", "五秒" -> "5 秒")
    durations: tuple[tuple[str, float], ...]  # group 1 is the number; the float its unit in seconds
    fps: str  # group 1 or 2 is the frame rate
    platforms: Table  # -> aspect name ("9:16"); "1:1?" = a guess worth a note
    moves: Table  # -> push_in, pull_out, pan (direction in the match), pan?, ken_burns, orbit, static, hold, wide,
    #    parallax, dolly_zoom, push_3d (the depth camera), pop (subject pop)
    speeds: Table  # -> slow, fast, slower, faster
    eases: Table
    focus: tuple[tuple[str, tuple[float, float]], ...]  # "toward the top left" -> where the camera heads
    targets: Table  # "zoom into the face" -> face, subject, text
    text: str  # the words for on-screen text (title, caption ...)
    labelled: str  # "title: Summer Sale" (group 1)
    no_text: str
    positions: Table  # -> one of POSITIONS
    place: tuple[str, ...]  # templates placing text at a position: {text} and {pos}
    sizes: Table  # -> big, small, bigger, smaller
    colours: Table  # -> #rrggbb
    colour_place: tuple[str, ...]  # templates tying a colour to the text: {colour} and {text}
    looks: Table  # -> one of LOOKS
    life: Table  # -> life effects ("grain", "light_leak", "bokeh", "letterbox"), several joined by "+"
    vignette: Table  # -> strength as text ("0.35")
    fades: Table  # -> fade_in, fade_out, fade_both, loop
    styles: Table  # -> a key of STYLES
    music: str
    no_music: str
    moods: Table  # -> lofi, upbeat, calm, cinematic
    trending: str  # "trending sound": a catalogue this backend does not have
    volume: str  # group 1 is a percentage, group 2 a 0..1 (or percent) value
    louder: Table  # -> up, down
    length: str  # "longer"/"shorter" without a number
    unsupported: Table  # -> a key of the replies ("voiceover", ...)
    generic: str  # words that say "make a clip" without saying how
    replies: dict[str, str]  # templates, the same keys in every language


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_of(text: str) -> str:
    """``zh`` when a tenth or more of the letters are Han characters, else ``en``."""
    letters = [c for c in text if c.isalpha()]
    han = sum(1 for c in letters if _HAN.match(c))
    return "zh" if letters and han * 10 >= len(letters) else "en"
