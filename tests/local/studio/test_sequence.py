"""Several real photographs on one timeline: where each join falls, and the frames on either side of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import skimage.data
from PIL import Image

from prefect_nemo.local.studio import sequence
from prefect_nemo.local.studio.frames import Timeline, animate, load_rgb, scale_for, source_planes
from prefect_nemo.local.studio.motion import CameraPath
from prefect_nemo.local.studio.sequence import cuts, has_transitions
from prefect_nemo.local.studio.transitions import TRANSITIONS, Drawn, Shot, Transition

FPS, SHOT_MS = 10, 1000
NAMES = ("astronaut", "coffee", "chelsea")


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("photos")
    out = {}
    for name in NAMES:
        out[name] = folder / f"{name}.jpg"
        Image.fromarray(getattr(skimage.data, name)()).save(out[name], quality=90)
    return out


def draft(kind: str | None, tr_ms: int = 400, shots: int = 3) -> dict[str, Any]:
    segments = []
    for i, name in enumerate(NAMES[:shots]):
        seg: dict[str, Any] = {"s": i * SHOT_MS, "d": SHOT_MS, "src": name, "mo": {"type": "push_in"}}
        if i and kind:
            seg["tr"] = {"type": kind, "d": tr_ms, "dir": "left"}
        segments.append(seg)
    return {"d": shots * SHOT_MS, "m": {"width": 160, "height": 90, "fps": FPS}, "t": [{"tt": 0, "sg": segments}]}


def luma(frames: list[npt.NDArray[np.uint8]], i: int) -> npt.NDArray[np.float64]:
    return frames[i].astype(np.float64)


def render(photos: dict[str, Path], d: dict[str, Any]) -> list[npt.NDArray[np.uint8]]:
    tl = Timeline.parse(d)
    return [f.to_ndarray()[: tl.height].copy() for f in animate(tl, lambda src: photos[src], [])]


@pytest.fixture(scope="module")
def straight(photos: dict[str, Path]) -> list[npt.NDArray[np.uint8]]:
    """The three shots joined by straight cuts: rendered once, what every transition is compared with."""
    return render(photos, draft(None))


@pytest.fixture(scope="module")
def crossfaded(photos: dict[str, Path]) -> list[npt.NDArray[np.uint8]]:
    """The three flat shots joined by crossfades: rendered once, what every depth mode is compared with."""
    return render(photos, draft("crossfade"))


def test_transitions_are_centred_on_each_shot_start_and_the_clip_keeps_its_length() -> None:
    tl = Timeline.parse(draft("crossfade"))
    assert has_transitions(tl) and tl.frames == 30
    assert [(c.first, c.frames, c.kind) for c in cuts(tl)] == [(0, 0, None), (8, 4, "crossfade"), (18, 4, "crossfade")]
    assert not has_transitions(Timeline.parse(draft(None)))


def test_a_transition_longer_than_half_a_shot_is_shortened() -> None:
    assert cuts(Timeline.parse(draft("push", tr_ms=5000)))[1].frames == 5  # half of 1 s at 10 fps


@pytest.mark.parametrize("field", [{"type": "wipe"}, {"type": "push", "dir": "sideways"}, {"type": "slide", "d": -1}])
def test_a_bad_transition_names_its_field(photos: dict[str, Path], field: dict[str, Any]) -> None:
    d = draft("crossfade")
    d["t"][0]["sg"][1]["tr"] = field
    with pytest.raises(ValueError, match=r"segment 1 tr\.(type|dir|d)="):
        render(photos, d)


@pytest.mark.parametrize("kind", TRANSITIONS)
def test_every_transition_joins_real_photos(
    photos: dict[str, Path], straight: list[npt.NDArray[np.uint8]], kind: str
) -> None:
    joined, cut = render(photos, draft(kind)), straight
    assert len(joined) == len(cut) == 30
    # Away from the joins each frame shows its own shot (its camera runs on through the joins, so it is not
    # pixel-equal to a straight cut's); inside a join, frames differ from a straight cut.
    middles = (5, 15, 25)
    for i in middles:
        own = np.abs(luma(joined, i) - luma(cut, i)).mean()
        assert all(own < 0.4 * np.abs(luma(joined, i) - luma(cut, j)).mean() for j in middles if j != i)
    assert np.abs(luma(joined, 9) - luma(cut, 9)).mean() > 4.0


def test_a_crossfade_frame_is_the_mix_of_the_two_shots(photos: dict[str, Path]) -> None:
    frames = render(photos, draft("crossfade", tr_ms=600))
    [_, join, _] = cuts(Timeline.parse(draft("crossfade", tr_ms=600)))
    before, after = luma(frames, join.first - 1), luma(frames, join.first + join.frames)
    middle = luma(frames, join.first + join.frames // 2)
    mix = np.abs(middle - (before + after) / 2).mean()
    assert mix < 0.5 * min(np.abs(middle - before).mean(), np.abs(middle - after).mean())


@pytest.mark.parametrize("mode", ["parallax", "pop"])
def test_a_depth_shot_takes_part_in_a_timeline(
    photos: dict[str, Path], crossfaded: list[npt.NDArray[np.uint8]], mode: str
) -> None:
    deep = draft("crossfade")
    deep["t"][0]["sg"][1]["mo"] = {"type": "push_in", "mode": mode}
    flat_frames, deep_frames = crossfaded, render(photos, deep)
    assert len(deep_frames) == 30
    # The first shot is untouched; the second moves the way its mode asks, so its own frames differ.
    assert np.array_equal(deep_frames[3], flat_frames[3])
    assert np.abs(luma(deep_frames, 15) - luma(flat_frames, 15)).mean() > 1.0
    assert all(frame.min() < frame.max() for frame in deep_frames)  # never a blank frame


@pytest.mark.parametrize("kind", ["crossfade", "push", "dip_to_black"])
def test_a_parallax_shot_does_not_jump_when_a_join_ends_or_begins(photos: dict[str, Path], kind: str) -> None:
    deep = draft(kind)
    deep["t"][0]["sg"][1]["mo"] = {"type": "push_in", "mode": "parallax"}
    frames = render(photos, deep)
    [_, into, out_of] = cuts(Timeline.parse(deep))
    step = [float(np.abs(luma(frames, i + 1) - luma(frames, i)).mean()) for i in range(len(frames) - 1)]
    own = max(step[into.first + into.frames : out_of.first - 1])  # the parallax shot alone, frame to frame
    assert own > 0.3  # it moves
    # The join into it ends on its own frame, and the join out of it starts on its own frame.
    assert step[into.first + into.frames - 1] <= 1.5 * own
    assert step[out_of.first - 1] <= 1.5 * own


@pytest.mark.parametrize("kind", ["push", "slide", "zoom_through"])
def test_a_depth_shot_drawn_in_parts_looks_as_it_does_drawn_whole(
    photos: dict[str, Path], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Drawn straight into place, a depth shot is sampled once where one drawn whole is drawn and then moved
    by the join: the same picture, a little sharper."""
    deep = draft(kind)
    deep["t"][0]["sg"][1]["mo"] = {"type": "push_in", "mode": "parallax"}
    in_parts = render(photos, deep)
    monkeypatch.setattr(sequence, "Drawn", lambda draw, out, first, draw_part: Drawn(draw, out, first))
    whole = render(photos, deep)
    offs = [np.abs(a.astype(int) - b) for a, b in zip(in_parts, whole, strict=True)]
    assert max(float(o.mean()) for o in offs) < 0.25 and max(float(np.quantile(o, 0.999)) for o in offs) <= 2


@pytest.mark.parametrize("kind", TRANSITIONS)
def test_a_flat_join_warps_each_still_along_its_camera(photos: dict[str, Path], kind: str) -> None:
    """A join between flat shots is one warp of each still (no shot frame drawn first): the frames are exactly
    the transition's over the two stills' planes and camera paths."""
    d = draft(kind)
    tl = Timeline.parse(d)
    frames = [f.to_ndarray() for f in animate(tl, lambda src: photos[src], [])]
    [_, into, out_of] = cuts(tl)
    still = []
    # each shot's camera runs over every frame it shows, both joins included
    for seg, n in ((tl.video[0], into.first + into.frames), (tl.video[1], out_of.first + out_of.frames - into.first)):
        planes = source_planes(load_rgb(photos[seg.src], scale_for(seg.motion, tl.width, tl.height)))
        path = CameraPath(seg.motion, planes[0].shape[::-1], (tl.width, tl.height), n)
        still.append((planes, path))
    a, b = Shot(*still[0], into.first), Shot(*still[1], 0)
    join = Transition(kind, (tl.width, tl.height), into.frames, direction="left")
    for j in range(into.frames):
        y, u, v = (np.zeros(shape, np.uint8) for shape in ((90, 160), (45, 80), (45, 80)))
        join.render(j, a, b, (y, u, v))
        got = frames[into.first + j]  # I420: the Y rows, then U and V packed
        assert np.array_equal(got[:90], y) and np.array_equal(got[90:].ravel(), np.concatenate([u.ravel(), v.ravel()]))
