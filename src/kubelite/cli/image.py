"""`kubelite image`: fill and inspect the agent's local image store (there is no registry).

`import SOURCE NAME:TAG` takes a rootfs tarball, an OCI image layout (directory or tar) or a
`.wasm`/`.wat` module; `list` prints what is stored; `remove` deletes an image. The store lives under
`--data-dir` (default `~/.local/share/kubelite`), in its `images/` directory; see
`kubelite.agent.images` for the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from kubelite.agent.images import ImageStore, ImportFailure, default_store_root

app = typer.Typer(help="Import and list images in the local image store.", no_args_is_help=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="kubelite's data directory (images live in its images/ directory)."),
]


def _store(data_dir: Path | None) -> ImageStore:
    return ImageStore(default_store_root() if data_dir is None else data_dir / "images")


@app.command("import")
def import_image(
    source: Annotated[Path, typer.Argument(help="Rootfs tarball, OCI layout (dir or tar), or .wasm/.wat.")],
    reference: Annotated[str, typer.Argument(help="The name to store it under, NAME[:TAG].")],
    data_dir: DataDirOption = None,
) -> None:
    """Import an image into the local store."""
    outcome = _store(data_dir).import_image(source.resolve(), reference)
    if isinstance(outcome, ImportFailure):
        typer.echo(f"error: {outcome.message}", err=True)
        raise typer.Exit(1)
    summary = f"{outcome.kind}, {outcome.digest[:19]}, {outcome.size_bytes} bytes"
    typer.echo(f"imported {outcome.reference} ({summary})")


@app.command("list")
def list_images(data_dir: DataDirOption = None) -> None:
    """List the images in the local store."""
    table = Table("IMAGE", "KIND", "DIGEST", "SIZE", box=None)
    for record in _store(data_dir).list():
        table.add_row(record.reference, record.kind, record.digest[:19], str(record.size_bytes))
    Console().print(table)


@app.command("remove")
def remove_image(reference: str, data_dir: DataDirOption = None) -> None:
    """Remove an image from the local store."""
    if not _store(data_dir).remove(reference):
        typer.echo(f"error: image {reference!r} not found", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {reference}")
