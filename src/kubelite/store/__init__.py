"""A revisioned key-value store with watch (memory and SQLite backends), shaped like etcd.

`open_store(url)` picks the backend from a URL, so configuration stays one string:

- `memory://`: `MemoryStore`, for tests and the simulator (nothing survives the process);
- `sqlite:///relative/path.db` or `sqlite:////absolute/path.db` (the SQLAlchemy convention: the
  path is everything after `sqlite:///`): `SQLiteStore`, the durable embedded default;
- `etcd://host:port`: reserved for the etcd v3 backend, not implemented yet.
"""

from __future__ import annotations

from kubelite.store.interface import (
    CompactedError,
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    ListResult,
    RevisionConflictError,
    Store,
    StoreError,
    WatchEvent,
)
from kubelite.store.memory import MemoryStore
from kubelite.store.sqlite import SQLiteStore

__all__ = [
    "CompactedError",
    "KeyExistsError",
    "KeyNotFoundError",
    "KeyValue",
    "ListResult",
    "MemoryStore",
    "RevisionConflictError",
    "SQLiteStore",
    "Store",
    "StoreError",
    "WatchEvent",
    "open_store",
]


def open_store(url: str) -> Store:
    """The store a URL names; raises ValueError for a malformed or unknown URL."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError(f"store URL {url!r} has no scheme: use memory://, sqlite:///path.db or etcd://")
    if scheme == "memory":
        if rest:
            raise ValueError(f"memory:// takes no path, got {url!r}")
        return MemoryStore()
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ValueError(f"SQLite URL {url!r} needs a file: sqlite:///relative.db or sqlite:////abs.db")
        return SQLiteStore(rest[1:])
    if scheme == "etcd":
        raise ValueError(
            f"the etcd store backend ({url}) is not available in this version; use sqlite:///path.db or memory://"
        )
    raise ValueError(f"unknown store URL scheme {scheme!r} in {url!r}: use memory://, sqlite:// or etcd://")
