"""What `Backend`'s mixins (`Generations`, `RenderJobs`) may rely on, declared once: `Backend` provides it."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_nemo.local.emulator.faults import Faults
    from prefect_nemo.local.emulator.store import Store
    from prefect_nemo.local.settings import LocalSettings

__all__ = ["BackendPart"]


class BackendPart:
    """The base of a `Backend` mixin: the attributes and methods `Backend` sets up, so a mixin type-checks alone."""

    settings: LocalSettings
    store: Store
    faults: Faults
    rng: random.Random
    data_dir: Path
    url_secret: bytes
    base_url: str
    _tasks: set[asyncio.Task[None]]

    def session(self, session_id: str, user_id: str) -> dict[str, Any]:
        raise NotImplementedError  # Backend's

    def _spawn(self, coro: Any) -> None:
        raise NotImplementedError  # Backend's

    async def _in_worker(self, fn: Any, *args: Any) -> Any:
        raise NotImplementedError  # Backend's
