"""A depth guess for one still, from classical cues, made once per image without downloaded weights.

No depth or segmentation model ships in a wheel we can install, so nearness is guessed the way a painter
would: the subject is in front (GrabCut, seeded by the caller's subject or face boxes, else by spectral
residual saliency), what is in focus is nearer than what is blurred (local Laplacian energy), and the ground
comes toward the viewer at the bottom of the frame (a vertical prior). The cues are blended at a reduced
resolution (long side 512) and smoothed edge-aware with a guided filter, so depth changes where the picture
has edges and nowhere else. A 12-MP photo costs well under a second on one core (bench/motion.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["Box", "DepthMap", "estimate_depth", "subject_mask"]

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Box = tuple[int, int, int, int]  # x, y, width, height in pixels

ANALYSIS_SIDE = 512
_GRABCUT_ITERS = 3
_GRABCUT_SIDE = 200


@dataclass(frozen=True)
class DepthMap:
    """Nearness (1 = nearest) and the subject, at analysis resolution; ``scale`` = analysis px per image px."""

    near: F32
    subject: F32  # soft subject mask 0..1
    box: Box  # the subject's bounding box, analysis pixels
    scale: float

    @property
    def size(self) -> tuple[int, int]:
        return self.near.shape[1], self.near.shape[0]

    def resized(self, size: tuple[int, int]) -> F32:
        """Nearness upsampled to ``size`` (width, height): it is smooth, so bilinear loses nothing."""
        return np.asarray(cv2.resize(self.near, size, interpolation=cv2.INTER_LINEAR), np.float32)

    def subject_near(self) -> float:
        """The subject's typical nearness: the plane a parallax move pivots about."""
        inside = self.near[self.subject > 0.5]
        return float(np.median(inside)) if inside.size else float(np.quantile(self.near, 0.9))


def analysis_image(rgb: U8, side: int = ANALYSIS_SIDE) -> tuple[U8, float]:
    """The image shrunk (anti-aliased) so its long side is ``side``; returns it and the scale used."""
    h, w = rgb.shape[:2]
    scale = min(1.0, side / max(w, h))
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    small = rgb if size == (w, h) else cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small, dtype=np.uint8), size[0] / w


def estimate_depth(rgb: U8, *, subject: Box | None = None, faces: Sequence[Box] = ()) -> DepthMap:
    """Nearness of every part of ``rgb`` (H x W x 3, RGB); boxes are in ``rgb``'s pixels.

    ``subject`` (what the framing found) seeds the segmentation; failing that, ``faces`` (a person's body
    hangs below the face), failing that the most salient region.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"image must be an H x W x 3 uint8 RGB array, got {rgb.shape} {rgb.dtype}")
    small, scale = analysis_image(rgb)
    h, w = small.shape[:2]
    sal = _saliency(small)
    found = [_scaled(f, scale) for f in faces] or ([] if subject is not None else _faces(small))
    seed = _seed_box(sal, None if subject is None else _scaled(subject, scale), found)
    mask = subject_mask(small, seed, sure=[(x + w // 5, y + h // 5, 3 * w // 5, 3 * h // 5) for x, y, w, h in found])
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    ground = np.broadcast_to(ys, (h, w))
    cues = 0.5 * ground + 0.3 * _sharpness(small) + 0.2 * sal  # background nearness, 0..1
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5)
    # The subject is always in front, and rounded: nearest at its middle, receding toward its outline.
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    dome = np.sqrt(np.clip(inside / max(4.0, 0.25 * math.sqrt(float(mask.sum()))), 0, 1))
    near = (1.0 - soft) * 0.6 * cues + soft * (0.76 + 0.16 * dome + 0.08 * cues)
    guide = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    radius = max(2, round(max(w, h) / 64))
    near = cv2.ximgproc.guidedFilter(guide, near.astype(np.float32), radius, 1e-3)
    lo, hi = float(near.min()), float(near.max())
    near = (near - lo) / max(hi - lo, 1e-6)
    return DepthMap(np.asarray(near, np.float32), np.asarray(soft, np.float32), _mask_box(mask, seed), scale)


def subject_mask(small: U8, seed: Box, sure: Sequence[Box] = ()) -> npt.NDArray[np.bool_]:
    """The subject inside ``seed`` (GrabCut): its largest piece plus whatever holds a ``sure`` box (a face
    above a dark collar is a separate piece); the seed box itself if GrabCut fails.

    GrabCut's cost grows fast with the pixels in the box, so it runs at a long side of 200 px and
    its mask is brought back up edge-aware (a guided filter steered by the image).
    """
    h, w = small.shape[:2]
    k = _GRABCUT_SIDE / max(w, h)
    half = np.asarray(cv2.resize(small, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA), np.uint8)
    x, y, bw, bh = _scaled(seed, k)
    coarse = _grabcut(half, (x, y, max(bw, 4), max(bh, 4)), [_scaled(b, k) for b in sure])
    up = cv2.resize(coarse.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    guide = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.ximgproc.guidedFilter(guide, up, 4, 1e-2) > 0.5)


def _grabcut(small: U8, seed: Box, sure: Sequence[Box]) -> npt.NDArray[np.bool_]:
    """Outside the seed is only probably background (seeds are guesses), except a thin frame at the top and
    sides; the bottom edge is left open because subjects stand on it."""
    h, w = small.shape[:2]
    x, y, bw, bh = seed
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    rim = max(2, min(h, w) // 40)
    mask[:rim], mask[:, :rim], mask[:, -rim:] = cv2.GC_BGD, cv2.GC_BGD, cv2.GC_BGD
    mask[y : y + bh, x : x + bw] = cv2.GC_PR_FGD
    for sx, sy, sw, sh in sure:
        mask[sy : sy + sh, sx : sx + sw] = cv2.GC_FGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    bgr = cv2.cvtColor(small, cv2.COLOR_RGB2BGR)
    cv2.setRNGSeed(0)  # GrabCut's k-means starts from OpenCV's (per-thread) RNG: the same still, the same depth
    try:
        cv2.grabCut(bgr, mask, (0, 0, 0, 0), bgd, fgd, _GRABCUT_ITERS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # degenerate colour models (a flat image): fall back to the seed box
        return _box_mask((h, w), seed)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count <= 1:
        return _box_mask((h, w), seed)
    wanted = {1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))}
    wanted |= {int(labels[sy + sh // 2, sx + sw // 2]) for sx, sy, sw, sh in sure} - {0}
    keep = np.isin(labels, list(wanted))
    if keep.sum() < 0.02 * bw * bh:
        return _box_mask((h, w), seed)
    return np.asarray(cv2.morphologyEx(keep.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)) > 0)


def _saliency(small: U8) -> F32:
    """What stands out, 0..1: spectral residual saliency plus colour distinct from the border's, centre-weighted.

    Spectral residual alone locks onto speculars; a product or a person differs in colour from the
    backdrop, which the border shows.
    """
    h, w = small.shape[:2]
    detector = cv2.saliency.StaticSaliencySpectralResidual_create()  # type: ignore[attr-defined]
    ok, spectral = detector.computeSaliency(cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
    spectral = np.asarray(spectral, np.float32) if ok else np.zeros((h, w), np.float32)
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]])
    distinct = np.linalg.norm(lab - np.median(border, axis=0), axis=2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-(((xs / w - 0.5) ** 2 + (ys / h - 0.5) ** 2) / (2 * 0.25**2)))
    sigma = max(w, h) / 40
    parts = [cv2.GaussianBlur(m, (0, 0), sigma) for m in (spectral, distinct)]
    sal = sum(p / (float(p.max()) + 1e-6) for p in parts) * (0.4 + 0.6 * centre)
    return np.asarray(sal / (float(sal.max()) + 1e-6), np.float32)


def _faces(small: U8) -> list[Box]:
    """Frontal faces (Haar cascade), in analysis pixels: a person is the subject when there is one."""
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    side = max(24, min(gray.shape) // 10)
    found = cascade.detectMultiScale(gray, scaleFactor=1.2, minNeighbors=5, minSize=(side, side))
    return [(int(x), int(y), int(bw), int(bh)) for x, y, bw, bh in found]


def _sharpness(small: U8) -> F32:
    """In-focus detail: log local Laplacian energy, robustly scaled to 0..1."""
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
    energy = np.log1p(cv2.GaussianBlur(lap * lap, (0, 0), max(gray.shape) / 48))
    lo, hi = (float(q) for q in np.quantile(energy, (0.05, 0.95)))
    return np.asarray(np.clip((energy - lo) / max(hi - lo, 1e-6), 0, 1), np.float32)


def _scaled(box: Box, k: float) -> Box:
    x, y, w, h = (round(v * k) for v in box)
    return x, y, w, h


def _seed_box(sal: F32, subject: Box | None, found: Sequence[Box]) -> Box:
    """The GrabCut seed in analysis pixels: the caller's subject, the faces' bodies, or the salient mass."""
    h, w = sal.shape
    x: float
    y: float
    bw: float
    bh: float
    if subject is not None:
        x, y, bw, bh = subject
    elif found:
        x0 = min(f[0] - 1.5 * f[2] for f in found)
        x1 = max(f[0] + 2.5 * f[2] for f in found)
        y0 = min(f[1] - 0.5 * f[3] for f in found)
        x, y, bw, bh = x0, y0, x1 - x0, h - y0  # the body below the face, down to the frame's edge
    else:  # where most of the saliency lies (weighted 8%..92% quantiles on each axis)
        weight = sal**2
        x0, x1 = _weighted_range(weight.sum(axis=0))
        y0, y1 = _weighted_range(weight.sum(axis=1))
        x, y, bw, bh = x0 - 0.15 * (x1 - x0), y0 - 0.15 * (y1 - y0), 1.3 * (x1 - x0), 1.3 * (y1 - y0)
    x0, y0 = int(np.clip(x, 1, w - 8)), int(np.clip(y, 1, h - 8))
    x1, y1 = int(np.clip(x + bw, x0 + 6, w - 1)), int(np.clip(y + bh, y0 + 6, h - 1))
    return x0, y0, x1 - x0, y1 - y0


def _weighted_range(mass: F32) -> tuple[float, float]:
    cum = np.cumsum(mass) / max(float(mass.sum()), 1e-6)
    return float(np.searchsorted(cum, 0.08)), float(np.searchsorted(cum, 0.92))


def _box_mask(shape: tuple[int, int], box: Box) -> npt.NDArray[np.bool_]:
    mask = np.zeros(shape, bool)
    mask[box[1] : box[1] + box[3], box[0] : box[0] + box[2]] = True
    return mask


def _mask_box(mask: npt.NDArray[np.bool_], fallback: Box) -> Box:
    ys, xs = np.nonzero(mask)
    if not xs.size:
        return fallback
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)
