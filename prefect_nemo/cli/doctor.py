"""`prefect-nemo doctor`: each thing a clip depends on, checked, with what to do when one fails."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from prefect_nemo import __version__
from prefect_nemo.cli.common import (
    ApiUrl,
    AsJson,
    BlockName,
    ClientId,
    backend_label,
    out,
    prefect_api_label,
    print_json,
    resolve_credentials,
)
from prefect_nemo.cli.errors import first_line, hint, print_error

if TYPE_CHECKING:
    from prefect_nemo.credentials import NemoCredentials
    from prefect_nemo.models import Credits

__all__ = ["Check", "doctor"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _check_codecs() -> Check:
    import av

    found, missing = [], []
    for name in ("libx264", "aac"):
        try:
            av.codec.Codec(name, "w")
            found.append(name)
        except Exception:
            missing.append(name)
    detail = f"PyAV {av.__version__}, encoders: {', '.join(found) or 'none'}"
    if missing:
        detail += f"; missing {', '.join(missing)}: reinstall PyAV from its wheels (pip install --force-reinstall av)"
    return Check("PyAV codecs", not missing, detail)


def _check_prefect() -> Check:
    import httpx
    import prefect
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        return Check("Prefect API", True, f"Prefect {prefect.__version__}; " + prefect_api_label())
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=5)
        ok = response.status_code == 200
        reason = f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    detail = f"Prefect {prefect.__version__}; API at {url}: " + (
        "healthy" if ok else f"not reachable ({reason}); start it (prefect server start) or unset PREFECT_API_URL"
    )
    return Check("Prefect API", ok, detail)


def _check_backend(credentials: NemoCredentials, technical: bool = False) -> list[Check]:
    import asyncio

    import httpx

    from prefect_nemo.errors import NemoError

    try:
        url = credentials.resolved_url()
    except Exception as exc:
        return [Check("Backend", False, f"{first_line(exc)}; see prefect-nemo local-server --help")]
    try:
        health = "/local/health" if credentials.is_local else "/"
        response = httpx.get(url + health, timeout=10)
    except httpx.HTTPError as exc:
        detail = f"{backend_label(credentials, url)} is not reachable ({type(exc).__name__}); check the URL and network"
        return [Check("Backend", False, detail)]
    if not response.is_success:
        # Something answers at that address, but not a NemoVideo backend (a 404 from another web server).
        reason = f"answered HTTP {response.status_code} {response.reason_phrase}".rstrip()
        detail = f"{backend_label(credentials, url)} {reason} to {health}; check the URL (--api-url, NEMO_API_URL)"
        return [Check("Backend", False, detail)]
    checks = [Check("Backend", True, f"{backend_label(credentials, url)} (answered HTTP {response.status_code})")]

    async def fetch() -> Credits:
        async with credentials.get_client() as client:
            return await client.credits()

    token = "token from the Block or NEMO_TOKEN" if credentials.token else "anonymous token for the client id"
    try:
        balance = asyncio.run(fetch())
        checks.append(Check("Credits", True, f"{balance.available:,} available ({token})"))
    except NemoError as exc:
        checks.append(Check("Credits", False, f"{first_line(exc, technical)} ({token}); {hint(exc)}"))
    return checks


def _check_client_id(credentials: NemoCredentials, flag: str | None) -> Check:
    from prefect_nemo.identity import client_id_path, resolve_client_id

    if flag:
        source = "--client-id"
    elif credentials.client_id and credentials.client_id != os.environ.get("NEMO_CLIENT_ID"):
        source = "the Block"
    elif os.environ.get("NEMO_CLIENT_ID"):
        source = "NEMO_CLIENT_ID"
    else:
        source = str(client_id_path())
    return Check("Client id", True, f"{resolve_client_id(credentials.client_id)} (from {source})")


def _check_folders() -> Check:
    from prefect_nemo.settings import NemoSettings

    settings = NemoSettings()
    try:
        settings.output_dir.mkdir(parents=True, exist_ok=True)
        probe = settings.output_dir / ".prefect-nemo-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return Check(
            "Folders", False, f"output folder {settings.output_dir} is not writable ({exc}); set NEMO_OUTPUT_DIR"
        )
    return Check("Folders", True, f"clips to {settings.output_dir}, clip ledger {settings.ledger_path}")


def doctor(
    as_json: AsJson = False, api_url: ApiUrl = None, block: BlockName = None, client_id: ClientId = None
) -> None:
    """Check the install: PyAV encoders, the Prefect API, the backend and its credits, the client id."""
    credentials = resolve_credentials(api_url, block, client_id)
    checks = [
        Check("prefect-nemo", True, f"{__version__} on Python {platform.python_version()}"),
        _check_codecs(),
        _check_prefect(),
        *_check_backend(credentials, technical=as_json),
        _check_client_id(credentials, client_id),
        _check_folders(),
    ]
    if as_json:
        print_json([asdict(c) for c in checks])
    else:
        for check in checks:
            mark = Text("✓ ", "green") if check.ok else Text("✗ ", "red")
            out.print(Text.assemble(mark, (f"{check.name}: ", "bold"), check.detail), soft_wrap=True)
    failed = [c.name for c in checks if not c.ok]
    if failed and not as_json:
        print_error(f"failed: {', '.join(failed)}")
    raise typer.Exit(1 if failed else 0)
