"""Watch fan-out and the history-then-live watch stream, shared by every store backend.

Data flow: a backend publishes each committed `WatchEvent` to its `WatchHub`, in revision order,
on the event loop. The hub routes the event only to the subscriptions whose prefix matches: it
looks up the key's `/`-terminated ancestors (and the key itself) in a dict, so the cost per event
is the number of path segments plus the number of matching watchers, not the number of watchers.
Only prefixes that neither end in `/` nor name a whole key (rare) are checked one by one.

`watch_stream` joins history and live events without a gap or a duplicate: it subscribes first
and notes the hub's published revision P at that instant, all in one synchronous step. Every
event at or below P is already committed, so the backend's history reader returns it; every
event above P arrives through the subscription. Events at or below the last one yielded are
skipped, which also covers a watch that starts beyond the current revision.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable

from kubelite.store.interface import CompactedError, WatchEvent

HistoryReader = Callable[[str, int, int], AsyncIterator[WatchEvent]]
"""`(prefix, after_revision, up_to_revision)` -> the committed events in that window, in order."""


class Subscription:
    """One watcher's live buffer: events routed to it wait here until its stream takes them."""

    __slots__ = ("closed", "pending", "prefix", "wakeup")

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.pending: deque[WatchEvent] = deque()
        self.wakeup = asyncio.Event()
        self.closed = False

    def deliver(self, event: WatchEvent) -> None:
        self.pending.append(event)
        self.wakeup.set()

    def end(self) -> None:
        self.closed = True
        self.wakeup.set()


class WatchHub:
    """Routes published events to the subscriptions whose prefix matches the event's key."""

    def __init__(self, published_revision: int = 0) -> None:
        self.published_revision = published_revision
        self._by_prefix: dict[str, set[Subscription]] = {}
        # Prefixes that are neither "", nor `/`-terminated: they need a startswith check per event.
        self._partial_prefixes: dict[str, int] = {}
        self._closed = False

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscriptions) for subscriptions in self._by_prefix.values())

    def subscribe(self, prefix: str) -> Subscription:
        subscription = Subscription(prefix)
        if self._closed:
            subscription.end()
            return subscription
        self._by_prefix.setdefault(prefix, set()).add(subscription)
        if prefix and not prefix.endswith("/"):
            self._partial_prefixes[prefix] = self._partial_prefixes.get(prefix, 0) + 1
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        prefix = subscription.prefix
        subscriptions = self._by_prefix.get(prefix)
        if subscriptions is None or subscription not in subscriptions:
            return
        subscriptions.discard(subscription)
        if not subscriptions:
            del self._by_prefix[prefix]
        if prefix in self._partial_prefixes:
            self._partial_prefixes[prefix] -= 1
            if self._partial_prefixes[prefix] == 0:
                del self._partial_prefixes[prefix]

    def publish(self, event: WatchEvent) -> None:
        """Hand `event` to every matching subscription; events must arrive in revision order."""
        self.published_revision = event.revision
        by_prefix = self._by_prefix
        if not by_prefix:
            return
        key = event.kv.key
        matched = by_prefix.get("")
        if matched:
            for subscription in matched:
                subscription.deliver(event)
        slash = key.find("/")
        while slash != -1:
            matched = by_prefix.get(key[: slash + 1])
            if matched:
                for subscription in matched:
                    subscription.deliver(event)
            slash = key.find("/", slash + 1)
        if not key.endswith("/"):
            matched = by_prefix.get(key)
            if matched:
                for subscription in matched:
                    subscription.deliver(event)
        for prefix in self._partial_prefixes:
            if prefix != key and key.startswith(prefix):
                for subscription in by_prefix[prefix]:
                    subscription.deliver(event)

    def close(self) -> None:
        """End every stream (after it has drained what it already holds)."""
        self._closed = True
        for subscriptions in self._by_prefix.values():
            for subscription in subscriptions:
                subscription.end()
        self._by_prefix.clear()
        self._partial_prefixes.clear()


async def watch_stream(
    hub: WatchHub,
    prefix: str,
    after_revision: int,
    *,
    read_history: HistoryReader,
    compacted_revision: Callable[[], int],
) -> AsyncIterator[WatchEvent]:
    """Every event under `prefix` after `after_revision`: history first, then live, in order."""
    compacted = compacted_revision()
    if after_revision < compacted:
        raise CompactedError(after_revision, compacted)
    subscription = hub.subscribe(prefix)
    try:
        history_end = hub.published_revision
        last_yielded = after_revision
        if history_end > after_revision:
            async for event in read_history(prefix, after_revision, history_end):
                yield event
                last_yielded = event.revision
            last_yielded = max(last_yielded, history_end)
        while True:
            while subscription.pending:
                event = subscription.pending.popleft()
                if event.revision > last_yielded:
                    last_yielded = event.revision
                    yield event
            if subscription.closed:
                return
            subscription.wakeup.clear()
            await subscription.wakeup.wait()
    finally:
        hub.unsubscribe(subscription)
