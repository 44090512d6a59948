"""Rotating the Secrets key while the server runs: the key file is followed, Secrets re-sealed."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry

from apiserver.cluster import start_cluster
from kubelite.apiserver.auth_encryption import EncryptingStore, EncryptionConfigReloader
from kubelite.security.encryption import (
    AESGCM_PREFIX,
    AesGcmTransformer,
    EncryptionConfig,
    load_encryption_config,
    new_key,
    rotated_config,
    write_encryption_config,
)
from kubelite.store import open_store

SECRET = "/registry/secrets/default/db"
NOW = datetime.datetime(2026, 1, 2, tzinfo=datetime.UTC)


def _failures(registry: CollectorRegistry) -> float:
    return registry.get_sample_value("kubelite_encryption_config_automatic_reloads_total", {"status": "failure"}) or 0


def test_reloader_applies_a_rotation_and_refuses_bad_or_lossy_files(tmp_path: Path) -> None:
    async def go() -> None:
        path = tmp_path / "encryption-config.yaml"
        first = EncryptionConfig((new_key(NOW),))
        write_encryption_config(path, first)
        raw = open_store("memory://")
        store = EncryptingStore(raw, AesGcmTransformer(first))
        await store.create(SECRET, b'{"data":{"pw":"aHVudGVyMg=="}}')
        registry = CollectorRegistry()
        reloader = EncryptionConfigReloader(store, path, registry)

        path.write_text("kind: EncryptionConfiguration\nresources: [")  # not YAML
        assert not await reloader.check() and _failures(registry) == 1
        write_encryption_config(path, EncryptionConfig((new_key(NOW + datetime.timedelta(days=1)),)))
        assert not await reloader.check() and _failures(registry) == 2  # drops the key that seals "db"
        assert (await store.get(SECRET)) is not None  # still the first config

        rotated = rotated_config(first, NOW + datetime.timedelta(days=2))
        write_encryption_config(path, rotated)
        assert await reloader.check()
        assert rotated.write_key is not None
        stored = await raw.get(SECRET)
        assert stored is not None and stored.value.startswith(AESGCM_PREFIX + rotated.write_key.name.encode() + b":")
        opened = await store.get(SECRET)
        assert opened is not None and b"aHVudGVyMg==" in opened.value
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert registry.get_sample_value("kubelite_encryption_config_info", {"sha256": digest}) == 1
        assert registry.get_sample_value("kubelite_secrets_resealed_total") == 1

    asyncio.run(go())


def test_rotate_key_online_against_a_running_cluster(tmp_path: Path) -> None:
    data_dir = tmp_path / "cluster"
    cluster = start_cluster(data_dir, "--agents", "0")
    try:
        for index in range(3):
            cluster.kubectl("create", "secret", "generic", f"s{index}", f"--from-literal=pw=hunter{index}")
        rotated = subprocess.run(
            [sys.executable, "-m", "kubelite.cli.main", "secrets", "rotate-key", "--data-dir", str(data_dir),
             "--kubeconfig", str(cluster.kubeconfig), "--timeout", "60"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert rotated.returncode == 0, rotated.stderr
        report = json.loads(rotated.stdout)
        assert report["keys"] == [report["writeKey"]] and report["rewritten"] >= 3
        assert load_encryption_config(data_dir / "pki" / "encryption-config.yaml").write_key is not None
        value = cluster.kubectl("get", "secret", "s1", "-o", "jsonpath={.data.pw}").stdout
        assert value == "aHVudGVyMQ=="  # hunter1, read through the running server after the old key is gone
    finally:
        cluster.stop()

    async def stored_values() -> list[bytes]:
        raw = open_store(f"sqlite:///{data_dir / 'state.db'}")
        try:
            return [kv.value for kv in (await raw.list("/registry/secrets/")).items]
        finally:
            await raw.close()

    values = asyncio.run(stored_values())
    assert len(values) >= 3
    assert all(value.startswith(AESGCM_PREFIX + report["writeKey"].encode() + b":") for value in values)
