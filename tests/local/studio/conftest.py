"""Fixtures shared by the studio's tests: a real photograph cut out once per session."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data

from prefect_nemo.local.studio.cutout import Cutout
from prefect_nemo.local.studio.depth import DepthMap, estimate_depth
from prefect_nemo.local.studio.frames import source_planes

Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]


@pytest.fixture(scope="session")
def coffee() -> tuple[DepthMap, Planes, Cutout]:
    """skimage's coffee at 720x480: its depth, its planes and its cut-out (the cup on its saucer)."""
    rgb = cv2.resize(skimage.data.coffee(), (720, 480), interpolation=cv2.INTER_AREA)
    depth = estimate_depth(rgb)
    planes = source_planes(rgb)
    return depth, planes, Cutout.make(planes, depth)
