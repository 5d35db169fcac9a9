"""The draft's motion object: what the camera does over one video segment, validated.

``Motion`` is the draft's ``mo`` (docs/draft-schema.md) with its defaults filled in; ``camera_path`` turns it
into per-frame maps. ``keep`` is a box (faces, the subject) every frame's view must contain whole; ``then``
chains further moves, each starting where the previous ended. ``mode`` says how the frames are made from
the still (``shots.py``): a flat warp, the depth camera (``parallax``, ``dolly_zoom``, ``push_3d``) or
the subject lifted off its background (``pop``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .camera_path import EASES, MAX_ZOOM, CameraPath, ease

__all__ = ["DEPTH_MODES", "EASES", "MODES", "MOTIONS", "CameraPath", "Motion", "ease"]

Box = tuple[float, float, float, float]
MOTIONS = ("push_in", "pull_out", "pan_left", "pan_right", "pan_up", "pan_down", "ken_burns", "orbit", "static")
DEPTH_MODES = ("parallax", "dolly_zoom", "push_3d")  # the depth camera: one move, no ``then``
MODES = ("flat", *DEPTH_MODES, "pop")


def _num(mo: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = mo.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"motion {key}={value!r} must be a number in {lo}..{hi}")
    return float(value)


def _pair(mo: Mapping[str, Any], key: str, default: tuple[float, float], lo: float, hi: float) -> tuple[float, float]:
    value = mo.get(key, default)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"motion {key}={value!r} must be a pair of numbers")
    a, b = (_num({key: v}, key, 0.0, lo, hi) for v in value)
    return a, b


def _box(mo: Mapping[str, Any], key: str) -> Box | None:
    value = mo.get(key)
    if value is None:
        return None
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ValueError(f"motion {key}={value!r} must be [x0, y0, x1, y1] in 0..1")
    x0, y0, x1, y1 = (_num({key: v}, key, 0.0, 0.0, 1.0) for v in value)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"motion {key}={value!r} must have x0 < x1 and y0 < y1")
    return x0, y0, x1, y1


@dataclass(frozen=True)
class Motion:
    """The draft's ``mo`` object: what the camera does over one video segment."""

    type: str = "push_in"
    ease: str = "ease_in_out"
    zoom: tuple[float, float] = (1.0, 1.15)  # start/end zoom relative to the cover framing (>= 1)
    focus: tuple[float, float] = (0.5, 0.5)  # where the camera heads, 0..1 image coordinates
    travel: float = 0.8  # how far toward the focus (push/pull) or across the free room (pan/orbit/Ken Burns)
    tilt: float = 0.0  # orbit: rotation swing in degrees
    keep: Box | None = None  # 0..1 box (faces, subject) every frame must show whole
    then: tuple[Motion, ...] = ()  # further moves in order, each over an equal share of the segment
    mode: str = "flat"  # how frames are made: a flat warp, the depth camera, or subject pop (see MODES)
    subject: Box | None = None  # 0..1 box of the subject (the framing's): seeds the depth and the cut-out

    @classmethod
    def from_draft(cls, mo: Mapping[str, Any] | None) -> Motion:
        """Validate a draft's motion object, filling defaults, so bad drafts fail with a readable message."""
        mo = mo or {}
        then = mo.get("then") or []
        if not isinstance(then, list) or not all(
            isinstance(leg, Mapping) and not leg.get("then") and leg.get("mode", "flat") == "flat" for leg in then
        ):
            raise ValueError(f"motion then={then!r:.80} must be a list of flat motion objects (no 'then', no 'mode')")
        kind, curve, mode = mo.get("type", cls.type), mo.get("ease", cls.ease), mo.get("mode", cls.mode)
        if mode not in MODES:
            raise ValueError(f"unknown motion mode {mode!r}; expected one of {', '.join(MODES)}")
        if mode in DEPTH_MODES and then:
            raise ValueError(f"motion mode {mode!r} is one move of the depth camera: it takes no 'then'")
        if kind not in MOTIONS:
            raise ValueError(f"unknown motion type {kind!r}; expected one of {', '.join(MOTIONS)}")
        if curve not in EASES:
            raise ValueError(f"unknown easing {curve!r}; expected one of {', '.join(EASES)}")
        return cls(
            type=kind,
            ease=curve,
            zoom=_pair(mo, "zoom", cls.zoom, 1.0, MAX_ZOOM),
            focus=_pair(mo, "focus", cls.focus, 0.0, 1.0),
            travel=_num(mo, "travel", cls.travel, 0.0, 1.0),
            tilt=_num(mo, "tilt", cls.tilt, 0.0, 10.0),
            keep=_box(mo, "keep"),
            then=tuple(cls.from_draft(leg) for leg in then),
            mode=mode,
            subject=_box(mo, "subject"),
        )

    def to_draft(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "ease": self.ease,
            "zoom": [round(z, 4) for z in self.zoom],
            "focus": [round(f, 4) for f in self.focus],
            "travel": round(self.travel, 4),
            "tilt": round(self.tilt, 3),
        }
        if self.mode != "flat":
            out["mode"] = self.mode
        for key, box in (("keep", self.keep), ("subject", self.subject)):
            if box is not None:
                out[key] = [round(v, 4) for v in box]
        if self.then:
            out["then"] = [leg.to_draft() for leg in self.then]
        return out

    @property
    def moves(self) -> tuple[Motion, ...]:
        """Every move in order: this one, then the chained ones."""
        return (self, *self.then)

    @property
    def max_zoom(self) -> float:
        return max(self.zoom)
