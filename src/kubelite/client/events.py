"""The Event recorder: controllers report what they did as core/v1 Events, aggregated like Kubernetes.

Data flow: `recorder.event(obj, "Normal", "SuccessfulCreate", "Created pod: web-1")` is
synchronous and only queues; `run(stop)` drains the queue through an `EventCorrelator` and writes:
a new Event is created (`count: 1`), and a repeat of the same event is a PATCH raising `count` and
`lastTimestamp` on the Event written before, the way client-go's `EventCorrelator`
(k8s.io/client-go/tools/record/events_cache.go) keeps `kubectl get events` readable:
- **spam filter**: a token bucket per (source, involved object), burst 25, refilling one token
  every 5 minutes; events beyond it are dropped;
- **aggregation**: more than 10 events within 10 minutes that differ only in their message
  collapse into one Event whose message starts with "(combined from similar events): ";
- **dedupe**: identical events (same object, type, reason, message, source) become one Event
  whose count grows.
Writing never blocks the caller: when the queue is full, events are dropped, as the broadcaster
does.

The timestamp helpers here are the client's one place to format Kubernetes `Time`/`MicroTime`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from kubelite.api.resources import EVENTS
from kubelite.clock import Clock

from .client import ApiClient, Object
from .errors import ApiError, TransportError

log = logging.getLogger(__name__)

EventType = Literal["Normal", "Warning"]

SPAM_BURST = 25
SPAM_REFILL_SECONDS = 300.0
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL_SECONDS = 600.0
CACHE_SIZE = 4096
QUEUE_SIZE = 1000
COMBINED_PREFIX = "(combined from similar events): "


def format_time(seconds: float) -> str:
    """A Kubernetes `Time`: RFC 3339 in UTC with whole seconds."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(seconds: float) -> str:
    """A Kubernetes `MicroTime`: RFC 3339 in UTC with microseconds (Lease renewTime, eventTime)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: Any) -> float | None:
    """Seconds since the epoch of a `Time` or `MicroTime` string; None if absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def object_reference(obj: Object) -> dict[str, Any]:
    """The `involvedObject` reference to an object."""
    metadata = obj.get("metadata") or {}
    reference = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": metadata.get("name", ""),
        "uid": metadata.get("uid", ""),
        "resourceVersion": metadata.get("resourceVersion", ""),
    }
    if metadata.get("namespace"):
        reference["namespace"] = metadata["namespace"]
    return {key: value for key, value in reference.items() if value}


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """One call to `event`, before correlation."""

    reference: dict[str, Any]
    type: EventType
    reason: str
    message: str
    at: float


@dataclass(slots=True)
class _Recorded:
    """What the correlator remembers of an Event it wrote."""

    namespace: str
    name: str
    count: int
    first_timestamp: float


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float


@dataclass(slots=True)
class _Aggregate:
    messages: set[str]
    first_seen: float


@dataclass(frozen=True, slots=True)
class Correlation:
    """What to write: a new Event, or a patch of `count` on one written before; `skip` drops it."""

    event: PendingEvent
    key: tuple[str, ...]
    existing: _Recorded | None
    skip: bool = False


def _object_identity(reference: dict[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(reference.get(field, "")) for field in ("kind", "namespace", "name", "uid", "apiVersion")
    )


class EventCorrelator:
    """Spam filter, aggregator and dedupe cache of client-go's events_cache.go, on an injected clock."""

    def __init__(self, clock: Clock, component: str) -> None:
        self._clock = clock
        self.component = component
        self._buckets: OrderedDict[tuple[str, ...], _Bucket] = OrderedDict()
        self._aggregates: OrderedDict[tuple[str, ...], _Aggregate] = OrderedDict()
        self._written: OrderedDict[tuple[str, ...], _Recorded] = OrderedDict()

    def correlate(self, event: PendingEvent) -> Correlation:
        identity = _object_identity(event.reference)
        if not self._allow(identity):
            return Correlation(event, (), None, skip=True)
        event = self._aggregate(identity, event)
        # Aggregated events share one key whatever their message, so that one Event counts them.
        message_key = COMBINED_PREFIX if event.message.startswith(COMBINED_PREFIX) else event.message
        key = (self.component, *identity, event.type, event.reason, message_key)
        return Correlation(event, key, self._written.get(key))

    def recorded(self, key: tuple[str, ...], record: _Recorded) -> None:
        """Remember a written Event so that its repeats patch it."""
        self._written[key] = record
        self._written.move_to_end(key)
        while len(self._written) > CACHE_SIZE:
            self._written.popitem(last=False)

    def forget(self, key: tuple[str, ...]) -> None:
        self._written.pop(key, None)

    def _allow(self, identity: tuple[str, ...]) -> bool:
        now = self._clock.monotonic()
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = _Bucket(float(SPAM_BURST), now)
            self._buckets[identity] = bucket
            if len(self._buckets) > CACHE_SIZE:
                self._buckets.popitem(last=False)
        bucket.tokens = min(float(SPAM_BURST), bucket.tokens + (now - bucket.last) / SPAM_REFILL_SECONDS)
        bucket.last = now
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def _aggregate(self, identity: tuple[str, ...], event: PendingEvent) -> PendingEvent:
        now = self._clock.monotonic()
        key = (*identity, event.type, event.reason)
        aggregate = self._aggregates.get(key)
        if aggregate is None or now - aggregate.first_seen > AGGREGATE_INTERVAL_SECONDS:
            aggregate = _Aggregate(set(), now)
            self._aggregates[key] = aggregate
            if len(self._aggregates) > CACHE_SIZE:
                self._aggregates.popitem(last=False)
        aggregate.messages.add(event.message)
        if len(aggregate.messages) < AGGREGATE_MAX_EVENTS:
            return event
        return PendingEvent(
            event.reference, event.type, event.reason, COMBINED_PREFIX + event.message, event.at
        )


class EventRecorder:
    """Queue events for objects and write them, aggregated, from `run`."""

    def __init__(self, client: ApiClient, clock: Clock, component: str, host: str = "") -> None:
        self._client = client
        self._clock = clock
        self.component = component
        self.host = host
        self.correlator = EventCorrelator(clock, component)
        self._pending: asyncio.Queue[PendingEvent] = asyncio.Queue(QUEUE_SIZE)
        self.dropped = 0
        self.written = 0

    def event(self, obj: Object, event_type: EventType, reason: str, message: str) -> None:
        """Record that something happened to `obj`; never blocks and never raises."""
        pending = PendingEvent(object_reference(obj), event_type, reason, message, self._clock.now())
        try:
            self._pending.put_nowait(pending)
        except asyncio.QueueFull:
            self.dropped += 1

    async def run(self, stop: asyncio.Event) -> None:
        """Write queued events until `stop` is set, then write what is left."""
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                getting = asyncio.create_task(self._pending.get())
                await asyncio.wait({getting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not getting.done():
                    getting.cancel()
                    break
                await self.write(getting.result())
            while not self._pending.empty():
                await self.write(self._pending.get_nowait())
        finally:
            stopping.cancel()

    async def flush(self) -> None:
        """Write every queued event now (tests and shutdown)."""
        while not self._pending.empty():
            await self.write(self._pending.get_nowait())

    async def write(self, pending: PendingEvent) -> None:
        correlation = self.correlator.correlate(pending)
        if correlation.skip:
            self.dropped += 1
            return
        try:
            if correlation.existing is not None:
                if await self._patch_repeat(correlation.existing, correlation.event):
                    self.written += 1
                    return
                self.correlator.forget(correlation.key)
            record = await self._create(correlation.event)
            self.correlator.recorded(correlation.key, record)
            self.written += 1
        except (ApiError, TransportError) as error:
            # Events are best effort: a namespace being deleted refuses them, for example.
            self.dropped += 1
            log.debug("event %s/%s not written: %s", pending.reason, pending.message, error)

    async def _patch_repeat(self, existing: _Recorded, event: PendingEvent) -> bool:
        existing.count += 1
        patch = {"count": existing.count, "lastTimestamp": format_time(event.at), "message": event.message}
        try:
            await self._client.patch(EVENTS, existing.name, patch, existing.namespace)
        except ApiError as error:
            if error.code == 404:
                return False  # expired or deleted on the server: write a fresh Event
            raise
        return True

    async def _create(self, event: PendingEvent) -> _Recorded:
        reference = event.reference
        namespace = str(reference.get("namespace") or "default")
        # Kubernetes names Events "<object>.<unix nanoseconds in hex>".
        name = f"{reference.get('name', 'unknown')}.{int(event.at * 1e9):x}"
        body: Object = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": reference,
            "type": event.type,
            "reason": event.reason,
            "message": event.message,
            "count": 1,
            "firstTimestamp": format_time(event.at),
            "lastTimestamp": format_time(event.at),
            "source": {"component": self.component, **({"host": self.host} if self.host else {})},
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
        try:
            await self._client.create(EVENTS, body, namespace)
        except ApiError as error:
            if error.code != 409:
                raise
            body["metadata"]["name"] = name = f"{name}{self.written:x}"
            await self._client.create(EVENTS, body, namespace)
        return _Recorded(namespace, name, 1, event.at)
