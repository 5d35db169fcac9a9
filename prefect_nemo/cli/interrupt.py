"""A Ctrl-C that is never lost.

Python raises `KeyboardInterrupt` wherever the main thread happens to be when SIGINT arrives. Inside a
weakref callback or a finaliser, such as the callback of an import's module lock, the exception is printed
as "Exception ignored" and dropped, and the command carries on as if no key had been pressed: seen once in a
convert interrupted while the embedded backend started, which went on to make the clip. `ctrl_c_kept` also
remembers the signal and raises it again when its block ends.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["ctrl_c_kept"]


@contextmanager
def ctrl_c_kept() -> Iterator[None]:
    """Ctrl-C raises `KeyboardInterrupt` in the block as usual, and again at its end if it was swallowed.

    Only where Python's own handler is in place, in the main thread: an ignored SIGINT stays ignored.
    """
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    pressed = False

    def remember(signum: int, frame: FrameType | None) -> None:
        nonlocal pressed
        pressed = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, remember)
    try:
        yield
        if pressed:
            raise KeyboardInterrupt
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
