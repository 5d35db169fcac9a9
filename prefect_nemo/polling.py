"""Waiting well: capped, jittered backoff under one monotonic deadline.

The cloud's documented cadence is a fixed 30 s, which leaves a finished render unnoticed for 15 s on
average. We back off from ~1 s to a cap (a render that reports no progress yet may be a second from done;
eight polls reach the cap, two more than from 2 s), and when the backend reports progress we aim the
next poll just after the projected finish instead.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

__all__ = ["DEFAULT_BACKOFF", "Backoff", "Deadline"]


@dataclass(frozen=True)
class Backoff:
    """Delays of `initial * factor**n`, capped, each scaled by a random factor in [1 - jitter, 1]."""

    initial: float = 1.0
    factor: float = 1.5
    cap: float = 15.0
    jitter: float = 0.2
    floor: float = 0.25
    eta_floor: float = 0.5  # near a projected finish, poll about twice a second, not faster

    def delay(self, attempt: int) -> float:
        base = min(self.cap, self.initial * self.factor**attempt)
        return max(self.floor, base * (1 - self.jitter * random.random()))

    def delay_for_progress(self, attempt: int, elapsed: float, progress: float) -> float:
        """Like `delay`, but no later than just after the finish projected from `progress` (0-100)."""
        delay = self.delay(attempt)
        if 0 < progress < 100 and elapsed > 0:
            remaining = elapsed * (100 - progress) / progress
            delay = min(delay, max(self.eta_floor, remaining))
        return max(self.floor, delay)


@dataclass
class Deadline:
    """An overall time budget, measured on the monotonic clock (immune to wall-clock jumps)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed)

    @property
    def expired(self) -> bool:
        return self.remaining <= 0

    def clamp(self, delay: float) -> float:
        """A sleep that never overshoots the deadline."""
        return max(0.0, min(delay, self.remaining))


DEFAULT_BACKOFF = Backoff()
"""About 1 s, growing by half each poll, capped at 15 s."""
