"""A Ctrl-C that Python drops (raised inside a finaliser) is raised again when `ctrl_c_kept`'s block ends."""

from __future__ import annotations

import signal

import pytest

from prefect_nemo.cli.interrupt import ctrl_c_kept


class PressesCtrlC:
    """Sends SIGINT to this process from its finaliser, as a key press can land in an import's lock callback."""

    def __del__(self) -> None:
        signal.raise_signal(signal.SIGINT)


@pytest.fixture(autouse=True)
def _pythons_own_handler() -> None:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # else these tests would show nothing


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_python_drops_a_ctrl_c_inside_a_finaliser() -> None:
    """Why `ctrl_c_kept` exists: without it, the code goes on as if no key had been pressed."""
    try:
        PressesCtrlC()
    except KeyboardInterrupt:
        pytest.fail("Python raised this Ctrl-C: ctrl_c_kept would have nothing to do")


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_dropped_ctrl_c_is_raised_when_the_block_ends() -> None:
    reached: list[str] = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_kept():
        PressesCtrlC()
        reached.append("after the dropped Ctrl-C")
    assert reached == ["after the dropped Ctrl-C"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own handler is back


def test_a_plain_ctrl_c_is_raised_where_it_lands_and_once() -> None:
    reached: list[str] = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_kept():
        signal.raise_signal(signal.SIGINT)
        reached.append("not reached")
    assert reached == []


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_kept():
            signal.raise_signal(signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
