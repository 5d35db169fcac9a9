"""Subject pop, per frame: the cut-out subject moved as its own layer over its filled-in background.

The subject's rows are cut into bands; in each band its columns are opaque (alpha 255 on every row of the
band), clear (0 on every row) or see-through, found once per clip (``pop_bands.plan_bands``). Per frame,
each band maps to a strip of the output: the opaque runs are the subject's planes warped straight in, the
background is warped around them, and only the see-through runs are composited (``layer + background x
(1 - alpha)``, the layer premultiplied), so a frame costs about one warp plus the composite of the
subject's rim. Several runs per band, not one box: a subject of several parts (a skyline, a hand away from
the body) leaves its gaps to the background instead of compositing across them.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from .cutout import Cutout
from .motion import CameraPath, Motion, ease
from .pop_bands import SAFE, Runs, minus, plan_bands, union

__all__ = ["SubjectPop"]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_GENTLE_PUSH = Motion(zoom=(1.0, 1.06))


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
        self._grow = (1.0 + lift) ** e  # log-linear: a constant-speed move grows the subject at a constant rate
        self._drift = np.outer(e, drift) * out_size[0]
        # Planned as if for a frame of 1080p's pixel count, so a smaller frame (a preview) is cut the same way
        # and composites no more of its subject from the half-size layers than a full-size one does.
        per_pixel = abs(np.linalg.det(self.subject_matrix(0)[:, :2]))  # crop pixels per output pixel
        scale = math.sqrt(per_pixel * out_size[0] * out_size[1] / (1920 * 1080))
        self._bands = plan_bands(cutout.alpha, self._rows_shown(), scale)
        # The see-through rim is composited from half-size layers: a quarter of the memory to read, for a
        # feathered edge that shows no difference (measured: under 1% of a frame's pixels move by over 2 levels).
        self._rim = (np.asarray(cv2.pyrDown(cutout.luma), np.uint8), np.asarray(cv2.pyrDown(cutout.chroma), np.uint8))
        self._rim_scale = 0.5
        self._buffers: dict[int, U8] = {}  # the composite's scratch arrays (see _scratch)

    def subject_matrix(self, i: int) -> F64:
        """Luma inverse map of the subject layer for frame ``i``: output pixel -> crop pixel."""
        bg, _ = self.background.matrices(i)
        lin, off = bg[:, :2], bg[:, 2]
        g, a = self._grow[i], self._anchor
        lin_s = lin / g  # src = a + (bg(p - drift) - a) / g
        off_s = a + (off - lin @ self._drift[i] - a) / g
        return np.hstack([lin_s, (off_s - np.array(self.cut.origin, np.float64))[:, None]])

    def _rows_shown(self) -> tuple[int, int]:
        """The crop rows some frame shows: what lies above or below every frame is left out of the bands, so
        a subject cut by the frame's edge is opaque up to it (not see-through for the rows never seen)."""
        h = self.out[1]
        rows = [self.subject_matrix(i)[1] @ [0.0, y, 1.0] for i in range(self.n) for y in (0.0, float(h))]
        return max(0, math.floor(min(rows)) - SAFE), math.ceil(max(rows)) + SAFE

    def render(self, i: int, dst: Planes) -> None:
        """Frame ``i`` written into ``dst`` (Y full, U/V half): the background around the opaque subject,
        the opaque subject warped straight in, and a composite only where the layer is see-through."""
        m = self.subject_matrix(i)
        mc = m.copy()
        mc[:, 2] = (m[:, 2] + m[:, :2] @ [0.5, 0.5] + 0.5) / 2 - 0.5  # chroma: centre-sited half resolution
        luma, chroma = self.background.matrices(i)
        strips = self.strips(m)
        if strips is None:  # rotated: the background whole, the layer composited over its box
            _warp(self.cut.background, (luma, chroma), (0, 0, *self.out), dst, border=cv2.BORDER_REPLICATE)
            box = self._box(m)
            if box is not None:
                self._composite(m, mc, box, dst, (self.cut.luma, self.cut.chroma), 1.0)
            return
        w, h = self.out
        covered = [(y0, y1) for y0, y1, _, _ in strips]
        for y0, y1 in minus([(0, h)], covered):  # rows the subject does not reach
            _warp(self.cut.background, (luma, chroma), (0, y0, w, y1), dst, border=cv2.BORDER_REPLICATE)
        for y0, y1, shows, opaque in strips:
            for x0, x1 in minus([(0, w)], opaque):
                _warp(self.cut.background, (luma, chroma), (x0, y0, x1, y1), dst, border=cv2.BORDER_REPLICATE)
            for x0, x1 in opaque:
                _warp(self.cut.solid, (m, mc), (x0, y0, x1, y1), dst, border=cv2.BORDER_CONSTANT)
            for x0, x1 in minus(shows, opaque):
                self._composite(m, mc, (x0, y0, x1, y1), dst, self._rim, self._rim_scale)

    def strips(self, m: F64) -> list[tuple[int, int, Runs, Runs]] | None:
        """Per band, its output rows and where the layer shows and is opaque there (even bounds, clipped,
        non-empty); None when the subject layer is rotated (no band is then a strip of the output)."""
        if abs(m[0, 1]) > 1e-9 or abs(m[1, 0]) > 1e-9:
            return None
        w, h = self.out
        (a, _, tx), (_, d, ty) = m

        def cols(runs: Runs, grow: bool) -> Runs:
            out = []
            for c0, c1 in runs:
                x0, x1 = (c0 - tx) / a / 2, (c1 - tx) / a / 2
                x0, x1 = (math.floor(x0), math.ceil(x1)) if grow else (math.ceil(x0), math.floor(x1))
                x0, x1 = max(0, 2 * x0 - 2 * grow), min(w, 2 * x1 + 2 * grow)
                if x1 > x0:
                    out.append((x0, x1))
            return out

        strips = []
        for band in self._bands:
            y0, y1 = (min(h, max(0, round((r - ty) / d / 2) * 2)) for r in (band.top, band.bottom))
            shows = union(cols(band.shows, True))
            if y1 > y0 and shows:
                strips.append((y0, y1, shows, cols(band.opaque, False)))
        return strips

    def _composite(self, m: F64, mc: F64, box: Box, dst: Planes, layers: tuple[U8, U8], scale: float) -> None:
        """``layer + frame x (1 - alpha)`` over ``box`` of ``dst`` (even bounds), from the packed luma and
        chroma ``layers`` at ``scale`` times the crop's size (pixel j of a half-size one is pixel 2j)."""
        x0, y0, x1, y1 = box
        mb, mbc = (_moved(mat, x0 // s, y0 // s) * scale for mat, s in ((m, 1), (mc, 2)))
        bw, bh = x1 - x0, y1 - y0
        yl, keep = self._scratch(2, (bh, bw)), self._scratch(3, (bh, bw))
        ul, vl, keep_c = (self._scratch(k, (bh // 2, bw // 2)) for k in (4, 5, 6))
        self._warp_layer(layers[0], mb, (0, 255, 0, 0), [yl, keep])
        self._warp_layer(layers[1], mbc, (0, 0, 255, 0), [ul, vl, keep_c])
        for target, colour, inv, s in ((dst[0], yl, keep, 1), (dst[1], ul, keep_c, 2), (dst[2], vl, keep_c, 2)):
            region = target[y0 // s : y1 // s, x0 // s : x1 // s]
            cv2.multiply(region, inv, dst=region, scale=1 / 255)
            cv2.add(region, colour, dst=region)

    def _warp_layer(self, layer: U8, mat: F64, border: tuple[int, ...], outs: list[U8]) -> None:
        """The packed ``layer`` warped by ``mat`` onto the shape of ``outs``, its first channels into them,
        through buffers kept for the clip (fresh arrays for each piece cost page faults)."""
        h, w = outs[0].shape
        packed = self._scratch(0, (h, w, 4))
        cv2.warpAffine(layer, mat, (w, h), dst=packed, flags=_FLAGS, borderValue=border)
        cv2.mixChannels([packed], outs, [v for k in range(len(outs)) for v in (k, k)])

    def _scratch(self, k: int, shape: tuple[int, ...]) -> U8:
        """A contiguous uint8 array of ``shape`` over buffer ``k``, kept (and grown) between calls."""
        size = math.prod(shape)
        if self._buffers.get(k, np.empty(0, np.uint8)).size < size:
            self._buffers[k] = np.empty(max(size, self.out[0] * self.out[1] * (4 if len(shape) > 2 else 1)), np.uint8)
        return self._buffers[k][:size].reshape(shape)

    def _box(self, m: F64) -> Box | None:
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
