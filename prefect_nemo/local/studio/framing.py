"""What matters in a picture, found once before any crop or camera path is chosen: faces, the subject, text.

All three detectors ship inside the opencv-contrib wheel (Haar cascades, ``cv2.saliency``), so nothing is
downloaded at run time. They run on a copy of at most ``_SIDE`` pixels: a few hundred milliseconds an image.
The result is a small, picklable ``Framing`` in 0..1 image coordinates, so it crosses the worker-process
boundary and the director can reason about crops without touching pixels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

__all__ = ["Box", "Framing", "analyse", "analyse_rgb", "find_faces", "overlap", "union"]

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in 0..1 image coordinates
U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
_FACE_SIDE = 384  # the cascades (the slow part) run at this size: faces smaller than 1/16 of it don't matter
_SIDE = 512  # detectors run on a copy whose longer side is at most this many pixels
_FACE_CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
_MARGIN = 0.12  # a face box grows by this share of its size on each side (hair, chin, ears)


@dataclass(frozen=True)
class Framing:
    """Where the faces, the main subject and the text (blocks and lines) are, and where a camera should head."""

    size: tuple[int, int] = (1, 1)  # the upright image's width and height in pixels
    faces: tuple[Box, ...] = ()
    subject: Box | None = None
    texts: tuple[Box, ...] = ()
    focus: tuple[float, float] = (0.5, 0.5)
    lines: tuple[Box, ...] = ()  # every line of text, a block's and a lone one's (a heading)

    def keep(self, aspect: float) -> Box | None:
        """The box every frame of a clip with output ``aspect`` (w/h) must show whole.

        The union of the faces and the subject when a crop of that aspect can hold it, else the faces, else
        the largest face; ``None`` when there is nothing to keep or not even one face fits.
        """
        subject = (self.subject,) if self.subject else ()
        for boxes in ((*self.faces, *subject, *self.texts), (*self.faces, *subject), self.faces):
            if boxes and self.fits(union(boxes), aspect):
                return union(boxes)
        if self.faces:
            largest = max(self.faces, key=_area)
            return largest if self.fits(largest, aspect) else None
        return None

    def with_text(self, box: Box) -> Box:
        """``box`` grown to take in the lines of text that continue it: each line across from it and no further
        above or below it than the line's own height (a heading over its paragraph, a caption under a
        product), then the lines continuing those."""
        x0, y0, x1, y1 = box
        todo = list(self.lines)
        while True:
            near = [ln for ln in todo if ln[0] < x1 and ln[2] > x0 and y0 - (ln[3] - ln[1]) <= ln[3]
                    and ln[1] <= y1 + (ln[3] - ln[1])]  # fmt: skip
            if not near:
                return x0, y0, x1, y1
            x0, y0, x1, y1 = union([(x0, y0, x1, y1), *near])
            todo = [ln for ln in todo if ln not in near]

    def fits(self, box: Box, aspect: float) -> bool:
        """Whether the widest crop of ``aspect`` that fits the image can contain ``box``."""
        w, h = self.size
        crop_w = min(w, h * aspect)
        return (box[2] - box[0]) * w <= crop_w * 0.999 and (box[3] - box[1]) * h <= crop_w / aspect * 0.999

    def target(self, what: str) -> Box | None:
        """The box a "zoom into the face / the product / the text" asks for (``face``, ``subject``, ``text``)."""
        if what == "face":
            return union(self.faces) if self.faces else None
        if what == "text":
            return max(self.texts, key=_area) if self.texts else None
        return self.subject


def union(boxes: tuple[Box, ...] | list[Box]) -> Box:
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def overlap(a: Box, b: Box) -> float:
    """Intersection over the smaller box's area."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy / max(1e-9, min(_area(a), _area(b)))


def centre(box: Box) -> tuple[float, float]:
    return round(float(box[0] + box[2]) / 2, 4), round(float(box[1] + box[3]) / 2, 4)


def _area(box: Box) -> float:
    return (box[2] - box[0]) * (box[3] - box[1])


def analyse(image: Path) -> Framing:
    """Load ``image`` upright at reduced size and analyse it."""
    from .frames import load_rgb  # the renderer's loader: EXIF-upright, reduced JPEG decode, alpha on white

    rgb = load_rgb(Path(image), lambda w, h: min(1.0, _SIDE / max(w, h)))
    with Image.open(image) as img:
        turned = img.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        size = (img.height, img.width) if turned else (img.width, img.height)
    return analyse_rgb(rgb, size)


def analyse_rgb(rgb: U8, size: tuple[int, int] | None = None) -> Framing:
    """Analyse an RGB array (any size; reduced here). ``size`` is the full image's size, if this is a copy."""
    rgb = _reduced(rgb)
    h, w = rgb.shape[:2]
    gray = np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), np.uint8)
    if float(rgb.std()) < 1.0:  # a flat picture: nothing stands out, and normalising noise would invent it
        return Framing(size=size or (w, h))
    faces = _faces(gray)
    sal = _saliency(rgb)
    subject = _subject(sal)
    texts, lines = _texts(gray, faces)
    if faces:
        focus = centre(union(faces))
    elif float(sal.max()) > 1e-3:
        weight = np.where(sal >= np.quantile(sal, 0.9), sal, 0)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        total = float(weight.sum())
        focus = (round(float((weight * (xs + 0.5)).sum()) / total / w, 4),
                 round(float((weight * (ys + 0.5)).sum()) / total / h, 4))  # fmt: skip
    else:
        focus = (0.5, 0.5)
    return Framing(size=size or (w, h), faces=faces, subject=subject, texts=texts, focus=focus, lines=lines)


def find_faces(rgb: U8) -> tuple[Box, ...]:
    """The faces alone (0..1 boxes, with margin), as ``analyse_rgb`` finds them: for a look at many frames."""
    small = _reduced(rgb)
    if float(small.std()) < 1.0:  # a flat picture (as in ``analyse_rgb``)
        return ()
    return _faces(np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), np.uint8))


def _reduced(rgb: U8) -> U8:
    """``rgb`` shrunk so its longer side is at most ``_SIDE`` pixels."""
    h, w = rgb.shape[:2]
    f = min(1.0, _SIDE / max(w, h))
    if f >= 1:
        return rgb
    return np.asarray(cv2.resize(rgb, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA), np.uint8)


@functools.cache
def _cascade(name: str) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / name))  # type: ignore[attr-defined]
    if cascade.empty():
        raise RuntimeError(f"OpenCV's {name} did not load; is opencv-contrib-python-headless 4.x installed?")
    return cascade


def _faces(gray: U8) -> tuple[Box, ...]:
    """Frontal and profile faces (profiles both ways: the cascade knows only one side), merged, with margin."""
    h, w = gray.shape
    f = min(1.0, _FACE_SIDE / max(w, h))
    small = cv2.resize(gray, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA) if f < 1 else gray
    eq = cv2.equalizeHist(small)
    side = max(16, min(eq.shape) // 16)  # smaller than 1/16 of the picture: noise, or a face that doesn't matter
    found: list[tuple[int, int, int, int]] = []
    for name in _FACE_CASCADES:
        for flip in (False, True) if "profile" in name else (False,):
            img = cv2.flip(eq, 1) if flip else eq
            hits = _cascade(name).detectMultiScale(img, scaleFactor=1.15, minNeighbors=5, minSize=(side, side))
            for x, y, bw, bh in hits:
                found.append(
                    (round((eq.shape[1] - x - bw if flip else x) / f), round(y / f), round(bw / f), round(bh / f))
                )
    if not found:
        return ()
    # groupRectangles merges overlapping hits of the cascades; each rect is repeated so singletons survive
    merged, _ = cv2.groupRectangles([list(r) for r in found] * 2, groupThreshold=1, eps=0.3)
    boxes = []
    for x, y, bw, bh in merged:
        m = _MARGIN
        box = (max(0.0, (x - m * bw) / w), max(0.0, (y - 1.5 * m * bh) / h),
               min(1.0, (x + (1 + m) * bw) / w), min(1.0, (y + (1 + m) * bh) / h))  # fmt: skip
        boxes.append(_rounded(box))
    return tuple(sorted(boxes))


def _rounded(box: tuple[float, ...]) -> Box:
    return round(float(box[0]), 4), round(float(box[1]), 4), round(float(box[2]), 4), round(float(box[3]), 4)


def _saliency(rgb: U8) -> F32:
    """Spectral-residual saliency plus distance from the border's colour (product shots on a backdrop),
    blurred, with a mild centre prior; 0..1."""
    h, w = rgb.shape[:2]
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()  # type: ignore[attr-defined]
    ok, spectral = detector.computeSaliency(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    spectral = np.asarray(spectral, np.float32) if ok else np.zeros((h, w), np.float32)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    dist = np.linalg.norm(lab - np.median(border, axis=0), axis=2).astype(np.float32)
    sigma = max(w, h) / 40
    spectral, dist = (cv2.GaussianBlur(m, (0, 0), sigma) for m in (spectral, dist))
    sal = spectral / (float(spectral.max()) + 1e-6) + dist / (float(dist.max()) + 1e-6)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs, ys = (xs + 0.5) / w, (ys + 0.5) / h
    sal *= 0.6 + 0.4 * np.exp(-((xs - 0.5) ** 2 + (ys - 0.5) ** 2) / (2 * 0.3**2))
    return np.asarray(sal / 2, np.float32)


def _subject(sal: F32) -> Box | None:
    """The bounding box of the largest salient region (Otsu threshold), or None for a flat or all-busy map."""
    h, w = sal.shape
    if float(sal.max()) < 1e-3:
        return None
    u8 = np.asarray(np.clip(sal / float(sal.max()) * 255, 0, 255), np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, mask = cv2.threshold(u8, max(otsu, float(np.quantile(u8, 0.8))), 255, cv2.THRESH_BINARY)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((max(3, w // 40), max(3, h // 40)), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, bw, bh, area = (int(v) for v in stats[best])
    if area < 0.005 * w * h or bw * bh > 0.9 * w * h:
        return None
    return _rounded((x / w, y / h, (x + bw) / w, (y + bh) / h))


def _texts(gray: U8, faces: tuple[Box, ...]) -> tuple[tuple[Box, ...], tuple[Box, ...]]:
    """Text blocks and lines: morphological gradient, Otsu, closed along lines; a line is kept when wide, dense
    and not on a face, a block when it holds two lines or more."""
    h, w = gray.shape
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    _, bw_ = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    closed = cv2.morphologyEx(bw_, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (max(9, w // 50), 1)))
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rows: list[tuple[int, int, int, int]] = []
    for c in contours:
        x, y, cw, ch = cv2.boundingRect(c)
        fill = cv2.countNonZero(bw_[y : y + ch, x : x + cw]) / max(1, cw * ch)
        if cw >= 2.0 * ch and 6 <= ch <= h // 6 and cw >= w // 25 and 0.25 <= fill <= 0.85:
            rows.append((x, y, cw, ch))
    if not rows:
        return (), ()
    # rows of one block sit close together: dilate vertically and take the blocks' boxes
    canvas = np.zeros((h, w), np.uint8)
    for x, y, cw, ch in rows:
        canvas[y : y + ch, x : x + cw] = 255
    blocks_mask = cv2.dilate(canvas, np.ones((max(3, h // 40), max(3, w // 60)), np.uint8))
    blocks, _ = cv2.findContours(blocks_mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out: list[Box] = []
    for c in blocks:
        x, y, cw, ch = cv2.boundingRect(c)
        box = _rounded((x / w, y / h, (x + cw) / w, (y + ch) / h))
        covered = sum(1 for r in rows if x <= r[0] and r[0] + r[2] <= x + cw and y <= r[1] and r[1] + r[3] <= y + ch)
        if covered >= 2 and not any(overlap(box, f) > 0.3 for f in faces) and _area(box) < 0.9:
            out.append(box)
    lines = (_rounded((x / w, y / h, (x + cw) / w, (y + ch) / h)) for x, y, cw, ch in rows)
    return tuple(sorted(out)), tuple(sorted(ln for ln in lines if not any(overlap(ln, f) > 0.3 for f in faces)))
