"""Work queues with client-go semantics, on asyncio and an injected `Clock`.

Data flow: informer event handlers compute a key ("namespace/name") and `add` it; workers loop on
`get` -> sync(key) -> `done`, then `forget` on success or `add_rate_limited` on failure.

The guarantees are those of `k8s.io/client-go/util/workqueue`:
- **Dedupe.** A key added many times before a worker takes it is processed once (the `dirty` set).
- **One worker per key.** A key being processed is never handed to a second worker; if it is added
  meanwhile, it is queued again when the first worker calls `done` (the `processing` set).
- **Delays.** `add_after` holds a key until its time comes; adding the same key again with a later
  time keeps the earlier one, as client-go's delaying queue does.
- **Rate limiting.** `add_rate_limited` waits the larger of a per-item exponential backoff
  (5 ms * 2^failures, capped at 1000 s) and a token bucket shared by all items (10 qps, burst 100):
  client-go's `DefaultControllerRateLimiter`. `forget` clears an item's failure count.
- **Shutdown.** `shutdown` wakes every waiting worker; `get` then returns `None`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from kubelite.clock import Clock

T = TypeVar("T", bound=Hashable)
ItemT_contra = TypeVar("ItemT_contra", bound=Hashable, contravariant=True)


class RateLimiter(Protocol[ItemT_contra]):
    """Decides how long an item waits before it is retried (client-go's `RateLimiter`)."""

    def when(self, item: ItemT_contra) -> float:
        """Seconds to wait before this retry; records the retry."""
        ...

    def forget(self, item: ItemT_contra) -> None:
        """The item succeeded: clear what `when` remembered about it."""
        ...

    def num_requeues(self, item: ItemT_contra) -> int:
        """How many times `when` was asked about the item since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter(Generic[T]):
    """base * 2^failures per item, capped at `max_delay` (client-go's defaults: 5 ms and 1000 s)."""

    def __init__(self, base_delay: float = 0.005, max_delay: float = 1000.0) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[T, int] = {}

    def when(self, item: T) -> float:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        # 2**failures overflows floats only far beyond the cap; stop doubling once past it.
        if failures > 64:
            return self.max_delay
        return min(self.base_delay * float(2**failures), self.max_delay)

    def forget(self, item: T) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        return self._failures.get(item, 0)


class TokenBucketRateLimiter(Generic[T]):
    """One bucket for all items: `qps` tokens a second, holding at most `burst` (golang.org/x/time/rate).

    Each call takes a token now and returns how long the caller must wait for it; tokens may go
    negative, so a burst of callers is spread out at exactly `qps`.
    """

    def __init__(self, clock: Clock, qps: float = 10.0, burst: int = 100) -> None:
        self._clock = clock
        self.qps = qps
        self.burst = burst
        self._tokens = float(burst)
        self._last = clock.monotonic()

    def when(self, item: T) -> float:
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def try_accept(self) -> bool:
        """Take a token if one is there now, without reserving a future one (client-go's TryAccept)."""
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def forget(self, item: T) -> None:
        return None

    def num_requeues(self, item: T) -> int:
        return 0


class MaxOfRateLimiter(Generic[T]):
    """The longest wait any of several limiters asks for (client-go's `MaxOfRateLimiter`)."""

    def __init__(self, *limiters: RateLimiter[T]) -> None:
        self._limiters = limiters

    def when(self, item: T) -> float:
        return max(limiter.when(item) for limiter in self._limiters)

    def forget(self, item: T) -> None:
        for limiter in self._limiters:
            limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return max(limiter.num_requeues(item) for limiter in self._limiters)


def default_controller_rate_limiter(clock: Clock) -> MaxOfRateLimiter[str]:
    """5 ms * 2^n per item capped at 1000 s, and 10 qps with a burst of 100 overall."""
    return MaxOfRateLimiter[str](
        ItemExponentialFailureRateLimiter[str](0.005, 1000.0), TokenBucketRateLimiter[str](clock, 10.0, 100)
    )


@dataclass(slots=True)
class QueueStats:
    """Counters a benchmark or metrics endpoint reads."""

    adds: int = 0
    deduplicated: int = 0
    retries: int = 0


class RateLimitingQueue(Generic[T]):
    """A deduplicating, delaying, rate-limited queue of keys; see the module docstring."""

    def __init__(self, clock: Clock, rate_limiter: RateLimiter[T] | None = None, name: str = "") -> None:
        self.name = name
        self._clock = clock
        self._rate_limiter: RateLimiter[T] = (
            rate_limiter if rate_limiter is not None else default_controller_rate_limiter(clock)  # type: ignore[assignment]
        )
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._shutting_down = False
        self._idle_workers: deque[asyncio.Future[None]] = deque()
        # The earliest time each delayed item is due, so a later `add_after` does not postpone it.
        self._waiting_until: dict[T, float] = {}
        self._timers: set[asyncio.Task[None]] = set()
        self.stats = QueueStats()

    def __len__(self) -> int:
        """Items ready for a worker (not those being processed or still delayed)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, item: T) -> None:
        """Queue an item unless it is already queued; an item being processed is re-queued on `done`."""
        if self._shutting_down:
            return
        self.stats.adds += 1
        if item in self._dirty:
            self.stats.deduplicated += 1
            return
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        self._wake_one()

    def add_after(self, item: T, delay: float) -> None:
        """Queue the item once `delay` seconds of the clock have passed (at once if delay <= 0)."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(item)
            return
        due = self._clock.monotonic() + delay
        current = self._waiting_until.get(item)
        if current is not None and current <= due:
            return
        self._waiting_until[item] = due
        timer = asyncio.get_running_loop().create_task(self._add_when_due(item, due, delay))
        self._timers.add(timer)
        timer.add_done_callback(self._timers.discard)

    async def _add_when_due(self, item: T, due: float, delay: float) -> None:
        await self._clock.sleep(delay)
        # A later, earlier-due `add_after` superseded this timer; that one adds the item.
        if self._waiting_until.get(item) != due:
            return
        del self._waiting_until[item]
        self.add(item)

    def add_rate_limited(self, item: T) -> None:
        """Retry the item after the rate limiter's delay (per-item backoff, overall token bucket)."""
        self.stats.retries += 1
        self.add_after(item, self._rate_limiter.when(item))

    def forget(self, item: T) -> None:
        """The item was processed successfully: reset its backoff."""
        self._rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self._rate_limiter.num_requeues(item)

    async def get(self) -> T | None:
        """The next item, marked as processing; waits for one. `None` means the queue shut down."""
        while not self._queue:
            if self._shutting_down:
                return None
            wake_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle_workers.append(wake_up)
            try:
                await wake_up
            except asyncio.CancelledError:
                # A wake-up that arrived together with the cancellation belongs to another worker.
                if wake_up.done() and not wake_up.cancelled():
                    self._wake_one()
                raise
        item = self._queue.popleft()
        self._processing.add(item)
        self._dirty.discard(item)
        return item

    def done(self, item: T) -> None:
        """The worker finished with the item; if it was added meanwhile, queue it again."""
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._wake_one()

    def shutdown(self) -> None:
        """Stop accepting items, cancel delayed ones, and wake every waiting worker."""
        self._shutting_down = True
        for timer in list(self._timers):
            timer.cancel()
        self._waiting_until.clear()
        while self._idle_workers:
            self._wake_one()

    def _wake_one(self) -> None:
        # Futures rather than a Condition keep `add` synchronous (informer handlers call it) and
        # cost no task per item on the hot path.
        while self._idle_workers:
            wake_up = self._idle_workers.popleft()
            if not wake_up.done():
                wake_up.set_result(None)
                return
