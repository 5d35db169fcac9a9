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


def test_the_shadow_is_cast_on_the_background_not_carried_by_the_layer(
    coffee: tuple[DepthMap, Planes, Cutout],
) -> None:
    """The shadow falls on the background (down and right of the cup), where it stays as the subject
    lifts; the layer is the subject alone, so its see-through rim is the feather only."""
    depth, planes, _ = coffee
    shaded, plain = Cutout.make(planes, depth), Cutout.make(planes, depth, shadow=False)
    assert np.array_equal(shaded.alpha, plain.alpha)  # no shadow tail in the layer
    darker = plain.background[0].astype(int) - shaded.background[0]
    assert darker.min() >= 0 and darker.max() > 10  # the shadow only darkens, and visibly
    ys, xs = np.nonzero(darker > 3)
    (sy, sx), (cy, cx) = (ys.mean(), xs.mean()), np.argwhere(shaded.alpha > 127).mean(axis=0) + shaded.origin[::-1]
    assert sx > cx and sy > cy  # it falls down and to the right of the subject
