"""`kubelite secrets rotate-key`: rotate the key that seals Secrets at rest and rewrite them all.

Run it on a data directory while `kubelite up` is stopped: it adds a fresh AES-256-GCM key at
the head of `DIR/pki/encryption-config.yaml`, re-encrypts every Secret in the store under it, and
(unless `--keep-old-keys`) removes the keys nothing uses any more. It prints one JSON line with
the new key's name and how many Secrets were rewritten. See docs/security.md.
"""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path

import typer

from kubelite.apiserver.auth_encryption import RotationReport, rotate_secret_encryption
from kubelite.apiserver.auth_setup import ENCRYPTION_CONFIG
from kubelite.store import open_store

from .up import DEFAULT_DATA_DIR

app = typer.Typer(help="Secrets encryption at rest.", no_args_is_help=True)


async def rotate(data_dir: Path, store_url: str | None, keep_old_keys: bool) -> RotationReport:
    config_path = data_dir / "pki" / ENCRYPTION_CONFIG
    if not config_path.exists():
        raise typer.BadParameter(f"{config_path} does not exist; start `kubelite up --data-dir {data_dir}` once")
    store = open_store(store_url or f"sqlite:///{(data_dir / 'state.db').resolve()}")
    try:
        return await rotate_secret_encryption(
            store, config_path, datetime.datetime.now(datetime.UTC), prune=not keep_old_keys
        )
    finally:
        await store.close()


@app.command("rotate-key")
def rotate_key(
    data_dir: Path = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help="The data directory of `kubelite up`."),
    store: str | None = typer.Option(None, "--store", help="Store URL (default: sqlite:///DIR/state.db)."),
    keep_old_keys: bool = typer.Option(False, "--keep-old-keys", help="Keep old keys for reading."),
) -> None:
    """Add a new key, re-encrypt every Secret under it, and drop the old keys."""
    report = asyncio.run(rotate(data_dir, store, keep_old_keys))
    typer.echo(
        json.dumps(
            {
                "writeKey": report.write_key,
                "rewritten": report.rewritten,
                "alreadyCurrent": report.already_current,
                "keys": list(report.kept_keys),
            }
        )
    )
