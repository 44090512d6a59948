"""The work queue's client-go guarantees, on a virtual clock."""

from __future__ import annotations

import asyncio

import pytest

from kubelite.client.workqueue import (
    ItemExponentialFailureRateLimiter,
    RateLimitingQueue,
    TokenBucketRateLimiter,
    default_controller_rate_limiter,
)
from kubelite.clock import FakeClock


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_duplicate_adds_are_processed_once() -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())
        for key in ["a", "b", "a", "a", "c", "b"]:
            queue.add(key)
        assert len(queue) == 3
        assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]
        assert queue.stats.deduplicated == 3

    asyncio.run(scenario())


def test_a_key_being_processed_is_not_handed_to_a_second_worker() -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())
        queue.add("a")
        assert await queue.get() == "a"
        queue.add("a")  # changed while a worker holds it
        assert len(queue) == 0
        second = asyncio.create_task(queue.get())
        await settle()
        assert not second.done()
        queue.done("a")
        await settle()
        assert second.result() == "a"

    asyncio.run(scenario())


def test_done_without_a_new_add_does_not_requeue() -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())
        queue.add("a")
        item = await queue.get()
        assert item == "a"
        queue.done(item)
        assert len(queue) == 0

    asyncio.run(scenario())


def test_add_after_waits_for_virtual_time_and_keeps_the_earliest_deadline() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        queue: RateLimitingQueue[str] = RateLimitingQueue(clock)
        queue.add_after("a", 10)
        queue.add_after("a", 30)  # later: ignored
        await settle()
        clock.advance(9.9)
        await settle()
        assert len(queue) == 0
        clock.advance(0.2)
        await settle()
        assert len(queue) == 1
        clock.advance(30)
        await settle()
        assert len(queue) == 1

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, 0.005), (1, 0.01), (2, 0.02), (10, 5.12), (17, 655.36), (18, 1000.0), (200, 1000.0)],
    ids=["first", "second", "third", "tenth", "below-cap", "capped", "far-past-cap"],
)
def test_per_item_backoff_doubles_from_5ms_to_a_1000s_cap(failures: int, expected: float) -> None:
    limiter: ItemExponentialFailureRateLimiter[str] = ItemExponentialFailureRateLimiter()
    for _ in range(failures):
        limiter.when("a")
    assert limiter.when("a") == pytest.approx(expected)
    assert limiter.when("b") == pytest.approx(0.005)


def test_token_bucket_allows_a_burst_of_100_then_10_per_second() -> None:
    clock = FakeClock()
    bucket: TokenBucketRateLimiter[str] = TokenBucketRateLimiter(clock, qps=10, burst=100)
    delays = [bucket.when(str(i)) for i in range(110)]
    assert delays[:100] == [0.0] * 100
    assert delays[100:] == pytest.approx([0.1 * (i + 1) for i in range(10)])
    clock.advance(100)
    assert bucket.when("x") == 0.0


def test_forget_resets_backoff_and_requeue_count() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        queue: RateLimitingQueue[str] = RateLimitingQueue(clock, default_controller_rate_limiter(clock))
        for _ in range(3):
            queue.add_rate_limited("a")
        assert queue.num_requeues("a") == 3
        queue.forget("a")
        assert queue.num_requeues("a") == 0
        queue.shutdown()

    asyncio.run(scenario())


def test_rate_limited_retry_arrives_after_its_backoff() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        queue: RateLimitingQueue[str] = RateLimitingQueue(clock)
        for _ in range(4):
            queue.add_rate_limited("a")  # the last wait is 40 ms, the first 5 ms wins
        await settle()
        clock.advance(0.004)
        await settle()
        assert len(queue) == 0
        clock.advance(0.002)
        await settle()
        assert len(queue) == 1

    asyncio.run(scenario())


def test_shutdown_wakes_waiting_workers_and_refuses_new_items() -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())
        workers = [asyncio.create_task(queue.get()) for _ in range(3)]
        await settle()
        queue.shutdown()
        assert await asyncio.gather(*workers) == [None, None, None]
        queue.add("a")
        assert len(queue) == 0

    asyncio.run(scenario())


def test_items_queued_before_shutdown_are_drained() -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())
        queue.add("a")
        queue.shutdown()
        assert await queue.get() == "a"
        assert await queue.get() is None

    asyncio.run(scenario())


def test_many_workers_share_the_keys_without_overlap() -> None:
    async def scenario() -> None:
        queue: RateLimitingQueue[str] = RateLimitingQueue(FakeClock())
        active: set[str] = set()
        seen: list[str] = []

        async def worker() -> None:
            while (key := await queue.get()) is not None:
                assert key not in active
                active.add(key)
                await asyncio.sleep(0)
                seen.append(key)
                active.discard(key)
                queue.done(key)

        tasks = [asyncio.create_task(worker()) for _ in range(4)]
        for round_ in range(20):
            for key in ("a", "b", "c"):
                queue.add(key)
            if round_ % 3 == 0:
                await asyncio.sleep(0)
        await settle()
        queue.shutdown()
        await asyncio.gather(*tasks)
        assert set(seen) == {"a", "b", "c"}

    asyncio.run(scenario())
