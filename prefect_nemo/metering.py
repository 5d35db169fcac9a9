"""What a generation cost, from the backend's own balance: read before and after the generate.

The backend reports no per-generation cost, so the difference of two balance reads is the only honest
figure - and only when no other generation of this process started or ended in between (clips of a batch
generate side by side on one account). Otherwise the cost is left unknown rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect_nemo.credentials import NemoCredentials

__all__ = ["Reading", "after_generate", "before_generate"]


class _Generations:
    """Counts generation starts and ends in this process; a reading is clean if nothing moved it since."""

    events = 0


@dataclass(frozen=True)
class Reading:
    balance: int | None
    events: int


async def before_generate(credentials: NemoCredentials) -> Reading:
    _Generations.events += 1
    return Reading(await _balance(credentials), _Generations.events)


async def after_generate(credentials: NemoCredentials, before: Reading) -> int | None:
    """The credits the generation since `before` cost, or None when that cannot be told apart."""
    after = await _balance(credentials)
    clean = _Generations.events == before.events
    _Generations.events += 1
    if not clean or before.balance is None or after is None or after > before.balance:
        return None
    return before.balance - after


async def _balance(credentials: NemoCredentials) -> int | None:
    """The account's total credits, or None when the backend cannot say (never fails a clip)."""
    try:
        async with credentials.get_client() as client:
            balance = await client.credits()
    except Exception:
        return None
    return balance.total if balance.total is not None else balance.available + balance.frozen
