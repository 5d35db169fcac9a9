"""The retry policy's objects must leave no `threading.local` for the garbage collector: on Python 3.11 before
3.11.12, a collection that frees one while a Dask worker's profiler is in `sys._current_frames()` freezes the
worker (CPython gh-106883). Checked on real calls through the client; then the loop still retries as before."""

from __future__ import annotations

import _thread
import gc
from collections.abc import Awaitable, Callable, Iterator

import pytest

from prefect_nemo import errors
from prefect_nemo.client import NemoClient
from prefect_nemo.retry import retrying


@pytest.fixture
def cyclic_garbage() -> Iterator[list[object]]:
    """What the collector finds unreachable while the test runs (kept, not freed, to be looked at)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()


def thread_locals(garbage: list[object]) -> list[str]:
    gc.collect()
    return [type(o).__qualname__ for o in garbage if isinstance(o, _thread._local)]


async def test_a_client_call_leaves_no_thread_local_to_collect(
    client: NemoClient, cyclic_garbage: list[object]
) -> None:
    for _ in range(3):
        await client.credits()
    assert thread_locals(cyclic_garbage) == []


async def test_a_transient_error_is_tried_again() -> None:
    tries = 0

    async def flaky() -> int:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise errors.NemoTransportError("connection reset", sent=False)
        return tries

    assert await drive(flaky) == 3


async def test_the_last_error_is_raised_as_itself() -> None:
    async def refused() -> int:
        raise errors.NemoTransportError("connection refused", sent=False)

    with pytest.raises(errors.NemoTransportError, match="connection refused"):
        await drive(refused, attempts=2)


async def drive(call: Callable[[], Awaitable[int]], attempts: int = 3) -> int:
    async for attempt in retrying(attempts=attempts):
        with attempt:
            return await call()
    raise AssertionError("unreachable")
