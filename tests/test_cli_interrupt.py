"""Ctrl-C while the command starts is noted, never raised where it lands, and acted on at the safe points."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from prefect_nemo.cli.interrupt import ctrl_c_deferred

LOCK = threading.Lock()


class PressesCtrlCHoldingALock:
    """A finaliser that takes a lock and releases it, with Ctrl-C landing in between: how the callback of an
    import's module lock holds the global import lock when the key lands in it."""

    def __del__(self) -> None:
        LOCK.acquire()
        signal.raise_signal(signal.SIGINT)
        LOCK.release()


@pytest.fixture(autouse=True)
def _pythons_own_handler() -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # else these tests would show nothing


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_python_drops_a_ctrl_c_in_a_finaliser_and_leaves_its_lock_held() -> None:
    """Why `ctrl_c_deferred` exists: raised where it lands, the key is lost and the lock is never released."""
    try:
        PressesCtrlCHoldingALock()
    except KeyboardInterrupt:
        pytest.fail("Python raised this Ctrl-C: ctrl_c_deferred would have nothing to do")
    try:
        assert LOCK.locked()  # any other thread taking it would now wait forever
    finally:
        LOCK.release()


def test_the_key_is_noted_the_lock_released_and_the_block_end_raises_it() -> None:
    reached: list[str] = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred() as ctrl_c:
        PressesCtrlCHoldingALock()
        assert not LOCK.locked()
        assert ctrl_c.pressed
        reached.append("after the Ctrl-C")
    assert reached == ["after the Ctrl-C"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own handler is back


def test_check_raises_it_where_the_command_chooses() -> None:
    reached: list[str] = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred() as ctrl_c:
        ctrl_c.check()
        signal.raise_signal(signal.SIGINT)
        reached.append("not raised where it landed")
        ctrl_c.check()
        reached.append("not reached")
    assert reached == ["not raised where it landed"]


def test_a_block_without_ctrl_c_ends_quietly() -> None:
    with ctrl_c_deferred() as ctrl_c:
        ctrl_c.check()
    assert not ctrl_c.pressed


def test_waiting_for_a_thread_ends_soon_after_ctrl_c_while_the_thread_runs_on() -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=True)
    worker.start()
    threading.Timer(0.2, os.kill, args=(os.getpid(), signal.SIGINT)).start()  # the key, pressed mid-wait
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt), ctrl_c_deferred() as ctrl_c:
            ctrl_c.wait_for(worker)
        waited = time.monotonic() - started
        assert worker.is_alive()
        assert 0.2 <= waited < 5, waited
    finally:
        release.set()
        worker.join()


def test_waiting_for_a_thread_that_ends_returns() -> None:
    worker = threading.Thread(target=time.sleep, args=(0.1,))
    worker.start()
    with ctrl_c_deferred() as ctrl_c:
        ctrl_c.wait_for(worker)
    assert not worker.is_alive()


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_deferred() as ctrl_c:
            signal.raise_signal(signal.SIGINT)
        assert not ctrl_c.pressed
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_outside_the_main_thread_the_handler_is_left_alone() -> None:
    seen: list[object] = []

    def in_a_thread() -> None:
        with ctrl_c_deferred() as ctrl_c:
            seen.append(signal.getsignal(signal.SIGINT))
            ctrl_c.check()

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert seen == [signal.default_int_handler]
