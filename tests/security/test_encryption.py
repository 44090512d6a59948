"""Secrets at rest: AES-GCM sealing, the key file, the store boundary, and key rotation.

The end-to-end cases run a real API server on a SQLite file and then read that file's bytes: a
Secret's value must never appear there in plaintext, under any key, before or after rotation.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kubelite.api.resources import CONFIGMAPS, SECRETS
from kubelite.apiserver.auth_encryption import EncryptingStore, rotate_secret_encryption
from kubelite.apiserver.auth_setup import ENCRYPTION_CONFIG, encrypt_secrets_at_rest
from kubelite.apiserver.inprocess import InProcessTransport
from kubelite.apiserver.server import ApiServer, ApiServerSettings
from kubelite.client import ApiClient
from kubelite.security.encryption import (
    AESGCM_PREFIX,
    AesGcmKey,
    AesGcmTransformer,
    DecryptionError,
    EncryptionConfig,
    config_document,
    load_encryption_config,
    parse_config,
    rotated_config,
)
from kubelite.store import open_store

NOW = datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
SECRET_KEY = "/registry/secrets/default/db"
PLAINTEXT = b'{"data":{"password":"aHVudGVyMg=="}}'


def _transformer(*names: str, identity_first: bool = False) -> AesGcmTransformer:
    keys = tuple(AesGcmKey(name, bytes([index + 1]) * 32) for index, name in enumerate(names))
    return AesGcmTransformer(EncryptionConfig(keys, identity_first))


def test_sealed_value_has_the_kubernetes_layout_and_opens() -> None:
    transformer = _transformer("k1")
    sealed = transformer.to_storage(SECRET_KEY, PLAINTEXT)
    assert sealed.startswith(AESGCM_PREFIX + b"k1:")
    assert PLAINTEXT not in sealed and b"aHVudGVyMg" not in sealed
    assert transformer.from_storage(SECRET_KEY, sealed) == PLAINTEXT
    # A fresh nonce per write: the same plaintext never seals to the same bytes.
    assert transformer.to_storage(SECRET_KEY, PLAINTEXT) != sealed


FAILURES: list[tuple[str, Callable[[bytes], tuple[str, bytes]], AesGcmTransformer]] = [
    ("moved-to-another-key", lambda sealed: ("/registry/secrets/default/other", sealed), _transformer("k1")),
    ("tampered", lambda sealed: (SECRET_KEY, sealed[:-1] + bytes([sealed[-1] ^ 1])), _transformer("k1")),
    ("key-dropped", lambda sealed: (SECRET_KEY, sealed), _transformer("k2")),
]


@pytest.mark.parametrize("case", FAILURES, ids=[case[0] for case in FAILURES])
def test_values_that_must_not_open(case: tuple[str, Callable[[bytes], tuple[str, bytes]], AesGcmTransformer]) -> None:
    _, mutate, reader = case
    key, value = mutate(_transformer("k1").to_storage(SECRET_KEY, PLAINTEXT))
    with pytest.raises(DecryptionError):
        reader.from_storage(key, value)


@pytest.mark.parametrize(
    ("key", "transformer", "sealed"),
    [
        ("/registry/configmaps/default/cfg", _transformer("k1"), False),
        (SECRET_KEY, _transformer("k1"), True),
        (SECRET_KEY, _transformer("k1", identity_first=True), False),
    ],
    ids=["configmap-untouched", "secret-sealed", "identity-first-writes-plaintext"],
)
def test_what_gets_sealed(key: str, transformer: AesGcmTransformer, sealed: bool) -> None:
    stored = transformer.to_storage(key, PLAINTEXT)
    assert stored.startswith(AESGCM_PREFIX) is sealed
    assert transformer.from_storage(key, stored) == PLAINTEXT


def test_old_keys_and_plaintext_stay_readable_after_rotation() -> None:
    old = _transformer("old")
    rotated = AesGcmTransformer(rotated_config(old.config, NOW))
    assert rotated.from_storage(SECRET_KEY, old.to_storage(SECRET_KEY, PLAINTEXT)) == PLAINTEXT
    assert rotated.from_storage(SECRET_KEY, PLAINTEXT) == PLAINTEXT  # written before encryption
    assert rotated.to_storage(SECRET_KEY, PLAINTEXT).startswith(AESGCM_PREFIX + b"key-20250102")


def test_config_file_round_trips_as_an_encryption_configuration() -> None:
    config = rotated_config(_transformer("a", "b").config, NOW)
    document = config_document(config)
    assert document["kind"] == "EncryptionConfiguration"
    assert parse_config(document) == config


# --- end to end on SQLite ----------------------------------------------------------------------


def _database_bytes(path: Path) -> bytes:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(FULL)")
    finally:
        connection.close()
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


async def _serve(data_dir: Path) -> tuple[ApiServer, EncryptingStore, ApiClient]:
    store = encrypt_secrets_at_rest(open_store(f"sqlite:///{data_dir / 'state.db'}"), data_dir / "pki")
    server = ApiServer(store, ApiServerSettings(port=0))
    await server.start()
    return server, store, ApiClient(InProcessTransport(server.handle))


async def _stop(server: ApiServer, store: EncryptingStore) -> None:
    await server.stop()
    await store.close()


MARKER = "correct-horse-battery-staple"


def test_sqlite_file_never_holds_the_plaintext_before_or_after_rotation(tmp_path: Path) -> None:
    asyncio.run(_sqlite_round(tmp_path))


async def _sqlite_round(tmp_path: Path) -> None:
    secret = {"metadata": {"name": "db"}, "data": {"password": base64.b64encode(MARKER.encode()).decode()}}
    server, store, client = await _serve(tmp_path)
    await client.create(SECRETS, secret, namespace="default")
    await client.create(CONFIGMAPS, {"metadata": {"name": "plain"}, "data": {"note": "visible-config"}}, namespace="default")
    read = await client.get(SECRETS, "db", namespace="default")
    assert base64.b64decode(read["data"]["password"]).decode() == MARKER
    await _stop(server, store)
    on_disk = _database_bytes(tmp_path / "state.db")
    encoded = base64.b64encode(MARKER.encode())
    assert MARKER.encode() not in on_disk and encoded not in on_disk
    assert b"visible-config" in on_disk  # only Secrets are sealed
    first_key = load_encryption_config(tmp_path / "pki" / ENCRYPTION_CONFIG).keys[0].name

    raw = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    report = await rotate_secret_encryption(raw, tmp_path / "pki" / ENCRYPTION_CONFIG, NOW)
    await raw.close()
    assert report.rewritten == 1 and report.kept_keys == (report.write_key,) != (first_key,)

    on_disk = _database_bytes(tmp_path / "state.db")
    assert MARKER.encode() not in on_disk and encoded not in on_disk
    server, store, client = await _serve(tmp_path)
    try:
        read = await client.get(SECRETS, "db", namespace="default")
        assert base64.b64decode(read["data"]["password"]).decode() == MARKER
        stored = await store.inner.get("/registry/secrets/default/db")
        assert stored is not None and stored.value.startswith(AESGCM_PREFIX + report.write_key.encode() + b":")
    finally:
        await _stop(server, store)
