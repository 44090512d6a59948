"""Secrets encrypted at rest: a `Store` wrapper that seals covered values on the way in.

kube-apiserver encrypts at its storage boundary (`value.Transformer` inside the etcd3 store), so
everything above it (registry, watch cache, handlers) sees plaintext and the backend sees only
ciphertext. `EncryptingStore` is that boundary for kubelite: it wraps any `Store`, passes every
write through `transformer.to_storage(key, value)` and every value it returns (get, list, watch,
delete) through `from_storage`. Keys outside the encrypted resources pass through untouched, at the
cost of one prefix check.

`rotate_secret_encryption` is `kubelite secrets rotate-key`: it puts a new key first in the key
file, rewrites every Secret under it (compare-and-swap on each key's revision, so a concurrent
write simply wins and is already under a current key), and with `prune` drops the old keys once
nothing needs them. Run it against the store while the API server is stopped; the next start
loads the new key file.

Data flow: registry -> `EncryptingStore.create/update` -> `to_storage` -> backend;
backend -> `get/list/watch` -> `from_storage` -> watch cache and registry.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from kubelite.security.encryption import (
    AesGcmTransformer,
    ValueTransformer,
    load_encryption_config,
    pruned_config,
    rotated_config,
    write_encryption_config,
)
from kubelite.store.interface import KeyValue, ListResult, RevisionConflictError, Store, WatchEvent

SECRETS_PREFIX = "/registry/secrets/"


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
