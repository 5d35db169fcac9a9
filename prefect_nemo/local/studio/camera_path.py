"""Camera motion over a still: easing curves and per-frame sub-pixel affine maps for one ``Motion``.

Pure geometry, no I/O. A path maps every output pixel to a fractional source position, so the renderer can
sample it with ``cv2.warpAffine`` and never step by whole pixels (ffmpeg ``zoompan``'s jitter). Zoom is
interpolated geometrically (constant perceived speed) and the view centre linearly with the same eased
parameter; with both ends inside the picture every frame in between is too (the free room shrinks
convexly with zoom), and every planned frame is checked anyway, so no frame ever shows a border. The
``keep`` box caps the zoom so the view can hold it and clamps each frame's centre so it does.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .motion import Motion

__all__ = ["EASES", "MAX_ZOOM", "CameraPath", "ease"]

F64 = npt.NDArray[np.float64]
EASES = ("linear", "ease_in", "ease_out", "ease_in_out")
MAX_ZOOM = 3.0


def ease(name: str, t: F64) -> F64:
    """Map progress 0..1 to eased progress 0..1 (sine curves: gentle, no overshoot)."""
    if name == "linear":
        return t
    if name == "ease_in":
        return 1.0 - np.cos(t * math.pi / 2)
    if name == "ease_out":
        return np.sin(t * math.pi / 2)
    if name == "ease_in_out":
        return 0.5 - 0.5 * np.cos(t * math.pi)
    raise ValueError(f"unknown easing {name!r}; expected one of {', '.join(EASES)}")


class CameraPath:
    """Per-frame affine maps from output pixels to source pixels for one motion.

    ``src_size`` is the (already downscaled) source in pixels; ``out_size`` the frame. Matrices follow
    OpenCV's convention (pixel centres at integer coordinates) for ``warpAffine(..., WARP_INVERSE_MAP)``.
    """

    def __init__(self, motion: Motion, src_size: tuple[int, int], out_size: tuple[int, int], n_frames: int) -> None:
        self.motion, self.src, self.out, self.n = motion, src_size, out_size, max(1, n_frames)
        sw, sh = src_size
        w, h = out_size
        self._cover_w = min(sw, sh * w / h)  # widest view of the frame's aspect that fits the source
        self._keep, self._zmax = None, MAX_ZOOM
        if motion.keep is not None:
            x0, y0, x1, y1 = motion.keep
            zmax = min(self._cover_w / ((x1 - x0) * sw), self._cover_w * h / w / ((y1 - y0) * sh))
            if zmax >= 1.0:  # a box no view of this aspect can hold is not kept (the director avoids asking)
                self._keep, self._zmax = (x0 * sw, y0 * sh, x1 * sw, y1 * sh), zmax * 0.999
        self._lin, self._off = self._plan(1.0)
        if not self._inside(self._lin, self._off):
            lo, hi = 0.0, 1.0  # shrink the move until every frame stays on the picture
            for _ in range(30):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if self._inside(*self._plan(mid)) else (lo, mid)
            self._lin, self._off = self._plan(lo)

    def matrices(self, i: int) -> tuple[F64, F64]:
        """Luma and chroma (half-resolution, centre-sited) 2x3 inverse maps for frame ``i``."""
        lin, off = self._lin[i], self._off[i]
        luma = np.hstack([lin, (off + lin @ [0.5, 0.5] - 0.5)[:, None]])
        chroma = np.hstack([lin, ((off + lin @ [1.0, 1.0]) / 2 - 0.5)[:, None]])
        return luma, chroma

    def corners(self) -> F64:
        """Every frame's view as its four corners (top-left, top-right, bottom-right, bottom-left), (n, 4, 2),
        in 0..1 image coordinates: what a test checks a face against."""
        w, h = self.out
        pts = self._lin @ np.array([[0.0, w, w, 0.0], [0.0, 0.0, h, h]]) + self._off[:, :, None]
        return np.asarray(pts.transpose(0, 2, 1) / np.array(self.src, np.float64), np.float64)

    def _room(self, z: F64) -> tuple[F64, F64]:
        """Half the free travel of the view centre along x and y at zoom ``z``."""
        sw, sh = self.src
        w, h = self.out
        vw = self._cover_w / z
        return (sw - vw) / 2, (sh - vw * h / w) / 2

    def _clamp(self, p: tuple[float, float] | F64, z: float) -> F64:
        rx, ry = (float(r) for r in self._room(np.array(z)))
        cx, cy = self.src[0] / 2, self.src[1] / 2
        return np.array([np.clip(p[0], cx - rx, cx + rx), np.clip(p[1], cy - ry, cy + ry)])

    def _plan(self, k: float) -> tuple[F64, F64]:
        """Continuous maps (src = lin @ dst + off) for all frames, with the move scaled by ``k`` (0..1)."""
        w, h = self.out
        mid = np.array([self.src[0] / 2, self.src[1] / 2])
        legs = self.motion.moves
        cuts = [round(j * self.n / len(legs)) for j in range(len(legs) + 1)]
        centre, zoom, angle = np.zeros((self.n, 2)), np.zeros(self.n), np.zeros(self.n)
        at: tuple[F64, float] | None = None
        for j, leg in enumerate(legs):
            m = cuts[j + 1] - cuts[j]
            if m <= 0:
                continue
            # the first leg starts on its first frame; later ones take their first step on theirs
            t = np.linspace(0.0, 1.0, m) if at is None else np.arange(1, m + 1) / m
            c, z, a = self._leg(leg, ease(leg.ease, t), at, mid)
            centre[cuts[j] : cuts[j + 1]], zoom[cuts[j] : cuts[j + 1]], angle[cuts[j] : cuts[j + 1]] = c, z, a
            at = (c[-1], float(z[-1]))
        centre = mid + (centre - mid) * k
        angle = angle * k
        if self._keep is not None:
            centre = self._hold(centre, zoom)
        scale = self._cover_w / (zoom * w)
        cos, sin = np.cos(angle) * scale, np.sin(angle) * scale
        lin = np.stack([np.stack([cos, -sin], axis=1), np.stack([sin, cos], axis=1)], axis=1)
        off = centre - lin @ np.array([w / 2, h / 2])
        return lin, off

    def _leg(self, mo: Motion, e: F64, at: tuple[F64, float] | None, mid: F64) -> tuple[F64, F64, F64]:
        """Centres, zooms and angles of one move; ``at`` is where the previous move left the view."""
        sw, sh = self.src
        focus = (mo.focus[0] * sw, mo.focus[1] * sh)
        angle = np.zeros_like(e)
        if at is None:
            z0, z1 = (min(z, self._zmax) for z in mo.zoom)
            z1 = z0 if mo.type == "static" else z1
            if mo.type == "orbit":
                zmin = min(z0, z1)
                rx, ry = (float(r) * mo.travel * 0.8 for r in self._room(np.array(zmin)))
                base = self._clamp(focus, zmin)
                theta = (e - 0.5) * math.pi
                centre = base + np.stack([rx * np.cos(theta) - rx * 0.5, ry * np.sin(theta)], axis=1)
                return centre, z0 * (z1 / z0) ** e, np.radians(mo.tilt) * np.sin(theta)
            c0, c1 = self._ends(replace(mo, zoom=(z0, z1)), focus, mid)
        else:
            c0, z0 = at
            z1 = self._next_zoom(mo, z0)
            c1 = self._next_centre(mo, c0, z1, focus, mid)
        return c0 + (c1 - c0) * e[:, None], z0 * (z1 / z0) ** e, angle

    def _next_zoom(self, mo: Motion, z: float) -> float:
        """A chained move's end zoom: push/pull change the zoom by their own ratio, a pan needs some room."""
        a, b = mo.zoom
        if mo.type in ("push_in", "pull_out", "ken_burns"):
            z = z * b / a
        elif mo.type.startswith("pan_"):
            z = max(z, min(a, b))
        return float(min(self._zmax, max(1.0, min(MAX_ZOOM, z))))

    def _next_centre(self, mo: Motion, c: F64, z: float, focus: tuple[float, float], mid: F64) -> F64:
        if mo.type in ("push_in", "ken_burns"):
            return self._clamp(c + (np.array(focus) - c) * mo.travel, z)
        if mo.type == "pull_out":
            return self._clamp(c + (mid - c) * mo.travel, z)
        if mo.type.startswith("pan_"):
            axis = 0 if mo.type in ("pan_left", "pan_right") else 1
            sign = 1.0 if mo.type in ("pan_right", "pan_down") else -1.0
            end = c.copy()
            end[axis] += sign * 2 * float(self._room(np.array(z))[axis]) * mo.travel
            return self._clamp(end, z)
        return self._clamp(c, z)  # static (hold); orbit only leads a sequence

    def _hold(self, centre: F64, zoom: F64) -> F64:
        """Clamp each frame's centre so its (unrotated) view contains the keep box and stays on the picture."""
        assert self._keep is not None
        x0, y0, x1, y1 = self._keep
        w, h = self.out
        half_w = self._cover_w / zoom / 2
        half_h = half_w * h / w
        sw, sh = self.src
        lo_x, hi_x = np.maximum(x1 - half_w, half_w), np.minimum(x0 + half_w, sw - half_w)
        lo_y, hi_y = np.maximum(y1 - half_h, half_h), np.minimum(y0 + half_h, sh - half_h)
        return np.stack([np.clip(centre[:, 0], lo_x, hi_x), np.clip(centre[:, 1], lo_y, hi_y)], axis=1)

    def _ends(self, mo: Motion, focus: tuple[float, float], mid: F64) -> tuple[F64, F64]:
        z0, z1 = mo.zoom
        toward = mid + (np.array(focus) - mid) * mo.travel  # how far the view centre heads for the focus
        if mo.type == "push_in":
            return self._clamp((mid[0], mid[1]), z0), self._clamp((toward[0], toward[1]), z1)
        if mo.type == "pull_out":
            return self._clamp((toward[0], toward[1]), z0), self._clamp((mid[0], mid[1]), z1)
        if mo.type == "ken_burns":
            start = mid + (mid - np.array(focus)) * mo.travel
            return self._clamp((start[0], start[1]), z0), self._clamp(focus, z1)
        if mo.type.startswith("pan_"):
            zmin = min(z0, z1)
            rx, ry = (float(r) for r in self._room(np.array(zmin)))
            at = self._clamp(focus, zmin)
            axis = 0 if mo.type in ("pan_left", "pan_right") else 1
            half = (rx, ry)[axis] * mo.travel
            at[axis] = np.clip(at[axis], mid[axis] - (rx, ry)[axis] + half, mid[axis] + (rx, ry)[axis] - half)
            sign = 1.0 if mo.type in ("pan_right", "pan_down") else -1.0
            a, b = at.copy(), at.copy()
            a[axis] -= sign * half
            b[axis] += sign * half
            return a, b
        return self._clamp(focus, z0), self._clamp(focus, z1)  # static

    def _inside(self, lin: F64, off: F64) -> bool:
        w, h = self.out
        corners = np.array([[0.0, 0.0], [w, 0.0], [0.0, h], [w, h]]).T
        pts = lin @ corners + off[:, :, None]  # (n, 2, 4) in continuous source coordinates
        eps = 1e-6
        on_picture = bool(
            np.all(pts[:, 0] >= -eps)
            and np.all(pts[:, 0] <= self.src[0] + eps)
            and np.all(pts[:, 1] >= -eps)
            and np.all(pts[:, 1] <= self.src[1] + eps)
        )
        if not on_picture or self._keep is None:
            return on_picture
        x0, y0, x1, y1 = self._keep  # the box's corners, mapped into each frame, must land inside it
        box = np.array([[x0, x1, x1, x0], [y0, y0, y1, y1]])
        inside = np.linalg.inv(lin) @ (box[None] - off[:, :, None])
        return bool(np.all(inside >= -1e-3) and np.all(inside[:, 0] <= w + 1e-3) and np.all(inside[:, 1] <= h + 1e-3))
