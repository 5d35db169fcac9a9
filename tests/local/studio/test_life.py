"""Grain, light leak and bokeh on a real photograph: bounded, visible, moving, and the same for a seed."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data

from prefect_nemo.local.studio.life import Bokeh, FilmGrain, Life, LightLeak

OUT = (320, 180)
Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]
Effect = FilmGrain | LightLeak | Bokeh


def _frame() -> Planes:
    w, h = OUT
    yuv = cv2.cvtColor(cv2.resize(skimage.data.coffee(), OUT, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2YUV_I420)
    return (
        yuv[:h].copy(),
        yuv[h : h + h // 4].reshape(h // 2, w // 2).copy(),
        yuv[h + h // 4 :].reshape(h // 2, w // 2).copy(),
    )


def _applied(effect: Effect, i: int) -> Planes:
    planes = _frame()
    effect.apply(i, planes)
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
