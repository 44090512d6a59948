"""The store interface: a revisioned key-value store with watch, shaped like etcd v3.

Every write bumps one global, monotonic revision, which the API server uses as resourceVersion.
Each key remembers the revision that created it and the revision that last modified it, so that
updates and deletes can be made conditional on what the writer last read (optimistic
concurrency). History is kept until it is compacted; a watch or a read at a compacted revision
raises `CompactedError` (the API server turns that into 410 Gone).

Writes are acknowledged only once durable for a persistent backend: when `create`, `update` or
`delete` returns, the change survives `kill -9` of the process.

Backends: `memory` (tests, simulator), `sqlite` (the embedded default), and later `etcd`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One key's value at one revision."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int


@dataclass(frozen=True, slots=True)
class WatchEvent:
    """A change to one key.

    For PUT, `kv` is the new value and `prev` the value it replaced (None on creation).
    For DELETE, `kv` carries the last value with `mod_revision` set to the deleting revision,
    and `prev` is that same last value at its own revision.
    """

    type: Literal["PUT", "DELETE"]
    kv: KeyValue
    prev: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    """A page of keys in key order, read at one revision."""

    items: list[KeyValue]
    revision: int
    more: bool


class StoreError(Exception):
    """Base of every error the store reports."""


class KeyExistsError(StoreError):
    """`create` of a key that already exists."""


class KeyNotFoundError(StoreError):
    """`update` or `delete` of a key that does not exist."""


class RevisionConflictError(StoreError):
    """The key's mod_revision is not the one the writer expected."""

    def __init__(self, key: str, expected: int, actual: int) -> None:
        super().__init__(f"{key}: expected revision {expected}, found {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class CompactedError(StoreError):
    """The requested revision is older than the oldest revision still kept."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} has been compacted (oldest kept is {compacted + 1})")
        self.requested = requested
        self.compacted = compacted


class Store(Protocol):
    """What every backend provides. All writes are atomic per key and totally ordered."""

    @property
    def revision(self) -> int:
        """The revision of the most recent acknowledged write (0 for an empty store)."""
        ...

    @property
    def compacted_revision(self) -> int:
        """History at or below this revision is gone (0 when nothing is compacted).

        As in etcd, the state *at* this revision stays readable (`list(revision=compacted)`)
        and a watch may start after it; only older revisions raise `CompactedError`."""
        ...

    async def get(self, key: str) -> KeyValue | None:
        """The current value of `key`, or None."""
        ...

    async def list(
        self, prefix: str, *, limit: int = 0, start_key: str | None = None, revision: int = 0
    ) -> ListResult:
        """Keys under `prefix` in key order, starting at `start_key` (inclusive) when given.

        `limit` > 0 caps the page; `more` says whether keys remain. `revision` > 0 reads the
        state as of that revision (used to continue a paged list consistently) and raises
        `CompactedError` when it is no longer kept.
        """
        ...

    async def create(self, key: str, value: bytes) -> KeyValue:
        """Create `key`; raises `KeyExistsError` if it exists."""
        ...

    async def update(self, key: str, value: bytes, *, expected_revision: int | None = None) -> KeyValue:
        """Replace `key`'s value. With `expected_revision`, only if its mod_revision matches
        (else `RevisionConflictError`). Raises `KeyNotFoundError` if absent."""
        ...

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        """Delete `key` and return its last value (mod_revision = the deleting revision).
        Raises `KeyNotFoundError` or `RevisionConflictError`."""
        ...

    def watch(self, prefix: str, *, after_revision: int) -> AsyncIterator[WatchEvent]:
        """Every change under `prefix` with revision > `after_revision`, in revision order,
        first from history then live, until the iterator is closed. Raises `CompactedError`
        (on first iteration) if `after_revision` < `compacted_revision`."""
        ...

    async def compact(self, revision: int) -> None:
        """Forget history at or below `revision` (current values are always kept)."""
        ...

    async def close(self) -> None:
        """Flush and release resources. Pending writes are completed first."""
        ...
