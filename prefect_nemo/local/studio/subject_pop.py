"""Subject pop, per frame: the cut-out subject moved as its own layer over its filled-in background.

The subject's rows are cut into bands; in each band its columns are opaque (alpha 255 on every row of the
band), clear (0 on every row) or see-through, found once per clip (``_bands``). Per frame, each band maps
to a strip of the output: the opaque runs are the subject's planes warped straight in, the background is
warped around them, and only the see-through runs are composited (``layer + background x (1 - alpha)``,
the layer premultiplied), so a frame costs about one warp plus the composite of the subject's rim. Several
runs per band, not one box: a subject of several parts (a skyline, a hand away from the body) leaves its
gaps to the background instead of compositing across them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from .cutout import Cutout
from .motion import CameraPath, Motion, ease

__all__ = ["SubjectPop"]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1
Runs = list[tuple[int, int]]  # column intervals [x0, x1), left to right, disjoint
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_GENTLE_PUSH = Motion(zoom=(1.0, 1.06))
_FINE_BANDS = 48  # the subject's rows cut this fine, then merged where the cut saves little (see _bands)
_PIECE_SHARE = 0.0075  # a band's pieces cost about what compositing this share of a frame does (1080p)
_SAFE = 6  # crop pixels kept clear of the opaque runs' sides (bilinear support, chroma, rounding)
_MIN_RUN = 48  # crop pixels: a narrower opaque run, or clear gap, is not worth a piece of its own


@dataclass(frozen=True)
class _Band:
    """Crop rows ``top``..``bottom``: where the layer shows at all (grown by ``_SAFE``) and where it is
    opaque (shrunk by ``_SAFE``), as column runs of the crop."""

    top: int
    bottom: int
    shows: Runs
    opaque: Runs


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
        first = self.background.matrices(0)[0]
        seen = abs(np.linalg.det(first[:, :2])) * out_size[0] * out_size[1]  # source pixels one frame shows
        self._bands = _bands(cutout.alpha, _PIECE_SHARE * seen)
        # The see-through rim is composited from half-size layers: a quarter of the memory to read, for a
        # feathered edge that shows no difference (measured: under 1% of a frame's pixels move by over 2 levels).
        self._rim = (np.asarray(cv2.pyrDown(cutout.luma), np.uint8), np.asarray(cv2.pyrDown(cutout.chroma), np.uint8))
        self._rim_scale = 0.5
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
        for y0, y1 in _minus([(0, h)], covered):  # rows the subject does not reach
            _warp(self.cut.background, (luma, chroma), (0, y0, w, y1), dst, border=cv2.BORDER_REPLICATE)
        for y0, y1, shows, opaque in strips:
            for x0, x1 in _minus([(0, w)], opaque):
                _warp(self.cut.background, (luma, chroma), (x0, y0, x1, y1), dst, border=cv2.BORDER_REPLICATE)
            for x0, x1 in opaque:
                _warp(self.cut.solid, (m, mc), (x0, y0, x1, y1), dst, border=cv2.BORDER_CONSTANT)
            for x0, x1 in _minus(shows, opaque):
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
            shows = _union(cols(band.shows, True))
            if y1 > y0 and shows:
                strips.append((y0, y1, shows, cols(band.opaque, False)))
        return strips

    def _composite(self, m: F64, mc: F64, box: Box, dst: Planes, layers: tuple[U8, U8], scale: float) -> None:
        """``layer + frame x (1 - alpha)`` over ``box`` of ``dst`` (even bounds), from the packed luma and
        chroma ``layers`` at ``scale`` times the crop's size (pixel j of a half-size one is pixel 2j)."""
        x0, y0, x1, y1 = box
        mb, mbc = (_moved(mat, x0 // s, y0 // s) * scale for mat, s in ((m, 1), (mc, 2)))
        size = (x1 - x0, y1 - y0)
        yl, keep, _, _ = cv2.split(cv2.warpAffine(layers[0], mb, size, flags=_FLAGS, borderValue=(0, 255, 0, 0)))
        half = (size[0] // 2, size[1] // 2)
        ul, vl, keep_c, _ = cv2.split(cv2.warpAffine(layers[1], mbc, half, flags=_FLAGS, borderValue=(0, 0, 255, 0)))
        for target, colour, inv, s in ((dst[0], yl, keep, 1), (dst[1], ul, keep_c, 2), (dst[2], vl, keep_c, 2)):
            region = target[y0 // s : y1 // s, x0 // s : x1 // s]
            cv2.multiply(region, inv, dst=region, scale=1 / 255)
            cv2.add(region, colour, dst=region)

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


def _minus(runs: Runs, holes: Runs) -> Runs:
    """``runs`` less ``holes`` (both sorted and disjoint), empty pieces left out (OpenCV would read an
    empty size as "the source's size")."""
    out = []
    for a0, a1 in runs:
        for h0, h1 in holes:
            if h1 <= a0 or h0 >= a1:
                continue
            if h0 > a0:
                out.append((a0, h0))
            a0 = max(a0, h1)
        if a1 > a0:
            out.append((a0, a1))
    return out


def _union(runs: Runs) -> Runs:
    """Sorted runs with the overlapping or touching ones merged."""
    out: Runs = []
    for x0, x1 in sorted(runs):
        if out and x0 <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], x1))
        else:
            out.append((x0, x1))
    return out


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


def _runs(flags: npt.NDArray[np.bool_]) -> Runs:
    """The runs of True in a row of flags."""
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _bands(alpha: U8, piece_px: float) -> list[_Band]:
    """The crop's rows in bands, each with the column runs where the layer shows on some row of the band
    or ``_SAFE`` rows beyond (grown by ``_SAFE``; gaps under ``_MIN_RUN`` closed) and where it is opaque on
    all of them (shrunk by ``_SAFE``; runs under ``_MIN_RUN`` dropped).

    Bands start fine (``_FINE_BANDS``) and neighbours merge while the see-through area that adds costs
    less than the pieces it saves (``piece_px``, crop pixels): a tower's straight sides make one tall band,
    its top a thin one.
    """
    h = alpha.shape[0]
    cuts = np.linspace(0, h, _FINE_BANDS + 1).round().astype(int)
    fine = []
    for top, bottom in itertools.pairwise(cuts):
        rows = alpha[max(0, top - _SAFE) : bottom + _SAFE]
        fine.append((int(top), int(bottom), rows.max(axis=0), rows.min(axis=0)))
    merged = [fine[0]]
    for band in fine[1:]:
        top, _, high, low = merged[-1]
        both = (top, band[1], np.maximum(high, band[2]), np.minimum(low, band[3]))
        if _rim(both) <= _rim(merged[-1]) + _rim(band) + piece_px:
            merged[-1] = both
        else:
            merged.append(band)
    return [_Band(top, bottom, *_columns(high, low)) for top, bottom, high, low in merged]


def _columns(high: U8, low: U8) -> tuple[Runs, Runs]:
    """Where a band shows (its rows' largest alpha above 0) and is opaque (its smallest at 255), as runs."""
    shows: Runs = []
    for x0, x1 in _runs(high > 0):
        x0, x1 = x0 - _SAFE, x1 + _SAFE
        if shows and x0 - shows[-1][1] < _MIN_RUN:
            x0 = shows.pop()[0]
        shows.append((x0, x1))
    opaque = [(x0 + _SAFE, x1 - _SAFE) for x0, x1 in _runs(low == 255) if x1 - x0 >= _MIN_RUN]
    return shows, opaque


def _rim(band: tuple[int, int, U8, U8]) -> int:
    """A band's see-through area, crop pixels: what compositing it costs."""
    top, bottom, high, low = band
    shows, opaque = _columns(high, low)
    return (bottom - top) * (sum(b - a for a, b in shows) - sum(b - a for a, b in opaque))
