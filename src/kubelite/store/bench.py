"""Store write benchmark: sequential, concurrent and paced creates against any store URL.

Data flow: `run_store_benchmark` opens the store named by the URL, runs three phases on fresh
keys under `/registry/bench/run-<revision>/` (so repeated runs on one file never collide), closes
the store (which drains pending writes) and returns a JSON-ready dict:

- `sequential`: one writer, each create awaited before the next; with durable commits this is
  bounded by one fsync per write, so it is the no-batching baseline.
- `concurrent`: `concurrent_writers` tasks creating as fast as they can; group commit folds their
  writes into shared transactions (`mean_batch_size` reports how many, for SQLite).
  `speedup_over_sequential` is the ratio of the two throughputs, measured in the same process.
- `paced`: an open-loop load at `paced_rate` creates per second (each create starts on schedule,
  whether or not earlier ones finished), the latency an API server sees at a steady write rate.

Latencies are per create, from the call to its acknowledgement, in milliseconds.
"""

from __future__ import annotations

import asyncio
import math

from kubelite.clock import Clock, RealClock
from kubelite.store import SQLiteStore, Store, open_store

BenchmarkReport = dict[str, object]


def run_store_benchmark(
    store_url: str,
    *,
    sequential_creates: int = 2_000,
    concurrent_writers: int = 64,
    concurrent_creates: int = 20_000,
    paced_rate: float = 1_000.0,
    paced_seconds: float = 3.0,
    value_bytes: int = 1_024,
    clock: Clock | None = None,
) -> BenchmarkReport:
    """Measure create throughput and latency of the store at `store_url` (see module docstring)."""
    return asyncio.run(
        _run_all_phases(
            store_url,
            sequential_creates=sequential_creates,
            concurrent_writers=concurrent_writers,
            concurrent_creates=concurrent_creates,
            paced_rate=paced_rate,
            paced_seconds=paced_seconds,
            value_bytes=value_bytes,
            clock=clock or RealClock(),
        )
    )


async def _run_all_phases(
    store_url: str,
    *,
    sequential_creates: int,
    concurrent_writers: int,
    concurrent_creates: int,
    paced_rate: float,
    paced_seconds: float,
    value_bytes: int,
    clock: Clock,
) -> BenchmarkReport:
    store = open_store(store_url)
    try:
        prefix = f"/registry/bench/run-{store.revision}/"
        # A JSON-looking payload of the requested size: stores must not care what is inside.
        value = (b'{"spec":"' + b"x" * max(0, value_bytes - 11) + b'"}')[:value_bytes]
        sequential = await _sequential_phase(store, clock, prefix + "sequential-", value, sequential_creates)
        batching_before = store.write_statistics if isinstance(store, SQLiteStore) else None
        concurrent = await _concurrent_phase(
            store, clock, prefix + "concurrent-", value, concurrent_creates, concurrent_writers
        )
        if isinstance(store, SQLiteStore) and batching_before is not None:
            batching_after = store.write_statistics
            transactions = batching_after.transactions - batching_before.transactions
            operations = batching_after.operations - batching_before.operations
            concurrent["mean_batch_size"] = round(operations / transactions, 1) if transactions else 0.0
        paced = await _paced_phase(store, clock, prefix + "paced-", value, paced_rate, paced_seconds)
    finally:
        await store.close()
    sequential_rate = float(sequential["creates_per_second"])  # type: ignore[arg-type]
    concurrent_rate = float(concurrent["creates_per_second"])  # type: ignore[arg-type]
    return {
        "store": store_url,
        "value_bytes": value_bytes,
        "sequential": sequential,
        "concurrent": concurrent,
        "paced": paced,
        "speedup_over_sequential": round(concurrent_rate / sequential_rate, 2) if sequential_rate else None,
    }


async def _timed_create(store: Store, clock: Clock, key: str, value: bytes, latencies: list[float]) -> None:
    started = clock.monotonic()
    await store.create(key, value)
    latencies.append(clock.monotonic() - started)


async def _sequential_phase(
    store: Store, clock: Clock, prefix: str, value: bytes, creates: int
) -> BenchmarkReport:
    latencies: list[float] = []
    started = clock.monotonic()
    for index in range(creates):
        await _timed_create(store, clock, f"{prefix}{index}", value, latencies)
    return _summary(latencies, clock.monotonic() - started)


async def _concurrent_phase(
    store: Store, clock: Clock, prefix: str, value: bytes, creates: int, writers: int
) -> BenchmarkReport:
    latencies: list[float] = []

    async def writer(writer_index: int) -> None:
        for index in range(writer_index, creates, writers):
            await _timed_create(store, clock, f"{prefix}{index}", value, latencies)

    started = clock.monotonic()
    await asyncio.gather(*(writer(writer_index) for writer_index in range(writers)))
    report = _summary(latencies, clock.monotonic() - started)
    report["writers"] = writers
    return report


async def _paced_phase(
    store: Store, clock: Clock, prefix: str, value: bytes, rate: float, seconds: float
) -> BenchmarkReport:
    latencies: list[float] = []
    in_flight: set[asyncio.Task[None]] = set()
    interval = 1.0 / rate
    total = int(rate * seconds)
    started = clock.monotonic()
    for index in range(total):
        delay = started + index * interval - clock.monotonic()
        if delay > 0:
            await clock.sleep(delay)
        task = asyncio.create_task(_timed_create(store, clock, f"{prefix}{index}", value, latencies))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    report = _summary(latencies, clock.monotonic() - started)
    report["target_rate"] = rate
    return report


def _summary(latencies: list[float], elapsed_seconds: float) -> BenchmarkReport:
    ordered = sorted(latencies)
    return {
        "creates": len(ordered),
        "seconds": round(elapsed_seconds, 3),
        "creates_per_second": round(len(ordered) / elapsed_seconds, 1) if elapsed_seconds > 0 else 0.0,
        "p50_ms": round(_percentile(ordered, 0.50) * 1000, 3),
        "p99_ms": round(_percentile(ordered, 0.99) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3) if ordered else 0.0,
    }


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sample (0.0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]
