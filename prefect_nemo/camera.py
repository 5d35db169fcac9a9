"""Typed camera control for pipelines: a precise move without phrasing English.

NemoVideo's contract carries one thing, the instruction text, so a ``Camera`` renders itself as the words
the director understands ("slow push in, then pan left, linear, focus at 0.62, 0.41"), the way Kling's
``camera_control`` or Luma's camera concepts describe a move, and travels inside ``ClipSpec.message()``.
The same words typed by hand make the same draft (tests/local/studio/test_camera.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["Camera"]

MoveName = Literal[
    "push_in", "pull_out", "pan_left", "pan_right", "pan_up", "pan_down", "ken_burns", "orbit", "static", "hold"
]
_WORDS = {
    "push_in": "push in",
    "pull_out": "pull out",
    "pan_left": "pan left",
    "pan_right": "pan right",
    "pan_up": "tilt up",
    "pan_down": "tilt down",
    "ken_burns": "Ken Burns",
    "orbit": "orbit",
    "static": "static shot",
    "hold": "hold",
}
_EASES = {"linear": "linear", "ease_in": "ease in", "ease_out": "ease out", "ease_in_out": "ease in and out"}


class Camera(BaseModel):
    """What the camera does: a move (or several, in order), its speed, easing and where it heads.

    ``focus`` is ``"face"`` or ``"subject"`` (found in the picture by the backend; it says so when there
    is none) or an ``(x, y)`` point in 0..1 image coordinates.
    """

    model_config = ConfigDict(frozen=True)

    move: MoveName = "push_in"
    then: tuple[MoveName, ...] = Field(default=(), max_length=3, description="Further moves, in order.")
    speed: Literal["slow", "normal", "fast"] = "normal"
    easing: Literal["linear", "ease_in", "ease_out", "ease_in_out"] | None = None
    focus: Literal["face", "subject"] | tuple[float, float] | None = None

    def words(self) -> str:
        """The instruction words for this camera (English, which the director always reads)."""
        moves = [_WORDS[m] for m in (self.move, *self.then)]
        if self.focus in ("face", "subject"):
            zooms = [i for i, m in enumerate((self.move, *self.then)) if m in ("push_in", "ken_burns")]
            target = f"zoom into the {self.focus}"
            if zooms:
                moves[zooms[0]] = target
            else:
                moves.append(target)
        head = ("" if self.speed == "normal" else f"{self.speed} ") + ", then ".join(moves)
        extras = [_EASES[self.easing]] if self.easing else []
        if isinstance(self.focus, tuple):
            extras.append(f"focus at {self.focus[0]:.4g}, {self.focus[1]:.4g}")
        return ", ".join([head, *extras])

    @field_validator("focus")
    @classmethod
    def _in_the_picture(cls, focus: object) -> object:
        if isinstance(focus, tuple) and not all(0 <= v <= 1 for v in focus):
            raise ValueError(f"focus {focus!r} must be an (x, y) point in 0..1 image coordinates")
        return focus
