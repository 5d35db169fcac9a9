"""Subject pop: the subject lifted off the still and moved as its own layer over a filled-in background.

Made once per image (``Cutout.make``): the subject's soft mask from ``depth`` (GrabCut seeded by the
framing) becomes a feathered alpha, refined edge-aware at the crop's chroma resolution; the background
where the subject stood is inpainted at a low resolution (only a thin band of it is ever uncovered, and
what lies behind a subject is out of focus anyway); an optional soft shadow is folded into the layer.
The layer is stored premultiplied (colour x alpha) so bilinear warping cannot drag the old background's
colour in at the edge, and the composite is ``layer + background x (1 - alpha)`` in plain uint8 arithmetic.

Per frame (``SubjectPop.render``): the background is one affine warp, the subject a second one of its
crop only, composited only inside the subject's box on the frame, so a frame costs about one warp plus
the box's share of one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from .depth import DepthMap
from .motion import CameraPath, Motion, ease

__all__ = ["Cutout", "SubjectPop"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]
_FILL_SIDE = 256  # inpainting resolution (long side)
_WORK_SIDE = 640  # alpha and shadow resolution (long side)
_BLACK = (16.0, 128.0, 128.0)  # limited-range YUV black, the shadow's colour
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_GENTLE_PUSH = Motion(zoom=(1.0, 1.06))
_BAND = 64  # background rows per warp piece: the opaque subject's span is skipped in each
_SAFE = 6  # crop pixels kept clear of the opaque run's ends (bilinear support, chroma)


@dataclass(frozen=True)
class Cutout:
    """The two layers at source resolution: ``layer``/``alpha`` are crops whose luma corner is ``origin``."""

    background: Planes
    luma: U8  # the crop, 4 channels: premultiplied Y, 255 - alpha, 0, 0
    chroma: U8  # the crop at half resolution, 4 channels: premultiplied U, V, 255 - alpha, 0
    origin: tuple[int, int]  # even, luma pixels

    @property
    def alpha(self) -> U8:
        """The layer's opacity (subject and shadow) over the crop, luma resolution."""
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
        alpha, total = (_u8(m) for m in _alpha(depth, k, (x0, y0, x1, y1), y[y0:y1, x0:x1], shadow))
        # Four channels because a 4-channel warpAffine costs about what a 1-channel one does (2 costs more).
        packed = []
        for planes, blacks, step in (((y,), _BLACK[:1], 1), ((u, v), _BLACK[1:], 2)):
            size = (crop_size[0] // step, crop_size[1] // step)
            a, a_total = (cv2.resize(m, size, interpolation=cv2.INTER_LINEAR) for m in (alpha, total))
            shade = cv2.subtract(a_total, a)
            channels = []
            for plane, black in zip(planes, blacks, strict=True):
                crop = plane[y0 // step : y1 // step, x0 // step : x1 // step]
                channels.append(
                    cv2.add(cv2.multiply(crop, a, scale=1 / 255), cv2.convertScaleAbs(shade, alpha=black / 255))
                )
            channels.append(cv2.bitwise_not(a_total))
            channels += [np.zeros_like(a)] * (4 - len(channels))
            packed.append(np.asarray(cv2.merge(channels), np.uint8))
        return cls(_filled(src, depth), packed[0], packed[1], (x0, y0))


class SubjectPop:
    """Per-frame composite of the two layers: the background follows ``motion``; the subject follows it
    too, grown by ``lift`` over the move about its own base and drifted by ``drift`` (shares of the
    frame), so it seems to come forward off the picture."""

    def __init__(
        self,
        cutout: Cutout,
        out_size: tuple[int, int],
        n_frames: int,
        *,
        motion: Motion = _GENTLE_PUSH,
        lift: float = 0.08,
        drift: tuple[float, float] = (0.0, -0.01),
    ) -> None:
        self.cut, self.out, self.n = cutout, out_size, max(1, n_frames)
        sh, sw = cutout.background[0].shape
        self.background = CameraPath(motion, (sw, sh), out_size, self.n)
        lh, lw = cutout.luma.shape[:2]
        ox, oy = cutout.origin
        self._anchor = np.array([ox + lw / 2, oy + lh * 0.95])  # the subject grows from where it stands
        t = np.linspace(0.0, 1.0, self.n) if self.n > 1 else np.zeros(1)
        e = ease(motion.ease, t)
        self._runs = _opaque_runs(cutout.alpha)
        self._grow = (1.0 + lift) ** e  # log-linear: a constant-speed move grows the subject at a constant rate
        self._drift = np.outer(e, drift) * out_size[0]

    def subject_matrix(self, i: int) -> F64:
        """Luma inverse map of the subject layer for frame ``i``: output pixel -> crop pixel."""
        bg, _ = self.background.matrices(i)
        lin, off = bg[:, :2], bg[:, 2]
        g, a = self._grow[i], self._anchor
        lin_s = lin / g  # src = a + (bg(p - drift) - a) / g
        off_s = a + (off - lin @ self._drift[i] - a) / g
        return np.hstack([lin_s, (off_s - np.array(self.cut.origin, np.float64))[:, None]])

    def render(self, i: int, dst: Planes) -> None:
        """Frame ``i`` written into ``dst`` (Y full, U/V half): background warp, then the subject's box."""
        m = self.subject_matrix(i)
        self._background(i, m, dst)
        box = self._box(m)
        if box is None:
            return
        x0, y0, x1, y1 = box
        mb = m.copy()
        mb[:, 2] += m[:, :2] @ [x0, y0]  # sample from the box's corner
        mc = mb.copy()
        mc[:, 2] = (mb[:, 2] + mb[:, :2] @ [0.5, 0.5] + 0.5) / 2 - 0.5  # chroma: centre-sited half resolution
        size = (x1 - x0, y1 - y0)
        yl, keep, _, _ = cv2.split(cv2.warpAffine(self.cut.luma, mb, size, flags=_FLAGS, borderValue=(0, 255, 0, 0)))
        half = (size[0] // 2, size[1] // 2)
        ul, vl, keep_c, _ = cv2.split(
            cv2.warpAffine(self.cut.chroma, mc, half, flags=_FLAGS, borderValue=(0, 0, 255, 0))
        )
        for target, colour, inv, s in ((dst[0], yl, keep, 1), (dst[1], ul, keep_c, 2), (dst[2], vl, keep_c, 2)):
            region = target[y0 // s : y1 // s, x0 // s : x1 // s]
            cv2.multiply(region, inv, dst=region, scale=1 / 255)
            cv2.add(region, colour, dst=region)

    def _background(self, i: int, m: F64, dst: Planes) -> None:
        """The background warp, skipping in each band of rows the span the opaque subject will cover."""
        luma, chroma = self.background.matrices(i)
        w, h = self.out
        for top in range(0, h, _BAND):
            bottom = min(h, top + _BAND)
            left, right = self._opaque_span(m, top, bottom)
            pieces = ((0, left), (right, w)) if right > left else ((0, w),)
            for x0, x1 in (piece for piece in pieces if piece[1] > piece[0]):  # an empty size would mean "as src"
                for plane, target, mat, s in zip(
                    self.cut.background, dst, (luma, chroma, chroma), (1, 2, 2), strict=True
                ):
                    region = target[top // s : bottom // s, x0 // s : x1 // s]
                    moved = mat.copy()
                    moved[:, 2] += mat[:, :2] @ [x0 // s, top // s]
                    cv2.warpAffine(plane, moved, region.shape[::-1], dst=region, flags=_FLAGS,
                                   borderMode=cv2.BORDER_REPLICATE)  # fmt: skip

    def _opaque_span(self, m: F64, top: int, bottom: int) -> tuple[int, int]:
        """Even output columns [left, right) that the opaque subject covers on every row of the band, by
        the crop's per-row longest opaque run (empty when the subject layer is rotated or absent there)."""
        if abs(m[0, 1]) > 1e-9 or abs(m[1, 0]) > 1e-9:
            return 0, 0
        rows = self._runs.shape[0]
        r0 = max(0, math.floor(m[1, 1] * top + m[1, 2]) - 2)
        r1 = min(rows, math.ceil(m[1, 1] * (bottom - 1) + m[1, 2]) + 3)
        if r1 <= r0 or r0 >= rows or r1 <= 0:
            return 0, 0
        lo, hi = int(self._runs[r0:r1, 0].max()) + _SAFE, int(self._runs[r0:r1, 1].min()) - _SAFE
        if hi <= lo:
            return 0, 0
        left = math.ceil((lo - m[0, 2]) / m[0, 0] / 2) * 2
        right = math.floor((hi - m[0, 2]) / m[0, 0] / 2) * 2
        return max(0, left), min(self.out[0], right)

    def _box(self, m: F64) -> tuple[int, int, int, int] | None:
        """The subject crop's footprint on the frame (even bounds, clipped), or None when off-frame."""
        lh, lw = self.cut.luma.shape[:2]
        full = np.vstack([m, [0.0, 0.0, 1.0]])
        inv = np.linalg.inv(full)[:2]
        corners = np.array([[0, 0, 1], [lw, 0, 1], [0, lh, 1], [lw, lh, 1]], np.float64).T
        pts = inv @ corners
        w, h = self.out
        x0, y0 = (max(0, math.floor(c.min() - 2) // 2 * 2) for c in pts)
        x1, y1 = (min(limit, math.ceil(c.max() + 2) // 2 * 2 + 2) for c, limit in zip(pts, (w, h), strict=True))
        return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def _opaque_runs(alpha: U8) -> npt.NDArray[np.int64]:
    """Per row of the crop, the longest run of fully opaque pixels as [first, last] (an empty [w, -1])."""
    h, w = alpha.shape
    edges = np.diff(np.pad(alpha == 255, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rs, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # row-major order pairs each run's end with its start
    runs = np.tile([w, -1], (h, 1)).astype(np.int64)
    if rs.size:
        order = np.lexsort((ends - starts, rs))  # by row, then by length: the last of each row is its longest
        last = order[np.r_[rs[order][1:] != rs[order][:-1], True]]
        runs[rs[last], 0], runs[rs[last], 1] = starts[last], ends[last] - 1
    return runs


def _u8(a: F32) -> U8:
    return np.asarray(np.clip(a * 255 + 0.5, 0, 255), np.uint8)


def _alpha(depth: DepthMap, k: float, box: tuple[int, int, int, int], luma: U8, shadow: bool) -> tuple[F32, F32]:
    """The subject's alpha, and alpha with the shadow, over the crop at a working size (long side 640).

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
        return alpha, alpha
    offset = 0.015 * max(w, h)
    push = np.array([[1.0, 0.0, offset * 0.6], [0.0, 1.0, offset]])
    moved = cv2.warpAffine(alpha, push, (w, h), borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    shade = 0.35 * cv2.GaussianBlur(moved, (0, 0), offset)
    return alpha, np.asarray(alpha + shade * (1 - alpha), np.float32)


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
