"""Life in the frame, cheaply: film grain, a drifting light leak and floating bokeh, applied in place to a
frame's yuv420p planes after the camera's warp.

Each costs a few milliseconds at 1080p because the expensive part is made once: grain is one precomputed
noise field read at a new random offset each frame (no per-frame random numbers), the light leak is drawn
at 1/8 resolution and enlarged, and bokeh discs are one precomputed sprite per size placed at sub-pixel
positions (a tiny warp each, so slow drifts glide instead of stepping) and screened on, tinted and kept off
faces by one look at the first frame. All are deterministic for a given seed.
``Life`` is what a draft's ``fx.life`` list asks for, applied in the renderer's frame loop (``looks.effect``);
it may also name ``letterbox`` (``letterbox.Letterbox``), which is drawn after the others. Bokeh and the bars
share one ``sight.Sight``, so the faces are found once for both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from .framing import Box
from .letterbox import Letterbox
from .sight import Sight

__all__ = ["EFFECTS", "Bokeh", "FilmGrain", "Life", "LightLeak"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Planes = tuple[U8, U8, U8]
Box4 = tuple[int, int, int, int]  # x0, y0, x1, y1 in a plane's pixels
EFFECTS = ("grain", "light_leak", "bokeh", "letterbox")
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
    """``count`` out-of-focus highlights drifting slowly across the frame, like lights behind the subject.

    Each is a translucent disc with a soft edge and a slightly brighter rim, tinted like the picture's own
    highlights and *screened* onto the frame (it lightens what lies under it toward white, never paints
    over it). Sizes follow depth: a few large, soft and faint discs, more small and bright ones, the large
    ones drifting a little faster. The first frame is looked at once (``sight``'s framing of it, and the
    colour of its brightest pixels): discs fade where they cross a face, and partly over a compact subject,
    since real bokeh lies behind what is in focus.
    """

    def __init__(
        self, out_size: tuple[int, int], n_frames: int, *, count: int = 18, seed: int = 0, sight: Sight | None = None
    ) -> None:
        if not 0 < count <= 200:
            raise ValueError(f"bokeh count={count!r} must be in 1..200")
        w, h = out_size
        self.out, self.n, self.sight = out_size, max(1, n_frames), sight or Sight()
        rng = np.random.default_rng(seed)
        near = rng.uniform(0, 1, count) ** 1.6  # 0 far and small .. 1 near and large; most are small
        self._radius = h * (0.012 + 0.058 * near)
        self._level = rng.uniform(0.75, 1.0, count) * 0.7 * (0.012 * h / self._radius) ** 0.6  # of the way to white
        self._start = rng.uniform((0, 0), (w, h), (count, 2))
        self._rise = (0.04 + 0.08 * near) * h  # over the clip, pixels
        self._wind = rng.uniform(-0.03, 0.03, count) * w  # sideways drift over the clip
        self._phase = rng.uniform(0, 2 * math.pi, (count, 2))  # sway, twinkle
        self._jitter = rng.normal(0, 4, (count, 2))  # each disc's tint a little off the highlights' (U, V)
        self._sprites = {r: _disc(r) for r in {_key(s) for s in self._radius} | {_key(s / 2) for s in self._radius}}
        self._tint: npt.NDArray[np.float64] | None = None  # (count, 2) U, V of each disc, from the first frame
        self._avoid: list[tuple[Box, float]] = []  # 0..1 frame boxes and how much of a disc shows inside them

    def positions(self, i: int) -> npt.NDArray[np.float64]:
        """Disc centres (count, 2) in frame pixels at frame ``i``; they leave one edge and come back at the other."""
        w, h = self.out
        t = i / max(1, self.n - 1)
        r = self._radius
        x = self._start[:, 0] + self._wind * t + 0.006 * w * np.sin(self._phase[:, 0] + 2 * math.pi * t)
        y = self._start[:, 1] - self._rise * t
        return np.stack([(x + r) % (w + 2 * r) - r, (y + r) % (h + 2 * r) - r], axis=1)

    def levels(self, i: int) -> npt.NDArray[np.float64]:
        """How far (0..1) each disc lifts what lies under it toward white at frame ``i``: twinkle, then fading."""
        t = i / max(1, self.n - 1)
        level = self._level * (0.85 + 0.15 * np.sin(self._phase[:, 1] + 2 * math.pi * t))
        w, h = self.out
        xy = self.positions(i) / (w, h)
        for (x0, y0, x1, y1), shows in self._avoid:
            dx = np.maximum(np.maximum(x0 - xy[:, 0], xy[:, 0] - x1), 0) * w
            dy = np.maximum(np.maximum(y0 - xy[:, 1], xy[:, 1] - y1), 0) * h
            away = np.clip(np.hypot(dx, dy) / (self._radius + 0.05 * h), 0, 1)
            level = level * (shows + (1 - shows) * away * away * (3 - 2 * away))
        return np.asarray(level, np.float64)

    def apply(self, i: int, planes: Planes) -> None:
        y, u, v = planes
        if self._tint is None:
            self._look(planes)
        assert self._tint is not None
        for (cx, cy), radius, level, (tu, tv) in zip(
            self.positions(i), self._radius, self.levels(i), self._tint, strict=True
        ):
            if level < 0.01:
                continue
            placed = _place(y.shape, self._sprites[_key(radius)], cx, cy, level)
            if placed is not None:  # screen: lift toward white by the coverage, never darken
                (x0, y0, x1, y1), alpha = placed
                region = y[y0:y1, x0:x1]
                cv2.add(region, cv2.multiply(cv2.bitwise_not(region), alpha, scale=1 / 255), dst=region)
            hx, hy = (cx - 0.5) / 2, (cy - 0.5) / 2  # the same point on the half-size chroma planes
            placed = _place(u.shape, self._sprites[_key(radius / 2)], hx, hy, 0.8 * level)
            if placed is not None:  # chroma drawn toward the tint about as far as the luma toward white
                (x0, y0, x1, y1), alpha = placed
                keep = cv2.bitwise_not(alpha)
                for plane, target in ((u, tu), (v, tv)):
                    region = plane[y0:y1, x0:x1]
                    cv2.multiply(region, keep, dst=region, scale=1 / 255)
                    cv2.add(region, cv2.convertScaleAbs(alpha, alpha=target / 255), dst=region)

    def _look(self, planes: Planes) -> None:
        """Tint and keep-out boxes from the first frame: the picture's highlight colour, faces, the subject."""
        y, u, v = planes
        step = 2 * max(1, round(max(y.shape) / 1024))  # a copy about 512 pixels across, as the framing sees
        ys, us, vs = y[::step, ::step], u[:: step // 2, :: step // 2], v[:: step // 2, :: step // 2]
        hh, ww = min(ys.shape[0], us.shape[0]), min(ys.shape[1], us.shape[1])
        yuv = np.dstack([ys[:hh, :ww], us[:hh, :ww], vs[:hh, :ww]])
        pixels = yuv.reshape(-1, 3).astype(np.float64)
        top = max(1, len(pixels) // 50)  # the colour of the brightest 2%
        chroma = pixels[np.argpartition(pixels[:, 0], -top)[-top:], 1:].mean(axis=0) - 128
        chroma = np.clip(1.6 * chroma + (-3, 4), -40, 40)  # a little richer and warmer than the highlights
        self._tint = np.clip(128 + chroma + self._jitter, 16, 240)
        framing = self.sight.framing(planes)
        self._avoid = [(_grown(face, 0.5), 0.08) for face in framing.faces]
        subject, (fx, fy) = framing.subject, framing.focus
        if not framing.faces and subject and (subject[2] - subject[0]) * (subject[3] - subject[1]) < 0.4:
            self._avoid.append((subject, 0.35))
        elif not framing.faces:  # a large subject: keep clear of where the eye goes (a cat's face, say)
            self._avoid.append(((fx - 0.15, fy - 0.18, fx + 0.15, fy + 0.18), 0.2))


class Life:
    """The effects a draft names (a list of ``EFFECTS``), made once per frame size and applied in order.

    ``seconds`` is the clip's length; time in milliseconds is the effects' frame clock, so the preview (fewer,
    smaller frames) shows the same drift, pulse and grain seeds at the same moments as the final render.
    ``sight`` is what the clip shows (the renderer's look ahead at every shot), else found on the first frame;
    bokeh and the bars share it, at every frame size.
    """

    def __init__(self, names: Sequence[Any], seconds: float, sight: Sight | None = None) -> None:
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) and n in EFFECTS for n in names):
            raise ValueError(f"fx life={names!r:.80} must be a list of {', '.join(EFFECTS)}")
        unique = dict.fromkeys(names)
        self.names = tuple(sorted(unique, key=lambda name: name == "letterbox"))  # bars last: they stay black
        self.ms = max(1, round(seconds * 1000))
        self.sight = sight or Sight()
        self._made: dict[tuple[int, int], list[FilmGrain | LightLeak | Bokeh | Letterbox]] = {}

    def apply(self, planes: Planes, t: float) -> None:
        """Frame at ``t`` seconds, in place."""
        size = (planes[0].shape[1], planes[0].shape[0])
        effects = self._made.get(size)
        if effects is None:
            effects = self._made.setdefault(size, [self._make(name, size) for name in self.names])
        for effect in effects:
            effect.apply(round(t * 1000), planes)

    def _make(self, name: str, size: tuple[int, int]) -> FilmGrain | LightLeak | Bokeh | Letterbox:
        if name == "letterbox":
            return Letterbox(size, sight=self.sight)
        if name == "grain":
            return FilmGrain(size, strength=3.0)
        if name == "light_leak":
            return LightLeak(size, self.ms + 1, strength=0.45)
        return Bokeh(size, self.ms + 1, count=14, sight=self.sight)


def _key(radius: float) -> int:
    return max(2, round(radius))


def _disc(radius: int) -> U8:
    """A defocused highlight's coverage 0..255: flat inside, a slightly brighter rim, an edge softer when larger.

    Drawn in a square with a margin for the soft edge and the sub-pixel shift.
    """
    soft = 1.0 + 0.12 * radius  # edge width, pixels
    half = math.ceil(radius + soft) + 1
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float32)
    r = np.sqrt(xx * xx + yy * yy)
    edge = np.clip((radius - r) / soft + 0.5, 0, 1)
    rim = 0.72 + 0.28 * np.clip(r / radius, 0, 1) ** 4
    return _u8(255 * edge * edge * (3 - 2 * edge) * rim)


def _place(shape: tuple[int, ...], sprite: U8, cx: float, cy: float, level: float) -> tuple[Box4, U8] | None:
    """The sprite x ``level`` centred at (cx, cy) (sub-pixel), cut to a plane of ``shape``, and the box it covers."""
    h, w = shape[:2]
    side = sprite.shape[0]
    x0, y0 = math.floor(cx - side / 2), math.floor(cy - side / 2)
    box = (max(0, x0), max(0, y0), min(w, x0 + side + 1), min(h, y0 + side + 1))
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    shift = np.array([[1.0, 0.0, cx - side / 2 - box[0] + 0.5], [0.0, 1.0, cy - side / 2 - box[1] + 0.5]])
    alpha = cv2.warpAffine(sprite, shift, (box[2] - box[0], box[3] - box[1]), flags=cv2.INTER_LINEAR)
    return box, np.asarray(cv2.convertScaleAbs(alpha, alpha=level), np.uint8)


def _grown(box: Box, by: float) -> Box:
    """``box`` grown by ``by`` of its size on each side (a face's hair and the camera's drift), clipped to 0..1."""
    dx, dy = (box[2] - box[0]) * by, (box[3] - box[1]) * by
    return max(0.0, box[0] - dx), max(0.0, box[1] - dy), min(1.0, box[2] + dx), min(1.0, box[3] + dy)


def _u8(a: F32) -> U8:
    return np.asarray(np.clip(a + 0.5, 0, 255), np.uint8)
