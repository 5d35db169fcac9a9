"""Typed camera control for pipelines: a precise move without phrasing English.

NemoVideo's contract carries one thing, the instruction text, so a ``Camera`` renders itself as the words
the director understands ("slow push in, then pan left, linear, focus at 0.62, 0.41"), the way Kling's
``camera_control`` or Luma's camera concepts describe a move, and travels inside ``ClipSpec.message()``.
The same words typed by hand make the same draft (tests/local/studio/test_camera.py). Besides the flat
moves, ``move`` can ask for the depth camera (``parallax``, ``dolly_zoom``, ``push_3d``) or ``pop`` (the
subject lifted off the picture), and ``effects`` for life in the frame (grain, a light leak, bokeh) and
2.39:1 letterbox bars (landscape clips only: the backend says so and leaves them off an upright one).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = ["Camera", "EffectName", "MoveName"]

MoveName = Literal[
    "push_in", "pull_out", "pan_left", "pan_right", "pan_up", "pan_down", "ken_burns", "orbit", "static", "hold",
    "parallax", "dolly_zoom", "push_3d", "pop",
]  # fmt: skip
EffectName = Literal["grain", "light_leak", "bokeh", "letterbox"]
_DEPTH = ("parallax", "dolly_zoom", "push_3d")
_WORDS = {
    "push_in": "push in",
    "pull_out": "pull out",
    "pan_left": "pan left",
    "pan_right": "pan right",
    "pan_up": "tilt up",
    "pan_down": "tilt down",
    "ken_burns": "Ken Burns",
    "orbit": "rotating orbit",
    "static": "static shot",
    "hold": "hold",
    "parallax": "parallax",
    "dolly_zoom": "dolly zoom",
    "push_3d": "3D push in",
    "pop": "subject pop",
}
_EFFECTS = {"grain": "film grain", "light_leak": "light leak", "bokeh": "bokeh", "letterbox": "letterbox bars"}
_EASES = {"linear": "linear", "ease_in": "ease in", "ease_out": "ease out", "ease_in_out": "ease in and out"}


class Camera(BaseModel):
    """What the camera does: a move (or several, in order), its speed, easing and where it heads.

    ``focus`` is ``"face"`` or ``"subject"`` (found in the picture by the backend; it says so when there
    is none) or an ``(x, y)`` point in 0..1 image coordinates. The depth camera (``parallax``,
    ``dolly_zoom``, ``push_3d``) is one move on its own, and already heads for the face or subject.
    """

    model_config = ConfigDict(frozen=True)

    move: MoveName = "push_in"
    then: tuple[MoveName, ...] = Field(default=(), max_length=3, description="Further moves, in order.")
    speed: Literal["slow", "normal", "fast"] = "normal"
    easing: Literal["linear", "ease_in", "ease_out", "ease_in_out"] | None = None
    focus: Literal["face", "subject"] | tuple[float, float] | None = None
    effects: tuple[EffectName, ...] = Field(default=(), max_length=4, description="Life in the frame, in order.")

    def words(self) -> str:
        """The instruction words for this camera (English, which the director always reads)."""
        moves = [_WORDS[m] for m in (self.move, *self.then)]
        if self.focus in ("face", "subject") and self.move not in _DEPTH:
            zooms = [i for i, m in enumerate((self.move, *self.then)) if m in ("push_in", "ken_burns")]
            target = f"zoom into the {self.focus}"
            if zooms:
                moves[zooms[0]] = target
            else:
                moves.append(target)
        head = ("" if self.speed == "normal" else f"{self.speed} ") + ", then ".join(moves)
        extras = [_EASES[self.easing]] if self.easing else []
        extras += [f"with {' and '.join(_EFFECTS[e] for e in dict.fromkeys(self.effects))}"] if self.effects else []
        if isinstance(self.focus, tuple):
            extras.append(f"focus at {self.focus[0]:.4g}, {self.focus[1]:.4g}")
        return ", ".join([head, *extras])

    @field_validator("then")
    @classmethod
    def _depth_alone(cls, then: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if then and (info.data.get("move") in _DEPTH or any(m in _DEPTH for m in then)):
            raise ValueError("the depth camera (parallax, dolly_zoom, push_3d) is one move: use it as `move`, alone")
        return then

    @field_validator("focus")
    @classmethod
    def _in_the_picture(cls, focus: object) -> object:
        if isinstance(focus, tuple) and not all(0 <= v <= 1 for v in focus):
            raise ValueError(f"focus {focus!r} must be an (x, y) point in 0..1 image coordinates")
        return focus
