"""Subject pop's layers from a real photograph: a feathered cut-out, and the background filled behind it."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from prefect_nemo.local.studio.cutout import Cutout
from prefect_nemo.local.studio.depth import DepthMap

Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]


def test_alpha_is_feathered_at_the_edge_and_solid_inside(coffee: tuple[DepthMap, Planes, Cutout]) -> None:
    _, _, cut = coffee
    alpha = cut.alpha
    assert (alpha == 255).mean() > 0.2 and (alpha == 0).mean() > 0.05
    edge = cv2.morphologyEx((alpha > 127).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    soft = (alpha[edge] > 0) & (alpha[edge] < 255)
    assert soft.mean() > 0.8  # the boundary is a ramp, not a hard cut


def test_the_background_is_filled_where_the_subject_stood(coffee: tuple[DepthMap, Planes, Cutout]) -> None:
    depth, planes, cut = coffee
    h, w = planes[0].shape
    inside = cv2.resize(depth.subject, (w, h)) > 0.9
    changed = np.abs(cut.background[0].astype(int) - planes[0])[inside]
    assert (changed > 2).mean() > 0.5  # the cup is painted over...
    outside = cv2.resize(depth.subject, (w, h)) < 0.01
    far = cv2.erode(outside.astype(np.uint8), np.ones((61, 61), np.uint8)) > 0
    assert np.array_equal(cut.background[0][far], planes[0][far])  # ...and nothing far from it
