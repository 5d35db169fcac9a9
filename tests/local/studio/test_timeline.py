# ruff: noqa: RUF001 - Chinese instructions are written with Chinese punctuation
"""The timeline words, English and Chinese: a timeline asked for, its shot lengths, its transitions."""

from __future__ import annotations

import pytest

from prefect_nemo.local.studio.director import is_timeline
from prefect_nemo.local.studio.director.timeline import read_timeline


@pytest.mark.parametrize(
    ("said", "wanted"),
    [
        ("a slideshow of these", True),
        ("make a montage", True),
        ("one video from these 3 images", True),
        ("combine these into one clip", True),
        ("把这些合成一个视频", True),
        ("做成幻灯片", True),
        ("5-second slow push-in, slide to the left", False),
        ("推进，淡入淡出", False),
    ],
)
def test_a_timeline_is_asked_for_in_either_language(said: str, wanted: bool) -> None:
    assert is_timeline(said) is wanted


@pytest.mark.parametrize(
    ("said", "each", "lengths", "transition", "direction"),
    [
        ("slideshow, 3 seconds each, crossfade", 3.0, [], "crossfade", "left"),
        ("slideshow, each photo for 2.5 s, dip to black", 2.5, [], "dip_to_black", "left"),
        ("montage, durations 2, 3 and 4 seconds, push right", None, [2.0, 3.0, 4.0], "push", "right"),
        ("slideshow, slide in from the right, zoom in", None, [], "slide", "left"),
        ("slideshow with zoom-through transitions", None, [], "zoom_through", "left"),
        ("slideshow with transitions", None, [], "crossfade", "left"),
        ("把这些合成一个视频，每张两秒，淡入淡出", 2.0, [], "crossfade", "left"),
        ("幻灯片，时长依次为2、3、4秒，黑场过渡", None, [2.0, 3.0, 4.0], "dip_to_black", "left"),
        ("a slideshow, three seconds each, straight cuts", 3.0, [], None, "left"),
    ],
)
def test_timeline_words_are_read(
    said: str, each: float | None, lengths: list[float], transition: str | None, direction: str
) -> None:
    ask = read_timeline(said)
    assert (ask.each, ask.lengths, ask.transition, ask.direction) == (each, lengths, transition, direction)
