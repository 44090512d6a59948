"""`kubelite secrets rotate-key`: rotate the key that seals Secrets at rest and rewrite them all.

It adds a fresh AES-256-GCM key at the head of `DIR/pki/encryption-config.yaml`, re-encrypts every
Secret under it, and (unless `--keep-old-keys`) removes the keys nothing uses any more. It prints
one JSON line with the new key's name and how many Secrets were rewritten. See docs/security.md.

- Offline (the server stopped): it rewrites the store itself.
- Online (`--kubeconfig`, the server running on this host): it writes the key file, and the
  running server reloads it, re-seals every Secret and then reports the file's hash in
  `kubelite_encryption_config_info`; the command waits for that hash before it drops the old keys
  (the second reload), so no Secret is ever left under a key that is gone.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import time
from pathlib import Path

import typer

from kubelite.apiserver.auth_encryption import CONFIG_INFO_METRIC, RotationReport, rotate_secret_encryption
from kubelite.apiserver.auth_setup import ENCRYPTION_CONFIG
from kubelite.client import ApiClient
from kubelite.client.core import HttpRequest
from kubelite.security.encryption import (
    load_encryption_config,
    pruned_config,
    rotated_config,
    write_encryption_config,
)
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


async def _metric_values(client: ApiClient, name: str) -> dict[str, float]:
    """The samples of one metric on the server's /metrics, by their label text."""
    response = await client.transport.send(HttpRequest("GET", "/metrics"))
    if response.status != 200:
        raise typer.BadParameter(f"the server's /metrics answered {response.status}", param_hint="--kubeconfig")
    samples: dict[str, float] = {}
    for line in response.body.decode().splitlines():
        if line.startswith(name):
            series, _, value = line.rpartition(" ")
            samples[series[len(name) :]] = float(value)
    return samples


async def _applied(client: ApiClient, path: Path, timeout: float) -> None:
    """Wait until the server reports every Secret sealed under the key file now at `path`."""
    label = f'{{sha256="{hashlib.sha256(path.read_bytes()).hexdigest()}"}}'
    deadline = time.monotonic() + timeout
    while (await _metric_values(client, CONFIG_INFO_METRIC)).get(label) != 1.0:
        if time.monotonic() > deadline:
            raise typer.BadParameter(
                f"the server did not load {path} within {timeout:.0f} s (is it running from this --data-dir?)"
            )
        await asyncio.sleep(0.5)


async def rotate_online(data_dir: Path, kubeconfig: Path, keep_old_keys: bool, timeout: float) -> RotationReport:
    config_path = data_dir / "pki" / ENCRYPTION_CONFIG
    if not config_path.exists():
        raise typer.BadParameter(f"{config_path} does not exist", param_hint="--data-dir")
    client = ApiClient.from_kubeconfig(kubeconfig)
    resealed = "kubelite_secrets_resealed_total"
    try:
        await _applied(client, config_path, timeout)  # the server follows this very file
        before = sum((await _metric_values(client, resealed)).values())
        config = rotated_config(load_encryption_config(config_path), datetime.datetime.now(datetime.UTC))
        write_encryption_config(config_path, config)
        await _applied(client, config_path, timeout)
        if not keep_old_keys:
            config = pruned_config(config)
            write_encryption_config(config_path, config)
            await _applied(client, config_path, timeout)
        rewritten = sum((await _metric_values(client, resealed)).values()) - before
    finally:
        await client.close()
    assert config.write_key is not None
    return RotationReport(config.write_key.name, round(rewritten), 0, tuple(key.name for key in config.keys))


@app.command("rotate-key")
def rotate_key(
    data_dir: Path = typer.Option(DEFAULT_DATA_DIR, "--data-dir", help="The data directory of `kubelite up`."),
    store: str | None = typer.Option(None, "--store", help="Store URL (default: sqlite:///DIR/state.db)."),
    keep_old_keys: bool = typer.Option(False, "--keep-old-keys", help="Keep old keys for reading."),
    kubeconfig: Path | None = typer.Option(
        None, "--kubeconfig", help="Rotate online: the running server (on this host) re-seals its Secrets."
    ),
    timeout: float = typer.Option(120.0, "--timeout", help="Online: seconds to wait for each reload."),
) -> None:
    """Add a new key, re-encrypt every Secret under it, and drop the old keys."""
    if kubeconfig is not None:
        report = asyncio.run(rotate_online(data_dir, kubeconfig, keep_old_keys, timeout))
    else:
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
