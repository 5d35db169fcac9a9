"""Colour looks, vignette, fades and a crossfade loop, applied in place on yuv420p planes.

Frames never leave Y/U/V between warp and encoder, so a look is three 256-entry tables (``cv2.LUT`` on each
plane), the vignette a gain map made once, a fade a single ``addWeighted`` toward black (Y=16, U=V=128 in
limited range). All told a few milliseconds a 1080p frame. The draft carries these in the video segment's
``fx`` object (docs/draft-schema.md), with the life effects it names (``fx.life``: film grain, a light leak,
bokeh, letterbox bars; ``life.py``); ``effect`` turns it into one callable the frame generator calls, and
``picture_rows`` says where a title may go (off the bars).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from . import letterbox
from .life import Life
from .sight import Sight

__all__ = ["LOOKS", "Effect", "effect", "picture_rows"]

U8 = npt.NDArray[np.uint8]
Planes = tuple[U8, U8, U8]
Effect = Callable[[Planes, float], None]

_Y = np.arange(256, dtype=np.float32)


def _luma(curve: Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]) -> U8:
    """A luma table from a curve on 0..1 (limited range 16..235 mapped to 0..1 and back)."""
    x = np.clip((_Y - 16) / 219, 0, 1).astype(np.float32)
    return np.asarray(np.clip(16 + 219 * curve(x) + 0.5, 0, 255), np.uint8)


def _chroma(gain: float, shift: float) -> U8:
    """A chroma table: saturation ``gain`` around neutral 128, then a tint ``shift``."""
    return np.asarray(np.clip(128 + (_Y - 128) * gain + shift + 0.5, 16, 240), np.uint8)


def _s_curve(k: float) -> Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]:
    return lambda x: np.asarray(x + k * x * (1 - x) * (2 * x - 1), np.float32)


# look -> (Y table, U table, V table). U is blue-difference, V red-difference: warm = less U, more V.
LOOKS: dict[str, tuple[U8, U8, U8]] = {
    "bw": (_luma(_s_curve(0.3)), _chroma(0.0, 0), _chroma(0.0, 0)),
    "warm": (_luma(lambda x: x**0.95), _chroma(1.05, -7), _chroma(1.05, 7)),
    "cool": (_luma(lambda x: x), _chroma(1.0, 8), _chroma(1.0, -6)),
    "vintage": (_luma(lambda x: 0.08 + 0.84 * x**0.9), _chroma(0.7, -10), _chroma(0.7, 6)),
    "contrast": (_luma(_s_curve(0.6)), _chroma(1.2, 0), _chroma(1.2, 0)),
}


def _ms(fx: Mapping[str, Any], key: str, total: float) -> float:
    value = fx.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value / 1000 <= total:
        raise ValueError(f"fx {key}={value!r} must be milliseconds between 0 and the clip's length")
    return float(value) / 1000


def effect(draft: Mapping[str, Any], duration: float, sight: Sight | None = None) -> Effect | None:
    """The per-frame effect the draft's first video segment asks for, or ``None`` when it asks for none.
    ``sight`` is what the clip shows, if looked at ahead (``sight.look_ahead``): its life effects keep off it.

    Raises:
        ValueError: an unknown look or an out-of-range value, naming the field.
    """
    fx = _fx(draft)
    if not fx:
        return None
    look = fx.get("look")
    if look is not None and look not in LOOKS:
        raise ValueError(f"fx look={look!r} must be one of {', '.join(LOOKS)}")
    vignette = fx.get("vignette", 0)
    if isinstance(vignette, bool) or not isinstance(vignette, int | float) or not 0 <= vignette <= 1:
        raise ValueError(f"fx vignette={vignette!r} must be a number in 0..1")
    fade_in, fade_out, loop = (_ms(fx, key, duration) for key in ("fade_in", "fade_out", "loop"))
    life = Life(fx["life"], duration, sight) if fx.get("life") is not None else None
    tables = LOOKS[look] if look else None
    gains: dict[tuple[int, int], U8] = {}
    first: list[Planes] = []

    def apply(planes: Planes, t: float) -> None:
        if tables is not None:
            for plane, table in zip(planes, tables, strict=True):
                cv2.LUT(plane, table, dst=plane)
        if life is not None:
            life.apply(planes, t)
        if vignette:
            y = planes[0]
            gain = gains.get(y.shape)
            if gain is None:
                gain = gains.setdefault(y.shape, _vignette(y.shape, float(vignette)))
            cv2.subtract(y, 16, dst=y)  # type: ignore[call-overload]  # a scalar operand
            cv2.multiply(y, gain, dst=y, scale=1 / 255)
            cv2.add(y, 16, dst=y)  # type: ignore[call-overload]
        if loop:
            if not first:
                first.append((planes[0].copy(), planes[1].copy(), planes[2].copy()))
            w = (t - (duration - loop)) / loop
            if w > 0:
                for plane, start in zip(planes, first[0], strict=True):
                    cv2.addWeighted(plane, 1 - w, start, w, 0, dst=plane)
        k = min(1.0, t / fade_in if fade_in else 1.0, (duration - t) / fade_out if fade_out else 1.0)
        if k < 1:
            k = max(0.0, k)
            for plane, black in zip(planes, (16, 128, 128), strict=True):
                cv2.addWeighted(plane, k, plane, 0, black * (1 - k), dst=plane)

    return apply


def picture_rows(draft: Mapping[str, Any], size: tuple[int, int]) -> tuple[int, int]:
    """The rows of a frame of ``size`` that show picture (first, past the last): all of them unless the draft
    asks for letterbox bars."""
    return letterbox.picture_rows(_fx(draft).get("life"), size)


def _fx(draft: Mapping[str, Any]) -> Mapping[str, Any]:
    """The first video segment's ``fx`` (it applies to the whole clip), or an empty one."""
    videos: list[list[Mapping[str, Any]]] = [t.get("sg") or [] for t in draft.get("t") or [] if t.get("tt") == 0]
    return (videos[0][0].get("fx") if videos and videos[0] else None) or {}


def _vignette(shape: tuple[int, ...], strength: float) -> U8:
    """Gain 255 in the middle falling smoothly to ``255 * (1 - strength)`` in the corners (elliptical)."""
    h, w = shape[:2]
    ys, xs = np.ogrid[0:h, 0:w]
    r2 = ((xs - w / 2) / (w / 2)) ** 2 + ((ys - h / 2) / (h / 2)) ** 2  # 0 centre, 2 corners
    fall = np.clip((r2 - 0.35) / 1.65, 0, 1) ** 1.5
    return np.asarray(np.clip(255 * (1 - strength * fall) + 0.5, 0, 255), np.uint8)
