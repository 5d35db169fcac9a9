"""Grain, light leak and bokeh on a real photograph: bounded, visible, moving, and the same for a seed; bokeh
screened on as soft, translucent discs tinted like the picture's highlights and kept off faces."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data

from prefect_nemo.local.studio.framing import analyse_rgb
from prefect_nemo.local.studio.life import Bokeh, FilmGrain, Life, LightLeak

OUT = (320, 180)
Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]
Effect = FilmGrain | LightLeak | Bokeh


def _planes(rgb: npt.NDArray[np.uint8]) -> Planes:
    h, w = rgb.shape[:2]
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    return (
        yuv[:h].copy(),
        yuv[h : h + h // 4].reshape(h // 2, w // 2).copy(),
        yuv[h + h // 4 :].reshape(h // 2, w // 2).copy(),
    )


def _frame() -> Planes:
    return _planes(cv2.resize(skimage.data.coffee(), OUT, interpolation=cv2.INTER_AREA))


def _applied(effect: Effect, i: int) -> Planes:
    planes = _frame()
    effect.apply(i, planes)
    return planes


def _applied_to(effect: Effect, rgb: npt.NDArray[np.uint8]) -> Planes:
    planes = _planes(rgb)
    effect.apply(0, planes)
    return planes


EFFECTS = {
    "grain": lambda seed: FilmGrain(OUT, strength=4.0, seed=seed),
    "light_leak": lambda seed: LightLeak(OUT, 30, seed=seed),
    "bokeh": lambda seed: Bokeh(OUT, 30, seed=seed),
}


@pytest.mark.parametrize("name", EFFECTS)
def test_effects_are_deterministic_for_a_seed_and_differ_across_seeds(name: str) -> None:
    make = EFFECTS[name]
    one, again, other = (_applied(make(seed), 7)[0] for seed in (1, 1, 2))
    assert np.array_equal(one, again)
    assert not np.array_equal(one, other)


@pytest.mark.parametrize("name", EFFECTS)
def test_effects_change_the_picture_over_time(name: str) -> None:
    effect = EFFECTS[name](3)
    base = _frame()[0].astype(int)
    early, late = (_applied(effect, i)[0].astype(int) for i in (0, 29))
    assert np.abs(early - base).mean() > 0.3
    assert np.abs(early - late).mean() > 0.3


def test_grain_is_zero_mean_noise_of_the_asked_strength() -> None:
    base = _frame()[0].astype(int)
    diff = _applied(FilmGrain(OUT, strength=4.0), 5)[0].astype(int) - base
    inner = diff[(base > 30) & (base < 225)]  # away from clipping
    assert abs(float(inner.mean())) < 0.5 and 3.0 < float(inner.std()) < 5.0
    assert np.abs(inner).max() <= 4 * 6


def test_light_leak_only_brightens_and_warms() -> None:
    base, leaked = _frame(), _applied(LightLeak(OUT, 30, seed=4), 10)
    assert (leaked[0] >= base[0]).all() and (leaked[2] >= base[2]).all() and (leaked[1] <= base[1]).all()
    assert int((leaked[0].astype(int) - base[0]).max()) <= 46


def test_bokeh_discs_brighten_small_patches_only() -> None:
    base, lit = _frame()[0], _applied(Bokeh(OUT, 30, count=6, seed=5), 0)[0]
    changed = lit.astype(int) - base
    assert (changed >= 0).all() and 0.002 < (changed > 0).mean() < 0.2


def test_bokeh_discs_are_soft_and_translucent() -> None:
    """On flat grey the lift is the discs' coverage: never to white, and with a soft edge (many faint pixels)."""
    grey = np.full((OUT[1], OUT[0], 3), 100, np.uint8)
    base = _planes(grey)[0].astype(int)
    lift = np.stack([_applied_to(Bokeh(OUT, 30, count=12, seed=s), grey)[0].astype(int) - base for s in range(4)])
    lit = lift[lift > 0]
    assert lit.size > 500 and int(lit.max()) <= 0.75 * (255 - 100)
    assert (lit < 0.5 * lit.max()).mean() > 0.15  # a soft edge, not a hard cut-out


@pytest.mark.parametrize(("highlight", "warmer"), [((255, 170, 60), True), ((90, 170, 255), False)])
def test_bokeh_is_tinted_like_the_highlights(highlight: tuple[int, int, int], warmer: bool) -> None:
    """A dark scene lit by an orange (or a blue) lamp gets orange (or blue) discs, where they float."""
    rgb = np.full((OUT[1], OUT[0], 3), 40, np.uint8)
    rgb[:12, :40] = highlight  # the lamp: 1% of the picture
    base = _planes(rgb)
    lit = _applied_to(Bokeh(OUT, 30, count=30, seed=1), rgb)
    du, dv = (lit[k].astype(int) - base[k] for k in (1, 2))
    where = np.abs(du) + np.abs(dv) > 2
    where[:8, :24] = False  # off the lamp
    assert where.sum() > 50
    assert (float(dv[where].mean()) > float(du[where].mean())) is warmer  # red-difference up, or blue


def test_bokeh_keeps_off_faces() -> None:
    """Discs fade over the astronaut's face (found the way the framing finds it) but show elsewhere."""
    rgb = np.ascontiguousarray(cv2.resize(skimage.data.astronaut(), (640, 640))[40:400])
    (x0, y0, x1, y1), *_ = analyse_rgb(rgb).faces
    base = _planes(rgb)[0].astype(int)
    lift = sum(_applied_to(Bokeh((640, 360), 30, count=60, seed=s), rgb)[0].astype(int) - base for s in range(3))
    face = np.zeros(base.shape, bool)
    face[round(y0 * 360) : round(y1 * 360), round(x0 * 640) : round(x1 * 640)] = True
    assert float(lift[~face].mean()) > 1.0
    assert float(lift[face].mean()) < 0.25 * float(lift[~face].mean())


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="grain strength"):
        FilmGrain(OUT, strength=0)
    with pytest.raises(ValueError, match="bokeh count"):
        Bokeh(OUT, 10, count=0)


def test_life_is_driven_by_time_so_preview_and_final_agree() -> None:
    """The same moment of a clip looks the same at any frame rate: the effects' clock is milliseconds."""
    life = Life(["light_leak", "bokeh"], 2.0)
    at_15fps, at_30fps = _frame(), _frame()
    life.apply(at_15fps, 9 / 15)
    life.apply(at_30fps, 18 / 30)
    assert np.array_equal(at_15fps[0], at_30fps[0])
    later = _frame()
    life.apply(later, 1.5)
    assert not np.array_equal(later[0], at_15fps[0])


def test_life_names_only_known_effects() -> None:
    with pytest.raises(ValueError, match=r"fx life=\['snow'\] must be a list of grain, light_leak, bokeh"):
        Life(["snow"], 2.0)
    with pytest.raises(ValueError, match="fx life='grain'"):
        Life("grain", 2.0)
