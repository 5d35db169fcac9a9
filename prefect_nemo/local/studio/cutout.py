"""Subject pop: the subject lifted off the still and moved as its own layer over a filled-in background.

Made once per image (``Cutout.make``): the subject's soft mask from ``depth`` (GrabCut seeded by the
framing) becomes a feathered alpha, refined edge-aware at the crop's chroma resolution; the background
where the subject stood is inpainted at a low resolution (only a thin band of it is ever uncovered, and
what lies behind a subject is out of focus anyway); an optional soft shadow is folded into the layer.
The layer is stored premultiplied (colour x alpha) so bilinear warping cannot drag the old background's
colour in at the edge, and the composite is ``layer + background x (1 - alpha)`` in plain uint8 arithmetic.

Per frame (``SubjectPop.render``): the largest rectangle the opaque subject covers on the frame is the
subject's planes warped straight in; the background is warped around it (at most four pieces), and the
subject composited over the rest of its box, so a frame costs about one warp plus a share of one.
"""

from __future__ import annotations

import itertools
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
_SAFE = 6  # crop pixels kept clear of the opaque rectangles' sides (bilinear support, chroma, rounding)
_FIRM = 0.03  # share of the alpha range snapped to clear / opaque at each end (see _firm)
_BANDS = 8  # bands of the subject's rows, each with its own visible and opaque span
Box = tuple[int, int, int, int]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Cutout:
    """The two layers at source resolution: the subject's crops have their luma corner at ``origin``.

    Packed four channels to a crop (a 4-channel warp costs about a 1-channel one; measured 7.7 against
    6.6 ms) for where the subject is see-through; ``solid`` holds the same premultiplied planes alone,
    warped straight into the frame where the subject is opaque and nothing needs compositing.
    """

    background: Planes
    luma: U8  # the crop, 4 channels: premultiplied Y, 255 - alpha, 0, 0
    chroma: U8  # the crop at half resolution, 4 channels: premultiplied U, V, 255 - alpha, 0
    solid: Planes  # premultiplied Y (crop), U and V (half resolution), single planes
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
        alpha, total = (_u8(_firm(m)) for m in _alpha(depth, k, (x0, y0, x1, y1), y[y0:y1, x0:x1], shadow))
        packed: list[U8] = []
        solid: list[U8] = []
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
            solid += [np.asarray(c, np.uint8) for c in channels]
            channels.append(cv2.bitwise_not(a_total))
            channels += [np.zeros_like(a)] * (4 - len(channels))
            packed.append(np.asarray(cv2.merge(channels), np.uint8))
        return cls(_filled(src, depth), packed[0], packed[1], (solid[0], solid[1], solid[2]), (x0, y0))


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
        self._bands = _bands(cutout.alpha)
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
        """Frame ``i`` written into ``dst`` (Y full, U/V half): the background around the opaque subject,
        the opaque subject warped straight in, and a composite only where the layer is see-through."""
        m = self.subject_matrix(i)
        spans = self._spans(m)
        holes = [hole for _, hole in spans if hole[2] > hole[0]]
        luma, chroma = self.background.matrices(i)
        for piece in _around((0, 0, *self.out), holes):
            _warp(self.cut.background, (luma, chroma), piece, dst, border=cv2.BORDER_REPLICATE)
        mc = m.copy()
        mc[:, 2] = (m[:, 2] + m[:, :2] @ [0.5, 0.5] + 0.5) / 2 - 0.5  # chroma: centre-sited half resolution
        for hole in holes:
            _warp(self.cut.solid, (m, mc), hole, dst, border=cv2.BORDER_CONSTANT)
        box = self._box(m)
        if not spans and box is not None:  # rotated: the whole box
            self._composite(m, mc, box, dst)
        for shows, hole in spans:
            for piece in _around(_clip(shows, self.out), [hole] if hole[2] > hole[0] else []):
                self._composite(m, mc, piece, dst)

    def _composite(self, m: F64, mc: F64, box: Box, dst: Planes) -> None:
        """``layer + frame x (1 - alpha)`` over ``box`` of ``dst`` (even bounds)."""
        x0, y0, x1, y1 = box
        mb, mbc = (_moved(mat, x0 // s, y0 // s) for mat, s in ((m, 1), (mc, 2)))
        size = (x1 - x0, y1 - y0)
        yl, keep, _, _ = cv2.split(cv2.warpAffine(self.cut.luma, mb, size, flags=_FLAGS, borderValue=(0, 255, 0, 0)))
        half = (size[0] // 2, size[1] // 2)
        ul, vl, keep_c, _ = cv2.split(
            cv2.warpAffine(self.cut.chroma, mbc, half, flags=_FLAGS, borderValue=(0, 0, 255, 0))
        )
        for target, colour, inv, s in ((dst[0], yl, keep, 1), (dst[1], ul, keep_c, 2), (dst[2], vl, keep_c, 2)):
            region = target[y0 // s : y1 // s, x0 // s : x1 // s]
            cv2.multiply(region, inv, dst=region, scale=1 / 255)
            cv2.add(region, colour, dst=region)

    def _spans(self, m: F64) -> list[tuple[Box, Box]]:
        """Per band of the subject's rows, its output box where the layer shows and, inside it, where it is
        opaque (even bounds, clipped; an empty box when none); none when the subject layer is rotated."""
        if abs(m[0, 1]) > 1e-9 or abs(m[1, 0]) > 1e-9:
            return []
        w, h = self.out
        (a, _, tx), (_, d, ty) = m

        def col(c: float, up: bool) -> int:
            x = (c - tx) / a / 2
            return int(min(w, max(0, (math.ceil(x) if up else math.floor(x)) * 2)))

        spans = []
        for r0, r1, v0, v1, o0, o1 in self._bands:
            y0, y1 = (min(h, max(0, round((r - ty) / d / 2) * 2)) for r in (r0, r1))
            if y1 > y0 and v1 > v0:
                shows = (col(v0, False) - 2, y0, col(v1, True) + 2, y1)
                spans.append((shows, (col(o0, True), y0, col(o1, False), y1)))
        return spans

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


def _around(outer: Box, holes: list[Box]) -> list[Box]:
    """``outer`` less ``holes`` (disjoint, top to bottom): the rows between them full width, and left and
    right of each within its rows (empty pieces left out: OpenCV would read an empty size as "as src")."""
    ox0, oy0, ox1, oy1 = outer
    pieces, y = [], oy0
    for x0, y0, x1, y1 in holes:
        x0, y0, x1, y1 = max(ox0, x0), max(y, y0), min(ox1, x1), min(oy1, y1)
        if x1 <= x0 or y1 <= y0:
            continue
        pieces += [(ox0, y, ox1, y0), (ox0, y0, x0, y1), (x1, y0, ox1, y1)]
        y = y1
    pieces.append((ox0, y, ox1, oy1))
    return [b for b in pieces if b[2] > b[0] and b[3] > b[1]]


def _clip(box: Box, size: tuple[int, int]) -> Box:
    x0, y0, x1, y1 = box
    return max(0, x0), max(0, y0), min(size[0], x1), min(size[1], y1)


def _moved(mat: F64, x: int, y: int) -> F64:
    """``mat`` for an output whose corner is pixel (x, y)."""
    out = mat.copy()
    out[:, 2] += mat[:, :2] @ [x, y]
    return out


def _warp(planes: Planes, mats: tuple[F64, F64], box: Box, dst: Planes, *, border: int) -> None:
    """``planes`` (Y full, U/V half) warped by the luma and chroma matrices into ``box`` of ``dst``."""
    x0, y0, x1, y1 = box
    for plane, target, mat, s in zip(planes, dst, (mats[0], mats[1], mats[1]), (1, 2, 2), strict=True):
        region = target[y0 // s : y1 // s, x0 // s : x1 // s]
        cv2.warpAffine(plane, _moved(mat, x0 // s, y0 // s), region.shape[::-1], dst=region, flags=_FLAGS,
                       borderMode=border)  # fmt: skip


def _bands(alpha: U8) -> list[tuple[int, int, int, int, int, int]]:
    """The crop's rows in ``_BANDS`` bands, each as (y0, y1, visible x0, x1, opaque x0, x1): the columns
    where the layer shows at all, and those fully opaque, on every row of the band and ``_SAFE`` rows
    beyond (opaque from each row's longest run), each kept ``_SAFE`` clear of its edges."""
    h, w = alpha.shape
    edges = np.diff(np.pad(alpha == 255, ((0, 0), (1, 1))).astype(np.int8), axis=1)
    rs, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # row-major order pairs each run's end with its start
    first, last = np.full(h, w, np.int64), np.full(h, -1, np.int64)  # the empty run
    if rs.size:
        order = np.lexsort((ends - starts, rs))  # by row, then by length: the last of each row is its longest
        longest = order[np.r_[rs[order][1:] != rs[order][:-1], True]]
        first[rs[longest]], last[rs[longest]] = starts[longest], ends[longest]
    shown = alpha > 0
    cuts = np.linspace(0, h, _BANDS + 1).round().astype(int)
    bands = []
    for y0, y1 in itertools.pairwise(cuts):
        ext = slice(max(0, y0 - _SAFE), y1 + _SAFE)
        cols = np.nonzero(shown[ext].any(axis=0))[0]
        v0, v1 = (int(cols[0]) - _SAFE, int(cols[-1]) + 1 + _SAFE) if cols.size else (0, 0)
        o0, o1 = int(first[ext].max()) + _SAFE, int(last[ext].min()) - _SAFE
        bands.append((int(y0), int(y1), v0, v1, *((o0, o1) if o1 > o0 else (0, 0))))
    return bands


def _firm(a: F32) -> F32:
    """The faintest and the nearly opaque 3% of an edge made exactly clear and opaque, the rest stretched
    to meet them (no step anywhere): too little to see, and it halves the see-through band that every frame
    composites (the shadow's and the feather's long faint tails; measured 0.17 -> 0.09 of a frame).
    """
    return np.asarray(np.clip((a - _FIRM) / (1 - 2 * _FIRM), 0, 1), np.float32)


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
