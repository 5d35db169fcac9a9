"""The `prefect-nemo` command line: convert images, run the embedded backend, look at credits, clips and drafts.

Built on Typer (commands, validation and `--help` from type hints) and Rich (progress bars and tables),
both installed with Prefect. Conventions, as in `uv` and `prefect`: results on stdout (`--json` for scripts),
progress, the backend in use and errors on stderr; an error is one line with the reason and what to do,
and a traceback only with `--debug`.

One module per command (`convert`, `server`, `reads`, `doctor`), shared pieces in `common`, `errors` and
`progress`; this one builds the app and runs it.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from typing import Annotated

# Prefect's temporary server would send telemetry heartbeats (there may be no network, and on a cold start
# they race the database migration and print a traceback). Opt out unless the user chose otherwise.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer

from prefect_nemo import __version__
from prefect_nemo.cli import cache, convert, doctor, reads, server
from prefect_nemo.cli.common import DEBUG, err, out, resolve_credentials
from prefect_nemo.cli.errors import UsageError, first_line, hint, print_error

__all__ = ["app", "main", "resolve_credentials"]

# At exit, the interpreter's last garbage collection walks every object Prefect, pydantic and numpy made
# (about half a second here); nothing is left to collect that matters when the process is ending.
atexit.register(gc.freeze)

app = typer.Typer(
    name="prefect-nemo",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
# Registered in the order `--help` lists them. The modules stay importable by name: binding the functions
# here would hide the `convert` and `doctor` modules behind the commands of the same name.
app.command()(convert.convert)
app.command("local-server")(server.local_server)
app.command()(reads.credits)
app.command()(reads.state)
app.command()(reads.sessions)
app.command()(doctor.doctor)
app.add_typer(cache.cache_app, name="cache")

_debug = False
"""`--debug` was on the line; `main` takes it out before Click parses, since it may follow the command."""


def main() -> None:
    """Entry point of the `prefect-nemo` script. `--debug` is accepted anywhere on the line."""
    global _debug
    args = sys.argv[1:]
    end = args.index("--") if "--" in args else len(args)
    _debug = "--debug" in args[:end]
    if _debug:
        args = [a for i, a in enumerate(args) if not (a == "--debug" and i < end)]
    try:
        app(args=args, prog_name="prefect-nemo")
    except SystemExit:
        raise
    except UsageError as exc:
        print_error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if _debug:
            raise
        technical = any(flag in args[:end] for flag in ("--verbose", "-v", "--json"))
        print_error(f"{first_line(exc, technical)}; {hint(exc)}")
        sys.exit(1)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (accepted anywhere on the line).")] = False,
) -> None:
    """Turn still images into MP4 clips with NemoVideo, as Prefect flows.

    The backend is the embedded local one unless --api-url, a NemoCredentials Block or NEMO_API_URL names another.
    """
    global _debug
    _debug = _debug or debug
    ctx.meta[DEBUG] = _debug
    if version:
        out.print(f"prefect-nemo {__version__}", markup=False)
        raise typer.Exit()
