"""Drawing a frame piece by piece: planes warped into boxes of it, or a packed layer composited over them.

Subject pop draws each frame as dozens of pieces (``pop_bands``), and at that count what a piece costs in
Python weighs as much as its pixels: three ``warpAffine`` calls through matrices moved with numpy's small-
array arithmetic took 27 us, against 2.6 us for a call itself (measured on a 2x2 piece). So a frame's maps
are held as plain floats and moved to each piece's corner in place, and a composite's scratch arrays are
kept for the clip.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["Composite", "PlaneWarp", "RimComposite", "Scratch"]

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
Planes = tuple[U8, U8, U8]
Box = tuple[int, int, int, int]  # x0, y0, x1, y1, even
_FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
_CLEAR_LUMA = (0, 255, 0, 0)  # a packed luma pixel outside the layer: no colour, all of the frame kept
_CLEAR_CHROMA = (0, 0, 255, 0)  # and a packed chroma (or rim) pixel


class _Placed:
    """A 2x3 inverse map (output pixel -> source pixel) and the same map for a piece whose corner is at
    output pixel (x, y), written into one array in place."""

    __slots__ = ("_coefficients", "matrix")

    def __init__(self, mat: F64) -> None:
        self.matrix = np.array(mat, np.float64)
        self._coefficients: list[float] = self.matrix.ravel().tolist()

    def at(self, x: int, y: int) -> F64:
        a, b, c, d, e, f = self._coefficients
        self.matrix[0, 2] = a * x + b * y + c
        self.matrix[1, 2] = d * x + e * y + f
        return self.matrix


class PlaneWarp:
    """Y/U/V ``planes`` (Y full, U/V half) warped by one frame's luma and chroma maps into boxes of it."""

    def __init__(self, planes: Planes, luma: F64, chroma: F64, border: int) -> None:
        self.planes, self.border = planes, border
        self._luma, self._chroma = _Placed(luma), _Placed(chroma)

    def draw(self, box: Box, dst: Planes) -> None:
        x0, y0, x1, y1 = box
        y, u, v = self.planes
        region = dst[0][y0:y1, x0:x1]
        cv2.warpAffine(y, self._luma.at(x0, y0), (x1 - x0, y1 - y0), dst=region, flags=_FLAGS, borderMode=self.border)
        x0, y0, x1, y1 = x0 // 2, y0 // 2, x1 // 2, y1 // 2
        m = self._chroma.at(x0, y0)
        for plane, target in ((u, dst[1]), (v, dst[2])):
            region = target[y0:y1, x0:x1]
            cv2.warpAffine(plane, m, (x1 - x0, y1 - y0), dst=region, flags=_FLAGS, borderMode=self.border)


class Scratch:
    """uint8 arrays kept (and grown) between pieces and frames: fresh arrays for each piece cost page faults."""

    def __init__(self, frame_pixels: int) -> None:
        self._frame_pixels = frame_pixels
        self._buffers: dict[int, U8] = {}

    def get(self, k: int, shape: tuple[int, ...]) -> U8:
        """A contiguous array of ``shape`` over buffer ``k``."""
        size = shape[0] * shape[1] * (shape[2] if len(shape) > 2 else 1)
        buf = self._buffers.get(k)
        if buf is None or buf.size < size:
            buf = self._buffers[k] = np.empty(max(size, self._frame_pixels * (4 if len(shape) > 2 else 1)), np.uint8)
        return buf[:size].reshape(shape)


class Composite:
    """``layer + frame x (1 - alpha)`` over boxes of a frame, from a packed luma layer (premultiplied Y,
    255 - alpha, 0, 0) and a packed chroma one (premultiplied U, V, 255 - alpha, any) at the resolution
    the maps read."""

    def __init__(self, layers: tuple[U8, U8], luma: F64, chroma: F64, scratch: Scratch) -> None:
        self.layers, self.scratch = layers, scratch
        self._luma, self._chroma = _Placed(luma), _Placed(chroma)

    def draw(self, box: Box, dst: Planes) -> None:
        x0, y0, x1, y1 = box
        get = self.scratch.get
        w, h = x1 - x0, y1 - y0
        packed = get(0, (h, w, 4))
        cv2.warpAffine(self.layers[0], self._luma.at(x0, y0), (w, h), dst=packed, flags=_FLAGS, borderValue=_CLEAR_LUMA)
        colour, keep = get(1, (h, w)), get(2, (h, w))
        cv2.mixChannels([packed], [colour, keep], [0, 0, 1, 1])
        _over(dst[0][y0:y1, x0:x1], colour, keep)
        x0, y0, w, h = x0 // 2, y0 // 2, w // 2, h // 2
        packed = get(0, (h, w, 4))
        m = self._chroma.at(x0, y0)
        cv2.warpAffine(self.layers[1], m, (w, h), dst=packed, flags=_FLAGS, borderValue=_CLEAR_CHROMA)
        u, v, keep = get(1, (h, w)), get(3, (h, w)), get(2, (h, w))
        cv2.mixChannels([packed], [u, v, keep], [0, 0, 1, 1, 2, 2])
        _over(dst[1][y0 : y0 + h, x0 : x0 + w], u, keep)
        _over(dst[2][y0 : y0 + h, x0 : x0 + w], v, keep)


class RimComposite:
    """``layer + frame x (1 - alpha)`` over boxes of a frame from one packed layer at chroma resolution
    (premultiplied U, V, 255 - alpha, premultiplied Y): U and V composited at its own resolution, Y and
    alpha enlarged 2x for the luma plane.

    One warp a piece, of a quarter of the luma's pixels: that warp was most of a composite's cost (for a
    512x128 piece's luma, 284 us against 71 us for splitting, multiplying and adding; measured). For
    subject pop's see-through rim, a feather, it looks the same as the full-size composite (see
    ``SubjectPop``). The piece is warped with one chroma pixel to spare on each
    side, so the enlargement is bilinear across the piece's edges too.
    """

    def __init__(self, layer: U8, chroma: F64, scratch: Scratch) -> None:
        self.layer, self.scratch = layer, scratch
        self._chroma = _Placed(chroma)

    def draw(self, box: Box, dst: Planes) -> None:
        x0, y0, x1, y1 = box
        get = self.scratch.get
        cx, cy, w, h = x0 // 2 - 1, y0 // 2 - 1, (x1 - x0) // 2 + 2, (y1 - y0) // 2 + 2
        packed = get(0, (h, w, 4))
        cv2.warpAffine(self.layer, self._chroma.at(cx, cy), (w, h), dst=packed, flags=_FLAGS, borderValue=_CLEAR_CHROMA)
        u, v, keep, colour = get(1, (h, w)), get(3, (h, w)), get(2, (h, w)), get(4, (h, w))
        cv2.mixChannels([packed], [u, v, keep, colour], [0, 0, 1, 1, 2, 2, 3, 3])
        inner = (slice(1, h - 1), slice(1, w - 1))
        _over(dst[1][cy + 1 : cy + h - 1, cx + 1 : cx + w - 1], u[inner], keep[inner])
        _over(dst[2][cy + 1 : cy + h - 1, cx + 1 : cx + w - 1], v[inner], keep[inner])
        # Enlarged pixel j is chroma coordinate (j + 0.5) / 2 - 0.5, the luma pixel 2 * cx + j of centre-sited chroma.
        big_colour, big_keep = get(5, (2 * h, 2 * w)), get(6, (2 * h, 2 * w))
        cv2.resize(colour, (2 * w, 2 * h), dst=big_colour, interpolation=cv2.INTER_LINEAR)
        cv2.resize(keep, (2 * w, 2 * h), dst=big_keep, interpolation=cv2.INTER_LINEAR)
        inner = (slice(2, 2 * h - 2), slice(2, 2 * w - 2))
        _over(dst[0][y0:y1, x0:x1], big_colour[inner], big_keep[inner])


def _over(region: U8, colour: U8, keep: U8) -> None:
    """``colour + region x keep / 255``, in place: the premultiplied layer over what the frame holds."""
    cv2.multiply(region, keep, dst=region, scale=1 / 255)
    cv2.add(region, colour, dst=region)
