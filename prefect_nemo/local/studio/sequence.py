"""The frames of a timeline of several stills joined by transitions (a segment's ``tr``, docs/draft-schema.md).

Shots sit back to back; the transition into shot k is centred on its start, so the clip lasts exactly the sum
of the shots. Each shot's camera path runs over every frame it shows, its half of each transition included, so
its move carries on smoothly through the join: a flat shot is warped by the transition straight from its
still, any other shot (depth, pop) draws the frame it would show at that time and the transition moves it
(``transitions.Drawn``), so no shot changes its look during a join. At most two stills are decoded at any
time (the shot leaving and the shot arriving): a long slideshow costs two sources' memory, not one per
image, and a finished join's buffers are let go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from .frames import POOL, Effect, Planes, Timeline, Video, load_rgb, scale_for, source_planes, views
from .overlay import TextLayer
from .shots import DepthShot, FlatShot, Shot, open_shot
from .transitions import TRANSITIONS, Drawn, Transition, duration_frames
from .transitions import Shot as Joining

__all__ = ["Cut", "cuts", "frames", "has_transitions", "parse_transition"]

_DIRECTIONS = ("left", "right", "up", "down")


@dataclass(frozen=True)
class Cut:
    """Where shot ``k`` takes over: its first frame (the transition's first), and the transition, if any."""

    first: int
    frames: int  # of the transition into it; 0 for a straight cut
    kind: str | None = None
    direction: str = "left"


def parse_transition(raw: Any, index: int) -> tuple[str, float, str] | None:
    """A segment's ``tr`` as (kind, seconds, direction), or ``None``; a bad one names the field."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValueError(f"segment {index} tr={raw!r:.60} must be an object with type, d and dir")
    kind, ms, direction = raw.get("type"), raw.get("d", 600), raw.get("dir", "left")
    if kind not in TRANSITIONS:
        raise ValueError(f"segment {index} tr.type={kind!r} must be one of {', '.join(TRANSITIONS)}")
    if isinstance(ms, bool) or not isinstance(ms, int | float) or not 0 <= ms <= 10_000:
        raise ValueError(f"segment {index} tr.d={ms!r} must be milliseconds in 0..10000")
    if direction not in _DIRECTIONS:
        raise ValueError(f"segment {index} tr.dir={direction!r} must be one of {', '.join(_DIRECTIONS)}")
    return str(kind), float(ms) / 1000, str(direction)


def has_transitions(tl: Timeline) -> bool:
    return any(v.tr for v in tl.video[1:])


def cuts(tl: Timeline) -> list[Cut]:
    """Shot by shot, where it starts showing; a transition is shortened to half the shorter shot it joins."""
    out = [Cut(0, 0)]
    for k in range(1, len(tl.video)):
        prev, seg = tl.video[k - 1], tl.video[k]
        tr = parse_transition(seg.tr, k)
        if tr is None or tr[1] <= 0:
            out.append(Cut(round(seg.start * tl.fps), 0))
            continue
        kind, seconds, direction = tr
        seconds = min(seconds, prev.dur / 2, seg.dur / 2)
        n = duration_frames(seconds, tl.fps)
        first = max(out[-1].first + out[-1].frames + 1, round((seg.start - seconds / 2) * tl.fps))
        out.append(Cut(first, n, kind, direction))
    return out


@dataclass
class _Loaded:
    shot: Shot
    first: int  # the frame index its frame 0 is shown at


def frames(
    tl: Timeline,
    image_of: Callable[[str], Path],
    texts: list[TextLayer],
    effect: Effect | None = None,
) -> Iterator[av.VideoFrame]:
    """The timeline's frames: each still under its camera, the joins drawn by ``transitions.Transition``."""
    w, h = tl.width, tl.height
    plan = cuts(tl)
    last = [
        plan[k + 1].first + plan[k + 1].frames - 1 if k + 1 < len(plan) else tl.frames - 1 for k in range(len(plan))
    ]
    loaded: dict[int, _Loaded] = {}
    joins: dict[int, tuple[Transition, Joining | Drawn, Joining | Drawn]] = {}
    pool: list[tuple[av.VideoFrame, Planes]] = []

    def shot(k: int) -> _Loaded:
        if k not in loaded:
            for old in [j for j in loaded if j < k - 1]:
                del loaded[old]  # the shot before the leaving one is never shown again
            loaded[k] = _load(tl.video[k], image_of, (w, h), plan[k].first, max(1, last[k] - plan[k].first + 1))
        return loaded[k]

    k = 0
    for i in range(tl.frames):
        while k + 1 < len(plan) and plan[k + 1].first <= i:
            k += 1
        if len(pool) < POOL:
            pool.append((fresh := av.VideoFrame(w, h, "yuv420p"), views(fresh)))
        frame, dst = pool[i % len(pool)]
        cut = plan[k]
        if k and cut.kind is not None and i < cut.first + cut.frames:
            if k not in joins:
                joins.clear()  # the previous join's buffers
                a, b = shot(k - 1), shot(k)
                join = Transition(cut.kind, (w, h), cut.frames, direction=cut.direction)
                joins[k] = join, _joining(a.shot, cut.first - a.first, (w, h)), _joining(b.shot, 0, (w, h))
            join, leaving, arriving = joins[k]
            join.render(i - cut.first, leaving, arriving, dst)
        else:
            now = shot(k)
            now.shot.render(min(now.shot.n - 1, max(0, i - now.first)), dst)
        if effect is not None:
            effect(dst, i / tl.fps)
        for layer in texts:
            layer.apply(dst, i / tl.fps)
        yield frame


def _joining(shot: Shot, first: int, out: tuple[int, int]) -> Joining | Drawn:
    """How a join shows ``shot`` from its frame ``first`` on: a flat shot's still is warped along its camera
    composed with the join's move (one warp); any other shot draws its own frame, which the join moves."""
    if isinstance(shot, FlatShot):
        return Joining(shot.planes, shot.path, first)
    return Drawn(shot.render, out, first, draw_part=shot.render_part if isinstance(shot, DepthShot) else None)


def _load(seg: Video, image_of: Callable[[str], Path], out: tuple[int, int], first: int, n: int) -> _Loaded:
    rgb = load_rgb(image_of(seg.src), scale_for(seg.motion, *out))
    return _Loaded(open_shot(seg.motion, source_planes(rgb), out, n, rgb=rgb), first)
