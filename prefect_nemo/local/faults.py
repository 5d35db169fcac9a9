"""Fault injection for the embedded backend, so tests can prove the client survives the cloud's failures.

A spec is a comma-separated list of `name[=value]`, e.g. `"429=0.2,render-fail=0.5,credits-after=3"`.
A probability value applies per eligible request, drawn from a generator seeded by the server's seed,
so a test run is repeatable. Unknown names are rejected at start-up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_nemo.local.backend import Backend

__all__ = ["FAULTS", "Faults"]

FAULTS: dict[str, str] = {
    "export-blocked": "every export answers HTTP 402 (plan tier)",
    "credits-after": "generations after the first N answer 2001 out of credits",
    "render-fail": "probability that a render ends as failed",
    "no-url": "probability that a completed render carries no output URL",
}


@dataclass
class Faults:
    """Parsed fault settings; each hook is a no-op unless its fault is on."""

    settings: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    _no_url: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> Faults:
        settings: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, value = item.partition("=")
            if name not in FAULTS:
                raise ValueError(f"unknown fault {name!r}; known faults: {', '.join(sorted(FAULTS))}")
            settings[name] = float(value) if value else 1.0
        return cls(settings, random.Random(seed))

    def _hit(self, name: str) -> bool:
        chance = self.settings.get(name, 0.0)
        return chance > 0 and self.rng.random() < chance

    def out_of_credits(self, backend: Backend) -> bool:
        limit = self.settings.get("credits-after")
        if limit is None:
            return False
        return sum(backend.store.generation_counts().values()) >= limit

    def before_export(self, backend: Backend) -> None:
        from prefect_nemo.local.backend import ApiError

        if "export-blocked" in self.settings:
            raise ApiError(402, "export is not available on the free plan", 402, envelope="success")

    def after_render(self, backend: Backend, render_id: str) -> None:
        if self._hit("render-fail"):
            raise RuntimeError("injected render failure")
        if self._hit("no-url"):
            self._no_url.add(render_id)

    def hide_url(self, render_id: str) -> bool:
        return render_id in self._no_url

    def describe(self) -> dict[str, Any]:
        return dict(self.settings)
