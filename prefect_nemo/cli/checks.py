"""What `convert` checks before it starts anything slow: the instruction, the output folder, the disk, the backend
setting, the clip ledger. Each check takes milliseconds and imports nothing heavy (the ledger's, last, loads the
settings), so a bad command line answers at once, before Prefect or the embedded backend start and before
anything is paid for.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from prefect_nemo.cli.errors import UsageError

__all__ = [
    "BYTES_PER_SECOND",
    "check_api_url",
    "check_disk",
    "check_ledger",
    "check_out_dir",
    "check_prompt",
    "default_out_dir",
]

BYTES_PER_SECOND = 2_000_000
"""A generous size of one second of delivered 1080p H.264 (clips are well under it), for the disk check."""
_DEFAULT_SECONDS = 5.0


def default_out_dir() -> Path:
    """`NEMO_OUTPUT_DIR`, else ./clips: `NemoSettings.output_dir` read without loading pydantic-settings."""
    return Path(os.environ.get("NEMO_OUTPUT_DIR") or "clips")


def check_prompt(prompt: str) -> None:
    """An empty instruction is refused here; its length is checked by `pipeline.check_spec` before any request."""
    if not prompt.strip():
        raise UsageError("-p", "is empty; say what the clip should be, e.g. '5-second slow push-in'")


def check_out_dir(out_dir: Path) -> Path:
    """Create the output folder and prove it takes a file; a clear reason when it cannot."""
    hint = f"--out {out_dir}"
    blocker = next((p for p in [out_dir, *out_dir.parents] if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        where = "it" if blocker == out_dir else str(blocker)
        raise UsageError(hint, f"{where} is a file, not a folder; choose a folder for the clips")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".prefect-nemo-write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageError(hint, f"the folder is not writable ({reason}); choose another") from None
    return out_dir


def check_disk(out_dir: Path, clips: int, duration: float | None) -> None:
    """Enough free space for the clips asked for (at a generous bitrate), before any is paid for."""
    needed = int(clips * (duration or _DEFAULT_SECONDS) * BYTES_PER_SECOND)
    free = shutil.disk_usage(out_dir).free
    if free < needed:
        raise UsageError(
            f"--out {out_dir}",
            f"{free / 1e6:,.0f} MB free, and {clips} clip(s) may need up to {needed / 1e6:,.0f} MB; free some space",
        )


def check_api_url(api_url: str | None) -> None:
    """The backend setting names something a request can reach: "local" or an http(s) URL."""
    value = (api_url or os.environ.get("NEMO_API_URL") or "local").strip()
    if value.lower() != "local" and not value.startswith(("http://", "https://")):
        source = "--api-url" if api_url else "NEMO_API_URL"
        raise UsageError(source, f"'{value}' is neither 'local' nor an http(s) URL")


def check_ledger() -> None:
    """A clip ledger that is not a database is refused once, here, rather than once per clip."""
    from prefect_nemo.errors import NemoInputError
    from prefect_nemo.ledger import Ledger
    from prefect_nemo.settings import NemoSettings

    try:
        with Ledger(NemoSettings().ledger_path):
            pass
    except NemoInputError as exc:
        raise UsageError(exc.input, exc.reason) from None
