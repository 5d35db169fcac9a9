"""Per-clip progress, for whoever listens in this process (the CLI's progress bars).

The pipeline reports each stage as it moves; with no listener (a Dask worker, a deployment run) a
report costs a dictionary lookup. Listeners must be quick and must not raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Literal

__all__ = ["Stage", "listen", "report"]

Stage = Literal["preflight", "cached", "session", "upload", "generate", "render", "download", "done", "failed"]
Listener = Callable[[str, Stage, float], None]

_listeners: list[Listener] = []
logger = logging.getLogger("prefect_nemo.progress")


def report(image: str, stage: Stage, fraction: float = 0.0) -> None:
    """Tell listeners that `image` is at `stage`, `fraction` (0-1) of the way through it."""
    for listener in list(_listeners):
        try:
            listener(image, stage, fraction)
        except Exception:  # a broken progress display must never break a clip
            logger.debug("progress listener failed", exc_info=True)


@contextmanager
def listen(listener: Listener) -> Iterator[None]:
    """Receive progress reports while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
