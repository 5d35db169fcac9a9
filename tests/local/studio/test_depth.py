"""Depth from classical cues on real photographs: the subject comes out nearer than what is behind it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from prefect_nemo.local.studio.depth import DepthMap, estimate_depth


@pytest.fixture(scope="module")
def astronaut() -> DepthMap:
    return estimate_depth(skimage.data.astronaut())


def test_the_person_is_nearer_than_the_backdrop(astronaut: DepthMap) -> None:
    near = astronaut.near  # 512 x 512, the astronaut's face is around (240, 110), the suit below it
    face, suit = near[90:130, 220:260].mean(), near[380:440, 150:250].mean()
    backdrop, flag = near[20:80, 420:500].mean(), near[20:120, 0:40].mean()
    assert min(face, suit) > max(backdrop, flag) + 0.3
    assert astronaut.near.min() == 0.0 and astronaut.near.max() == pytest.approx(1.0)


def test_the_subject_mask_covers_the_person_and_not_the_corners(astronaut: DepthMap) -> None:
    subject = astronaut.subject > 0.5
    assert subject[100:120, 230:250].all() and subject[400:420, 180:220].all()
    assert not subject[:40, 440:].any()
    x, y, w, h = astronaut.box
    assert 0 <= x < 240 < x + w and 0 <= y < 110 < y + h


def test_depth_changes_at_the_silhouette_not_across_flat_regions() -> None:
    """Edge-aware: the cameraman's coat against the sky is a sharp step; the sky itself is even."""
    gray = skimage.data.camera()
    depth = estimate_depth(np.dstack([gray] * 3))
    near = depth.near
    assert near[200:240, 150:180].mean() - near[40:80, 20:60].mean() > 0.4  # coat vs sky beside the head
    assert float(near[10:60, 300:500].std()) < 0.05  # open sky


def test_a_given_subject_box_steers_the_segmentation() -> None:
    coffee = skimage.data.coffee()  # 600 x 400; the cup and saucer fill the middle left
    depth = estimate_depth(coffee, subject=(60, 20, 420, 360))
    inside = depth.near[depth.subject > 0.5].mean()
    outside = depth.near[depth.subject <= 0.5].mean()
    assert inside > outside + 0.3
    assert depth.resized((600, 400)).shape == (400, 600)


def test_bad_input_names_the_problem() -> None:
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        estimate_depth(skimage.data.camera())


def test_the_same_still_always_gets_the_same_depth() -> None:
    """GrabCut seeds its colour models from OpenCV's RNG: whatever ran before must not change the clip."""
    rgb = cv2.resize(skimage.data.astronaut(), (640, 640), interpolation=cv2.INTER_AREA)
    first = estimate_depth(rgb)
    cv2.setRNGSeed(12345)
    cv2.randu(np.zeros((8, 8), np.uint8), 0, 255)  # another user of OpenCV's RNG in the same thread
    assert np.array_equal(estimate_depth(rgb).near, first.near)
