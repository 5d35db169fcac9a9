"""Fault injection for the embedded backend, so tests can prove the client survives the cloud's failures.

A spec is a comma-separated list of `name[=value]`, e.g. `"429=0.2,render-fail=0.5,credits-after=3"`; a
name without a value means 1 (always). Most values are probabilities, drawn per eligible event from a
generator of that fault's own, seeded by the server's seed and the fault's name, so one fault's draws do
not shift when another is added and a run is repeatable. Unknown names and bad values are rejected at
start-up. The server and backend call the small hooks below; each is a no-op unless its fault is on, and
every fault that fires is counted (`GET /local/metrics` -> `faults`).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["FAULTS", "DownloadCut", "Faults", "HttpFault", "StreamFate"]

FAULTS: dict[str, str] = {
    "429": "probability that an API request answers HTTP 429 with Retry-After: 1",
    "429-bare": "probability that an API request answers HTTP 429 without Retry-After",
    "5xx": "probability that an API request answers HTTP 500/502/503/504, before or after doing its work "
    "(on /run_sse: 502 after the instruction was accepted)",
    "slow": "every API response is delayed by a random 0..VALUE seconds",
    "token-expiry": "every live token expires after each N-th generation (1001 mid-batch)",
    "session-loss": "probability that a session is lost when its instruction arrives (1002, nothing charged)",
    "stream-silent": "probability that a generate stream ends with no text",
    "stream-drop": "probability that a generate stream is cut mid-way (the work goes on)",
    "stream-heartbeats": "probability that a generate stream sends only heartbeats, forever (the work goes on)",
    "stream-error": "probability that a generate stream ends with an error event after the work is done",
    "generate-fail": "probability that a generation fails with an error event (not charged)",
    "credits-after": "generations after the first N answer 2001 out of credits",
    "export-blocked": "probability that an export answers HTTP 402 (plan tier); 1 = every export",
    "render-fail": "probability that a render ends as failed",
    "render-stall": "probability that a render stays 'processing' forever",
    "no-url": "probability that a completed render carries no output URL",
    "url-expired": "probability that a completed render's output URL has already expired (HTTP 403)",
    "download-cut": "probability that a download is cut short (half with Content-Length, half without)",
}
"""Every fault by name, with what its value means (shown by `prefect-nemo local-server --help`)."""

_COUNTS = ("token-expiry", "credits-after")
_SECONDS = ("slow",)


class StreamFate(StrEnum):
    """What happens to one /run_sse call."""

    NORMAL = "normal"
    SILENT = "silent"
    DROP = "drop"
    HEARTBEATS = "heartbeats"
    TRAILING_ERROR = "trailing-error"
    FAIL = "fail"
    GATEWAY_ERROR = "gateway-error"


@dataclass(frozen=True)
class HttpFault:
    """How the server answers one request: after `delay` seconds, with `status` instead of its answer
    (if set), either before doing the work or after it (`after`, the gateway lost the real answer)."""

    delay: float = 0.0
    status: int | None = None
    retry_after: str | None = None
    after: bool = False
    name: str = ""


@dataclass(frozen=True)
class DownloadCut:
    """Serve only `fraction` of the file; with `declared_length` the full Content-Length is announced."""

    fraction: float
    declared_length: bool


@dataclass
class Faults:
    """Parsed fault settings plus the hooks the server and backend call."""

    settings: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    _rngs: dict[str, random.Random] = field(default_factory=dict)
    _render_fates: dict[str, str | None] = field(default_factory=dict)
    _no_url: set[str] = field(default_factory=set)
    _expired_url: set[str] = field(default_factory=set)
    _accepted: int = 0
    _finished: int = 0

    @classmethod
    def parse(cls, spec: str, *, seed: int = 0) -> Faults:
        """Parse `name[=value],...`; raises ValueError naming the bad item and the known faults."""
        settings: dict[str, float] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, _, raw = (s.strip() for s in item.partition("="))
            if name not in FAULTS:
                raise ValueError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
            try:
                value = float(raw) if raw else 1.0
            except ValueError:
                raise ValueError(f"fault {name!r} needs a number, not {raw!r}") from None
            if name in _COUNTS:
                if value < 0 or value != int(value):
                    raise ValueError(f"fault {name!r} needs a whole count >= 0, not {raw!r}")
                if name == "token-expiry" and value < 1:
                    raise ValueError("fault 'token-expiry' needs a count >= 1")
            elif name in _SECONDS:
                if value < 0:
                    raise ValueError(f"fault {name!r} needs seconds >= 0, not {raw!r}")
            elif not 0 <= value <= 1:
                raise ValueError(f"fault {name!r} needs a probability between 0 and 1, not {raw!r}")
            settings[name] = value
        return cls(settings, seed)

    # -- drawing ----------------------------------------------------------------------------------------

    def _rng(self, name: str) -> random.Random:
        if name not in self._rngs:
            digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
            self._rngs[name] = random.Random(int.from_bytes(digest[:8], "big"))
        return self._rngs[name]

    def _hit(self, name: str) -> bool:
        chance = self.settings.get(name, 0.0)
        if chance <= 0:
            return False
        if chance < 1 and self._rng(name).random() >= chance:
            return False
        self.fired[name] += 1
        return True

    # -- HTTP (server middleware) ----------------------------------------------------------------------

    def on_request(self, method: str, path: str) -> HttpFault | None:
        """429s, 5xx and slowness for API calls (`/api/*` and `/run_sse`; never `/local/*` or public files)."""
        if not (path.startswith("/api/") or path == "/run_sse"):
            return None
        delay = 0.0
        if "slow" in self.settings:
            delay = self._rng("slow").uniform(0, self.settings["slow"])
            self.fired["slow"] += 1
        if self._hit("429"):
            return HttpFault(delay, 429, "1", name="429")
        if self._hit("429-bare"):
            return HttpFault(delay, 429, name="429-bare")
        if path != "/run_sse" and self._hit("5xx"):  # /run_sse has its own (see `stream_fate`)
            rng = self._rng("5xx")
            return HttpFault(delay, rng.choice((500, 502, 503, 504)), after=rng.random() < 0.5, name="5xx")
        return HttpFault(delay) if delay else None

    # -- generation (server route and backend) ---------------------------------------------------------

    def lose_session(self) -> bool:
        """Forget the session an instruction is for, before anything is charged (answer 1002)."""
        return self._hit("session-loss")

    def out_of_credits(self) -> bool:
        """2001 once `credits-after` generations have been accepted (counted as they are accepted)."""
        limit = self.settings.get("credits-after")
        if limit is None:
            return False
        if self._accepted >= limit:
            self.fired["credits-after"] += 1
            return True
        return False

    def accepted(self) -> None:
        self._accepted += 1

    def stream_fate(self) -> StreamFate:
        """The fate of one /run_sse call; at most one fault applies to it."""
        for name, fate in (
            ("5xx", StreamFate.GATEWAY_ERROR),
            ("generate-fail", StreamFate.FAIL),
            ("stream-drop", StreamFate.DROP),
            ("stream-heartbeats", StreamFate.HEARTBEATS),
            ("stream-error", StreamFate.TRAILING_ERROR),
            ("stream-silent", StreamFate.SILENT),
        ):
            if self._hit(name):
                return fate
        return StreamFate.NORMAL

    def generation_finished(self) -> bool:
        """Count a charged generation; True when every live token must now expire (`token-expiry=N`)."""
        self._finished += 1
        every = self.settings.get("token-expiry")
        if every and self._finished % int(every) == 0:
            self.fired["token-expiry"] += 1
            return True
        return False

    # -- export, render, download (backend and server routes) ------------------------------------------

    def export_blocked(self) -> bool:
        return self._hit("export-blocked")

    def render_fate(self, render_id: str) -> str | None:
        """Whether a render will "fail", "stall" or neither: decided once per render id."""
        if render_id not in self._render_fates:
            fate = "stall" if self._hit("render-stall") else "fail" if self._hit("render-fail") else None
            self._render_fates[render_id] = fate
        return self._render_fates[render_id]

    def rendered(self, render_id: str) -> None:
        """A render completed: decide whether its status hides the URL or hands out an expired one."""
        if self._hit("no-url"):
            self._no_url.add(render_id)
        elif self._hit("url-expired"):
            self._expired_url.add(render_id)

    def hide_url(self, render_id: str) -> bool:
        return render_id in self._no_url

    def url_ttl(self, render_id: str, ttl: float) -> float:
        return -60.0 if render_id in self._expired_url else ttl

    def download_cut(self) -> DownloadCut | None:
        if not self._hit("download-cut"):
            return None
        rng = self._rng("download-cut")
        return DownloadCut(rng.uniform(0.2, 0.9), declared_length=rng.random() < 0.5)

    def describe(self) -> dict[str, Any]:
        return {"settings": dict(self.settings), "seed": self.seed, "fired": dict(self.fired)}
