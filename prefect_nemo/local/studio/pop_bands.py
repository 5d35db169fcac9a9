"""Where subject pop's frame is opaque subject, see-through rim or background: bands, planned once a clip.

The subject's crop is cut into bands of rows, and each band into column runs where the layer shows on some
row of it and where it is opaque on all of them (``plan_bands``); ``subject_pop.SubjectPop`` warps the
background around the opaque runs, the subject straight into them, and composites only the rest of what
shows. Where the bands end is chosen by what drawing them costs (``_cost``), measured on ``warpAffine``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["SAFE", "Band", "Runs", "minus", "plan_bands", "union"]

U8 = npt.NDArray[np.uint8]
Runs = list[tuple[int, int]]  # column intervals [x0, x1), left to right, disjoint
_FINE_BANDS = 48  # the subject's rows cut this fine, then grouped where that costs less (see plan_bands)
SAFE = 6  # crop pixels kept clear of the opaque runs' sides (bilinear support, chroma, rounding)
_MIN_RUN = 48  # crop pixels: a narrower opaque run, or clear gap, is not worth a piece of its own
_NARROW = 64  # pixels of a 1080p frame: a narrower piece costs as much per row
_PIECE_PX = 2000  # pixels of a 1080p frame's plain warp that one more piece costs (its calls)
_COMPOSITE = 1.1  # a see-through pixel's composite, in plain warps of it (measured 1.0x to 1.5x, 16x512 to 1024x256)


@dataclass(frozen=True)
class Band:
    """Crop rows ``top``..``bottom``: where the layer shows at all (grown by ``SAFE``) and where it is
    opaque (shrunk by ``SAFE``), as column runs of the crop."""

    top: int
    bottom: int
    shows: Runs
    opaque: Runs


def minus(runs: Runs, holes: Runs) -> Runs:
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


def union(runs: Runs) -> Runs:
    """Sorted runs with the overlapping or touching ones merged."""
    out: Runs = []
    for x0, x1 in sorted(runs):
        if out and x0 <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], x1))
        else:
            out.append((x0, x1))
    return out


def _runs(flags: npt.NDArray[np.bool_]) -> Runs:
    """The runs of True in a row of flags."""
    edges = np.flatnonzero(np.diff(np.r_[0, flags.astype(np.int8), 0]))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def plan_bands(alpha: U8, shown: tuple[int, int], scale: float) -> list[Band]:
    """The crop's ``shown`` rows in bands, each with the column runs where the layer shows on some row of
    the band or ``SAFE`` rows beyond (grown by ``SAFE``; gaps under ``_MIN_RUN`` closed) and where it is
    opaque on all of them (shrunk by ``SAFE``; runs under ``_MIN_RUN`` dropped).

    The rows are cut fine (``_FINE_BANDS``) and the fine bands grouped so that drawing them costs least
    (``_cost``; ``scale`` crop pixels per pixel of a frame of 1080p's size), by dynamic programming over
    where bands end: a tower's straight sides make one tall band, its top a thin one.
    """
    first, last = max(0, shown[0]), min(alpha.shape[0], shown[1])
    cuts = np.linspace(first, max(first, last), _FINE_BANDS + 1).round().astype(int)
    fine = []
    for top, bottom in itertools.pairwise(cuts):
        rows = alpha[max(first, top - SAFE) : min(last, bottom + SAFE)]
        fine.append((int(top), int(bottom), rows.max(axis=0), rows.min(axis=0)))
    best = [0.0] + [math.inf] * len(fine)  # best[j]: the least cost of the first j fine bands
    start = [0] * (len(fine) + 1)  # where the last band of that best grouping starts
    for i, (top, _, high, low) in enumerate(fine):
        for j in range(i, len(fine)):
            high, low = np.maximum(high, fine[j][2]), np.minimum(low, fine[j][3])
            cost = best[i] + _cost(fine[j][1] - top, *_columns(high, low), scale)
            if cost < best[j + 1]:
                best[j + 1], start[j + 1] = cost, i
    bands: list[Band] = []
    j = len(fine)
    while j > 0:
        i = start[j]
        high = np.max([band[2] for band in fine[i:j]], axis=0)
        low = np.min([band[3] for band in fine[i:j]], axis=0)
        bands.insert(0, Band(fine[i][0], fine[j - 1][1], *_columns(high, low)))
        j = i
    return bands


def _columns(high: U8, low: U8) -> tuple[Runs, Runs]:
    """Where a band shows (its rows' largest alpha above 0) and is opaque (its smallest at 255), as runs."""
    shows: Runs = []
    for x0, x1 in _runs(high > 0):
        x0, x1 = x0 - SAFE, x1 + SAFE
        if shows and x0 - shows[-1][1] < _MIN_RUN:
            x0 = shows.pop()[0]
        shows.append((x0, x1))
    opaque = [(x0 + SAFE, x1 - SAFE) for x0, x1 in _runs(low == 255) if x1 - x0 >= _MIN_RUN]
    return shows, opaque


def _cost(rows: int, shows: Runs, opaque: Runs, scale: float) -> float:
    """What drawing a band costs, in crop pixels of a plain warp, beyond the background it covers anyway.

    ``warpAffine`` costs per row of a piece about as much for 64 output pixels as for fewer (measured: a
    frame in 32-pixel columns took twice as long as in 64-pixel ones, and those 1.4x the whole frame at
    once), so every piece counts at least ``_NARROW`` wide, and ``_PIECE_PX`` more for its calls; a
    see-through run costs ``_COMPOSITE`` times a plain warp of it (the rim layer's warp at chroma
    resolution, its channels, the luma's enlargement, multiplies and adds), on top of the background under it.
    """
    narrow = _NARROW * scale
    gaps = minus([(opaque[0][0], opaque[-1][1])], opaque) if opaque else []
    see_through = minus(shows, opaque)
    width = sum(max(b - a, narrow) - (b - a) for a, b in [*opaque, *gaps])  # the subject replaces the background
    width += _COMPOSITE * sum(max(b - a, narrow) for a, b in see_through)
    pieces = 2 + len(opaque) + len(gaps) + 2 * len(see_through)
    return rows * width + pieces * _PIECE_PX * scale * scale
