"""What the export lays over the moving picture: fading text in YUV, in a font that has its glyphs.

Frames stay in yuv420p from warp to encoder (no per-frame RGB round trip), so the title is drawn once with
Pillow, converted to Y/U/V planes plus alpha, and blended into just its bounding box on each frame. The
audio bed is `audio.py`'s; its names are re-exported here for the modules that import them from overlay.
"""

from __future__ import annotations

import functools
import importlib.util
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .audio import MOODS, RATE, AudioSpec, aac_frames, mix_audio, segment_seconds

__all__ = ["MOODS", "POSITIONS", "RATE", "AudioSpec", "TextLayer", "aac_frames", "mix_audio", "rgb_to_yuv"]

F32 = npt.NDArray[np.float32]
U8 = npt.NDArray[np.uint8]

# BT.709, limited range: what players assume for HD, and what the encoder tags the stream with.
_YUV = np.array(
    [
        [0.2126 * 219 / 255, 0.7152 * 219 / 255, 0.0722 * 219 / 255, 16.0],
        [-0.1146 * 224 / 255, -0.3854 * 224 / 255, 0.5 * 224 / 255, 128.0],
        [0.5 * 224 / 255, -0.4542 * 224 / 255, -0.0458 * 224 / 255, 128.0],
    ],
    dtype=np.float32,
)


def rgb_to_yuv(rgb: npt.NDArray[Any]) -> F32:
    """RGB (H, W, 3) -> BT.709 limited-range YUV (H, W, 3) float32, full resolution."""
    return np.asarray(cv2.transform(rgb.astype(np.float32, copy=False), _YUV), dtype=np.float32)


def _fade(t: float, start: float, end: float, fade_in: float, fade_out: float) -> float:
    if t < start or t >= end:
        return 0.0
    a = min(1.0, (t - start) / fade_in) if fade_in > 0 else 1.0
    b = min(1.0, (end - t) / fade_out) if fade_out > 0 else 1.0
    return max(0.0, min(a, b))


@dataclass
class TextLayer:
    """One text segment, pre-rendered: planes and alpha for its box, blended per frame with its fade.

    ``boxed`` is the same text on a translucent backing box; it is used instead when the pixels under the
    text (measured once, at the first frame the text shows) are too close to the text's own brightness.
    """

    start: float
    end: float
    fade_in: float
    fade_out: float
    x: int
    y: int
    planes: tuple[U8, U8, U8]
    alpha: tuple[F32, F32]
    boxed: tuple[tuple[U8, U8, U8], tuple[F32, F32]] | None = None
    text_luma: float = 235.0  # the fill colour's Y (limited range)
    legible: bool | None = None  # decided at the first frame shown: None = not yet measured

    @classmethod
    def build(
        cls, seg: Mapping[str, Any], width: int, height: int, rows: tuple[int, int] | None = None
    ) -> TextLayer | None:
        """The text segment ``seg`` for frames of ``width`` x ``height``, placed between ``rows`` (the first and
        past-the-last row of picture, when letterbox bars cover the others), or ``None`` for no text."""
        text = str(seg.get("text", "")).strip()
        if not text:
            return None
        size = float(seg.get("size", 0.07))
        if not 0.01 <= size <= 0.3:
            raise ValueError(f"text size={size!r} must be 0.01..0.3 of the frame's shorter side")
        color = str(seg.get("color", "#ffffff"))
        try:
            rgb = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            raise ValueError(f"text color={color!r} must be #rrggbb") from None
        pos = seg.get("pos", "bottom")
        if pos not in POSITIONS:
            raise ValueError(f"text pos={pos!r} must be one of {', '.join(POSITIONS)}")
        corner = pos not in ("top", "center", "bottom")
        img = _draw(text, round(size * min(width, height)), round(width * (0.6 if corner else 1.0)), rgb)
        w, h = min(img.width, width), min(img.height, height)
        top, bottom = rows or (0, height)
        x, y = _place(str(pos), w, h, width, bottom - top)
        y = max(0, min(y + top, height - h)) // 2 * 2
        luma = float(rgb_to_yuv(np.array([[rgb]], np.float32))[0, 0, 0])
        backing = Image.new("RGBA", img.size, (0, 0, 0, 0))
        ImageDraw.Draw(backing).rounded_rectangle(
            (0, 0, img.width - 1, img.height - 1), radius=min(img.size) // 4,
            fill=(0, 0, 0, 150) if luma > 110 else (255, 255, 255, 170))  # fmt: skip
        start = segment_seconds(seg, "s", 0)
        planes, alpha = _yuv_layer(img, w, h)
        return cls(
            start=start,
            end=start + segment_seconds(seg, "d", 0),
            fade_in=segment_seconds(seg, "fi", 500),
            fade_out=segment_seconds(seg, "fo", 500),
            x=x,
            y=y,
            planes=planes,
            alpha=alpha,
            boxed=_yuv_layer(Image.alpha_composite(backing, img), w, h),
            text_luma=luma,
        )

    def apply(self, frame: tuple[U8, U8, U8], t: float) -> None:
        """Blend into the frame's Y/U/V planes in place at time ``t`` (seconds)."""
        k = _fade(t, self.start, self.end, self.fade_in, self.fade_out)
        if k <= 0:
            return
        h, w = self.alpha[0].shape
        if self.legible is None:
            under = float(cv2.mean(frame[0][self.y : self.y + h, self.x : self.x + w], mask=None)[0])
            self.legible = _contrast(self.text_luma, under) >= _MIN_CONTRAST
        planes, alpha = (self.planes, self.alpha) if self.legible or self.boxed is None else self.boxed
        for i, plane in enumerate(frame):
            a = alpha[min(i, 1)]
            ah, aw = a.shape
            div = 1 if i == 0 else 2
            box = plane[self.y // div : self.y // div + ah, self.x // div : self.x // div + aw]
            top = a * np.float32(k)
            cv2.blendLinear(box, planes[i], 1.0 - top, top, dst=box)


# WCAG asks 4.5:1 of body text and 3:1 of large text; titles are large, and the shadow adds a little.
_MIN_CONTRAST = 3.0


def _contrast(y1: float, y2: float) -> float:
    """WCAG-style contrast ratio of two limited-range lumas (gamma-decoded to relative luminance)."""
    l1, l2 = (min(1.0, max(0.0, (y - 16) / 219)) ** 2.2 for y in (y1, y2))
    return float((max(l1, l2) + 0.05) / (min(l1, l2) + 0.05))


def _yuv_layer(img: Image.Image, w: int, h: int) -> tuple[tuple[U8, U8, U8], tuple[F32, F32]]:
    """An RGBA image -> full-res Y, half-res U/V (alpha-weighted, so edges keep their colour) and alphas."""
    rgba = np.asarray(img, dtype=np.float32)[:h, :w]
    a = rgba[..., 3] / 255.0
    yuv = rgb_to_yuv(rgba[..., :3])
    half = (w // 2, h // 2)
    a_c = cv2.resize(a, half, interpolation=cv2.INTER_AREA)
    uv = cv2.resize(yuv[..., 1:] * a[..., None], half, interpolation=cv2.INTER_AREA)
    uv = uv / np.maximum(a_c, 1e-4)[..., None]
    y, u, v = (np.clip(p + 0.5, 0, 255).astype(np.uint8) for p in (yuv[..., 0], uv[..., 0], uv[..., 1]))
    return (y, u, v), (np.ascontiguousarray(a), a_c.astype(np.float32))


POSITIONS = ("top_left", "top", "top_right", "left", "center", "right", "bottom_left", "bottom", "bottom_right")


def _place(pos: str, w: int, h: int, width: int, height: int) -> tuple[int, int]:
    """Top-left corner (even, for 4:2:0 chroma) of a ``w`` x ``h`` box at ``pos``, inside a safe margin."""
    row, _, col = pos.rpartition("_") if "_" in pos else (pos, "", "")
    if pos in ("left", "right"):
        row, col = "center", pos
    margin_x, margin_y = width * 0.05, height * 0.07
    x = {"left": margin_x, "right": width - margin_x - w}.get(col, (width - w) / 2)
    y = {"top": margin_y, "bottom": height - margin_y * 8 / 7 - h}.get(row, (height - h) / 2)
    x = int(min(max(x, 0), width - w)) // 2 * 2
    return x, int(min(max(y, 0), height - h)) // 2 * 2


def _draw(text: str, px: int, width: int, rgb: tuple[int, ...]) -> Image.Image:
    """Wrap to 88% of the frame width (shrinking the font for long words or many lines), add a soft shadow."""
    face, text = _face(text)
    while True:
        font = face.font_variant(size=px)
        lines = _wrap(text, font, width * 0.88)
        if (len(lines) <= 3 and max(font.getlength(s) for s in lines) <= width * 0.88) or px <= 12:
            break
        px = max(12, int(px * 0.85))
    step, pad = round(px * 1.2), max(4, px // 4)
    box_w = int(max(font.getlength(s) for s in lines)) + 2 * pad
    box_h = step * len(lines) + 2 * pad
    mask = Image.new("L", (box_w + box_w % 2, box_h + box_h % 2))
    draw = ImageDraw.Draw(mask)
    for i, line in enumerate(lines):
        draw.text((box_w / 2, pad + i * step + step / 2), line, font=font, fill=255, anchor="mm")
    shadow = mask.filter(ImageFilter.GaussianBlur(max(1.0, px * 0.1))).point(lambda v: min(255, int(v * 0.9)))
    off = max(1, px // 25)
    layer = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    layer.paste((0, 0, 0, 255), (off, off), shadow)
    fill = Image.new("RGBA", mask.size, (*rgb[:3], 255))
    fill.putalpha(mask)
    return Image.alpha_composite(layer, fill)


def _face(text: str) -> tuple[ImageFont.FreeTypeFont, str]:
    """The first font that draws every character: Pillow's built-in Aileron (ASCII), DejaVu Sans, then a CJK
    font (installed on the system, or Noto Sans CJK from the `cjk` extra); else accents and dashes are folded
    and what still has no glyph becomes '?' (the director says so), never an empty box."""
    for font in _fonts():
        if not _missing(font, text):
            return font, text
    aileron = _fonts()[0]
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    gone = _missing(aileron, folded)
    return aileron, "".join("?" if c in gone else c for c in folded)


def font_for(text: str, px: int) -> tuple[ImageFont.FreeTypeFont, str]:
    """A font of ``px`` pixels that draws ``text``, and the text as it will be drawn (see ``_face``)."""
    face, shown = _face(text)
    return face.font_variant(size=px), shown


def drawable(text: str) -> bool:
    """Whether some installed font draws every character of ``text`` (else it renders with '?')."""
    return any(not _missing(font, text) for font in _fonts())


_CJK_FONTS = ("NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular.otf", "wqy-zenhei.ttc", "wqy-microhei.ttc")


@functools.cache
def _fonts() -> tuple[ImageFont.FreeTypeFont, ...]:
    """Loaded once per process: a CJK face is a 16 MB file."""
    aileron = ImageFont.load_default(size=32)
    assert isinstance(aileron, ImageFont.FreeTypeFont), "Pillow built without FreeType"
    found = [aileron]
    spec = importlib.util.find_spec("mplfonts")  # the `cjk` extra: located, not imported (it imports matplotlib)
    bundled = [str(Path(spec.origin).parent / "fonts" / "NotoSansCJKsc-Regular.otf")] if spec and spec.origin else []
    for name in ("DejaVuSans.ttf", *_CJK_FONTS, *bundled):
        try:
            found.append(ImageFont.truetype(name, 32))
        except OSError:  # not installed
            continue
    return tuple(found)


_ASCII = str.maketrans({"\u2014": "-", "\u2013": "-", "\u00a0": " "})


def _missing(font: ImageFont.FreeTypeFont, text: str) -> set[str]:
    """Characters the font draws as its 'missing glyph' box (compared with a private-use code point)."""
    blank = bytes(font.getmask("\ue000"))
    return {c for c in set(text) if not c.isspace() and bytes(font.getmask(c)) == blank}


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_w: float) -> list[str]:
    lines: list[str] = []
    for para in text.splitlines() or [text]:
        line = ""
        for word in para.split():
            trial = f"{line} {word}".strip()
            if line and font.getlength(trial) > max_w:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return [s for s in lines if s] or [text]
