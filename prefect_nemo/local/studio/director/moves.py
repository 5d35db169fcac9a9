"""Camera moves as the director reads them: the order said, cleaned up, and each move's default numbers.

A move is a flat one (``push_in``, ``pan_left`` ...), the depth camera (``parallax``, ``dolly_zoom``,
``push_3d``: one move on its own) or ``pop`` (the subject lifted off the picture while the flat moves play
on the background); ``modal`` turns the moves said into the flat legs and the draft's ``mo.mode``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..motion import DEPTH_MODES, Motion

__all__ = ["MAX_MOVES", "Move", "fresh", "kind_of", "kind_said", "modal", "preset", "scaled", "sequence"]

MAX_MOVES = 4


@dataclass(frozen=True)
class Move:
    """One camera move as read, with what it aims at when a phrase named it ("zoom into the face")."""

    kind: str
    aim: str | None = None


def kind_of(name: str, said: str) -> str:
    if name == "pan":
        way = re.search(r"(left|right|up|down)\b", said)
        return f"pan_{way[1] if way else 'right'}"
    return name


def kind_said(mo: Motion) -> str:
    """The move a draft's motion was asked as: its depth mode, else its (first) flat move."""
    return mo.mode if mo.mode in DEPTH_MODES else mo.type


def modal(moves: list[Move], note: Callable[..., None]) -> tuple[list[Move], str]:
    """The flat legs and the ``mo.mode`` of the moves said: the depth camera plays alone, ``pop`` lifts the
    subject while the other moves (a gentle push-in if none) play on the background."""
    depth = [mv for mv in moves if mv.kind in DEPTH_MODES]
    if depth:
        rest = [mv.kind.replace("_", " ") for mv in moves if mv is not depth[0]]
        if rest:
            note("depth_alone", rest=", ".join(rest))
        return [depth[0]], depth[0].kind
    if any(mv.kind == "pop" for mv in moves):
        return [mv for mv in moves if mv.kind != "pop"] or [Move("push_in")], "pop"
    return moves, "flat"


def sequence(moves: list[Move], note: Callable[..., None]) -> list[Move]:
    """Moves in the order said, cleaned: 'wide' only says where to start, 'hold' is a still leg, repeats merge."""
    out: list[Move] = []
    for mv in moves:
        if mv.kind == "wide":
            continue
        if mv.kind == "pan?":
            note("pan_which")
            mv = Move("pan_right")
        kind = "static" if mv.kind == "hold" else mv.kind
        if out and (kind == out[-1].kind or {kind, out[-1].kind} == {"ken_burns", "push_in"}):
            out[-1] = Move(out[-1].kind, out[-1].aim or mv.aim)
            continue
        if kind == "orbit" and out:
            note("orbit_first")
            continue
        out.append(Move(kind, mv.aim))
    if len(out) > MAX_MOVES:
        rest = ", ".join(mv.kind.replace("_", " ") for mv in out[MAX_MOVES:])
        note("moves_many", n=MAX_MOVES, rest=rest)
        out = out[:MAX_MOVES]
    return out


_DEPTH_TYPES = {"parallax": "pan_right", "dolly_zoom": "static", "push_3d": "push_in"}  # parallax: glides right


def preset(kind: str, k: float, focus: tuple[float, float]) -> Motion:
    """Default numbers for each move at speed factor ``k`` (1 = normal)."""
    if kind in DEPTH_MODES:
        zoom = (1.0, 1.12) if kind == "push_3d" else (1.0, 1.0)
        return scaled(Motion(type=_DEPTH_TYPES[kind], zoom=zoom, focus=focus, travel=0.7, mode=kind), k)
    zoom = {"push_in": (1.0, 1.15), "pull_out": (1.15, 1.0), "ken_burns": (1.02, 1.2), "orbit": (1.12, 1.16),
            "static": (1.0, 1.0)}.get(kind, (1.12, 1.12))  # fmt: skip
    return scaled(Motion(type=kind, zoom=zoom, focus=focus, travel=0.7, tilt=1.5 if kind == "orbit" else 0.0), k)


def fresh(mo: Motion) -> Motion:
    base = preset(kind_said(mo), 1.0, mo.focus)
    return replace(base, ease=mo.ease, keep=mo.keep, then=mo.then, mode=mo.mode, subject=mo.subject)


def scaled(mo: Motion, k: float) -> Motion:
    """Scale how far the camera moves (zoom change, pan travel, orbit swing) by ``k``."""
    z0, z1 = mo.zoom
    if mo.type.startswith("pan_"):
        z0 = z1 = min(2.0, 1 + (max(z0, z1) - 1) * min(k, 1.5))
    elif mo.type != "static":
        lo, hi = min(z0, z1), min(2.0, min(z0, z1) + abs(z1 - z0) * k)
        z0, z1 = (hi, lo) if z0 > z1 else (lo, hi)
    return replace(mo, zoom=(round(z0, 4), round(z1, 4)), travel=round(min(1.0, mo.travel * k), 4),
                   tilt=round(min(10.0, mo.tilt * k), 3))  # fmt: skip
