"""The one retry policy of every HTTP call: tenacity, exponential backoff with full jitter.

A `Retry-After` (or the contract's 30 s after a bare 429) is honoured but capped, and no retry starts
that would end past the clip's deadline. Callers say what may be retried; this module says how long to
wait and when to stop. The bound across layers (Prefect task retries x these) is in docs/reliability.md.

Each call gets its own `AsyncRetrying` (`PerCallRetrying`), whose state lives in a plain object instead of
tenacity's `threading.local`: a client call leaves its retrying object in a reference cycle, which only the
garbage collector frees, and on Python 3.11 before 3.11.12 a collection that frees a `threading.local`
inside `sys._current_frames()` deadlocks the whole process (CPython gh-106883). A Dask worker's profiler
calls that every 10 ms while tasks run, so batches on Dask froze now and then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_random_exponential

from prefect_nemo.errors import NemoError, NemoRateLimited, NemoTransportError
from prefect_nemo.polling import Deadline

__all__ = ["MAX_RETRY_AFTER", "is_transient", "retrying"]

logger = logging.getLogger("prefect_nemo.retry")

MAX_RETRY_AFTER = 120.0
"""The longest `Retry-After` honoured, in seconds: a server asking for more is asking us to give up."""
BACKOFF_MULTIPLIER = 0.5
BACKOFF_MAX = 8.0


def is_transient(exc: BaseException, *, idempotent: bool = True) -> bool:
    """Worth another try: transport errors, 408, 429 and 5xx - but a request that may have reached the
    server is sent again only when sending it twice does no harm."""
    if isinstance(exc, NemoTransportError) and exc.sent and not idempotent:
        return False
    return isinstance(exc, NemoError) and exc.retryable


class _Wait:
    """Retry-After when the server gave one (capped), else exponential backoff with full jitter."""

    def __init__(self, rate_limit_wait: float) -> None:
        self.rate_limit_wait = rate_limit_wait
        self.backoff = wait_random_exponential(multiplier=BACKOFF_MULTIPLIER, max=BACKOFF_MAX)

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, NemoRateLimited):
            wanted = error.retry_after if error.retry_after is not None else self.rate_limit_wait
            return min(MAX_RETRY_AFTER, max(0.0, wanted))
        return float(self.backoff(state))


class _Stop:
    """Stop after `attempts` tries (None: no limit), or when the next wait would pass the deadline."""

    def __init__(self, attempts: int | None, deadline: Deadline | None) -> None:
        self.attempts = attempts
        self.deadline = deadline

    def __call__(self, state: RetryCallState) -> bool:
        if self.attempts is not None and state.attempt_number >= self.attempts:
            return True
        return self.deadline is not None and state.upcoming_sleep >= self.deadline.remaining


def _log(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    logger.warning("%s; retry %d in %.1f s", error, state.attempt_number, state.upcoming_sleep)


class PerCallRetrying(AsyncRetrying):
    """An `AsyncRetrying` driven by one call in one event loop: its state needs no `threading.local`.

    tenacity keeps a retrying object's state per thread so one decorator can serve many threads; here each
    call has its own object, and a `threading.local` in the garbage is what can freeze Python 3.11.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # tenacity's own thread-local is freed right here, by its reference count (never by the collector)
        self._local = SimpleNamespace()  # type: ignore[assignment]

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._local = SimpleNamespace()  # type: ignore[assignment]


def retrying(
    *,
    attempts: int | None,
    deadline: Deadline | None = None,
    retry_if: Callable[[BaseException], bool] = is_transient,
    rate_limit_wait: float = 30.0,
) -> AsyncRetrying:
    """An `AsyncRetrying` to drive with `async for attempt in retrying(...): with attempt: ...`.

    `attempts` counts tries, the first included; `None` retries until the deadline (polls under a clip's
    budget). The last error is re-raised as itself, never wrapped.
    """
    return PerCallRetrying(
        stop=_Stop(attempts, deadline),
        wait=_Wait(rate_limit_wait),
        retry=retry_if_exception(retry_if),
        before_sleep=_log,
        reraise=True,
    )
