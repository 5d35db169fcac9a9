"""Sync and async twins of one flow or task, joined the way Prefect's own integrations join them.

prefect-aws and prefect-gcp pair an async `a<verb>` with a sync `<verb>` through Prefect's `async_dispatch`:
the sync name runs synchronously from a plain script or a sync flow, and hands back the async twin's
coroutine inside an async flow or a running event loop (so `await image_to_video(...)` works there).
Here the sync twin stays a real Prefect `Flow`/`Task` (so `.with_options`, `.serve`, `.submit` and
deployment entrypoints keep working), and both twins carry the same name, so the UI shows one flow.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, cast, overload

from prefect import Flow, Task
from prefect._internal.compatibility.async_dispatch import async_dispatch
from prefect.utilities.asyncutils import run_coro_as_sync

from prefect_nemo.media import display_path

__all__ = ["NemoFlow", "NemoTask", "flow", "sync_twin", "task"]

P = ParamSpec("P")
R = TypeVar("R")


class NemoFlow(Flow[P, R]):
    """A Prefect flow whose stored parameters are always valid UTF-8, optionally the sync twin of `aio`.

    Prefect sends a run's parameters to its API as JSON; a file name that is not valid UTF-8 (a surrogate-
    escaped path) would make that request, and with it the whole batch, fail before it starts. Such names
    are stored with their stray bytes escaped (`caf\\xe9.png`); the flow itself still gets the real path.
    """

    aio: Flow[P, Any] | None = None

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        return cast(dict[str, Any], _utf8_safe(super().serialize_parameters(parameters)))

    def with_options(self, *args: Any, **kwargs: Any) -> NemoFlow[P, R]:
        copy = cast(NemoFlow[P, R], super().with_options(*args, **kwargs))
        copy.__class__ = type(self)  # Prefect's copy is a plain Flow; keep ours (and its twin)
        copy.aio = self.aio.with_options(*args, **kwargs) if self.aio is not None else None
        return copy

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.aio is None:
            return super().__call__(*args, **kwargs)
        run_sync: Any = super().__call__
        return async_dispatch(self.aio)(run_sync)(*args, **kwargs)


class NemoTask(Task[P, R]):
    """A Prefect task, optionally the sync twin of `aio` (called in an async context, it runs `aio`)."""

    aio: Task[P, Any] | None = None

    def with_options(self, *args: Any, **kwargs: Any) -> NemoTask[P, R]:
        copy = cast(NemoTask[P, R], super().with_options(*args, **kwargs))
        copy.__class__ = type(self)  # Prefect's copy is a plain Task; keep ours (and its twin)
        copy.aio = self.aio.with_options(*args, **kwargs) if self.aio is not None else None
        return copy

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.aio is None:
            return super().__call__(*args, **kwargs)
        run_sync: Any = super().__call__
        return async_dispatch(self.aio)(run_sync)(*args, **kwargs)


def flow(*, name: str, log_prints: bool = True, **options: Any) -> Callable[[Callable[P, R]], NemoFlow[P, R]]:
    """`prefect.flow` for this package's flows, as `NemoFlow`s."""

    def make(fn: Callable[P, R]) -> NemoFlow[P, R]:
        return NemoFlow(fn=fn, name=name, log_prints=log_prints, **options)

    return make


def task(**options: Any) -> Callable[[Callable[P, R]], NemoTask[P, R]]:
    """`prefect.task` for this package's tasks, as `NemoTask`s."""

    def make(fn: Callable[P, R]) -> NemoTask[P, R]:
        return NemoTask(fn=fn, **options)

    return make


@overload
def sync_twin(async_impl: Flow[P, Coroutine[Any, Any, R]]) -> NemoFlow[P, R]: ...
@overload
def sync_twin(async_impl: Task[P, Coroutine[Any, Any, R]]) -> NemoTask[P, R]: ...
def sync_twin(async_impl: Flow[P, Coroutine[Any, Any, R]] | Task[P, Coroutine[Any, Any, R]]) -> Any:
    """The sync twin of an async flow or task: the same name, signature, docstring and options, a body that
    runs the async one to completion, and `.aio` pointing back to it."""

    @functools.wraps(async_impl.fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        return run_coro_as_sync(async_impl.fn(*args, **kwargs))

    # Resolved here, where the async function's module is at hand: Prefect validates parameters against it.
    run.__signature__ = inspect.signature(async_impl.fn, eval_str=True)  # type: ignore[attr-defined]
    run.__annotations__ = typing.get_type_hints(async_impl.fn)

    twin: NemoFlow[..., Any] | NemoTask[..., Any]
    if isinstance(async_impl, Flow):
        twin = NemoFlow(
            fn=run,
            name=async_impl.name,
            description=async_impl.description,
            log_prints=async_impl.log_prints,
            task_runner=async_impl.task_runner,
            on_cancellation=list(async_impl.on_cancellation_hooks),
            on_crashed=list(async_impl.on_crashed_hooks),
        )
    else:
        twin = NemoTask(
            fn=run,
            name=async_impl.name,
            description=async_impl.description,
            tags=set(async_impl.tags),
            cache_policy=async_impl._user_cache_policy,  # what was asked for, not what Prefect derived from it
            task_run_name=async_impl.task_run_name,
            retries=async_impl.retries,
            retry_delay_seconds=async_impl.retry_delay_seconds,
            retry_jitter_factor=async_impl.retry_jitter_factor,
            retry_condition_fn=async_impl.retry_condition_fn,
            timeout_seconds=async_impl.timeout_seconds,
        )
    twin.aio = async_impl
    return twin


def _utf8_safe(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return display_path(value)
        return value
    if isinstance(value, dict):
        return {_utf8_safe(k): _utf8_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8_safe(v) for v in value]
    return value
