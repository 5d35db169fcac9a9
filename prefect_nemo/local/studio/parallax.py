"""A camera that moves through a still's depth ("2.5D"): parallax, dolly zoom and a 3D push-in.

Every frame is one ``cv2.remap`` per plane: each output pixel samples the source at the camera's affine
position plus a displacement proportional to nearness (``depth.DepthMap``). The map is planned on a grid
8x coarser than the frame (the affine part is exactly linear, the depth part blurred over about the
reach; a 16x grid measured 1.01% step jitter on the farthest layer, over the 1% goal) and enlarged band
by band into buffers kept between frames (fresh arrays each band cost more than the enlarging), so each
band's map is used while in cache. A band's x and y grid rows are stacked and enlarged by one
``cv2.resize``: every call pays a part proportional to the output's width (about 33 us at 1936), and
stacking halves the calls. Measured at 1080p on one thread: two float planes remap faster than one
interleaved map, and fixed-point maps (``convertMaps``) are slower still, conversion included. From the
renderer's source (2 pixels per output pixel) the remaps cost 1.1x to 1.3x the push-in's ``warpAffine``
calls, depending on the CPU; the camera reads it reduced to 1.5 (``camera_source``), which brought a
parallax frame from 1.52x to 1.35x the push-in warp on coffee (on an Intel Xeon; the same picture within
0.54 levels on average, gradient energy within 2%).

Backward mapping never leaves a hole inside the picture; what it can do is fold (a tear, content doubled)
where the displacement changes faster than the pixels. Two rules prevent that: nearness is grown outward
(grey dilation) and blurred before use, so the subject moves rigidly and the ramp lies on the background
beside it (which stretches to fill what the move uncovers), and the strength is capped so the map's
derivative never drops below 0.5. The camera's view keeps a margin as wide as the largest displacement,
so no sample leaves the source either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from .depth import DepthMap
from .motion import CameraPath, Motion, ease

__all__ = ["MODES", "ParallaxCamera", "ParallaxMove", "camera_source"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]

MODES = ("parallax", "dolly_zoom", "push_3d")
_BAND = 64  # luma rows per remap band (272 and whole frames measured slower: maps out of cache)
_GRID = 8  # map planning grid step, output pixels (16 measured 1.01% jitter on the farthest layer: over 1%)
# Fixed-point steps finding the point that lands on each pixel (the error shrinks at least 2x a step). Measured
# against 12 steps on four photographs: parallax's lateral glide is 0.18 source pixels off after 4 (0.78 after
# 3); the radial modes, whose displacement is a scale, 0.32 after 3.
_ITERATIONS = {"parallax": 4, "dolly_zoom": 3, "push_3d": 3}
_MIN_STRETCH = 0.5  # smallest allowed derivative of the map: below it the background visibly smears
# Source pixels per output pixel across the camera's widest view. The renderer's source holds 2
# (``frames._SUPERSAMPLE``); read at 1.5 instead, the remaps touch 56% of the memory, and every frame is still a
# minification, the end of a 3D push-in included (its 1.12x zoom and the near layers' few percent more).
_DENSITY = 1.5


@dataclass(frozen=True)
class ParallaxMove:
    """What the camera does: ``strength`` is the largest depth displacement as a share of the view's width.

    parallax: a lateral glide along ``direction``; the subject's plane stays put, nearer things sweep
    against farther ones (an orbit seen from the front). dolly_zoom: the subject keeps its size while the
    background swells behind it. push_3d: a push-in (``zoom``) in which near things grow faster than far.
    """

    mode: str = "parallax"
    strength: float = 0.03
    ease: str = "ease_in_out"
    direction: tuple[float, float] = (1.0, 0.0)
    zoom: tuple[float, float] = (1.0, 1.12)
    focus: tuple[float, float] = (0.5, 0.5)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown parallax mode {self.mode!r}; expected one of {', '.join(MODES)}")
        if not 0.0 <= self.strength <= 0.1:
            raise ValueError(f"parallax strength={self.strength!r} must be in 0..0.1 (a share of the view width)")
        if math.hypot(*self.direction) < 1e-6:
            raise ValueError(f"parallax direction={self.direction!r} must not be zero")


class _Band(NamedTuple):
    """One band of the luma (``sub`` 1) or chroma (2) maps: the grid rows it is enlarged from, the buffer
    that holds them stacked (x rows over y rows), the buffer that is enlarged into, the views of it that
    ``remap`` reads, and the planes' rows it writes."""

    sub: int
    grid_rows: slice
    stacked: F32
    enlarged: F32
    maps: tuple[F32, F32]
    rows: slice


class ParallaxCamera:
    """Per-frame remap maps (luma and chroma) for one move over one source and its depth.

    ``src_size`` is the luma plane's (width, height) — the renderer's supersampled source — and
    ``out_size`` the frame's; both even (yuv420p).
    """

    def __init__(
        self, depth: DepthMap, move: ParallaxMove, src_size: tuple[int, int], out_size: tuple[int, int], n_frames: int
    ) -> None:
        self.move, self.src, self.out, self.n = move, src_size, out_size, max(1, n_frames)
        sw, sh = src_size
        w, h = out_size
        cover_w = min(sw, sh * w / h)
        reach = move.strength * cover_w  # the largest displacement, source pixels
        self._depth_scale = depth.size[0] / sw  # depth pixels per source pixel
        self._near = _lookup_nearness(depth.near, reach * self._depth_scale)
        self.pivot = depth.subject_near() if move.mode != "push_3d" else 0.0
        self.reach = min(reach, self._gradient_cap())
        self._log_gain = math.log1p(self.reach / (math.hypot(cover_w, cover_w * h / w) / 2))
        margin = math.ceil(reach) + 2
        zoom = move.zoom if move.mode == "push_3d" else (1.0, 1.0)
        motion = Motion(type="push_in", ease=move.ease, zoom=zoom, focus=move.focus, travel=0.6)
        inner = (sw - 2 * margin, sh - 2 * margin)
        self._path = CameraPath(motion, inner, out_size, self.n)
        self._margin = margin
        t = np.linspace(0.0, 1.0, self.n) if self.n > 1 else np.zeros(1)
        e = ease(move.ease, t)
        self._amount = e if move.mode == "push_3d" else 2.0 * e - 1.0  # -1..1 sweeps; 0..1 for the push
        d = np.asarray(move.direction, np.float64)
        self._dir = d / np.linalg.norm(d)
        nx, ny = math.ceil(w / _GRID) + 1, math.ceil(h / _GRID) + 1
        self._gx = (_GRID * np.arange(nx) - 0.5).astype(np.float32)  # grid point k at pixel 8k - 0.5 (_upsample)
        self._gy = (_GRID * np.arange(ny) - 0.5).astype(np.float32)
        self._bands = self._plan_bands()

    def nearness(self, luma_map: F32) -> F32:
        """The nearness the camera displaces by (grown and blurred), at the given source luma positions."""
        k = self._depth_scale
        return np.asarray(cv2.remap(self._near, (luma_map[..., 0] + 0.5) * k - 0.5, (luma_map[..., 1] + 0.5) * k - 0.5,
                                    cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), np.float32)  # fmt: skip

    def grid_map(self, i: int) -> F32:
        """Source luma positions (ny, nx, 2) for the planning grid of frame ``i``: its points sit at output
        luma coordinates ``8k - 0.5``, reaching past the frame so the upsampling never extrapolates.

        A point of the picture moves by its own nearness: the sample for a pixel is the point x with
        ``x = camera(pixel) + displacement(nearness(x))``, found by fixed-point iteration (it converges
        because the displacement's derivative is capped at 0.5), so a depth layer moves rigidly.
        """
        return np.dstack(self._grid_planes(i))

    def _grid_planes(self, i: int, shift: tuple[float, float] = (0.0, 0.0)) -> tuple[F32, F32]:
        """``grid_map`` as its x and y planes (contiguous, as ``remap`` and ``resize`` take them); with
        ``shift``, the grid of the frame moved by it (grid point x shows the frame's point x - shift)."""
        j = min(max(i, 0), self.n - 1)
        luma, _ = self._path.matrices(j)
        a = luma.astype(np.float32)
        a[:, 2] += self._margin
        k = np.float32(self._depth_scale)  # the iteration runs in depth-map pixels: one remap per step, no copies
        w, h = self.out
        cx = (a[0, 0] * (w - 1) / 2 + a[0, 1] * (h - 1) / 2 + a[0, 2] + 0.5) * k - 0.5  # the view's centre
        cy = (a[1, 0] * (w - 1) / 2 + a[1, 1] * (h - 1) / 2 + a[1, 2] + 0.5) * k - 0.5
        a[:, 2] -= a[:, :2] @ np.asarray(shift, np.float32)  # the camera's affine part moved; its centre stays
        bx = (a[0, 0] * self._gx[None, :] + a[0, 1] * self._gy[:, None] + a[0, 2] + 0.5) * k - 0.5
        by = (a[1, 0] * self._gx[None, :] + a[1, 1] * self._gy[:, None] + a[1, 2] + 0.5) * k - 0.5
        amount = float(self._amount[j])
        px, py, near = bx.copy(), by.copy(), np.empty_like(bx)  # each step writes these in place
        if self.move.mode == "parallax":
            sx, sy = (amount * self.reach * float(d) * float(k) for d in self._dir)
            ox, oy = bx - sx * self.pivot, by - sy * self.pivot  # where the pivot's plane stays
            for _ in range(_ITERATIONS[self.move.mode]):
                cv2.remap(self._near, px, py, cv2.INTER_LINEAR, dst=near, borderMode=cv2.BORDER_REPLICATE)
                cv2.scaleAdd(near, sx, ox, dst=px)
                cv2.scaleAdd(near, sy, oy, dst=py)
        else:
            # Radial modes scale each depth about the view's centre by a factor whose log is linear in the
            # move, so a constant-speed move keeps every layer's zoom step constant; the factor's largest
            # change, measured on the widest view, is the reach.
            g = amount * self._log_gain
            lift = g * self.pivot if self.move.mode == "dolly_zoom" else 0.0  # the pivot's plane keeps its size
            rx, ry = bx - cx, by - cy
            for _ in range(_ITERATIONS[self.move.mode]):
                cv2.remap(self._near, px, py, cv2.INTER_LINEAR, dst=near, borderMode=cv2.BORDER_REPLICATE)
                cv2.exp(cv2.addWeighted(near, -g, near, 0.0, lift, dst=near), dst=near)  # the factor
                np.add(cv2.multiply(rx, near, dst=px), cx, out=px)
                np.add(cv2.multiply(ry, near, dst=py), cy, out=py)
        return (px + 0.5) / k - 0.5, (py + 0.5) / k - 0.5

    def maps(self, i: int) -> tuple[F32, F32]:
        """Full luma and chroma maps (float source positions, chroma centre-sited at half resolution)."""
        grid = self.grid_map(i)
        w, h = self.out
        return _upsample(grid, 0, h, w, 1), _upsample(_chroma(grid), 0, h // 2, w // 2, 2)

    def render(
        self,
        i: int,
        src: Planes,
        dst: Planes,
        box: tuple[int, int, int, int] | None = None,
        shift: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        """Frame ``i`` of the move, written into ``dst`` (Y full size, U/V half), like the renderer's warp;
        with ``box`` (even luma bounds x0, y0, x1, y1) only that part, the same pixels the whole frame has
        there (a push or slide shows part of a shot: the rest is never drawn); with ``shift`` (luma pixels),
        the frame moved by it: pixel x shows the frame's x - shift, sampled once from the source (a push moves
        a shot without resampling a drawn frame), the depth displacement interpolated from a moved grid.

        Bands of rows, so each band's maps are made and used while still in cache (measured faster than
        272-row bands or whole-frame maps); x and y maps as two planes, which ``remap`` reads faster
        than one interleaved map (measured). Where each band's maps come from and go is planned once a
        clip (``_plan_bands``): per frame, a band is one resize (x and y stacked) and a remap per plane."""
        x0, y0, x1, y1 = box or (0, 0, *self.out)
        luma = self._grid_planes(i, shift)
        grids = {1: luma, 2: tuple(_chroma(p) for p in luma)}
        planes, targets = {1: src[:1], 2: src[1:]}, {1: dst[:1], 2: dst[1:]}
        for band in self._bands:
            s, top = band.sub, band.rows.start
            first, last = max(top, y0 // s), min(band.rows.stop, y1 // s)
            if first >= last:
                continue
            (gx, gy), count = grids[s], band.grid_rows.stop - band.grid_rows.start
            band.stacked[:count], band.stacked[count:] = gx[band.grid_rows], gy[band.grid_rows]
            cv2.resize(band.stacked, band.enlarged.shape[::-1], dst=band.enlarged, interpolation=cv2.INTER_LINEAR)
            rows, cols = slice(first - top, last - top), slice(x0 // s, x1 // s)
            mx, my = (m[rows, cols] for m in band.maps)
            for plane, target in zip(planes[s], targets[s], strict=True):
                cv2.remap(
                    plane, mx, my, cv2.INTER_LINEAR, dst=target[first:last, cols], borderMode=cv2.BORDER_REPLICATE
                )

    def _plan_bands(self) -> list[_Band]:
        """Every band of the frame, luma then chroma, with its grid rows, the buffers they are stacked in
        and enlarged into (shared by bands of one shape, so they stay in cache) and the views ``remap``
        reads. The x rows' enlargement ends half a step before the y rows' begins (``_part_rows``), so the
        rows that blend the two stacks are never read."""
        w, h = self.out
        buffers: dict[tuple[int, int], F32] = {}
        bands = []
        for top in range(0, h, _BAND):
            rows = min(_BAND, h - top)
            for sub in (1, 2):
                step = _GRID // sub
                first, count, y0, x0 = _part_rows(top // sub, rows // sub, sub)
                stacked = buffers.setdefault(
                    (2 * count, len(self._gx)), np.empty((2 * count, len(self._gx)), np.float32)
                )
                shape = (2 * count * step, len(self._gx) * step)
                enlarged = buffers.setdefault(shape, np.empty(shape, np.float32))
                mx, my = (enlarged[y : y + rows // sub, x0 : x0 + w // sub] for y in (y0, count * step + y0))
                rows_slice = slice(top // sub, (top + rows) // sub)
                bands.append(_Band(sub, slice(first, first + count), stacked, enlarged, (mx, my), rows_slice))
        return bands

    def _gradient_cap(self) -> float:
        """The largest reach whose displacement field keeps the map's derivative above ``_MIN_STRETCH``."""
        gy, gx = np.gradient(self._near)
        steepest = float(np.sqrt(gx * gx + gy * gy).max()) * self._depth_scale  # nearness per source pixel
        return (1.0 - _MIN_STRETCH) / max(steepest, 1e-9) / 1.1  # 1.1: the radial modes' exponential


def camera_source(planes: Planes, out_size: tuple[int, int]) -> Planes:
    """The planes the camera reads, made once a shot (contiguous): the renderer's source reduced
    (``INTER_AREA``) to ``_DENSITY`` pixels per output pixel across its widest view, or as it is when no finer."""
    sw, sh = planes[0].shape[1], planes[0].shape[0]
    w, h = out_size
    k = _DENSITY * w / min(sw, sh * w / h)
    if k > 0.95:
        y, u, v = (np.ascontiguousarray(p) for p in planes)
        return y, u, v
    size = (round(sw * k / 2) * 2, round(sh * k / 2) * 2)  # even: yuv420p
    y, u, v = (
        np.asarray(cv2.resize(p, (size[0] // s, size[1] // s), interpolation=cv2.INTER_AREA), np.uint8)
        for p, s in zip(planes, (1, 2, 2), strict=True)
    )
    return y, u, v


def _part_rows(top: int, rows: int, sub: int) -> tuple[int, int, int, int]:
    """The grid rows (the first, and how many) that rows ``top``..``top+rows`` of the full map (``sub`` = 2
    for chroma) are made from, and where those rows and the frame's first column sit once they are resized
    by the step.

    Grid point k sits at plane pixel ``step*k + step/2 - 0.5`` of the resized part (``resize``'s pixel
    centres) and at frame pixel ``step*k - 0.5`` (chroma: the same points, centre-sited), so frame pixel y is
    resized pixel ``y - step*first + step/2``: only half a step of rows is enlarged beyond the band at each
    end (and resize's clamped edge, the first and last half step, is never used).
    """
    step = _GRID // sub
    first = top // step
    count = math.ceil((top - first * step + rows + step - 0.5) / step)
    return first, count, top - first * step + step // 2, step // 2


def _upsample(grid: F32, top: int, rows: int, width: int, sub: int) -> F32:
    """Rows ``top``..``top+rows`` of the full map, bilinear from the grid (``sub`` = 2 for chroma)."""
    step = _GRID // sub
    first, count, y0, x0 = _part_rows(top, rows, sub)
    part = grid[first : first + count]
    big = cv2.resize(part, (part.shape[1] * step, part.shape[0] * step), interpolation=cv2.INTER_LINEAR)
    return np.asarray(big[y0 : y0 + rows, x0 : x0 + width])


def _chroma(grid: F32) -> F32:
    """Chroma positions (centre-sited, half resolution) of luma positions."""
    return np.asarray((grid + 0.5) * 0.5 - 0.5, np.float32)


def _lookup_nearness(near: F32, reach_px: float) -> F32:
    """Nearness grown outward by about the reach and blurred: the subject's edge moves with the subject,
    and the change of displacement is spread over the background beside it."""
    r = max(2, math.ceil(1.5 * reach_px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    grown = cv2.dilate(near, kernel)
    return np.asarray(cv2.GaussianBlur(grown, (0, 0), r / 1.5), np.float32)
