"""English: the words the director understands. Data only (see vocab.py); its replies are replies_en.py."""

from __future__ import annotations

import re

from .replies_en import REPLIES
from .vocab import Vocabulary

__all__ = ["VOCABULARY"]

_NUM = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve thirteen "
                                   "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())}  # fmt: skip
_NUM |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_TENS, _ONES = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety", "one|two|three|four|five|six|seven|eight|nine"


def _digits(text: str) -> str:
    """Spelled-out numbers up to ninety-nine -> digits, so 'two seconds' reads like '2 seconds'."""
    text = re.sub(r"\bhalf\s+a\s+minute\b", "30 seconds", text)
    text = re.sub(r"\b(?:a|one)\s+minute\b", "60 seconds", text)
    text = re.sub(rf"\b({_TENS})(?:[\s-]({_ONES}))?\b", lambda m: str(_NUM[m[1]] + _NUM.get(m[2] or "", 0)), text)
    return re.sub(r"\b(" + "|".join(_NUM) + r")\b", lambda m: str(_NUM[m[1]]), text)


_N = r"(?<![\d.:])(\d+(?:\.\d+)?)\s*-?\s*"
_TEXT = r"(?:title|caption|text|headline|subtitle|tagline|words?|qtext)"
_WAY = {"top": 0.25, "upper": 0.25, "bottom": 0.75, "lower": 0.75, "left": 0.25, "right": 0.75}
_TO = r"\b(?:toward\w*|into|onto|on|to|at)\s+(?:the\s+)?"
_COLOURS = {"white": "#ffffff", "black": "#111111", "yellow": "#ffd23f", "red": "#e63946", "blue": "#3a86ff",
            "green": "#2ec4b6", "orange": "#fb8500", "pink": "#ff70a6", "gold(?:en)?": "#e9c46a"}  # fmt: skip

VOCABULARY = Vocabulary(
    code="en",
    digits=_digits,
    durations=(
        (_N + r"(?:ms|milliseconds?)\b", 0.001),
        (_N + r"(?:s|secs?|seconds?)\b", 1.0),
        (_N + r"(?:m|mins?|minutes?)\b", 60.0),
    ),
    fps=r"(\d+(?:\.\d+)?)\s*(?:fps|frames?\s*(?:per|a|/)\s*sec(?:ond)?)\b|\bfps\s*(?:of|=|:|at)?\s*(\d+(?:\.\d+)?)",
    platforms=(
        (
            r"\byoutube\s+shorts?\b|\bshorts\b|\btik\s*tok\b|\breels?\b|\bstor(?:y|ies)\b|\bvertical\b|\bportrait\b"
            r"|\bdouyin\b",
            "9:16",
        ),
        (r"\binstagram\s+feed\b|\bfeed\s+post\b", "4:5"),
        (r"\bsquare\b|\binstagram\s+post\b|\binsta\s+post\b", "1:1"),
        (r"\byoutube\b|\blandscape\b|\bhorizontal\b|\bwidescreen\b", "16:9"),
        (r"\binstagram\b", "1:1?"),
    ),
    moves=(
        (r"\bken[\s-]*burns\b", "ken_burns"),
        (
            r"\b(?:rotating|tilted|tilting|flat|2d)\s+orbit\b|\borbit\w*\s+with\s+(?:a\s+)?(?:rotation|tilt|roll)\b",
            "orbit",
        ),
        (
            r"\bdolly[\s-]*zoom\b|\bvertigo\b(?:\s+(?:effect|shot|zoom))?|\bhitchcock\w*(?:\s+zoom)?|\bcontra[\s-]*zoom\b",
            "dolly_zoom",
        ),
        (
            r"\b(?:3d|2\.5d|three[\s-]*d|depth)\s+(?:push(?:es|ing)?|zoom(?:s|ing)?|dolly(?:ing)?)(?:[\s-]*in\b)?"
            r"|\b(?:push(?:es|ing)?|zoom(?:s|ing)?|dolly(?:ing)?)(?:[\s-]*in)?\s+(?:in\s+)?3d\b",
            "push_3d",
        ),
        (
            r"\b(?:subject\s+)?pop(?:s|ping)?[\s-]*out\b|\bsubject[\s-]*pop\b|\bcut[\s-]*out\b"
            r"|\bmake\s+(?:the\s+|our\s+|my\s+|her\s+|his\s+)?\w+\s+pop\b",
            "pop",
        ),
        (
            r"\b(?:orbit\w*|parallax|drift\w*|2\.5d|3[\s-]*d(?:imensional)?|circle\s+around|depth\s+effect)\b(?!\s*推)",
            "parallax",
        ),
        (r"\b(?:pull(?:s|ing)?|zoom(?:s|ing)?|dolly(?:ing)?)[\s-]*(?:out|back)\b|\breveal\b", "pull_out"),
        (
            r"\b(?:pan(?:s|ning)?|tilt(?:s|ing)?)\s*(?:to\s+the\s+|toward\w*\s+(?:the\s+)?)?(?:left|right|up|down)\b",
            "pan",
        ),
        (r"\b(?:pan(?:s|ning)?|sweep\w*)\b(?:\s+across)?", "pan?"),
        (r"\b(?:static|no\s+(?:camera\s+)?(?:motion|movement|zoom)|locked[\s-]*off|still\s+camera)\b", "static"),
        (r"\b(?:start\w*|begin\w*|open\w*)\s+(?:on\s+a\s+|with\s+a\s+)?wide\b|\bwide\s+shot\b", "wide"),
        (r"\bhold(?:s|ing)?\b(?:\s+(?:it|still|there|at\s+the\s+end|on\s+it))?|\bpause\b|\bsettle\b", "hold"),
        (
            r"\b(?:push(?:es|ing)?|zoom(?:s|ing)?|dolly(?:ing)?|punch(?:es|ing)?|move\s+closer)\b(?:[\s-]*in\b)?",
            "push_in",
        ),
    ),
    speeds=(
        (r"\bslower\b", "slower"),
        (r"\bfaster\b", "faster"),
        (r"\b(?:slow|slowly|gentle|gently|subtle|subtly|leisurely)\b", "slow"),
        (r"\b(?:fast|quick|quickly|rapid|rapidly|dramatic|snappy|punchy)\b", "fast"),
    ),
    eases=(
        (r"\blinear\b|\bconstant\s+speed\b|\bsteady\b", "linear"),
        (r"\bease[\s-]*in[\s-]*(?:and[\s-]*)?out\b|\bsmooth(?:ly)?\b", "ease_in_out"),
        (r"\bease[\s-]*in\b|\baccelerat\w*", "ease_in"),
        (r"\bease[\s-]*out\b|\bdecelerat\w*", "ease_out"),
    ),
    focus=(
        *(
            ((_TO + rf"{v}[\s-]*{h}\b"), (_WAY[h], _WAY[v]))
            for v in ("top", "upper", "bottom", "lower")
            for h in ("left", "right")
        ),
        *(
            ((_TO + rf"{w}\b"), (0.5, _WAY[w]) if w in ("top", "bottom") else (_WAY[w], 0.5))
            for w in ("top", "bottom", "left", "right")
        ),
        (_TO + r"(?:cent(?:er|re)|middle)\b", (0.5, 0.5)),
    ),
    targets=(
        (
            r"(?<!dolly\s)\b(?:zoom\w*|push\w*|punch\w*|dolly\w*|move|focus\w*|close[\s-]*up)\s+(?:in\s+)?(?:on|into|to|toward\w*)\s+"
            r"(?:the\s+|her\s+|his\s+|their\s+|its\s+)?(?:face|head|eyes|person|model)\b",
            "face",
        ),
        (
            r"(?<!dolly\s)\b(?:zoom\w*|push\w*|punch\w*|dolly\w*|move|focus\w*|close[\s-]*up)\s+(?:in\s+)?(?:on|into|to|toward\w*)\s+"
            r"(?:the\s+|its\s+)?(?:logo|text|writing|words|label|sign|brand\s+name)\b",
            "text",
        ),
        (
            r"(?<!dolly\s)\b(?:zoom\w*|push\w*|punch\w*|dolly\w*|move|focus\w*|close[\s-]*up)\s+(?:in\s+)?(?:on|into|to|toward\w*)\s+"
            r"(?:the\s+|our\s+|my\s+)?(?:product|bottle|subject|object|item|can|shoe|watch|cup|mug|phone|bag)\b",
            "subject",
        ),
    ),
    text=_TEXT,
    labelled=r"\b(?:title|caption|headline)\s*[:=]\s*([^.;\n]{1,200})",
    no_text=rf"\b(?:no|without|remove|delete|drop)\s+(?:the\s+|any\s+)?(?:on[\s-]screen\s+)?{_TEXT}\b",
    positions=(
        (r"(?:top|upper)[\s-]*left(?:[\s-]*(?:hand\s+)?corner)?", "top_left"),
        (r"(?:top|upper)[\s-]*right(?:[\s-]*(?:hand\s+)?corner)?", "top_right"),
        (r"(?:bottom|lower)[\s-]*left(?:[\s-]*(?:hand\s+)?corner)?", "bottom_left"),
        (r"(?:bottom|lower)[\s-]*right(?:[\s-]*(?:hand\s+)?corner)?", "bottom_right"),
        (r"top|upper\s+third", "top"),
        (r"bottom|lower\s+third", "bottom"),
        (r"cent(?:er|r)ed|cent(?:er|re)|middle", "center"),
        (r"left(?:\s+side)?", "left"),
        (r"right(?:\s+side)?", "right"),
    ),
    place=(
        r"\b{text}\b[^.;!?]{{0,30}}?\b(?:at|on|in|to|into)\s+(?:the\s+)?(?:{pos})\b",
        r"\bqtext\s+(?:at\s+|in\s+|on\s+)?(?:the\s+)?(?:{pos})\b",
        r"\b(?:{pos})[\s-]+{text}\b",
    ),
    sizes=(
        (r"\b(?:bigger|larger)\b", "bigger"),
        (r"\bsmaller\b", "smaller"),
        (r"\b(?:big|large|huge|giant|bold)\b", "big"),
        (r"\b(?:small|tiny)\b", "small"),
    ),
    colours=tuple((rf"\b{word}\b", hex_) for word, hex_ in _COLOURS.items()),
    colour_place=(r"\b(?:{colour})\s+{text}\b", r"\b{text}\b[^.;!?]{{0,40}}?\bin\s+(?:{colour})\b"),
    looks=(
        (r"\bblack[\s-]+and[\s-]+white\b|\bb\s*&\s*w\b|\bmonochrome\b|\bgr[ae]yscale\b|\bnoir\b", "bw"),
        (r"\bvintage\b|\bretro\b|\bsepia\b|\bfilm\s+look\b|\bnostalgic\b|\bfaded\b", "vintage"),
        (r"\bhigh[\s-]+contrast\b|\bcontrasty\b|\bvivid\b|\bpunchy\s+colou?rs?\b", "contrast"),
        (r"\bwarm(?:er)?\b|\bgolden\s+hour\b|\bsunny\b", "warm"),
        (r"\bcool(?:er)?\s+(?:tones?|look|colou?rs?|feel|grade)\b|\bcold\b|\bcool\b|\bteal\b", "cool"),
    ),
    life=(
        (r"\bfilm[\s-]*grain\b|\bgrain(?:y)?\b", "grain"),
        (r"\bcinematic\b(?!\s+(?:soundtrack|music|score|songs?|bgm|tune|beats?|audio|sound))", "grain+letterbox"),
        (r"\bletter[\s-]*box(?:ed|es|ing)?\b|\bblack\s+bars\b|\bcinema\s*scope\b|\bscope\s+bars\b", "letterbox"),
        (r"\blight[\s-]*leaks?\b", "light_leak"),
        (r"\bdream(?:y|like)\b", "light_leak+bokeh"),
        (r"\bbokeh\b|\bsparkl\w*|\bparticles?\b|\bglitter\w*|\bfloating\s+lights?\b", "bokeh"),
    ),
    vignette=(
        (r"\b(?:soft|subtle|light|gentle)\s+vignett\w*", "0.2"),
        (r"\b(?:strong|heavy|dark)\s+vignett\w*", "0.5"),
        (r"\bvignett\w*", "0.35"),
    ),
    fades=(
        (r"\b(?:cross[\s-]*fade\w*|seamless(?:ly)?)\s*(?:loop\w*)?\b|\bloop(?:s|ing|able)?\b", "loop"),
        (r"\bfade[sd]?\s+in\s+and\s+out\b|\bfade[sd]?\s+(?:in\s+)?from\s+and\s+to\s+black\b", "fade_both"),
        (r"\bfade[sd]?[\s-]*in\b(?:\s+from\s+black)?|\bfrom\s+black\b", "fade_in"),
        (r"\bfade[sd]?[\s-]*out\b(?:\s+to\s+black)?|\b(?:fade\s+)?to\s+black\b", "fade_out"),
    ),
    styles=(
        (r"\bpremium\b|\bhigh[\s-]+end\b|\belegant\b|\bclassy\b|\bsophisticated\b", "premium"),
        (r"\blux(?:ury|urious)\b|\bupscale\b|\bopulent\b", "luxury"),
        (r"\benergetic\b|\bdynamic\b|\bexciting\b|\bhype\b", "energetic"),
        (r"\bplayful\b|\bfun\b|\bwhimsical\b|\bcheeky\b", "playful"),
        (r"\b(?:cinematic|filmic|movie[\s-]*like)\s+(?:feel|look|style|vibe)\b", "cinematic"),
        (r"\b(?:calm|serene|peaceful|relaxed)\s+(?:feel|look|style|vibe|mood)\b", "calm"),
    ),
    music=r"\b(?:music|bgm|soundtrack|songs?|tune|beats?|background\s+track|lo[\s-]?fi|audio|sound)\b",
    no_music=r"\b(?:no|without|zero|remove|drop|delete)\s+(?:the\s+|any\s+)?(?:background\s+)?"
    r"(?:music|bgm|soundtrack|songs?|tune|beats?|audio|sound)\b|\b(?:silent|muted?)\b",
    moods=(
        (r"\blo[\s-]?fi\b|\bchill\w*|\bjazz\w*", "lofi"),
        (
            r"\bupbeat\b|\bhappy\b|\benergetic\b|\bfun\b|\bpop\b|\bcorporate\b|\bcheerful\b|\bbright\b|\bdance\b|\bedm\b"
            r"|\belectronic\b",
            "upbeat",
        ),
        (
            r"\bcalm\b|\bambient\b|\brelax\w*|\bpeaceful\b|\bgentle\b|\bsoft\b|\bpiano\b|\bacoustic\b|\bserene\b"
            r"|\bdreamy\b",
            "calm",
        ),
        (r"\bcinematic\b|\bepic\b|\bdramatic\b|\borchestral\b|\btrailer\b|\bemotional\b|\binspiring\b", "cinematic"),
    ),
    trending=r"\b(?:trending|viral|popular|hit)\s+(?:sounds?|audio|music|songs?|tracks?)\b",
    volume=r"(\d+(?:\.\d+)?)\s*%|\bvolume\s*(?:of|at|to|=|:)?\s*(\d+(?:\.\d+)?)",
    louder=((r"\b(?:louder|loud)\b", "up"), (r"\b(?:quieter|quiet|softer|lower)\b", "down")),
    length=r"\b(?:longer|shorter)\b",
    unsupported=(
        (r"\bvoice[\s-]*over\b|\bnarrat\w*|\btext[\s-]*to[\s-]*speech\b", "voiceover"),
        (r"\btransitions?\b|\bwipes?\b", "transitions"),
        (
            r"\bconfetti\b|\bsnow\b|\brain\b|\bfire\b|\bglitch\w*|\blens\s+flares?\b"
            r"|\bstickers?\b|\bemojis?\b",
            "effects",
        ),
        (r"\b(?:logo|watermark)\b(?!\s+(?:text|qtext|title))", "logo"),
        (r"\bslow[\s-]*mo(?:tion)?\b|\bspeed\s+ramp\w*|\brevers\w*|\bboomerang\b", "time"),
        (r"\bblur\w*|\bdepth\s+of\s+field\b", "blur"),
        (r"\bcolou?r\s*grad\w*|\bfilters?\b|\bluts?\b", "grading"),
        (
            r"\bdrones?\b|\baerial\b|\bbird'?s[\s-]*eye\b|\bfl(?:y|ies|ying|ew)[\s-]*(?:over|through|thru|by)\b"
            r"|\bfly(?:over|through|by)s?\b",
            "flight",
        ),
        (
            r"\bhand[\s-]*held\b|\bshaky\b|\bcamera[\s-]*shake\b|\bshak(?:e|ing)\s+(?:the\s+)?camera\b|\bwobbl\w*",
            "shake",
        ),
        (r"\b360\b(?:\s*(?:°|degrees?|deg\b))?|\bspin(?:s|ning)?\b|\bturn[\s-]*table\b", "spin"),
        (
            r"\btracking[\s-]+shot\b|\bfollow(?:ing)?[\s-]+shot\b|\bcrane[\s-]+(?:shot|up|down|move)\b|\bjib\b"
            r"|\bsteadicam\b",
            "tracking",
        ),
    ),
    generic=r"\b(?:animate|video|clip|make|create|turn|generate|render|movie|motion|photo|image)\b",
    replies=REPLIES,
)
