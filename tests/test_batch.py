"""The batch core's credit budget: what `max_credits` and the balance allow."""

from __future__ import annotations

import pytest

from prefect_nemo.batch import CREDITS_PER_CLIP, clip_budget


@pytest.mark.parametrize(
    ("max_credits", "available", "clips"),
    [(1000, 5000, 10), (1000, 250, 2), (99, 5000, 0), (0, 5000, 0), (CREDITS_PER_CLIP, CREDITS_PER_CLIP, 1)],
)
def test_the_budget_is_the_smaller_of_the_cap_and_the_balance(max_credits: int, available: int, clips: int) -> None:
    assert clip_budget(max_credits, available) == clips
