"""Life in the frame, cheaply: film grain, a drifting light leak and floating bokeh, applied in place to a
frame's yuv420p planes after the camera's warp.

Each costs a few milliseconds at 1080p because the expensive part is made once: grain is one precomputed
noise field read at a new random offset each frame (no per-frame random numbers), the light leak is drawn
at 1/8 resolution and enlarged, and bokeh discs are one precomputed sprite placed at sub-pixel positions
(a tiny warp each, so slow drifts glide instead of stepping). All are deterministic for a given seed.
``Life`` is what a draft's ``fx.life`` list asks for, applied in the renderer's frame loop (``looks.effect``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["EFFECTS", "Bokeh", "FilmGrain", "Life", "LightLeak"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Planes = tuple[U8, U8, U8]
EFFECTS = ("grain", "light_leak", "bokeh")
_TILE = 128  # how far the grain field reaches past the frame: the range of its per-frame offset


class FilmGrain:
    """Fine luma noise of ``strength`` (standard deviation in 8-bit levels), a new pattern every frame."""

    def __init__(self, out_size: tuple[int, int], *, strength: float = 4.0, seed: int = 0) -> None:
        if not 0 < strength <= 20:
            raise ValueError(f"grain strength={strength!r} must be in (0, 20] (8-bit levels)")
        w, h = out_size
        self.out, self.seed = out_size, seed
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((h + _TILE, w + _TILE)).astype(np.float32)
        blurred = cv2.GaussianBlur(noise, (0, 0), 0.7)  # grain a little larger than a pixel, like film's
        noise = np.asarray(blurred, np.float32) * (strength / max(float(blurred.std()), 1e-6))
        self._up = np.clip(noise, 0, 255).astype(np.uint8)  # saturating uint8 add and subtract are the
        self._down = np.clip(-noise, 0, 255).astype(np.uint8)  # fastest way to add signed noise

    def apply(self, i: int, planes: Planes) -> None:
        w, h = self.out
        ox, oy = np.random.default_rng((self.seed, i)).integers(0, _TILE, 2)
        y = planes[0]
        cv2.add(y, self._up[oy : oy + h, ox : ox + w], dst=y)
        cv2.subtract(y, self._down[oy : oy + h, ox : ox + w], dst=y)


class LightLeak:
    """A warm glow drifting across one edge of the frame over ``n_frames``: brighter luma, redder chroma."""

    def __init__(self, out_size: tuple[int, int], n_frames: int, *, strength: float = 0.5, seed: int = 0) -> None:
        if not 0 < strength <= 1:
            raise ValueError(f"light leak strength={strength!r} must be in (0, 1]")
        self.out, self.n, self.strength = out_size, max(1, n_frames), strength
        rng = np.random.default_rng(seed)
        self._edge = int(rng.integers(0, 4))  # which side it hugs
        self._phase = float(rng.uniform(0, 2 * math.pi))
        w, h = out_size
        self._small = (max(4, w // 8), max(4, h // 8))
        sw, sh = self._small
        self._ys, self._xs = np.mgrid[0:sh, 0:sw].astype(np.float32)

    def glow(self, i: int) -> F32:
        """The leak's intensity 0..1 at 1/8 resolution for frame ``i``."""
        sw, sh = self._small
        t = i / max(1, self.n - 1)
        along = 0.15 + 0.7 * t  # drifts along its edge
        pulse = 0.75 + 0.25 * math.sin(self._phase + 2 * math.pi * t)
        if self._edge in (0, 1):
            cx, cy = along * sw, (-0.1 if self._edge == 0 else 1.1) * sh
        else:
            cx, cy = (-0.1 if self._edge == 2 else 1.1) * sw, along * sh
        radius = 0.45 * max(sw, sh)
        d2 = ((self._xs - cx) ** 2 + (self._ys - cy) ** 2) / (radius * radius)
        return np.asarray(np.exp(-d2 * 2.0) * pulse, np.float32)

    def apply(self, i: int, planes: Planes) -> None:
        y, u, v = planes
        glow = self.glow(i) * self.strength
        lift = cv2.resize(_u8(glow * 90), y.shape[::-1], interpolation=cv2.INTER_LINEAR)
        warm = cv2.resize(_u8(glow * 40), u.shape[::-1], interpolation=cv2.INTER_LINEAR)
        cv2.add(y, lift, dst=y)
        cv2.add(v, warm, dst=v)  # toward red/orange
        cv2.subtract(u, cv2.convertScaleAbs(warm, alpha=0.6), dst=u)


class Bokeh:
    """``count`` soft out-of-focus discs rising slowly and swaying, brightening the luma where they float."""

    def __init__(self, out_size: tuple[int, int], n_frames: int, *, count: int = 18, seed: int = 0) -> None:
        if not 0 < count <= 200:
            raise ValueError(f"bokeh count={count!r} must be in 1..200")
        w, h = out_size
        self.out, self.n = out_size, max(1, n_frames)
        rng = np.random.default_rng(seed)
        self._start = rng.uniform((0, 0), (w, h), (count, 2))
        self._size = rng.uniform(0.012, 0.035, count) * h  # radius, pixels
        self._speed = rng.uniform(0.05, 0.15, count) * h  # rise over the clip, pixels
        self._sway = rng.uniform(0.0, 2 * math.pi, count)
        self._level = rng.uniform(25, 60, count)
        self._sprites = {r: _disc(r) for r in {max(3, round(s)) for s in self._size}}

    def positions(self, i: int) -> npt.NDArray[np.float64]:
        """Disc centres (count, 2) in frame pixels at frame ``i``; they wrap around the top."""
        w, h = self.out
        t = i / max(1, self.n - 1)
        x = self._start[:, 0] + 0.01 * w * np.sin(self._sway + 2 * math.pi * t)
        y = (self._start[:, 1] - self._speed * t) % h
        return np.stack([x, y], axis=1)

    def apply(self, i: int, planes: Planes) -> None:
        y = planes[0]
        h, w = y.shape
        for (cx, cy), size, level in zip(self.positions(i), self._size, self._level, strict=True):
            sprite = self._sprites[max(3, round(size))]
            side = sprite.shape[0]
            x0, y0 = math.floor(cx - side / 2), math.floor(cy - side / 2)
            fx, fy = cx - side / 2 - x0, cy - side / 2 - y0
            box = (max(0, x0), max(0, y0), min(w, x0 + side + 1), min(h, y0 + side + 1))
            if box[2] <= box[0] or box[3] <= box[1]:
                continue
            shift = np.array([[1.0, 0.0, fx + x0 - box[0]], [0.0, 1.0, fy + y0 - box[1]]])
            patch = cv2.warpAffine(sprite, shift, (box[2] - box[0], box[3] - box[1]), flags=cv2.INTER_LINEAR)
            region = y[box[1] : box[3], box[0] : box[2]]
            cv2.add(region, cv2.convertScaleAbs(patch, alpha=level / 255), dst=region)


class Life:
    """The effects a draft names (a list of ``EFFECTS``), made once per frame size and applied in order.

    ``seconds`` is the clip's length; time in milliseconds is the effects' frame clock, so the preview (fewer,
    smaller frames) shows the same drift, pulse and grain seeds at the same moments as the final render.
    """

    def __init__(self, names: Sequence[Any], seconds: float) -> None:
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) and n in EFFECTS for n in names):
            raise ValueError(f"fx life={names!r:.80} must be a list of {', '.join(EFFECTS)}")
        self.names, self.ms = tuple(dict.fromkeys(names)), max(1, round(seconds * 1000))
        self._made: dict[tuple[int, int], list[FilmGrain | LightLeak | Bokeh]] = {}

    def apply(self, planes: Planes, t: float) -> None:
        """Frame at ``t`` seconds, in place."""
        size = (planes[0].shape[1], planes[0].shape[0])
        effects = self._made.get(size)
        if effects is None:
            effects = self._made.setdefault(size, [self._make(name, size) for name in self.names])
        for effect in effects:
            effect.apply(round(t * 1000), planes)

    def _make(self, name: str, size: tuple[int, int]) -> FilmGrain | LightLeak | Bokeh:
        if name == "grain":
            return FilmGrain(size, strength=3.0)
        if name == "light_leak":
            return LightLeak(size, self.ms + 1, strength=0.45)
        return Bokeh(size, self.ms + 1, count=14)


def _disc(radius: int) -> U8:
    """A soft-edged bright disc (a defocused highlight), 0..255, in a square with a one-pixel margin."""
    side = 2 * radius + 3
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) - (side - 1) / 2
    r = np.sqrt(xx * xx + yy * yy)
    return _u8(255 * np.clip(radius - r + 0.5, 0, 1) * (0.8 + 0.2 * r / radius))


def _u8(a: F32) -> U8:
    return np.asarray(np.clip(a + 0.5, 0, 255), np.uint8)
