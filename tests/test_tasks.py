"""Task-level retries follow the idempotency table: transient failures retry, request errors do not."""

from __future__ import annotations

import pytest
from prefect import task

from prefect_nemo.errors import NemoBadRequest, NemoServerError
from prefect_nemo.tasks import retry_transient


def flaky(error: Exception) -> tuple[object, list[int]]:
    calls: list[int] = []

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=retry_transient)
    async def step() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise error
        return "done"

    return step, calls


async def test_server_errors_are_retried(harness: None) -> None:
    step, calls = flaky(NemoServerError("boom", status_code=503))
    assert await step() == "done"  # type: ignore[operator]
    assert len(calls) == 2


async def test_request_errors_are_not_retried(harness: None) -> None:
    step, calls = flaky(NemoBadRequest("bad draft", status_code=400))
    with pytest.raises(NemoBadRequest):
        await step()  # type: ignore[operator]
    assert len(calls) == 1
