"""Subject pop's plan: bands of rows and, in each, where the layer is opaque and where it shows."""

from __future__ import annotations

import numpy as np

from prefect_nemo.local.studio.pop_bands import SAFE, minus, plan_bands, union


def _towers() -> np.ndarray:
    """A 1080p-sized crop: two opaque towers of different heights with soft 20-pixel sides and tops."""
    alpha = np.zeros((2000, 3000), np.uint8)
    ramp = np.linspace(0, 255, 20).astype(np.uint8)
    for x0, x1, top in ((400, 1000, 300), (1800, 2500, 1100)):
        alpha[top:, x0:x1] = 255
        alpha[top:, x0 - 20 : x0] = ramp
        alpha[top:, x1 : x1 + 20] = ramp[::-1]
        alpha[top - 20 : top, x0 - 20 : x1 + 20] = np.minimum(alpha[top - 20 : top, x0 - 20 : x1 + 20], ramp[:, None])
    return alpha


def test_towers_of_different_heights_get_their_own_bands_and_opaque_runs() -> None:
    bands = plan_bands(_towers(), (0, 2000), scale=2.0)
    assert [b.top for b in bands] == sorted(b.top for b in bands) and bands[0].top == 0 and bands[-1].bottom == 2000
    low = [b for b in bands if b.top <= 1500 < b.bottom]
    assert low and all(len(b.opaque) == 2 for b in low)  # both towers opaque, the sky between them left alone
    for b in low:
        (l0, l1), (r0, r1) = b.opaque
        assert 400 <= l0 < l1 <= 1000 and 1800 <= r0 < r1 <= 2500
        rims = minus(b.shows, b.opaque)  # only the towers' soft sides are composited
        assert len(rims) == 4 and all(x1 - x0 <= 20 + 4 * SAFE for x0, x1 in rims)


def test_rows_no_frame_shows_are_left_out() -> None:
    """The tall tower's top above every frame: the band at the frame's top is opaque, not see-through."""
    bands = plan_bands(_towers(), (600, 2000), scale=2.0)
    assert bands[0].top == 600
    assert any(x0 <= 420 and x1 >= 980 for x0, x1 in bands[0].opaque)


def test_runs_arithmetic() -> None:
    assert minus([(0, 100)], [(10, 20), (50, 60)]) == [(0, 10), (20, 50), (60, 100)]
    assert minus([(0, 100)], [(0, 100)]) == []
    assert union([(30, 40), (0, 10), (10, 20), (35, 50)]) == [(0, 20), (30, 50)]
