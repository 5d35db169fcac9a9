"""A Ctrl-C noted while the command starts, and acted on where stopping is safe.

Python raises `KeyboardInterrupt` wherever the main thread happens to be when SIGINT arrives. Inside a
weakref callback, such as the one an import's module lock runs, the exception is printed as "Exception
ignored" and dropped; worse, it can land between that callback's `_imp.acquire_lock()` and its `try`, and
the global import lock then stays held for good, so the next import in any other thread waits forever. Both
were seen in a convert interrupted while the embedded backend started: once it went on to make the clip, once
the thread importing Prefect hung and the command never ended. While the start runs, `ctrl_c_deferred`'s
handler therefore only notes the key; the main thread raises it at the points it chooses.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["CtrlC", "ctrl_c_deferred"]

_POLL = 0.05
"""Seconds between two looks at the key while waiting for a thread: what a Ctrl-C may take to be acted on."""


class CtrlC:
    """Whether Ctrl-C was pressed, and the safe points that act on it."""

    def __init__(self) -> None:
        self.pressed = False

    def check(self) -> None:
        """Raise `KeyboardInterrupt` here if the key was pressed."""
        if self.pressed:
            raise KeyboardInterrupt

    def wait_for(self, thread: threading.Thread) -> None:
        """Wait for the thread to end, or for Ctrl-C (then raise it; the thread is left to run)."""
        while thread.is_alive():
            self.check()
            thread.join(_POLL)
        self.check()


@contextmanager
def ctrl_c_deferred() -> Iterator[CtrlC]:
    """Ctrl-C in the block only sets `pressed`; `check` and `wait_for` raise it, and so does the block's end.

    Only where Python's own handler is in place, in the main thread: an ignored SIGINT stays ignored, and
    elsewhere the key is never noted.
    """
    ctrl_c = CtrlC()
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield ctrl_c
        return

    def note(signum: int, frame: FrameType | None) -> None:
        ctrl_c.pressed = True

    signal.signal(signal.SIGINT, note)
    try:
        yield ctrl_c
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    ctrl_c.check()
