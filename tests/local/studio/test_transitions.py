"""Transitions between two real photographs: exact endpoints, correct geometry, cheap blends."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data

from prefect_nemo.local.studio.frames import source_planes
from prefect_nemo.local.studio.motion import CameraPath, Motion
from prefect_nemo.local.studio.transitions import TRANSITIONS, Drawn, Shot, Transition

OUT = (320, 180)
N = 9
Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]
FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP


def _shot(image: npt.NDArray[np.uint8], first: int = 0) -> Shot:
    planes = source_planes(cv2.resize(image, (640, 426), interpolation=cv2.INTER_AREA))
    return Shot(planes, CameraPath(Motion(), (640, 426), OUT, 40), first)


@pytest.fixture(scope="module")
def shots() -> tuple[Shot, Shot]:
    return _shot(skimage.data.coffee(), first=30), _shot(skimage.data.rocket())


def _blank() -> Planes:
    w, h = OUT
    return np.zeros((h, w), np.uint8), np.zeros((h // 2, w // 2), np.uint8), np.zeros((h // 2, w // 2), np.uint8)


def _plain(shot: Shot, i: int) -> Planes:
    """The shot's own frame, the way the renderer warps it."""
    out = _blank()
    luma, chroma = shot.path.matrices(shot.first + i)
    for plane, target, m in zip(shot.planes, out, (luma, chroma, chroma), strict=True):
        cv2.warpAffine(plane, m, target.shape[::-1], dst=target, flags=FLAGS, borderMode=cv2.BORDER_REPLICATE)
    return out


@pytest.mark.parametrize("kind", TRANSITIONS)
def test_first_and_last_frames_are_the_shots_exactly(shots: tuple[Shot, Shot], kind: str) -> None:
    a, b = shots
    tr = Transition(kind, OUT, N)
    for i, shot in ((0, a), (N - 1, b)):
        got = _blank()
        tr.render(i, a, b, got)
        want = _plain(shot, i)
        assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True)), f"{kind} frame {i}"


@pytest.mark.parametrize("kind", TRANSITIONS)
def test_middle_frames_mix_both_shots(shots: tuple[Shot, Shot], kind: str) -> None:
    a, b = shots
    tr = Transition(kind, OUT, N)
    mid = _blank()
    tr.render(N // 2, a, b, mid)
    da = np.abs(mid[0].astype(int) - _plain(a, N // 2)[0]).mean()
    db = np.abs(mid[0].astype(int) - _plain(b, N // 2)[0]).mean()
    assert da > 3 and db > 3  # neither shot alone


def test_push_moves_the_old_shot_out_and_the_new_one_in(shots: tuple[Shot, Shot]) -> None:
    a, b = shots
    tr = Transition("push", OUT, N, curve="linear")
    i = N // 2  # half way: the old shot's right half fills the left half of the frame
    got = _blank()
    tr.render(i, a, b, got)
    old, new = _plain(a, i)[0], _plain(b, i)[0]
    half = OUT[0] // 2
    assert np.abs(got[0][:, : half - 2].astype(int) - old[:, half : 2 * half - 2]).mean() < 1
    assert np.abs(got[0][:, half + 2 :].astype(int) - new[:, 2:half]).mean() < 1


def test_dip_to_black_reaches_black_half_way(shots: tuple[Shot, Shot]) -> None:
    a, b = shots
    tr = Transition("dip_to_black", OUT, 11, curve="linear")
    got = _blank()
    tr.render(5, a, b, got)
    assert int(got[0].max()) == 16 and int(got[1].min()) == 128 == int(got[2].max())


def test_a_crossfade_weighs_the_shots_by_its_progress(shots: tuple[Shot, Shot]) -> None:
    a, b = shots
    tr = Transition("crossfade", OUT, 5, curve="linear")
    got = _blank()
    tr.render(1, a, b, got)  # 25% of the way: a at full resolution, b (fainter) at half, enlarged
    want = 0.75 * _plain(a, 1)[0] + 0.25 * _plain(b, 1)[0]
    assert np.abs(got[0] - want).mean() < 2.5


@pytest.mark.parametrize(("i", "size"), [(2, (OUT[0] // 4, OUT[1] // 4)), (4, (OUT[0] // 2, OUT[1] // 2))])
def test_the_fainter_shot_is_warped_as_small_as_its_weight_allows(
    shots: tuple[Shot, Shot], monkeypatch: pytest.MonkeyPatch, i: int, size: tuple[int, int]
) -> None:
    """Weighing 20%, the fainter shot is warped at a quarter of the size; weighing 40%, at half; either way
    the frame is the exact blend of the two shots to within a little softness."""
    a, b = shots
    tr = Transition("crossfade", OUT, 11, curve="linear")  # frame i is i * 10% of the way
    sizes: list[tuple[int, int]] = []
    real = cv2.warpAffine

    def spy(src: npt.NDArray[np.uint8], m: npt.NDArray[np.float64], dsize: tuple[int, int], **kw: object) -> object:
        sizes.append(tuple(dsize))
        return real(src, m, dsize, **kw)

    monkeypatch.setattr(cv2, "warpAffine", spy)
    got = _blank()
    tr.render(i, a, b, got)
    assert sizes[3] == size  # after the stronger shot's three planes, the fainter's luma
    p = i / 10
    want = (1 - p) * _plain(a, i)[0] + p * _plain(b, i)[0]
    assert np.abs(got[0] - want).mean() < 1.5


class _Draws:
    """A still's flat frames drawn whole (as a depth camera draws its own), and which frames were asked for."""

    def __init__(self, shot: Shot) -> None:
        self.shot, self.asked = shot, list[int]()

    def __call__(self, j: int, dst: Planes) -> None:
        self.asked.append(j)
        for target, plane in zip(dst, _plain(self.shot, j - self.shot.first), strict=True):
            target[:] = plane

    def part(self, j: int, dst: Planes, box: tuple[int, int, int, int], shift: tuple[float, float]) -> None:
        """Only the ``box`` of frame ``j`` moved by ``shift``, as a depth shot draws it (sampled once from the
        still); the pixels drawn are counted."""
        x0, y0, x1, y1 = box
        assert x0 % 2 == y0 % 2 == x1 % 2 == y1 % 2 == 0 and 0 <= x0 < x1 <= OUT[0] and 0 <= y0 < y1 <= OUT[1]
        self.drawn += (x1 - x0) * (y1 - y0)
        luma, chroma = self.shot.path.matrices(j)
        for plane, target, m, s in zip(self.shot.planes, dst, (luma, chroma, chroma), (1, 2, 2), strict=True):
            corner = np.array([x0 // s, y0 // s]) - np.asarray(shift) / s  # where the box starts in the frame
            moved = np.hstack([m[:, :2], (m[:, 2] + m[:, :2] @ corner)[:, None]])
            region = target[y0 // s : y1 // s, x0 // s : x1 // s]
            cv2.warpAffine(plane, moved, region.shape[::-1], dst=region, flags=FLAGS, borderMode=cv2.BORDER_REPLICATE)

    drawn = 0


@pytest.mark.parametrize("kind", TRANSITIONS)
def test_a_drawn_shot_is_moved_like_its_still(shots: tuple[Shot, Shot], kind: str) -> None:
    """Drawing a shot's own frame and moving it gives what warping its still does (up to one more resampling),
    each frame drawn once, and the join starts and ends on the shots' own frames exactly."""
    a, b = shots
    draws = _Draws(a), _Draws(b)
    drawn_a, drawn_b = Drawn(draws[0], OUT, a.first), Drawn(draws[1], OUT, b.first)
    worst = 0.0
    for i in range(N):
        want, got = _blank(), _blank()
        Transition(kind, OUT, N).render(i, a, b, want)
        Transition(kind, OUT, N).render(i, drawn_a, drawn_b, got)
        worst = max(worst, *(np.abs(g.astype(int) - w).mean() for g, w in zip(got, want, strict=True)))
        if i in (0, N - 1):
            assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True)), f"{kind} frame {i}"
    assert worst < 1.0, kind
    for d in draws:
        assert len(d.asked) == len(set(d.asked)) <= N
        assert all(d.shot.first <= j < d.shot.first + N for j in d.asked)


@pytest.mark.parametrize("direction", ["left", "right", "up", "down"])
@pytest.mark.parametrize("kind", TRANSITIONS)
def test_a_shot_that_draws_parts_draws_only_what_is_shown(shots: tuple[Shot, Shot], kind: str, direction: str) -> None:
    """Though the buffers start out white and keep what earlier frames left outside the parts: a push or slide
    draws each shot moved straight into place, so its frames are exactly the stills' own join (sampled once,
    where a shot drawn whole is drawn, then warped) at about one frame's worth of pixels a frame; the other
    joins give the frames of shots drawn whole, to warpAffine's rounding of a part's offset."""
    a, b = shots
    whole = Drawn(_Draws(a), OUT, a.first), Drawn(_Draws(b), OUT, b.first)
    draws = _Draws(a), _Draws(b)
    parts = tuple(Drawn(d, OUT, d.shot.first, draw_part=d.part) for d in draws)
    for drawn in parts:
        for plane in drawn.planes:
            plane[:] = 255
    for i in range(N):
        want, got = _blank(), _blank()
        Transition(kind, OUT, N, direction=direction).render(i, *parts, got)
        if kind in ("push", "slide"):
            Transition(kind, OUT, N, direction=direction).render(i, a, b, want)
            assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True)), f"{kind} {direction} frame {i}"
        else:
            Transition(kind, OUT, N, direction=direction).render(i, *whole, want)
            off = max(int(np.abs(g.astype(int) - w).max()) for g, w in zip(got, want, strict=True))
            assert off <= 1, f"{kind} {direction} frame {i}: {off}"
    if kind in ("push", "slide"):
        frame = OUT[0] * OUT[1]
        assert sum(d.drawn for d in draws) < 1.2 * N * frame, [d.drawn / frame for d in draws]


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown transition 'wipe'"):
        Transition("wipe", OUT, N)
    with pytest.raises(ValueError, match="direction 'sideways'"):
        Transition("push", OUT, N, direction="sideways")
