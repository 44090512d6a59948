"""The SQL of one write, applied inside the writer's open transaction (see `sqlite_schema`).

Each function checks its precondition with a query in the same transaction, so it sees the
effects of the operations applied before it in the batch, and returns the outcome as a value: the
`WatchEvent` of a committed write (its `kv` is also the caller's result), or the `StoreError`
the caller gets. A failed precondition writes nothing, so it cannot spoil its batch-mates.
"""

from __future__ import annotations

import sqlite3
from typing import Literal

from kubelite.store import sqlite_schema
from kubelite.store.interface import (
    KeyExistsError,
    KeyNotFoundError,
    KeyValue,
    RevisionConflictError,
    StoreError,
    WatchEvent,
)

KeyWriteKind = Literal["create", "update", "delete"]


def apply_key_write(
    connection: sqlite3.Connection,
    kind: KeyWriteKind,
    key: str,
    value: bytes,
    expected_revision: int | None,
    revision: int,
) -> WatchEvent | StoreError:
    """Apply one create/update/delete at `revision` (the next unused revision)."""
    row = connection.execute(
        "SELECT create_revision, mod_revision FROM kv_current WHERE key = ?", (key,)
    ).fetchone()
    if kind == "create":
        if row is not None:
            return KeyExistsError(key)
        connection.execute(
            "INSERT INTO kv_history VALUES (?, ?, ?, 0, 0, ?)", (revision, key, revision, value)
        )
        connection.execute("INSERT INTO kv_current VALUES (?, ?, ?)", (key, revision, revision))
        created = KeyValue(key=key, value=value, create_revision=revision, mod_revision=revision)
        return WatchEvent(type="PUT", kv=created, prev=None)
    if row is None:
        return KeyNotFoundError(key)
    create_revision, mod_revision = row
    if expected_revision is not None and expected_revision != mod_revision:
        return RevisionConflictError(key, expected_revision, mod_revision)
    (previous_value,) = connection.execute(
        "SELECT value FROM kv_history WHERE mod_revision = ?", (mod_revision,)
    ).fetchone()
    previous = KeyValue(
        key=key, value=bytes(previous_value), create_revision=create_revision, mod_revision=mod_revision
    )
    if kind == "update":
        connection.execute(
            "INSERT INTO kv_history VALUES (?, ?, ?, ?, 0, ?)",
            (revision, key, create_revision, mod_revision, value),
        )
        connection.execute("UPDATE kv_current SET mod_revision = ? WHERE key = ?", (revision, key))
        updated = KeyValue(key=key, value=value, create_revision=create_revision, mod_revision=revision)
        return WatchEvent(type="PUT", kv=updated, prev=previous)
    connection.execute(
        "INSERT INTO kv_history VALUES (?, ?, ?, ?, 1, NULL)", (revision, key, create_revision, mod_revision)
    )
    connection.execute("DELETE FROM kv_current WHERE key = ?", (key,))
    tombstone = KeyValue(
        key=key, value=previous.value, create_revision=create_revision, mod_revision=revision
    )
    return WatchEvent(type="DELETE", kv=tombstone, prev=previous)


def apply_compaction(connection: sqlite3.Connection, revision: int, current_revision: int) -> int:
    """Compact at `revision` (clamped to the current revision); returns the compacted revision."""
    (compacted,) = connection.execute("SELECT value FROM meta WHERE name = 'compacted'").fetchone()
    target = min(revision, current_revision)
    if target <= compacted:
        return int(compacted)
    connection.execute(sqlite_schema.COMPACT, {"revision": target})
    connection.execute("UPDATE meta SET value = ? WHERE name = 'compacted'", (target,))
    return target
