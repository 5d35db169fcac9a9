"""A typed Camera on a ClipSpec renders the same draft as the words a person would type."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from prefect_nemo import Camera, ClipSpec
from prefect_nemo.local.studio.director import direct
from prefect_nemo.local.studio.framing import Framing

FACE = Framing(size=(3000, 2000), faces=((0.6, 0.2, 0.7, 0.4),), subject=(0.5, 0.15, 0.8, 0.9), focus=(0.65, 0.3))


def draft(message: str) -> dict[str, Any]:
    d = direct(message, image_asset="img", image_size=(3000, 2000), framing=FACE)
    assert d.texts[1:] == [], d.texts
    return d.draft


@pytest.mark.parametrize(
    ("camera", "words"),
    [
        (Camera(), "push in"),
        (Camera(move="pan_left", then=("push_in",), speed="slow"), "slow pan left, then push in"),
        (Camera(move="push_in", then=("hold",), easing="linear"), "push in, then hold, linear"),
        (Camera(move="pull_out", speed="fast", easing="ease_out"), "fast pull out, ease out"),
        (Camera(focus="face"), "zoom into the face"),
        (Camera(move="pan_right", focus="subject"), "pan right, then zoom into the subject"),
        (Camera(move="orbit", focus=(0.62, 0.41)), "rotating orbit, focus at 0.62, 0.41"),
        (Camera(move="parallax"), "parallax"),
        (Camera(move="parallax", speed="slow", focus="face"), "slow parallax"),
        (Camera(move="dolly_zoom", easing="linear"), "dolly zoom, linear"),
        (Camera(move="push_3d", speed="fast"), "fast 3D push in"),
        (Camera(move="pop"), "subject pop"),
        (Camera(move="pan_left", then=("pop",)), "pan left, then subject pop"),
        (Camera(effects=("grain",)), "push in, with film grain"),
        (Camera(move="parallax", effects=("light_leak", "bokeh")), "parallax, with light leak and bokeh"),
        (Camera(effects=("letterbox", "grain")), "push in, with letterbox bars and film grain"),
        (Camera(move="pan_up", then=("pan_down", "static")), "tilt up, then tilt down, then static shot"),
        (Camera(move="ken_burns", easing="ease_in_out"), "Ken Burns, ease in and out"),
    ],
)
def test_a_typed_camera_renders_the_same_draft_as_its_words(camera: Camera, words: str) -> None:
    assert camera.words() == words
    spec = ClipSpec(prompt="Animate this photo", camera=camera)
    assert spec.message() == f"Animate this photo, {words}"
    typed, typed_by_hand = draft(spec.message()), draft(f"animate this photo, {words}")
    assert typed["t"] == typed_by_hand["t"]


def test_a_typed_focus_point_is_exact() -> None:
    mo = draft(ClipSpec(prompt="clip", camera=Camera(focus=(0.62, 0.41))).message())["t"][0]["sg"][0]["mo"]
    assert mo["focus"] == [0.62, 0.41]


@pytest.mark.parametrize(
    ("camera", "mode", "life"),
    [
        (Camera(move="parallax"), "parallax", []),
        (Camera(move="dolly_zoom"), "dolly_zoom", []),
        (Camera(move="push_3d"), "push_3d", []),
        (Camera(move="pop", effects=("grain", "bokeh")), "pop", ["grain", "bokeh"]),
        (Camera(move="parallax", effects=("letterbox",)), "parallax", ["letterbox"]),
        (Camera(move="orbit"), None, []),
    ],
)
def test_typed_modes_and_effects_reach_the_draft(camera: Camera, mode: str | None, life: list[str]) -> None:
    video = draft(ClipSpec(prompt="clip", camera=camera).message())["t"][0]["sg"][0]
    assert video["mo"].get("mode") == mode and video.get("fx", {}).get("life", []) == life
    assert "subject" not in video["mo"]  # a face is in the picture: the depth guess finds it itself


def test_the_camera_is_part_of_the_cache_key() -> None:
    plain, moved = ClipSpec(prompt="clip"), ClipSpec(prompt="clip", camera=Camera(move="pan_left"))
    assert plain.normalized() != moved.normalized()


@pytest.mark.parametrize(
    "bad",
    [
        {"move": "spin"},
        {"focus": (1.5, 0.2)},
        {"then": ("push_in",) * 4},
        {"effects": ("sparkles",)},
        {"move": "parallax", "then": ("pan_left",)},
        {"then": ("dolly_zoom",)},
    ],
)
def test_bad_cameras_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Camera(**bad)
