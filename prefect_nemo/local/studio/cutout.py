"""Subject pop's two layers: the subject lifted off the still, and the background filled where it stood.

Made once per image (``Cutout.make``): the subject's soft mask from ``depth`` (GrabCut seeded by the
framing) becomes a feathered alpha, refined edge-aware at the crop's chroma resolution; the background
where the subject stood is inpainted at a low resolution (only a thin band of it is ever uncovered, and
what lies behind a subject is out of focus anyway); an optional soft shadow is cast on that background.
The layer is stored premultiplied (colour x alpha) so bilinear warping cannot drag the old background's
colour in at the edge, and the composite is ``layer + background x (1 - alpha)`` in plain uint8 arithmetic.
The frames are ``subject_pop.SubjectPop``'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from .depth import DepthMap

__all__ = ["Cutout"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]
_FILL_SIDE = 256  # inpainting resolution (long side)
_WORK_SIDE = 640  # alpha and shadow resolution (long side)
_BLACK = (16.0, 128.0, 128.0)  # limited-range YUV black, the shadow's colour
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_FIRM = 0.03  # share of the alpha range snapped to clear / opaque at each end (see _firm)


@dataclass(frozen=True)
class Cutout:
    """The two layers at source resolution: the subject's crops have their luma corner at ``origin``.

    The subject's shadow is cast on ``background``, where it stays as the subject lifts toward the camera
    (the gap between them grows, as it would), so the layer's see-through rim is the feather alone.
    Packed four channels to a crop (a 4-channel warp costs about a 1-channel one; measured 7.7 against
    6.6 ms) for where the subject is see-through; the half-resolution crop also carries the luma, so the
    see-through rim of a frame is composited from that one layer (``pieces.RimComposite``). ``solid``
    holds the premultiplied planes alone, warped straight into the frame where the subject is opaque and
    nothing needs compositing.
    """

    background: Planes
    luma: U8  # the crop, 4 channels: premultiplied Y, 255 - alpha, 0, 0
    chroma: U8  # the crop at half resolution, 4 channels: premultiplied U, V, 255 - alpha and Y (the rim's)
    solid: Planes  # premultiplied Y (crop), U and V (half resolution), single planes
    origin: tuple[int, int]  # even, luma pixels

    @property
    def alpha(self) -> U8:
        """The subject's opacity over the crop, luma resolution."""
        return np.asarray(255 - self.luma[..., 1], np.uint8)

    @classmethod
    def make(cls, src: Planes, depth: DepthMap, *, shadow: bool = True) -> Cutout:
        """Cut the subject of ``depth`` out of ``src`` (the renderer's Y/U/V planes of the same picture)."""
        y, u, v = src
        sh, sw = y.shape
        k = depth.size[0] / sw  # analysis pixels per luma pixel
        bx, by, bw, bh = depth.box
        pad = 0.06 * max(bw, bh) / k  # room for the feather and the shadow
        x0, y0 = (max(0, int((c / k - pad) // 2 * 2)) for c in (bx, by))
        x1 = min(sw, int(math.ceil(((bx + bw) / k + pad) / 2) * 2))
        y1 = min(sh, int(math.ceil(((by + bh) / k + pad) / 2) * 2))
        crop_size = (x1 - x0, y1 - y0)
        work_alpha, work_shade = _alpha(depth, k, (x0, y0, x1, y1), y[y0:y1, x0:x1], shadow)
        alpha = _u8(_firm(work_alpha))
        background = _filled(src, depth)
        packed: list[U8] = []
        solid: list[U8] = []
        for planes, cast_on, blacks, step in (
            ((y,), background[:1], _BLACK[:1], 1),
            ((u, v), background[1:], _BLACK[1:], 2),
        ):
            size = (crop_size[0] // step, crop_size[1] // step)
            a = cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)
            shade = None if work_shade is None else cv2.resize(work_shade, size, interpolation=cv2.INTER_LINEAR)
            channels = []
            for plane, ground, black in zip(planes, cast_on, blacks, strict=True):
                window = (slice(y0 // step, y1 // step), slice(x0 // step, x1 // step))
                channels.append(np.asarray(cv2.multiply(plane[window], a, scale=1 / 255), np.uint8))
                if shade is not None:  # the background darkened toward black where the shadow falls
                    region = ground[window]
                    region[...] = cv2.blendLinear(np.full_like(region, round(black)), region, shade, 1 - shade)
            solid += channels
            channels.append(np.asarray(cv2.bitwise_not(a), np.uint8))
            if step == 1:
                channels += [np.zeros_like(a)] * 2
            else:  # the rim's luma: premultiplied Y averaged to chroma resolution (centre-sited, as U and V)
                channels.append(np.asarray(cv2.resize(solid[0], size, interpolation=cv2.INTER_AREA), np.uint8))
            packed.append(np.asarray(cv2.merge(channels), np.uint8))
        return cls(background, packed[0], packed[1], (solid[0], solid[1], solid[2]), (x0, y0))


def _firm(a: F32) -> F32:
    """The faintest and the nearly opaque 3% of an edge made exactly clear and opaque, the rest stretched
    to meet them (no step anywhere): too little to see, and it halves the see-through band that every frame
    composites (the shadow's and the feather's long faint tails; measured 0.17 -> 0.09 of a frame).
    """
    return np.asarray(np.clip((a - _FIRM) / (1 - 2 * _FIRM), 0, 1), np.float32)


def _u8(a: F32) -> U8:
    return np.asarray(np.clip(a * 255 + 0.5, 0, 255), np.uint8)


def _alpha(depth: DepthMap, k: float, box: tuple[int, int, int, int], luma: U8, shadow: bool) -> tuple[F32, F32 | None]:
    """The subject's alpha, and the strength of its shadow (None without one), over the crop at a working
    size (long side 640).

    The soft mask is pulled onto the picture's own edges (guided filter) and tightened a little so the old
    background does not ride along; the shadow is that alpha blurred, pushed down-right, at 35%.
    """
    x0, y0, x1, y1 = box
    kw = min(1.0, _WORK_SIDE / max(x1 - x0, y1 - y0))
    w, h = max(4, round((x1 - x0) * kw)), max(4, round((y1 - y0) * kw))
    sx, sy = (x1 - x0) / w, (y1 - y0) / h  # luma pixels per work pixel
    m = np.array([[sx * k, 0, (x0 + sx / 2) * k - 0.5], [0, sy * k, (y0 + sy / 2) * k - 0.5]])
    soft = cv2.warpAffine(depth.subject, m, (w, h), flags=_FLAGS, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    guide = cv2.resize(luma, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    refined = cv2.ximgproc.guidedFilter(guide, soft.astype(np.float32), max(2, round(2 * max(w, h) / 640)), 1e-3)
    alpha = np.clip((refined - 0.2) / 0.6, 0, 1).astype(np.float32)
    if not shadow:
        return alpha, None
    offset = 0.015 * max(w, h)
    push = np.array([[1.0, 0.0, offset * 0.6], [0.0, 1.0, offset]])
    moved = cv2.warpAffine(alpha, push, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    shade = 0.35 * cv2.GaussianBlur(moved, (0, 0), offset)
    return alpha, np.asarray(shade, np.float32)


def _filled(src: Planes, depth: DepthMap) -> Planes:
    """The planes with the subject's place inpainted at low resolution (its dilated mask, so no rim of
    the subject survives), blended back in with a soft edge."""
    y, u, v = src
    ch, cw = u.shape
    k = _FILL_SIDE / max(cw, ch)
    size = (max(8, round(cw * k)), max(8, round(ch * k)))
    small = cv2.merge([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in (y[::2, ::2], u, v)])
    mask = cv2.resize(depth.subject, size, interpolation=cv2.INTER_LINEAR)
    grow = max(3, round(0.02 * max(size)))
    hole = cv2.dilate((mask > 0.2).astype(np.uint8), np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    fill = cv2.inpaint(small, hole, 5, cv2.INPAINT_TELEA)
    fill = cv2.GaussianBlur(fill, (0, 0), 3.0)  # what stands behind a subject is out of focus
    weight = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), grow / 2)
    weight = np.maximum(weight, hole)  # the hole itself entirely replaced
    ys, xs = np.nonzero(weight > 1e-3)
    out = [p.copy() for p in src]
    if not xs.size:
        return out[0], out[1], out[2]
    for i, plane in enumerate(out):
        ph, pw = plane.shape
        fx, fy = pw / size[0], ph / size[1]  # plane pixels per fill pixel
        x0, x1 = max(0, int(xs.min() * fx)), min(pw, int((xs.max() + 1) * fx) + 1)
        y0, y1 = max(0, int(ys.min() * fy)), min(ph, int((ys.max() + 1) * fy) + 1)
        m = np.array([[1 / fx, 0, (x0 + 0.5) / fx - 0.5], [0, 1 / fy, (y0 + 0.5) / fy - 0.5]])
        f = cv2.warpAffine(fill[..., i], m, (x1 - x0, y1 - y0), flags=_FLAGS, borderMode=cv2.BORDER_REPLICATE)
        a = cv2.warpAffine(weight, m, (x1 - x0, y1 - y0), flags=_FLAGS, borderMode=cv2.BORDER_REPLICATE)
        region = plane[y0:y1, x0:x1]
        region[...] = cv2.blendLinear(f, region, a, 1 - a)
    return out[0], out[1], out[2]
