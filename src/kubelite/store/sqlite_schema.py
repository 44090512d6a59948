"""The SQLite layout of the store and its read queries (pure functions over a connection).

Layout (an MVCC log plus a current-state index, the shape of etcd's bbolt "key" bucket):

- `kv_history`: one row per revision, keyed by `mod_revision` (the rowid, so a watch replays a
  revision range as a contiguous b-tree scan). Columns: key, create_revision, prev_revision
  (the mod_revision of the value this write replaced or deleted, 0 on creation), deleted (1 for
  a tombstone, whose value is NULL: the deleted value is the row at prev_revision), value.
  An index on (key, mod_revision) serves reads at a past revision.
- `kv_current`: key -> (create_revision, mod_revision) of every live key, WITHOUT ROWID so a
  prefix scan walks keys in order; values are read from `kv_history` by revision, so a value is
  stored once.
- `meta`: the revision counter and the compacted revision, updated in the same transaction as
  the writes they describe, so a restart recovers both exactly.

Compaction at R follows etcd: for each key, keep the newest row at or below R unless it is a
tombstone, and delete every older row. The state at R stays readable, and the value each later
event replaced (its `prev`) is always kept.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Literal

from kubelite.store.interface import CompactedError, KeyValue, ListResult, WatchEvent
from kubelite.store.keys import lowest_key_in_range, prefix_range_end

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS kv_history (
    mod_revision INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    create_revision INTEGER NOT NULL,
    prev_revision INTEGER NOT NULL,
    deleted INTEGER NOT NULL,
    value BLOB
);
CREATE INDEX IF NOT EXISTS kv_history_by_key ON kv_history (key, mod_revision);
CREATE TABLE IF NOT EXISTS kv_current (
    key TEXT PRIMARY KEY,
    create_revision INTEGER NOT NULL,
    mod_revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0), ('schema', 1);
"""

COMPACT = """
DELETE FROM kv_history WHERE mod_revision <= :revision AND (
    deleted = 1 OR mod_revision < (
        SELECT MAX(newer.mod_revision) FROM kv_history AS newer
        WHERE newer.key = kv_history.key AND newer.mod_revision <= :revision))
"""

Synchronous = Literal["FULL", "NORMAL"]


def connect(path: str, *, synchronous: Synchronous, read_only: bool) -> sqlite3.Connection:
    """A connection in WAL mode; transactions are explicit (autocommit otherwise)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={synchronous}")
    connection.execute("PRAGMA busy_timeout=10000")
    connection.execute("PRAGMA cache_size=-32768")
    if read_only:
        connection.execute("PRAGMA query_only=1")
    return connection


def read_meta(connection: sqlite3.Connection) -> tuple[int, int]:
    """(revision, compacted_revision) as committed."""
    rows = dict(connection.execute("SELECT name, value FROM meta WHERE name IN ('revision', 'compacted')"))
    return int(rows["revision"]), int(rows["compacted"])


def get_current(connection: sqlite3.Connection, key: str) -> KeyValue | None:
    row = connection.execute(
        "SELECT c.create_revision, c.mod_revision, h.value FROM kv_current AS c "
        "JOIN kv_history AS h ON h.mod_revision = c.mod_revision WHERE c.key = ?",
        (key,),
    ).fetchone()
    if row is None:
        return None
    return KeyValue(key=key, value=bytes(row[2]), create_revision=row[0], mod_revision=row[1])


def _range_clause(column: str, high: str | None) -> str:
    return f"{column} >= ?" if high is None else f"{column} >= ? AND {column} < ?"


def _range_params(low: str, high: str | None) -> tuple[str, ...]:
    return (low,) if high is None else (low, high)


def list_range(
    connection: sqlite3.Connection, prefix: str, *, limit: int, start_key: str | None, revision: int
) -> ListResult:
    """A page under `prefix`, read in one snapshot so that items and revision agree."""
    low = lowest_key_in_range(prefix, start_key)
    high = prefix_range_end(prefix)
    fetch = -1 if limit <= 0 else limit + 1  # one extra row tells whether there are more
    connection.execute("BEGIN")
    try:
        current_revision, compacted = read_meta(connection)
        if 0 < revision < compacted:
            raise CompactedError(revision, compacted)
        if revision <= 0 or revision >= current_revision:
            read_revision = current_revision
            rows = connection.execute(
                "SELECT c.key, h.value, c.create_revision, c.mod_revision FROM kv_current AS c "
                "JOIN kv_history AS h ON h.mod_revision = c.mod_revision "
                f"WHERE {_range_clause('c.key', high)} ORDER BY c.key LIMIT ?",
                (*_range_params(low, high), fetch),
            ).fetchall()
        else:
            read_revision = revision
            rows = connection.execute(
                "SELECT h.key, h.value, h.create_revision, h.mod_revision FROM ("
                "  SELECT key, MAX(mod_revision) AS latest FROM kv_history"
                f"  WHERE {_range_clause('key', high)} AND mod_revision <= ? GROUP BY key"
                ") AS newest JOIN kv_history AS h ON h.mod_revision = newest.latest "
                "WHERE h.deleted = 0 ORDER BY h.key LIMIT ?",
                (*_range_params(low, high), revision, fetch),
            ).fetchall()
    finally:
        connection.execute("COMMIT")
    more = 0 < limit < len(rows)
    items = [
        KeyValue(key=key, value=bytes(value), create_revision=created, mod_revision=modified)
        for key, value, created, modified in (rows[:limit] if more else rows)
    ]
    return ListResult(items=items, revision=read_revision, more=more)


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """Events of one history read; `complete` means the window was read to its end."""

    events: list[WatchEvent]
    complete: bool


def read_history_page(
    connection: sqlite3.Connection, prefix: str, after_revision: int, up_to: int, page_size: int
) -> HistoryPage:
    """Events under `prefix` in (after_revision, up_to], at most `page_size` of them."""
    high = prefix_range_end(prefix)
    connection.execute("BEGIN")
    try:
        _, compacted = read_meta(connection)
        if after_revision < compacted:
            raise CompactedError(after_revision, compacted)
        rows = connection.execute(
            "SELECT h.mod_revision, h.key, h.create_revision, h.prev_revision, h.deleted, h.value, "
            "p.value FROM kv_history AS h LEFT JOIN kv_history AS p ON p.mod_revision = h.prev_revision "
            f"WHERE h.mod_revision > ? AND h.mod_revision <= ? AND {_range_clause('h.key', high)} "
            "ORDER BY h.mod_revision LIMIT ?",
            (after_revision, up_to, *_range_params(prefix, high), page_size),
        ).fetchall()
    finally:
        connection.execute("COMMIT")
    events = [_history_row_to_event(*row) for row in rows]
    return HistoryPage(events=events, complete=len(rows) < page_size)


def _history_row_to_event(
    revision: int,
    key: str,
    create_revision: int,
    prev_revision: int,
    deleted: int,
    value: bytes | None,
    prev_value: bytes | None,
) -> WatchEvent:
    prev = None
    if prev_revision and prev_value is not None:
        prev = KeyValue(
            key=key, value=bytes(prev_value), create_revision=create_revision, mod_revision=prev_revision
        )
    if deleted:
        last_value = prev.value if prev is not None else b""
        tombstone = KeyValue(
            key=key, value=last_value, create_revision=create_revision, mod_revision=revision
        )
        return WatchEvent(type="DELETE", kv=tombstone, prev=prev)
    current = KeyValue(
        key=key, value=bytes(value or b""), create_revision=create_revision, mod_revision=revision
    )
    return WatchEvent(type="PUT", kv=current, prev=prev)
