"""The fault matrix: a batch of images through `batch_image_to_video` against an embedded backend that
injects one fault at a time, then all of them mixed at random (seeded).

The suite runs 5 images per case at 720p (every fault's seeded dice still fire within 5 clips: see
`test_every_fault_fires_within_the_suites_batch`); bench/reliability.py runs the same cases with 10 images at
1080p for the published figures.

Every case checks that each input ends as a verified MP4 (byte-identical to what the server rendered) or
as a typed error with a readable reason; that no clip was generated twice (the server's counters); that no
paid clip was lost (delivered, or resumable from the ledger without paying again); and what each fault
specifically promises (1001 renews the token with the same client id, 1002 moves to a new session, ...).
The matrix is printed as a table at the end of the module.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np
import pytest
from PIL import Image

from prefect_nemo.artifacts import BatchItem
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.flows import batch_image_to_video
from prefect_nemo.ledger import Ledger, clip_key
from prefect_nemo.local.emulator.faults import FAULTS, Faults
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from prefect_nemo.media import probe, sha256_file
from prefect_nemo.models import ClipSpec
from prefect_nemo.settings import NemoSettings

PROMPT = "1-second push-in, 1:1, 24 fps"
IMAGES = 10
"""The batch of bench/reliability.py (its figures); the suite's is `SUITE_IMAGES` of `SUITE_PROMPT`."""
SUITE_IMAGES = 5
SUITE_PROMPT = f"{PROMPT}, 720p"
SEED = 20260319
MIXED = (
    "429=0.08,429-bare=0.04,5xx=0.08,slow=0.3,token-expiry=4,session-loss=0.1,stream-silent=0.3,"
    "stream-drop=0.15,stream-heartbeats=0.1,stream-error=0.1,generate-fail=0.05,render-fail=0.15,"
    "render-stall=0.05,no-url=0.2,url-expired=0.2,download-cut=0.15,export-blocked=0.05"
)


@dataclass
class Outcome:
    """What one batch against one faulty server produced, with the server's own account of it."""

    case: FaultCase
    items: list[BatchItem]
    metrics: dict[str, Any]
    server_dir: Path
    out_dir: Path
    api_url: str
    images: list[Path]
    seconds: float
    prompt: str = PROMPT
    problems: list[str] = field(default_factory=list)
    duplicates: int = 0
    lost: int = 0

    @property
    def ok(self) -> int:
        return sum(1 for i in self.items if i.status in ("ok", "cached"))

    @property
    def errors(self) -> int:
        return sum(1 for i in self.items if i.status in ("failed", "skipped"))

    def errors_text(self) -> str:
        return "\n".join(f"{Path(i.image).name}: {i.error}" for i in self.items if i.error)


@dataclass(frozen=True)
class FaultCase:
    name: str
    spec: str
    ok: int | Literal["all"] | None = "all"
    """Exact number of clips expected ("all": one per image), or None when the fault's dice decide."""
    timeout: float = 120.0
    check: Callable[[Outcome], None] | None = None
    seconds: float = 15.0
    """About how long the case takes in the suite (its row of the matrix table): the longest start first."""


def _fired(outcome: Outcome, *names: str) -> None:
    fired = outcome.metrics["faults"]
    for name in names:
        assert fired.get(name, 0) > 0, f"fault {name} never fired: {fired}"


def _errors_say(*words: str) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        for item in outcome.items:
            if item.error:
                assert any(w in item.error for w in words), f"{item.error!r} does not say any of {words}"

    return check


def _check_token_expiry(outcome: Outcome) -> None:
    _fired(outcome, "token-expiry")
    tokens = outcome.metrics["tokens"]
    assert tokens["issued"] >= 2, tokens  # re-acquired after 1001 ...
    assert tokens["clients"] == 1 and tokens["users"] == 1, tokens  # ... with the same client id, same account
    assert outcome.metrics["errors"].get("1001", 0) >= 1


def _check_session_loss(outcome: Outcome) -> None:
    _fired(outcome, "session-loss")
    lost = outcome.metrics["errors"].get("1002", 0)
    assert lost >= 1
    created = outcome.metrics["requests"].get("POST /api/tasks/me/with-session/nemo_agent", 0)
    assert created >= len(outcome.images) + lost  # a new session for each one lost ...
    assert outcome.metrics["sessions"] == created - lost  # ... and the lost ones are gone on the server


def _check_credits(outcome: Outcome) -> None:
    _fired(outcome, "credits-after")
    _errors_say("out of credits")(outcome)
    assert len(outcome.metrics["generations"]) == 4


def _check_render_fail(outcome: Outcome) -> None:
    _fired(outcome, "render-fail")
    submits = outcome.metrics["requests"].get("POST /api/render/proxy/lambda", 0)
    assert submits <= 2 * len(outcome.images)  # one new render id after a failure, never more
    _errors_say("render", "failed")(outcome)


def _check_stall(outcome: Outcome) -> None:
    _fired(outcome, "render-stall")
    assert outcome.errors >= 1
    for item in outcome.items:
        if item.error:
            assert "gave up waiting for render render_" in item.error, item.error


def _also(*checks: Callable[[Outcome], None]) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        for c in checks:
            c(outcome)

    return check


CASES: list[FaultCase] = [
    FaultCase("429 + Retry-After", "429=0.2", check=lambda o: _fired(o, "429"), seconds=32),
    FaultCase("429 bare", "429-bare=0.2", check=lambda o: _fired(o, "429-bare"), seconds=31),
    FaultCase("5xx", "5xx=0.15", check=lambda o: _fired(o, "5xx"), seconds=32),
    FaultCase("slow", "slow=1.2", check=lambda o: _fired(o, "slow"), seconds=23),
    FaultCase("token expiry 1001", "token-expiry=3", check=_check_token_expiry, seconds=16),
    FaultCase("session loss 1002", "session-loss=0.3", check=_check_session_loss),
    FaultCase("stream silent", "stream-silent=1", check=lambda o: _fired(o, "stream-silent"), seconds=15),
    FaultCase("stream drop", "stream-drop=0.5", check=lambda o: _fired(o, "stream-drop"), seconds=15),
    FaultCase("stream heartbeats", "stream-heartbeats=0.5", check=lambda o: _fired(o, "stream-heartbeats"), seconds=36),
    FaultCase("stream error event", "stream-error=0.5", check=lambda o: _fired(o, "stream-error"), seconds=16),
    FaultCase(
        "generate fails",
        "generate-fail=0.3",
        ok=None,
        check=_also(lambda o: _fired(o, "generate-fail"), _errors_say("generation failed")),
        seconds=15,
    ),
    FaultCase("render fails", "render-fail=0.4", ok=None, check=_check_render_fail, seconds=23),
    FaultCase("render stalls", "render-stall=0.3", ok=None, timeout=30, check=_check_stall, seconds=34),
    FaultCase("no URL", "no-url=0.5", check=lambda o: _fired(o, "no-url"), seconds=13),
    FaultCase("URL expired 403", "url-expired=0.5", check=lambda o: _fired(o, "url-expired"), seconds=17),
    FaultCase("download cut", "download-cut=0.4", check=lambda o: _fired(o, "download-cut"), seconds=25),
    FaultCase("credits 2001 after 4", "credits-after=4", ok=4, check=_check_credits, seconds=12),
    FaultCase(
        "export blocked 402",
        "export-blocked",
        ok=0,
        check=_also(lambda o: _fired(o, "export-blocked"), _errors_say("HTTP 402")),
        seconds=13,
    ),
    FaultCase("mixed (seeded)", MIXED, ok=None, timeout=40, seconds=17),
]


def make_images(folder: Path, count: int = IMAGES) -> list[Path]:
    """Distinct, textured images (so each clip has its own content hash), smooth as photographs are: white
    noise made every clip's H.264 encode and animated WebP preview cost several times a photograph's."""
    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:360, 0:480]
    paths = []
    for i in range(count):
        ripple = 96 + 64 * np.sin((x + 37 * i) / 23.0) * np.cos((y - 11 * i) / 17.0)
        pixels = np.stack([x * 255 // 479, y * 255 // 359, ripple], axis=-1).astype(np.uint8)
        pixels[100:220, 140:320] = (40 + 20 * i) % 255
        path = folder / f"fault-{i:02d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def _server_renders(server_dir: Path) -> dict[str, str | None]:
    with sqlite3.connect(server_dir / "state.db") as db:
        return dict(db.execute("SELECT render_id, output_path FROM renders WHERE status='completed'").fetchall())


def _charged_images(server_dir: Path) -> set[str]:
    with sqlite3.connect(server_dir / "state.db") as db:
        return {row[0] for row in db.execute("SELECT image_sha256 FROM generations WHERE status='done'")}


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(outcome: Outcome) -> None:
    """The checks every case must pass; problems are collected (and asserted by the test)."""
    problems = outcome.problems
    rendered = _server_renders(outcome.server_dir)
    charged = _charged_images(outcome.server_dir)
    ledger = Ledger(NemoSettings().ledger_path)
    spec = ClipSpec(prompt=outcome.prompt)
    for image, item in zip(outcome.images, outcome.items, strict=True):
        name = image.name
        if item.status in ("ok", "cached"):
            result = item.result
            if result is None:
                problems.append(f"{name}: ok without a result")
                continue
            if result.path.parent != outcome.out_dir.resolve():
                problems.append(f"{name}: clip written outside the output folder: {result.path}")
            server_copy = rendered.get(result.render_id)
            try:
                info = probe(result.path)
            except (ValueError, OSError) as exc:
                problems.append(f"{name}: reported ok but not a playable MP4 ({exc})")
                outcome.lost += 1
                continue
            if server_copy is None or _file_sha(Path(server_copy)) != sha256_file(result.path):
                problems.append(f"{name}: the delivered MP4 differs from render {result.render_id} on the server")
                outcome.lost += 1
            if info.codec != "h264" or abs(info.duration - 1.0) > 1 / info.fps + 1e-6:
                problems.append(f"{name}: unexpected clip {info}")
        elif item.status in ("failed", "skipped"):
            error = item.error or ""
            if not error.strip():
                problems.append(f"{name}: {item.status} without a reason")
            if "internal error" in error or "Traceback" in error:
                problems.append(f"{name}: untyped failure: {error}")
            if len(error) > 1500:
                problems.append(f"{name}: unreadably long reason ({len(error)} chars)")
            # Paid for but not delivered: it must be resumable from the ledger, never paid again.
            if sha256_file(image) in charged:
                record = ledger.get(clip_key(sha256_file(image), spec.normalized(), outcome.api_url))
                if not (record.generated and record.draft):
                    problems.append(f"{name}: a charged clip is neither delivered nor resumable")
                    outcome.lost += 1
        else:
            problems.append(f"{name}: unexpected status {item.status!r}")
    outcome.duplicates = sum(n - 1 for n in outcome.metrics["generations"].values() if n > 1)
    if outcome.duplicates:
        problems.append(f"instruction sent twice for a clip: {outcome.metrics['generations']}")
    expected = len(outcome.images) if outcome.case.ok == "all" else outcome.case.ok
    if expected is not None and outcome.ok != expected:
        problems.append(f"{outcome.ok} clips, expected {expected}:\n{outcome.errors_text()}")


async def run_case(case: FaultCase, images: list[Path], work: Path, *, port: int = 0, prompt: str = PROMPT) -> Outcome:
    """One batch of `images` against a fresh embedded backend injecting `case.spec`."""
    slug = "".join(c if c.isalnum() else "-" for c in case.name.lower())
    server_dir = work / f"server-{slug}"
    settings = LocalSettings(data_dir=server_dir, faults=case.spec, seed=SEED, port=port, render_workers=1)
    server = await asyncio.to_thread(LocalServer, settings)  # its start-up must not stall the other cases' loop
    try:
        credentials = NemoCredentials(
            api_url=server.url,
            stream_idle_timeout=10.0,
            rate_limit_wait=0.2,
            timeout=1.0 if "slow" in case.spec else 30.0,
            max_retries=5,
        )
        out_dir = work / f"out-{slug}"
        started = time.monotonic()
        items: list[BatchItem] = await batch_image_to_video(
            images,
            prompt,
            max_concurrency=len(images),
            out_dir=out_dir,
            credentials=credentials,
            timeout=case.timeout,
            allow_failures=True,
        )
        seconds = time.monotonic() - started
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{server.url}/local/metrics", timeout=10)).json()
    finally:
        await asyncio.to_thread(server.stop)
    outcome = Outcome(case, items, metrics, server_dir, out_dir, server.url, images, seconds, prompt)
    await asyncio.to_thread(verify, outcome)
    if case.check is not None:
        try:
            case.check(outcome)
        except AssertionError as exc:
            outcome.problems.append(f"{case.name}: {exc}")
    return outcome


def format_table(outcomes: list[Outcome]) -> str:
    rows = [("fault", "spec", "clips ok", "errors", "dup. generates", "lost", "seconds")]
    for o in outcomes:
        spec = o.case.spec if len(o.case.spec) <= 28 else o.case.spec[:25] + "..."
        rows.append(
            (o.case.name, spec or "-", str(o.ok), str(o.errors), str(o.duplicates), str(o.lost), f"{o.seconds:.1f}")
        )
    rows.append(
        (
            "total",
            "",
            str(sum(o.ok for o in outcomes)),
            str(sum(o.errors for o in outcomes)),
            str(sum(o.duplicates for o in outcomes)),
            str(sum(o.lost for o in outcomes)),
            f"{sum(o.seconds for o in outcomes):.1f}",
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    lines = [line(r) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.insert(len(lines) - 1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- tests ----------------------------------------------------------------------------------------------


PARALLEL_CASES = 3
"""Cases run three at a time (each with its own server): a batch spends much of its time waiting (back-offs,
polls, Retry-After). On the 2-core machine the module took 200 s with two, 183 s with three: near the floor
of its CPU time (about 15 s a case: client, backend and Prefect's server). A 503 from Prefect's test server
under load is retried by Prefect's client."""


def start_matrix(
    cases: list[FaultCase], images: list[Path], work: Path, *, prompt: str = PROMPT
) -> dict[str, asyncio.Task[Outcome]]:
    """Start every case in the background, `PARALLEL_CASES` at a time; each test awaits its own."""
    gate = asyncio.Semaphore(PARALLEL_CASES)

    async def one(case: FaultCase) -> Outcome:
        async with gate:
            return await run_case(case, images, work, prompt=prompt)

    # The gate lets them in in the order they start: the longest first, so the last to start are short and
    # the lanes end together (a long case started last kept the module waiting on it alone).
    started = {case.name: asyncio.ensure_future(one(case)) for case in sorted(cases, key=lambda c: -c.seconds)}
    return {case.name: started[case.name] for case in cases}


@pytest.fixture(scope="module")
async def matrix(
    request: pytest.FixtureRequest, harness: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, asyncio.Task[Outcome]]]:
    selected: set[str] = set()  # start only the cases pytest will run (-k may pick a few)
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec is not None else None
        if isinstance(case, FaultCase):
            selected.add(case.name)
    work = tmp_path_factory.mktemp("faults")
    images = make_images(work / "images", SUITE_IMAGES)
    running = start_matrix([c for c in CASES if c.name in selected], images, work, prompt=SUITE_PROMPT)
    yield running
    for task in running.values():
        task.cancel()
    await asyncio.gather(*running.values(), return_exceptions=True)
    outcomes = [t.result() for t in running.values() if not t.cancelled() and t.exception() is None]
    if outcomes:
        text = f"\nFault matrix ({SUITE_IMAGES} images per case):\n" + format_table(outcomes) + "\n"
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if capture is not None:
            with capture.global_and_fixture_disabled():
                print(text, flush=True)
        else:
            print(text)


def test_every_fault_has_a_case() -> None:
    covered = {item.split("=")[0] for case in CASES for item in case.spec.split(",") if item}
    assert covered == set(FAULTS)


def test_specs_are_validated() -> None:
    for bad in ("nope", "429=2", "slow=-1", "token-expiry=0", "credits-after=1.5", "render-fail=abc"):
        with pytest.raises(ValueError) as caught:
            Faults.parse(bad)
        assert bad.split("=")[0] in str(caught.value)
    assert Faults.parse(" 429 = 0.5 , export-blocked ").settings == {"429": 0.5, "export-blocked": 1.0}


def test_draws_are_seeded_per_fault() -> None:
    def draws(spec: str) -> list[bool]:
        faults = Faults.parse(spec, seed=3)
        return [faults.on_request("GET", "/api/credits/balance/simple") is not None for _ in range(50)]

    assert draws("429=0.3") == draws("429=0.3")
    # Another fault in the spec does not shift this one's dice.
    alone, with_other = Faults.parse("429=0.3", seed=3), Faults.parse("render-fail=0.5,429=0.3", seed=3)
    for _ in range(20):
        with_other.render_fate(f"render_{_}")
    assert [alone._hit("429") for _ in range(50)] == [with_other._hit("429") for _ in range(50)]


def test_every_fault_fires_within_the_suites_batch() -> None:
    """Each clip meets every fault at least once (a stream, a render, a download; four API requests at least:
    session, upload, instruction, export), so a fault whose seeded dice hit within that many draws fires in
    the suite's smaller batch too: a change of seed or probability that breaks this fails here, by name."""
    for case in CASES[:-1]:  # the mixed case promises no particular fault
        faults = Faults.parse(case.spec, seed=SEED)
        [(name, value)] = faults.settings.items()
        draws = SUITE_IMAGES * (4 if name in ("429", "429-bare", "5xx") else 1)
        if name in ("token-expiry", "credits-after"):
            assert value < SUITE_IMAGES, case.name  # counted: the limit falls inside the batch
        elif name != "slow":
            assert any(faults._hit(name) for _ in range(draws)), f"{case.name}: no hit in {draws} draws"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_fault(case: FaultCase, matrix: dict[str, asyncio.Task[Outcome]]) -> None:
    outcome = await matrix[case.name]
    assert not outcome.problems, "\n".join(outcome.problems)
