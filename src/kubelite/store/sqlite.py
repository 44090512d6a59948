"""`SQLiteStore`: the embedded, durable default backend (WAL mode, one writer, group commit).

Data flow of a write: the caller's coroutine puts an operation on a queue and awaits a future.
One writer thread takes every operation queued so far (up to a batch cap), applies them in order
inside ONE transaction and commits. Each operation's precondition (create-if-absent, expected
revision) is checked with a query inside that transaction, so it sees the effects of earlier
operations of the same batch; a failed precondition yields that caller's error and touches
nothing, so its batch-mates still commit. Only after COMMIT returns does the thread hand the
batch back to the event loop, which publishes the events to watchers in revision order and then
resolves the callers' futures. Group commit turns N concurrent writers' N fsyncs into one, which
is the same idea as etcd's batched backend commits and PostgreSQL's commit_delay.

Durability: `synchronous=FULL` makes each COMMIT fsync the WAL before it returns, so an
acknowledged write survives `kill -9` and power loss. With WAL, `synchronous=NORMAL` also
survives `kill -9` of the process (the WAL write is in the OS page cache) but not an OS crash or
power loss; it is offered as an explicit option, never the default. See docs/store.md.

Reads: `get` is one primary-key lookup and runs directly on the event loop thread (cheaper than
a thread hop). `list` and watch history run on a small pool of read-only connections in threads;
WAL readers never block the writer. Watch history comes from `kv_history`, live events from the
in-process `WatchHub`; `watch_stream` joins them without gaps or duplicates.

Only one process may open a database: an exclusive `flock` on `<path>.lock` enforces the single
writer across processes (the OS drops it if the process dies).
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import queue
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal, TypeVar

from kubelite.store import sqlite_schema, sqlite_writes
from kubelite.store.interface import (
    KeyValue,
    ListResult,
    StoreError,
    WatchEvent,
)
from kubelite.store.sqlite_schema import Synchronous
from kubelite.store.watch import WatchHub, watch_stream

_Result = TypeVar("_Result")

OperationKind = sqlite_writes.KeyWriteKind | Literal["compact"]

HISTORY_PAGE_SIZE = 512
CHECKPOINT_INTERVAL_SECONDS = 0.5
WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class _Operation:
    """One queued write; `future` lives on the event loop that submitted it."""

    kind: OperationKind
    key: str
    value: bytes
    expected_revision: int | None
    future: asyncio.Future[KeyValue | None]


@dataclass(frozen=True, slots=True)
class _Applied:
    """A committed operation: its result and the event watchers get (None for compaction)."""

    result: KeyValue | None
    event: WatchEvent | None
    compacted_revision: int


_Outcome = _Applied | BaseException
# Aliases keep the builtin `list` usable in annotations inside the class, whose `list` is a method.
_Batch = list[_Operation]
_Outcomes = list[_Outcome]
_STOP = object()


@dataclass(frozen=True, slots=True)
class WriteStatistics:
    """How well group commit is batching: operations per committed transaction."""

    transactions: int
    operations: int

    @property
    def mean_batch_size(self) -> float:
        return self.operations / self.transactions if self.transactions else 0.0


class SQLiteStore:
    """A revisioned key-value store with watch in one SQLite file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        synchronous: Synchronous = "FULL",
        max_batch_operations: int = 1024,
        max_batch_bytes: int = 16 * 1024 * 1024,
        read_threads: int = 2,
    ) -> None:
        self._path = os.fspath(path)
        self._synchronous: Synchronous = synchronous
        self._max_batch_operations = max(1, max_batch_operations)
        self._max_batch_bytes = max_batch_bytes
        self._lock_file = self._acquire_process_lock()
        self._writer_connection = sqlite_schema.connect(self._path, synchronous=synchronous, read_only=False)
        self._writer_connection.executescript(sqlite_schema.SCHEMA)
        # Checkpoints run on their own thread (below), not inside whichever commit crosses the
        # auto-checkpoint threshold, so that no caller's write waits for a checkpoint's fsync.
        self._writer_connection.execute("PRAGMA wal_autocheckpoint=0")
        self._writer_connection.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT_BYTES}")
        revision, compacted = sqlite_schema.read_meta(self._writer_connection)
        # Owned by the writer thread: the revision of the last operation applied in a transaction.
        self._writer_revision = revision
        self._transactions_committed = 0
        self._operations_committed = 0
        self._compacted_revision = compacted
        self._hub = WatchHub(published_revision=revision)
        self._loop_reader = sqlite_schema.connect(self._path, synchronous=synchronous, read_only=True)
        self._idle_readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._read_pool = ThreadPoolExecutor(max_workers=read_threads, thread_name_prefix="store-read")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._queue: queue.SimpleQueue[_Operation | object] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._run_writer, name="store-writer", daemon=True)
        self._writer.start()
        self._checkpoint_wanted = threading.Event()
        self._checkpointer_stopping = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._run_checkpointer, name="store-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _acquire_process_lock(self) -> int:
        descriptor = os.open(self._path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise StoreError(f"{self._path} is open in another process (single writer)") from None
        return descriptor

    @property
    def path(self) -> str:
        return self._path

    @property
    def revision(self) -> int:
        return self._hub.published_revision

    @property
    def compacted_revision(self) -> int:
        return self._compacted_revision

    @property
    def write_statistics(self) -> WriteStatistics:
        return WriteStatistics(self._transactions_committed, self._operations_committed)

    # Reads.

    async def get(self, key: str) -> KeyValue | None:
        return sqlite_schema.get_current(self._loop_reader, key)

    async def list(
        self, prefix: str, *, limit: int = 0, start_key: str | None = None, revision: int = 0
    ) -> ListResult:
        return await self._read(
            lambda connection: sqlite_schema.list_range(
                connection, prefix, limit=limit, start_key=start_key, revision=revision
            )
        )

    async def _read(self, query: Callable[[sqlite3.Connection], _Result]) -> _Result:
        return await asyncio.get_running_loop().run_in_executor(self._read_pool, self._run_read, query)

    def _run_read(self, query: Callable[[sqlite3.Connection], _Result]) -> _Result:
        try:
            connection = self._idle_readers.get_nowait()
        except queue.Empty:
            connection = sqlite_schema.connect(self._path, synchronous=self._synchronous, read_only=True)
            with self._readers_lock:
                self._all_readers.append(connection)
        try:
            return query(connection)
        finally:
            self._idle_readers.put(connection)

    def watch(self, prefix: str, *, after_revision: int) -> AsyncIterator[WatchEvent]:
        return watch_stream(
            self._hub,
            prefix,
            after_revision,
            read_history=self._read_history,
            compacted_revision=lambda: self._compacted_revision,
        )

    async def _read_history(self, prefix: str, after_revision: int, up_to: int) -> AsyncIterator[WatchEvent]:
        cursor = after_revision
        while cursor < up_to:
            page = await self._read(
                functools.partial(
                    sqlite_schema.read_history_page,
                    prefix=prefix,
                    after_revision=cursor,
                    up_to=up_to,
                    page_size=HISTORY_PAGE_SIZE,
                )
            )
            for event in page.events:
                yield event
            if page.complete or not page.events:
                return
            cursor = page.events[-1].revision

    # Writes.

    async def create(self, key: str, value: bytes) -> KeyValue:
        return await self._write_key("create", key, value, None)

    async def update(self, key: str, value: bytes, *, expected_revision: int | None = None) -> KeyValue:
        return await self._write_key("update", key, value, expected_revision)

    async def delete(self, key: str, *, expected_revision: int | None = None) -> KeyValue:
        return await self._write_key("delete", key, b"", expected_revision)

    async def compact(self, revision: int) -> None:
        await self._submit("compact", "", b"", revision)

    async def _write_key(
        self, kind: OperationKind, key: str, value: bytes, expected_revision: int | None
    ) -> KeyValue:
        result = await self._submit(kind, key, value, expected_revision)
        assert result is not None, "key writes always return the written KeyValue"
        return result

    def _submit(
        self, kind: OperationKind, key: str, value: bytes, expected_revision: int | None
    ) -> asyncio.Future[KeyValue | None]:
        if self._closed:
            raise RuntimeError("write to a closed store")
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a SQLiteStore serves one event loop")
        future: asyncio.Future[KeyValue | None] = loop.create_future()
        self._queue.put(_Operation(kind, key, value, expected_revision, future))
        return future

    async def close(self) -> None:
        """Commit every write queued before this call, end watches, release the file."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        await asyncio.to_thread(self._writer.join)
        self._checkpointer_stopping.set()
        self._checkpoint_wanted.set()
        await asyncio.to_thread(self._checkpointer.join)
        # Let the final batch's publish callback (queued before the join finished) run first.
        await asyncio.sleep(0)
        self._hub.close()
        await asyncio.to_thread(self._read_pool.shutdown, True)
        with self._readers_lock:
            for connection in self._all_readers:
                connection.close()
        self._loop_reader.close()
        # Fold the WAL into the database so that the file is self-contained at rest.
        self._writer_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._writer_connection.close()
        os.close(self._lock_file)

    # The checkpoint thread.

    def _run_checkpointer(self) -> None:
        """Copy committed WAL frames into the database file, at most once per interval.

        A PASSIVE checkpoint never blocks the writer or readers; once it has caught up, the
        writer's next transaction restarts the WAL from its beginning, which bounds its size.
        """
        connection = sqlite_schema.connect(self._path, synchronous=self._synchronous, read_only=False)
        try:
            while not self._checkpointer_stopping.is_set():
                self._checkpoint_wanted.wait()
                if self._checkpointer_stopping.is_set():
                    return
                self._checkpoint_wanted.clear()
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._checkpointer_stopping.wait(CHECKPOINT_INTERVAL_SECONDS)
        finally:
            connection.close()

    # The writer thread.

    def _run_writer(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            assert isinstance(first, _Operation)
            batch = [first]
            batch_bytes = len(first.value)
            while len(batch) < self._max_batch_operations and batch_bytes < self._max_batch_bytes:
                try:
                    queued = self._queue.get_nowait()
                except queue.Empty:
                    break
                if queued is _STOP:
                    stopping = True
                    break
                assert isinstance(queued, _Operation)
                batch.append(queued)
                batch_bytes += len(queued.value)
            outcomes = self._commit_batch(batch)
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(self._publish, batch, outcomes)

    def _commit_batch(self, batch: _Batch) -> _Outcomes:
        connection = self._writer_connection
        revision_before = self._writer_revision
        try:
            connection.execute("BEGIN IMMEDIATE")
            outcomes = [self._apply(connection, operation) for operation in batch]
            if self._writer_revision != revision_before:
                connection.execute(
                    "UPDATE meta SET value = ? WHERE name = 'revision'", (self._writer_revision,)
                )
            connection.execute("COMMIT")
            self._transactions_committed += 1
            self._operations_committed += len(batch)
            self._checkpoint_wanted.set()
            return outcomes
        except Exception as error:  # an I/O failure fails the whole batch: nothing was committed
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            self._writer_revision = revision_before
            return [error] * len(batch)

    def _apply(self, connection: sqlite3.Connection, operation: _Operation) -> _Outcome:
        if operation.kind == "compact":
            compacted = sqlite_writes.apply_compaction(
                connection, operation.expected_revision or 0, self._writer_revision
            )
            return _Applied(None, None, compacted)
        outcome = sqlite_writes.apply_key_write(
            connection,
            operation.kind,
            operation.key,
            operation.value,
            operation.expected_revision,
            self._writer_revision + 1,
        )
        if isinstance(outcome, StoreError):
            return outcome
        self._writer_revision = outcome.revision
        return _Applied(outcome.kv, outcome, 0)

    def _publish(self, batch: _Batch, outcomes: _Outcomes) -> None:
        """On the event loop, after COMMIT: fan out events in order, then acknowledge callers."""
        for outcome in outcomes:
            if isinstance(outcome, _Applied):
                if outcome.event is not None:
                    self._hub.publish(outcome.event)
                self._compacted_revision = max(self._compacted_revision, outcome.compacted_revision)
        for operation, outcome in zip(batch, outcomes, strict=True):
            if operation.future.done():  # the caller gave up waiting; the write still happened
                continue
            if isinstance(outcome, _Applied):
                operation.future.set_result(outcome.result)
            else:
                operation.future.set_exception(outcome)
