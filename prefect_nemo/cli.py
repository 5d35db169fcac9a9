"""The `prefect-nemo` command line."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from prefect_nemo.media import ACCEPTED_IMAGES

app = typer.Typer(help="Turn still images into video clips with NemoVideo, through Prefect.", no_args_is_help=True)


def _expand(paths: list[Path]) -> list[Path]:
    images: list[Path] = []
    for path in paths:
        if path.is_dir():
            images.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in ACCEPTED_IMAGES))
        else:
            images.append(path)
    return images


@app.command()
def convert(
    images: Annotated[list[Path], typer.Argument(help="Image files or folders of images.")],
    prompt: Annotated[
        str, typer.Option("--prompt", "-p", help="What to make of each image.")
    ] = "5-second slow push-in",
    duration: Annotated[float | None, typer.Option(help="Clip length in seconds.")] = None,
    aspect: Annotated[str | None, typer.Option(help="16:9, 9:16, 1:1 or 4:5.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("clips"),
    concurrency: Annotated[int, typer.Option(help="Clips in flight at once.")] = 4,
) -> None:
    """Convert images into MP4 clips (runs the batch flow)."""
    from prefect_nemo.flows import batch_image_to_video

    files = _expand(images)
    if not files:
        typer.echo("error: no images found in the given paths", err=True)
        raise typer.Exit(2)
    items = asyncio.run(
        batch_image_to_video(files, prompt, max_concurrency=concurrency, duration=duration, aspect=aspect, out_dir=out)
    )
    for item in items:
        target = item.result.path if item.result else item.error
        typer.echo(f"{item.status:>7}  {Path(item.image).name}  ->  {target}")
    raise typer.Exit(1 if any(i.status == "failed" for i in items) else 0)


@app.command("local-server")
def local_server(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8765,
    data_dir: Annotated[Path | None, typer.Option(help="Folder for state, uploads and renders.")] = None,
    faults: Annotated[str, typer.Option(help="Fault injection spec, e.g. 'render-fail=0.3'.")] = "",
) -> None:
    """Run the embedded NemoVideo-compatible backend in the foreground."""
    from prefect_nemo.local.__main__ import run
    from prefect_nemo.local.settings import LocalSettings

    updates: dict[str, object] = {"port": port, "faults": faults}
    if data_dir is not None:
        updates["data_dir"] = data_dir
    settings = LocalSettings().model_copy(update=updates)
    asyncio.run(run(settings, announce=True))


def main() -> None:
    sys.exit(app())


if __name__ == "__main__":
    main()
