"""Frames between two shots of a timeline: crossfade, push, slide, zoom-through and dip to black.

A shot is a still's source planes and its camera path, so a transition never needs finished frames: it
warps each shot straight into the part of the frame where it shows (push and slide split the frame, so a
frame costs one warp), with its own camera move composed with the transition's offset or zoom. Where two
shots overlap (crossfade, the middle of zoom-through) the fainter one is warped at half resolution, or a
quarter while its weight is at most a quarter, and enlarged: its missing detail is seen only as much as it
weighs, and the frame costs about one and a quarter warps instead of two. The first frame is exactly shot
A's and the last exactly shot B's.

A shot that is no flat warp of its still (a camera through depth, a subject pop) is a ``Drawn`` shot: it
draws its own frame, the one it shows outside the join, and the transition moves that frame instead (drawn
straight into the output where the transition leaves it in place), so the join neither changes its look
nor jumps when it ends. Such a frame costs the shot's own frame plus at most the transition's warp; a depth
shot draws only the part of its frame the join shows, and a push or slide has it draw that part already
moved, straight into the output (sampled once, like a still), so a push between two depth shots costs
about one depth frame, not two.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from .motion import ease
from .pieces import Scratch

__all__ = ["TRANSITIONS", "Drawn", "Shot", "Transition", "duration_frames"]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1: even luma pixel bounds
TRANSITIONS = ("crossfade", "push", "slide", "zoom_through", "dip_to_black")
_DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}  # where the old shot goes
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_BLACK = (16, 128, 128)  # limited-range YUV
_THROUGH_ZOOM = 1.8  # zoom-through: how far into A the camera dives (and out of B it comes)
_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
_QUARTER_BELOW = 0.25  # the fainter shot's weight up to which it is warped at a quarter of the resolution


class Path(Protocol):
    def matrices(self, i: int) -> tuple[F64, F64]: ...


@dataclass(frozen=True)
class Shot:
    """One still on the timeline: its source planes, its camera, and its frame at the transition's start."""

    planes: Planes
    path: Path
    first: int = 0

    def luma_matrix(self, i: int) -> F64:
        return self.path.matrices(self.first + i)[0]


class Drawn:
    """A shot that draws its own frames (``draw(j, dst)``, j its own frame index; ``first`` at the join's start).

    Its frame is drawn once per transition frame into a buffer of the output's size, reduced on demand for the
    fainter side of a blend; where the transition shows it unmoved and whole, it is drawn into the output.
    A shot that can draw part of a frame, moved (``draw_part(j, dst, box, shift)``: pixel x of the box shows
    its frame's x - shift; a depth shot), draws only what a push or slide shows of it, straight into place:
    the frame then costs about one shot's, not two, and the shot is sampled once, not drawn and then warped.
    """

    def __init__(
        self,
        draw: Callable[[int, Planes], None],
        out_size: tuple[int, int],
        first: int = 0,
        *,
        draw_part: Callable[[int, Planes, Box, tuple[float, float]], None] | None = None,
    ) -> None:
        w, h = out_size
        self.draw, self.draw_part, self.first = draw, draw_part, first
        self.planes: Planes = _planes((w, h))
        self._reduced = {step: _planes((w // step, h // step)) for step in (2, 4)}
        self._held = {1: -1, 2: -1, 4: -1}  # the frame each buffer holds, by its step
        self._part: Box | None = None  # the part of frame ``_held[1]`` that ``planes`` holds (None: all)

    def frame(self, i: int, part: Box | None = None) -> Planes:
        """Frame ``i`` of the join in ``planes``, at least its ``part`` (even luma bounds; None: all of it),
        drawn once per ``i`` unless a later call asks for more."""
        if self.draw_part is None or part == (0, 0, self.planes[0].shape[1], self.planes[0].shape[0]):
            part = None
        if self._held[1] != i or not _holds(self._part, part):
            if part is None or self.draw_part is None:
                self.draw(self.first + i, self.planes)
            else:
                self.draw_part(self.first + i, self.planes, part, (0.0, 0.0))
            self._held[1], self._part = i, part
        return self.planes

    def reduced(self, i: int, step: int) -> Planes:
        """Frame ``i`` of the join at 1/``step`` (2 or 4) of its size by ``pyrDown``: pixel j is pixel step * j."""
        if self._held[step] != i:
            finer = self.frame(i) if step == 2 else self.reduced(i, step // 2)
            for plane, small in zip(finer, self._reduced[step], strict=True):
                cv2.pyrDown(plane, dst=small, dstsize=small.shape[::-1])
            self._held[step] = i
        return self._reduced[step]

    def luma_matrix(self, i: int) -> F64:
        return _IDENTITY


class Transition:
    """``n_frames`` frames from shot ``a`` to shot ``b``; ``direction`` is where the old shot leaves to."""

    def __init__(
        self,
        kind: str,
        out_size: tuple[int, int],
        n_frames: int,
        *,
        direction: str = "left",
        curve: str = "ease_in_out",
    ) -> None:
        if kind not in TRANSITIONS:
            raise ValueError(f"unknown transition {kind!r}; expected one of {', '.join(TRANSITIONS)}")
        if direction not in _DIRECTIONS:
            raise ValueError(f"unknown transition direction {direction!r}; expected one of {', '.join(_DIRECTIONS)}")
        if n_frames < 2:
            raise ValueError(f"a transition needs at least 2 frames, got {n_frames}")
        self.kind, self.out, self.n, self.direction = kind, out_size, n_frames, direction
        self.progress = ease(curve, np.linspace(0.0, 1.0, n_frames))
        self._scratch = Scratch(out_size[0] * out_size[1])  # blend buffers kept between frames
        self._reduced: dict[tuple[int, int], tuple[U8, Planes, float]] = {}  # by luma plane id and step, kept alive

    def _reduced_source(self, shot: Shot | Drawn, i: int, step: int) -> tuple[Planes, float]:
        """What the fainter shot of a blend is warped from into a frame 1/``step`` the size, and its scale to
        the shot's own planes (pixel j is pixel j / scale): a drawn shot's frame reduced; a still's planes
        reduced by ``pyrDown`` until about as fine as that frame, made once per still and step. A source
        warped about 1:1 reads a quarter of the memory of one twice as fine, and aliases less than every
        other pixel of it."""
        if isinstance(shot, Drawn):
            return shot.reduced(i, step), 1 / step
        key = (id(shot.planes[0]), step)
        if key not in self._reduced:
            fine = math.sqrt(abs(np.linalg.det(shot.luma_matrix(0)[:, :2]))) * step  # source px per small px
            levels = max(1, int(math.log2(max(fine, 1.0)) + 0.25))
            y, u, v = shot.planes
            for _ in range(levels):
                y, u, v = (np.asarray(cv2.pyrDown(p), np.uint8) for p in (y, u, v))
            self._reduced[key] = (shot.planes[0], (y, u, v), 0.5**levels)
        _, planes, scale = self._reduced[key]
        return planes, scale

    def render(self, i: int, a: Shot | Drawn, b: Shot | Drawn, dst: Planes) -> None:
        """Frame ``i`` (0..n-1) of the transition written into ``dst`` (Y full, U/V half resolution)."""
        p = float(self.progress[min(max(i, 0), self.n - 1)])
        w, h = self.out
        if p <= 0.0 or p >= 1.0:
            _warp(a if p <= 0.0 else b, i, dst, (0, 0, w, h))
        elif self.kind == "crossfade":
            _blend(a, b, i, p, dst, self._scratch, self._reduced_source)
        elif self.kind == "dip_to_black":
            _warp(a if p < 0.5 else b, i, dst, (0, 0, w, h))
            _fade(dst, abs(1.0 - 2.0 * p))
        elif self.kind == "zoom_through":
            self._zoom_through(a, b, i, p, dst)
        else:
            self._split(a, b, i, p, dst)

    def _split(self, a: Shot | Drawn, b: Shot | Drawn, i: int, p: float, dst: Planes) -> None:
        """Push (both move) and slide (the new shot moves in over the still old one): two disjoint regions."""
        w, h = self.out
        dx, dy = _DIRECTIONS[self.direction]
        span = w if dx else h
        moved = p * span
        cut = round((span - moved if dx + dy < 0 else moved) / 2) * 2  # even, for chroma
        old_shift = (dx * moved, dy * moved) if self.kind == "push" else (0.0, 0.0)
        new_shift = (dx * (moved - span), dy * (moved - span))
        if dx + dy < 0:  # the old shot keeps the first part of the frame
            old_box, new_box = (0, 0, cut, h) if dx else (0, 0, w, cut), (cut, 0, w, h) if dx else (0, cut, w, h)
        else:
            old_box, new_box = (cut, 0, w, h) if dx else (0, cut, w, h), (0, 0, cut, h) if dx else (0, 0, w, cut)
        _warp(a, i, dst, old_box, shift=old_shift)
        _warp(b, i, dst, new_box, shift=new_shift)

    def _zoom_through(self, a: Shot | Drawn, b: Shot | Drawn, i: int, p: float, dst: Planes) -> None:
        """Dive into A, come out of B; the two are mixed only over the middle fifth."""
        w, h = self.out
        zoom_a = _THROUGH_ZOOM ** min(1.0, p / 0.6)
        zoom_b = _THROUGH_ZOOM ** min(1.0, (1.0 - p) / 0.6)
        mix = min(1.0, max(0.0, (p - 0.4) / 0.2))
        if mix <= 0.0 or mix >= 1.0:
            shot, zoom = (a, zoom_a) if mix <= 0.0 else (b, zoom_b)
            _warp(shot, i, dst, (0, 0, w, h), zoom=zoom)
        else:
            _blend(a, b, i, mix, dst, self._scratch, self._reduced_source, zooms=(zoom_a, zoom_b))


def _warp(
    shot: Shot | Drawn,
    i: int,
    dst: Planes,
    box: Box,
    *,
    shift: tuple[float, float] = (0.0, 0.0),
    zoom: float = 1.0,
    reduced: tuple[Planes, float, int] | None = None,
) -> None:
    """Warp ``shot``'s frame ``i`` into ``box`` of ``dst`` (even bounds), moved by ``shift``, zoomed by ``zoom``.

    The shown pixel x is the shot's own frame at ``(x - c) / zoom + c - shift``; with ``reduced`` (planes
    reduced from the shot's own, their scale to them, and a step of 2 or 4) the planes in ``dst`` are
    1/step the frame's size (the fainter layer of a blend), pixel j showing the frame's pixel step * j,
    where ``cv2.pyrUp`` puts it back.
    """
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return
    if isinstance(shot, Drawn) and reduced is None and zoom == 1.0:
        if shot.draw_part is not None:  # drawn straight into place, moved
            shot.draw_part(shot.first + i, dst, box, (float(shift[0]), float(shift[1])))
            return
        if shift == (0.0, 0.0):
            _unmoved(shot, i, dst, box)
            return
    step = reduced[2] if reduced is not None else 1
    frame_w, frame_h = dst[0].shape[1] * step, dst[0].shape[0] * step
    centre = np.array([(frame_w - 1) / 2, (frame_h - 1) / 2])
    m = shot.luma_matrix(i)
    lin, off = m[:, :2], m[:, 2]
    base = centre - centre / zoom - np.asarray(shift)  # the shot's pixel shown at x = x / zoom + base
    corner = np.array([x0, y0], np.float64) * step
    luma_lin = lin * (step / zoom)
    luma_off = off + lin @ (corner / zoom + base)
    chroma_off = (luma_off + luma_lin @ [0.5, 0.5] + 0.5) / 2 - 0.5
    planes, scale = reduced[:2] if reduced is not None else (shot.planes, 1.0)
    if isinstance(shot, Drawn) and reduced is None:
        planes = shot.frame(i, _seen(box, zoom, base, (frame_w, frame_h)))
    for plane, target, o, s in zip(planes, dst, (luma_off, chroma_off, chroma_off), (1, 2, 2), strict=True):
        mat = np.hstack([luma_lin, o[:, None]]) * scale
        region = target[y0 // s : y1 // s, x0 // s : x1 // s]
        cv2.warpAffine(plane, mat, region.shape[::-1], dst=region, flags=_FLAGS, borderMode=cv2.BORDER_REPLICATE)


def _seen(box: Box, zoom: float, base: F64, size: tuple[int, int]) -> Box:
    """The part of a drawn shot's frame that ``box`` shows when pixel x shows its pixel ``x / zoom + base``:
    even bounds, grown by 4 pixels for the bilinear neighbours (2 in chroma), at least 2 pixels wide."""
    lo = np.array(box[:2], np.float64) / zoom + base
    hi = (np.array(box[2:], np.float64) - 1) / zoom + base
    bounds = []
    for a, b, limit in zip(lo, hi, size, strict=True):
        start = min(max(0, math.floor(a - 4) // 2 * 2), limit - 2)
        bounds.append((start, min(max(start + 2, math.ceil((b + 5) / 2) * 2), limit)))
    (x0, x1), (y0, y1) = bounds
    return x0, y0, x1, y1


def _holds(held: Box | None, wanted: Box | None) -> bool:
    """Whether a buffer holding ``held`` of a frame (None: all) holds ``wanted`` of it."""
    if held is None or wanted is None:
        return held is None
    return held[0] <= wanted[0] and held[1] <= wanted[1] and held[2] >= wanted[2] and held[3] >= wanted[3]


def _unmoved(shot: Drawn, i: int, dst: Planes, box: Box) -> None:
    """A drawn shot's frame ``i`` shown where it stands: drawn into ``dst`` if whole, else copied from its
    buffer."""
    x0, y0, x1, y1 = box
    if box == (0, 0, dst[0].shape[1], dst[0].shape[0]):
        shot.draw(shot.first + i, dst)
        return
    for plane, target, s in zip(shot.frame(i), dst, (1, 2, 2), strict=True):
        target[y0 // s : y1 // s, x0 // s : x1 // s] = plane[y0 // s : y1 // s, x0 // s : x1 // s]


def _blend(
    a: Shot | Drawn,
    b: Shot | Drawn,
    i: int,
    p: float,
    dst: Planes,
    scratch: Scratch,
    reduced: Callable[[Shot | Drawn, int, int], tuple[Planes, float]],
    zooms: tuple[float, float] = (1.0, 1.0),
) -> None:
    """``(1 - p) a + p b``: the stronger shot at full resolution, the fainter at half (a quarter while it
    weighs at most ``_QUARTER_BELOW``), enlarged by ``pyrUp`` (faster than a bilinear resize, measured; its
    slight softening is seen only as much as the shot weighs); the buffers in ``scratch`` are reused from
    frame to frame (fresh ones each frame cost page faults)."""
    h, w = dst[0].shape
    strong, faint, z_strong, z_faint, weight = (a, b, *zooms, p) if p < 0.5 else (b, a, zooms[1], zooms[0], 1 - p)
    _warp(strong, i, dst, (0, 0, w, h), zoom=z_strong)

    step = 4 if weight <= _QUARTER_BELOW else 2
    luma, chroma = (h // step, w // step), (h // (2 * step), w // (2 * step))
    small: Planes = (scratch.get(0, luma), scratch.get(1, chroma), scratch.get(2, chroma))
    _warp(faint, i, small, (0, 0, w // step, h // step), zoom=z_faint, reduced=(*reduced(faint, i, step), step))
    for target, part in zip(dst, small, strict=True):
        if step == 4:  # enlarged to half the target's size first
            half = scratch.get(4, (target.shape[0] // 2, target.shape[1] // 2))
            cv2.pyrUp(part, dst=half, dstsize=half.shape[::-1])
            part = half
        big = scratch.get(3, target.shape)  # luma's, then each chroma plane's in turn
        cv2.pyrUp(part, dst=big, dstsize=target.shape[::-1])
        cv2.addWeighted(target, 1.0 - weight, big, weight, 0.0, dst=target)


def _planes(size: tuple[int, int]) -> Planes:
    """Y, U and V buffers for a frame of ``size`` (chroma at half resolution)."""
    w, h = size
    return np.empty((h, w), np.uint8), np.empty((h // 2, w // 2), np.uint8), np.empty((h // 2, w // 2), np.uint8)


def _fade(dst: Planes, level: float) -> None:
    """Scale toward black (limited-range YUV): ``level`` 1 keeps the picture, 0 is black."""
    for plane, black in zip(dst, _BLACK, strict=True):
        cv2.convertScaleAbs(plane, dst=plane, alpha=level, beta=black * (1.0 - level))


def duration_frames(seconds: float, fps: int) -> int:
    """Frames of a transition lasting ``seconds`` (at least 2, so both endpoints are shown)."""
    return max(2, math.ceil(seconds * fps))
