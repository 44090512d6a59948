"""Secrets encrypted at rest: a `Store` wrapper that seals covered values on the way in.

kube-apiserver encrypts at its storage boundary (`value.Transformer` inside the etcd3 store), so
everything above it (registry, watch cache, handlers) sees plaintext and the backend sees only
ciphertext. `EncryptingStore` is that boundary for kubelite: it wraps any `Store`, passes every
write through `transformer.to_storage(key, value)` and every value it returns (get, list, watch,
delete) through `from_storage`. Keys outside the encrypted resources pass through untouched, at the
cost of one prefix check.

`rotate_secret_encryption` is `kubelite secrets rotate-key` with the server stopped: it puts a new
key first in the key file, rewrites every Secret under it (compare-and-swap on each key's revision,
so a concurrent write simply wins and is already under a current key), and with `prune` drops the
old keys once nothing needs them; the next start loads the new key file.

`EncryptionConfigReloader` lets a running server rotate (kube-apiserver's
`--encryption-provider-config-automatic-reload`, plus the re-sealing that Kubernetes leaves to
kube-storage-version-migrator): it polls the key file's SHA-256, and on a change validates the new
file, swaps the transformer (a bad file, or one that cannot open a stored Secret, is refused and
counted; the old keys stay), re-seals every
Secret that is not under the new write key, and only then publishes the file's hash in
`kubelite_encryption_config_info{sha256}`. `kubelite secrets rotate-key --kubeconfig` drives it.

Data flow: registry -> `EncryptingStore.create/update` -> `to_storage` -> backend;
backend -> `get/list/watch` -> `from_storage` -> watch cache and registry.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, Counter, Gauge

from kubelite.security.encryption import (
    AesGcmTransformer,
    DecryptionError,
    ValueTransformer,
    load_encryption_config,
    parse_config,
    pruned_config,
    rotated_config,
    write_encryption_config,
)
from kubelite.store.interface import KeyValue, ListResult, RevisionConflictError, Store, WatchEvent

SECRETS_PREFIX = "/registry/secrets/"
RELOAD_INTERVAL_SECONDS = 5.0
CONFIG_INFO_METRIC = "kubelite_encryption_config_info"

log = logging.getLogger(__name__)


def _opened(transformer: ValueTransformer, kv: KeyValue) -> KeyValue:
    value = transformer.from_storage(kv.key, kv.value)
    return kv if value is kv.value else KeyValue(kv.key, value, kv.create_revision, kv.mod_revision)


class EncryptingStore:
    """A `Store` whose covered values are encrypted in the backend and plaintext to its callers."""

    def __init__(self, inner: Store, transformer: ValueTransformer) -> None:
        self.inner = inner
        self.transformer = transformer

    @property
    def revision(self) -> int:
        return self.inner.revision

    @property
    def compacted_revision(self) -> int:
        return self.inner.compacted_revision

    async def get(self, key: str) -> KeyValue | None:
        kv = await self.inner.get(key)
        return None if kv is None else _opened(self.transformer, kv)

    async def list(
        self, prefix: str, *, limit: int = 0, start_key: str | None = None, revision: int = 0
    ) -> ListResult:
        page = await self.inner.list(prefix, limit=limit, start_key=start_key, revision=revision)
        items = [_opened(self.transformer, kv) for kv in page.items]
        return ListResult(items, page.revision, page.more)

    async def create(self, key: str, value: bytes) -> KeyValue:
        kv = await self.inner.create(key, self.transformer.to_storage(key, value))
        return KeyValue(key, value, kv.create_revision, kv.mod_revision)

    async def update(self, key: str, value: bytes, *, expected_revision: int | None = None) -> KeyValue:
        sealed = self.transformer.to_storage(key, value)
        kv = await self.inner.update(key, sealed, expected_revision=expected_revision)
        return KeyValue(key, value, kv.create_revision, kv.mod_revision)

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        return _opened(self.transformer, await self.inner.delete(key, expected_revision=expected_revision))

    async def watch(self, prefix: str, *, after_revision: int) -> AsyncIterator[WatchEvent]:
        async for event in self.inner.watch(prefix, after_revision=after_revision):
            prev = _opened(self.transformer, event.prev) if event.prev is not None else None
            yield WatchEvent(event.type, _opened(self.transformer, event.kv), prev)

    async def compact(self, revision: int) -> None:
        await self.inner.compact(revision)

    async def close(self) -> None:
        await self.inner.close()


@dataclass(frozen=True, slots=True)
class RotationReport:
    """What a rotation did: the new write key, Secrets rewritten, and keys still kept."""

    write_key: str
    rewritten: int
    already_current: int
    kept_keys: tuple[str, ...]


async def rewrite_secrets(store: Store, transformer: AesGcmTransformer) -> tuple[int, int]:
    """Re-seal every Secret that is not under the write key yet; (rewritten, already current)."""
    rewritten = current = 0
    start_key: str | None = None
    while True:
        page = await store.list(SECRETS_PREFIX, limit=500, start_key=start_key)
        for kv in page.items:
            if transformer.is_current(kv.value):
                current += 1
                continue
            plaintext = transformer.from_storage(kv.key, kv.value)
            try:
                await store.update(kv.key, transformer.to_storage(kv.key, plaintext), expected_revision=kv.mod_revision)
            except RevisionConflictError:
                current += 1  # written meanwhile, through a transformer that already uses the new key
                continue
            rewritten += 1
        if not page.more or not page.items:
            return rewritten, current
        start_key = page.items[-1].key + "\x00"


async def rotate_secret_encryption(
    store: Store, config_path: Path, now: datetime.datetime, *, prune: bool = True
) -> RotationReport:
    """New key first in `config_path`, every Secret rewritten under it, then (with `prune`) old keys dropped.

    `store` is the raw backend (not an `EncryptingStore`): rotation reads and writes sealed bytes.
    The key file is written before any Secret is, so a crash midway leaves every value readable.
    """
    config = rotated_config(load_encryption_config(config_path), now)
    write_encryption_config(config_path, config)
    rewritten, current = await rewrite_secrets(store, AesGcmTransformer(config))
    if prune:
        config = pruned_config(config)
        write_encryption_config(config_path, config)
    assert config.write_key is not None
    return RotationReport(config.write_key.name, rewritten, current, tuple(key.name for key in config.keys))


async def _first_unreadable(store: Store, transformer: AesGcmTransformer) -> str | None:
    """The key of the first stored Secret `transformer` cannot open, or None."""
    start_key: str | None = None
    while True:
        page = await store.list(SECRETS_PREFIX, limit=500, start_key=start_key)
        for kv in page.items:
            try:
                transformer.from_storage(kv.key, kv.value)
            except DecryptionError:
                return kv.key
        if not page.more or not page.items:
            return None
        start_key = page.items[-1].key + "\x00"


class EncryptionConfigReloader:
    """Follows the key file of a running server's `EncryptingStore` (see the module docstring)."""

    def __init__(self, store: EncryptingStore, path: Path, registry: CollectorRegistry) -> None:
        self._store = store
        self._path = path
        self._digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.reloads = Counter(
            "kubelite_encryption_config_automatic_reloads",
            "Reloads of the encryption configuration file, by outcome.",
            ("status",),
            registry=registry,
        )
        self.last_reload = Gauge(
            "kubelite_encryption_config_automatic_reload_last_timestamp_seconds",
            "When the encryption configuration was last reloaded, by outcome.",
            ("status",),
            registry=registry,
        )
        self.rewritten = Counter(
            "kubelite_secrets_resealed", "Secrets re-sealed under a new write key after a reload.", registry=registry
        )
        self.info = Gauge(
            CONFIG_INFO_METRIC,
            "1 for the SHA-256 of the encryption configuration in use, once every Secret is sealed under it.",
            ("sha256",),
            registry=registry,
        )
        self.info.labels(self._digest).set(1)

    async def check(self) -> bool:
        """One poll: True when a changed file was applied."""
        try:
            content = self._path.read_bytes()
        except OSError as error:
            log.warning("encryption configuration %s unreadable: %s", self._path, error)
            return False
        digest = hashlib.sha256(content).hexdigest()
        if digest == self._digest:
            return False
        previous, self._digest = self._digest, digest  # a bad file is reported once, not every poll
        try:
            config = parse_config(yaml.safe_load(content))
            if config.write_key is None and not config.identity_first:
                raise ValueError("no key to write with")
        except (ValueError, KeyError, TypeError, yaml.YAMLError) as error:
            log.error("encryption configuration %s refused, keeping the previous one: %s", self._path, error)
            self.reloads.labels("failure").inc()
            self.last_reload.labels("failure").set(time.time())
            return False
        transformer = AesGcmTransformer(config)
        unreadable = await _first_unreadable(self._store.inner, transformer)
        if unreadable is not None:
            # Dropping a key that still seals a Secret would lose it: refuse, keep the old config.
            log.error("encryption configuration %s refused: it cannot read %s", self._path, unreadable)
            self.reloads.labels("failure").inc()
            self.last_reload.labels("failure").set(time.time())
            return False
        self._store.transformer = transformer
        resealed, _ = await rewrite_secrets(self._store.inner, transformer)
        self.rewritten.inc(resealed)
        self.reloads.labels("success").inc()
        self.last_reload.labels("success").set(time.time())
        self.info.remove(previous)
        self.info.labels(digest).set(1)
        log.info("encryption configuration reloaded; %d Secrets re-sealed", resealed)
        return True

    async def run(self, stop: asyncio.Event, interval: float = RELOAD_INTERVAL_SECONDS) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # a store error: the next poll tries again (the hash is re-read)
                log.exception("encryption configuration reload failed")
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except TimeoutError:
                continue
