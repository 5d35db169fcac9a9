"""A shot: one still on the timeline and how its frames are made.

The draft's ``mo.mode`` picks the maker. ``flat`` is the renderer's warp (three sub-pixel ``warpAffine``
calls along a ``CameraPath``); ``parallax``, ``dolly_zoom`` and ``push_3d`` move a camera through a depth
guess of the still (``parallax.ParallaxCamera``: one ``remap`` per plane); ``pop`` lifts the subject off a
filled-in background (``subject_pop.SubjectPop``). The analysis (depth, cut-out) is made once, when the shot
opens, seeded by the framing's subject box when the draft carries one. A transition warps a flat shot's
``planes`` along its ``path`` itself; it asks any other shot for its frames (``sequence.py``).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from .cutout import Cutout
from .depth import DepthMap, estimate_depth
from .motion import DEPTH_MODES, CameraPath, Motion
from .parallax import ParallaxCamera, ParallaxMove, camera_source
from .subject_pop import SubjectPop

__all__ = ["DepthShot", "FlatShot", "PopShot", "Shot", "open_shot", "picture_depth"]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in 0..1 image coordinates
# INTER_LINEAR samples at exact float positions in OpenCV 5; INTER_CUBIC still rounds them to 1/32 px.
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_ANALYSIS_SIDE = 1024  # the picture the depth guess reads (it works at a long side of 512 itself)
_TRAVEL = 0.7  # the director's default travel: the depth camera's and the pop's default strength
_DIRECTIONS = {"pan_left": (-1.0, 0.0), "pan_right": (1.0, 0.0), "pan_up": (0.0, -1.0), "pan_down": (0.0, 1.0)}


class Shot(Protocol):
    """What the frame loop asks of a still: ``n`` frames, each written into a frame's Y/U/V planes."""

    n: int
    planes: Planes

    def render(self, i: int, dst: Planes) -> None: ...


class FlatShot:
    """The still moved as a flat picture: the renderer's warp, unchanged."""

    def __init__(self, motion: Motion, planes: Planes, out_size: tuple[int, int], n_frames: int) -> None:
        self.planes, self.n = planes, max(1, n_frames)
        self.path = CameraPath(motion, (planes[0].shape[1], planes[0].shape[0]), out_size, self.n)

    def render(self, i: int, dst: Planes) -> None:
        luma, chroma = self.path.matrices(i)
        for plane, target, m in zip(self.planes, dst, (luma, chroma, chroma), strict=True):
            cv2.warpAffine(plane, m, (target.shape[1], target.shape[0]), dst=target, flags=_FLAGS,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


class DepthShot:
    """The camera moving through the still's depth: ``parallax``, ``dolly_zoom`` or ``push_3d``.

    The depth camera looks at the whole of what it is given, so it is given the view the framing asks
    for: the widest view of the frame's aspect around the focus that holds the ``keep`` box, plus the
    camera's margin where the picture has room. Its planes and depth are cropped to that once.
    """

    def __init__(
        self, motion: Motion, planes: Planes, depth: DepthMap, out_size: tuple[int, int], n_frames: int
    ) -> None:
        self.n = max(1, n_frames)
        size = (planes[0].shape[1], planes[0].shape[0])
        strength = round(min(0.1, max(0.005, 0.03 * motion.travel / _TRAVEL)), 4)
        x0, y0, x1, y1 = _view(motion, size, out_size, strength)
        self.crop = (x0, y0, x1, y1)
        cropped = (planes[0][y0:y1, x0:x1], planes[1][y0 // 2 : y1 // 2, x0 // 2 : x1 // 2],
                   planes[2][y0 // 2 : y1 // 2, x0 // 2 : x1 // 2])  # fmt: skip
        self.planes = camera_source(cropped, out_size)
        self.depth = _cropped(depth, (x0 / size[0], y0 / size[1], x1 / size[0], y1 / size[1]))
        fx, fy = motion.focus
        focus = (_inside((fx * size[0] - x0) / (x1 - x0)), _inside((fy * size[1] - y0) / (y1 - y0)))
        self.move = ParallaxMove(
            mode=motion.mode,
            strength=strength,
            ease=motion.ease,
            direction=_DIRECTIONS.get(motion.type, (1.0, 0.0)),
            zoom=motion.zoom if motion.mode == "push_3d" else (1.0, 1.0),
            focus=focus,
        )
        source_size = (self.planes[0].shape[1], self.planes[0].shape[0])
        self.camera = ParallaxCamera(self.depth, self.move, source_size, out_size, self.n)

    def render(self, i: int, dst: Planes) -> None:
        self.camera.render(min(max(i, 0), self.n - 1), self.planes, dst)

    def render_part(
        self, i: int, dst: Planes, box: tuple[int, int, int, int], shift: tuple[float, float] = (0.0, 0.0)
    ) -> None:
        """Only the ``box`` (even luma bounds) of frame ``i`` moved by ``shift``: what a push or slide shows."""
        self.camera.render(min(max(i, 0), self.n - 1), self.planes, dst, box, shift)


class PopShot:
    """The subject lifted off a filled-in background and brought forward while the background moves.

    The subject grows about its base, so what must stay whole (the cut-out subject and the ``keep`` box, or
    the faces alone when the frame cannot hold both) grows with it; the background's camera is asked to keep
    that grown box in view, so neither a face nor the subject's top leaves the frame.
    """

    def __init__(
        self, motion: Motion, planes: Planes, depth: DepthMap, out_size: tuple[int, int], n_frames: int
    ) -> None:
        self.planes, self.n, self.depth = planes, max(1, n_frames), depth
        self.cutout = Cutout.make(planes, depth, shadow=True)
        size = (planes[0].shape[1], planes[0].shape[0])
        bx, by, bw, bh = depth.box
        dw, dh = depth.size
        subject = (bx / dw, by / dh, (bx + bw) / dw, (by + bh) / dh)
        lift, keep = min(0.2, 0.08 * motion.travel / _TRAVEL), motion.keep
        for box in (_union(motion.keep or subject, subject), *([motion.keep] if motion.keep else [])):
            # the whole subject in view, else the faces; the subject grows less where the frame cannot hold it
            fit = next((k for k in (lift, lift / 2, lift / 4) if _fits(_grown(box, self.cutout, k), size, out_size)),
                       None)  # fmt: skip
            if fit is not None:
                lift, keep = fit, _grown(box, self.cutout, fit)
                break
        else:
            lift /= 4
        background = replace(motion, mode="flat", subject=None, keep=keep)
        self.pop = SubjectPop(self.cutout, out_size, self.n, motion=background, lift=lift, drift=(0.0, 0.0))

    def render(self, i: int, dst: Planes) -> None:
        self.pop.render(min(max(i, 0), self.n - 1), dst)


def open_shot(
    motion: Motion, planes: Planes, out_size: tuple[int, int], n_frames: int, *, rgb: U8 | None = None
) -> Shot:
    """The shot ``motion.mode`` asks for over ``planes`` (the renderer's supersampled Y/U/V source).

    ``rgb`` is the same picture as RGB, if at hand: the depth guess reads it (else it is made from the
    planes). The subject box ``motion.subject`` (0..1) seeds the guess; without one the guess finds
    faces, else the most salient region, itself.
    """
    if motion.mode == "flat":
        return FlatShot(motion, planes, out_size, n_frames)
    depth = picture_depth(planes, motion.subject, rgb)
    if motion.mode in DEPTH_MODES:
        return DepthShot(motion, planes, depth, out_size, n_frames)
    return PopShot(motion, planes, depth, out_size, n_frames)


def picture_depth(planes: Planes, subject: Box | None = None, rgb: U8 | None = None) -> DepthMap:
    """The still's depth guess, read from a copy of at most ``_ANALYSIS_SIDE`` pixels."""
    small = _small_rgb(planes) if rgb is None else _shrunk(rgb)
    h, w = small.shape[:2]
    box = None
    if subject is not None:
        x0, y0, x1, y1 = subject
        box = (round(x0 * w), round(y0 * h), max(1, round((x1 - x0) * w)), max(1, round((y1 - y0) * h)))
    return estimate_depth(small, subject=box)


def _view(
    motion: Motion, size: tuple[int, int], out_size: tuple[int, int], strength: float
) -> tuple[int, int, int, int]:
    """Even source pixel bounds of the depth camera's picture: the framed view, grown by its margin."""
    still = Motion(type="static", zoom=(1.0, 1.0), focus=motion.focus, keep=motion.keep)
    corners = CameraPath(still, size, out_size, 1).corners()[0] * np.array(size, np.float64)
    margin = math.ceil(strength * (corners[1, 0] - corners[0, 0])) + 2
    x0, y0 = (max(0, math.floor(c - margin) // 2 * 2) for c in corners[0])
    x1, y1 = (min(limit, math.ceil(c + margin + 1) // 2 * 2) for c, limit in zip(corners[2], size, strict=True))
    return x0, y0, x1, y1


def _grown(keep: Box, cut: Cutout, lift: float) -> Box:
    """The 0..1 ``keep`` box once the subject layer has grown by ``lift`` about the bottom of its crop."""
    h, w = cut.background[0].shape
    lh, lw = cut.luma.shape[:2]
    grow = 1.0 + lift
    ax, ay = (cut.origin[0] + lw / 2) / w, (cut.origin[1] + lh) / h
    x0, y0, x1, y1 = keep
    return ax + (x0 - ax) * grow, ay + (y0 - ay) * grow, ax + (x1 - ax) * grow, ay + (y1 - ay) * grow


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _fits(box: Box, cut_size: tuple[int, int], out_size: tuple[int, int]) -> bool:
    """Whether ``box`` lies on the picture (of ``cut_size``) and one view of the frame's aspect can hold it."""
    if min(box) < 0.0 or max(box) > 1.0:
        return False
    (sw, sh), (w, h) = cut_size, out_size
    cover_w = min(sw, sh * w / h)
    return (box[2] - box[0]) * sw <= cover_w * 0.999 and (box[3] - box[1]) * sh <= cover_w * h / w * 0.999


def _cropped(depth: DepthMap, box: Box) -> DepthMap:
    """The depth guess over the 0..1 ``box`` of its picture."""
    w, h = depth.size
    x0, y0 = round(box[0] * w), round(box[1] * h)
    x1, y1 = max(x0 + 2, round(box[2] * w)), max(y0 + 2, round(box[3] * h))
    bx, by, bw, bh = depth.box
    left, top = max(bx, x0), max(by, y0)
    right, bottom = max(left + 1, min(bx + bw, x1)), max(top + 1, min(by + bh, y1))
    return DepthMap(
        np.ascontiguousarray(depth.near[y0:y1, x0:x1]),
        np.ascontiguousarray(depth.subject[y0:y1, x0:x1]),
        (left - x0, top - y0, right - left, bottom - top),
        depth.scale,
    )


def _inside(v: float) -> float:
    return min(1.0, max(0.0, v))


def _shrunk(rgb: U8) -> U8:
    h, w = rgb.shape[:2]
    k = _ANALYSIS_SIDE / max(w, h)
    if k >= 1:
        return rgb
    return np.asarray(cv2.resize(rgb, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA), np.uint8)


def _small_rgb(planes: Planes) -> U8:
    """RGB from the Y/U/V planes at a reduced size (BT.601; the depth cues need no exact colour)."""
    y, u, v = planes
    h, w = y.shape
    step = max(1, math.ceil(max(w, h) / _ANALYSIS_SIDE / 2)) * 2
    size = (w // step // 4 * 4, h // step // 4 * 4)  # I420 stacks U and V as whole rows
    ys = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    us, vs = (cv2.resize(p, (size[0] // 2, size[1] // 2), interpolation=cv2.INTER_AREA) for p in (u, v))
    i420 = np.vstack([ys, us.reshape(-1, size[0]), vs.reshape(-1, size[0])])
    return np.asarray(cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420), np.uint8)
