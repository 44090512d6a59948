"""The scheduling queue: active heap, backoff heap, and the unschedulable pool (kube-scheduler's
PriorityQueue, pkg/scheduler/internal/queue).

- `active`: a heap ordered by the QueueSort key (PrioritySort: priority, then creation time).
- `backoff`: pods that failed recently wait `initial * 2^(attempts-1)` seconds, capped (1 s doubling
  to 10 s by default), ordered by expiry; `flush` moves expired ones to `active`.
- `unschedulable`: pods that no node could take. They leave only when a cluster event that could
  make them fit arrives (`on_cluster_event`: a node added or changed, a pod deleted, filtered by
  the events that the rejecting plugins registered), or after `unschedulable_timeout` as a safety
  net, never by polling. A pod moved while still inside its backoff window goes to `backoff`.
Entries are lazily deleted: a dict holds the live `QueuedPod` per key, and stale heap entries are
skipped on pop. All time comes from the injected `Clock`.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from kubelite.clock import Clock
from kubelite.scheduler.framework.interface import ClusterEvent
from kubelite.scheduler.records import PodInfo

Where = Literal["active", "backoff", "unschedulable", "in-flight"]
SortKey = Callable[[PodInfo], tuple[float, ...]]


def priority_sort_key(pod: PodInfo) -> tuple[float, ...]:
    return (-pod.priority, pod.creation)


@dataclass(slots=True)
class QueuedPod:
    pod: PodInfo
    added: float
    attempts: int = 0
    last_failure: float = 0.0
    rejecting_plugins: frozenset[str] = frozenset()
    where: Where = "active"
    generation: int = 0
    move_requested: bool = field(default=False)


class SchedulingQueue:
    def __init__(
        self,
        clock: Clock,
        sort_key: SortKey = priority_sort_key,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        unschedulable_timeout: float = 300.0,
        plugin_events: Mapping[str, frozenset[ClusterEvent]] | None = None,
    ) -> None:
        self._clock = clock
        self._sort_key = sort_key
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.unschedulable_timeout = unschedulable_timeout
        self._plugin_events = dict(plugin_events or {})
        self._pods: dict[str, QueuedPod] = {}
        self._active: list[tuple[tuple[float, ...], int, str, int]] = []
        self._backoff: list[tuple[float, int, str, int]] = []
        self._sequence = itertools.count()
        self._counts: dict[Where, int] = {"active": 0, "backoff": 0, "unschedulable": 0, "in-flight": 0}
        # The pods an event may move, kept apart so that events and flushes never walk the whole queue.
        self._parked: dict[str, QueuedPod] = {}  # unschedulable
        self._in_flight: dict[str, QueuedPod] = {}
        self._next_timeout_sweep = 0.0

    # -- sizes --------------------------------------------------------------------------------
    def sizes(self) -> dict[str, int]:
        return {str(where): count for where, count in self._counts.items()}

    def __len__(self) -> int:
        return len(self._pods)

    def __contains__(self, key: object) -> bool:
        return key in self._pods

    # -- adding and removing ------------------------------------------------------------------
    def add(self, pod: PodInfo) -> None:
        """A new pending pod, or an update of one already queued: an update that changes what the
        scheduler reads moves an unschedulable pod out of the pool, as kube-scheduler does."""
        queued = self._pods.get(pod.key)
        if queued is None:
            queued = QueuedPod(pod, self._clock.monotonic())
            self._pods[pod.key] = queued
            self._counts["active"] += 1
            self._to_active(queued)
            return
        unchanged = queued.pod.same_for_scheduling(pod)
        queued.pod = pod
        if unchanged:
            return  # e.g. our own status write coming back on watch: no reason to retry early
        if queued.where == "unschedulable":
            # An update to the pod itself may make it schedulable (kube-scheduler moves it, too).
            self._move_out_of_unschedulable(queued)
        elif queued.where == "active":
            self._to_active(queued)

    def delete(self, key: str) -> None:
        queued = self._pods.pop(key, None)
        if queued is not None:
            self._counts[queued.where] -= 1
            queued.generation += 1
        self._track(key, None)

    # -- popping ------------------------------------------------------------------------------
    def pop(self) -> QueuedPod | None:
        """The next pod to schedule (now in flight), or None if `active` is empty after a flush."""
        self.flush()
        while self._active:
            _, _, key, generation = heapq.heappop(self._active)
            queued = self._pods.get(key)
            if queued is None or queued.generation != generation or queued.where != "active":
                continue
            self._set_where(queued, "in-flight")
            queued.attempts += 1
            return queued
        return None

    def next_wakeup(self) -> float | None:
        """Seconds until the earliest backoff expiry, for a loop that wants to sleep until then."""
        while self._backoff:
            expiry, _, key, generation = self._backoff[0]
            queued = self._pods.get(key)
            if queued is None or queued.generation != generation or queued.where != "backoff":
                heapq.heappop(self._backoff)
                continue
            return max(0.0, expiry - self._clock.monotonic())
        return None

    # -- outcomes of an attempt ----------------------------------------------------------------
    def done(self, key: str) -> None:
        """The pod was scheduled (assumed); it leaves the queue."""
        self.delete(key)

    def requeue_unschedulable(self, queued: QueuedPod, rejecting_plugins: frozenset[str]) -> None:
        queued.last_failure = self._clock.monotonic()
        queued.rejecting_plugins = rejecting_plugins
        if key_is_gone(self._pods, queued):
            return
        if queued.move_requested:
            # An event arrived while the pod was in flight: it may fit now, so do not park it.
            queued.move_requested = False
            self._to_backoff_or_active(queued)
        else:
            self._set_where(queued, "unschedulable")

    def requeue_after_error(self, queued: QueuedPod) -> None:
        """A binding or internal error: retry after backoff."""
        queued.last_failure = self._clock.monotonic()
        if not key_is_gone(self._pods, queued):
            self._to_backoff_or_active(queued)

    def readd_after_error(self, queued: QueuedPod) -> None:
        """A pod that had left the queue (its binding failed) comes back, into backoff."""
        if queued.pod.key in self._pods:
            return
        self._pods[queued.pod.key] = queued
        self._counts[queued.where] += 1
        self._track(queued.pod.key, queued)
        self.requeue_after_error(queued)

    def backoff_seconds(self, attempts: int) -> float:
        doublings = max(attempts - 1, 0)
        return float(min(self.initial_backoff * float(2**doublings), self.max_backoff))

    # -- events -------------------------------------------------------------------------------
    def on_cluster_event(self, event: ClusterEvent) -> int:
        """Move the unschedulable pods this event could help; returns how many moved."""
        for queued in self._in_flight.values():
            queued.move_requested = True
        moved = 0
        for queued in list(self._parked.values()):
            if self._helps(queued, event):
                self._move_out_of_unschedulable(queued)
                moved += 1
        return moved

    def _helps(self, queued: QueuedPod, event: ClusterEvent) -> bool:
        if not queued.rejecting_plugins:
            return True
        return any(
            event in self._plugin_events.get(name, frozenset({event})) for name in queued.rejecting_plugins
        )

    def flush(self) -> None:
        now = self._clock.monotonic()
        while self._backoff and self._backoff[0][0] <= now:
            _, _, key, generation = heapq.heappop(self._backoff)
            queued = self._pods.get(key)
            if queued is not None and queued.generation == generation and queued.where == "backoff":
                self._to_active(queued)
        if self._parked and now >= self._next_timeout_sweep:
            self._next_timeout_sweep = now + 1.0  # the safety net needs no finer resolution
            for queued in list(self._parked.values()):
                if now - queued.last_failure >= self.unschedulable_timeout:
                    self._move_out_of_unschedulable(queued)

    # -- internals ----------------------------------------------------------------------------
    def _move_out_of_unschedulable(self, queued: QueuedPod) -> None:
        self._to_backoff_or_active(queued)

    def _to_backoff_or_active(self, queued: QueuedPod) -> None:
        expiry = queued.last_failure + self.backoff_seconds(queued.attempts)
        if expiry > self._clock.monotonic():
            self._set_where(queued, "backoff")
            queued.generation += 1
            heapq.heappush(self._backoff, (expiry, next(self._sequence), queued.pod.key, queued.generation))
        else:
            self._to_active(queued)

    def _to_active(self, queued: QueuedPod) -> None:
        self._set_where(queued, "active")
        queued.generation += 1
        entry = (self._sort_key(queued.pod), next(self._sequence), queued.pod.key, queued.generation)
        heapq.heappush(self._active, entry)

    def _set_where(self, queued: QueuedPod, where: Where) -> None:
        key = queued.pod.key
        if key in self._pods and queued.where != where:
            self._counts[queued.where] -= 1
            self._counts[where] += 1
        queued.where = where
        self._track(key, queued)

    def _track(self, key: str, queued: QueuedPod | None) -> None:
        self._parked.pop(key, None)
        self._in_flight.pop(key, None)
        if queued is None or self._pods.get(key) is not queued:
            return
        if queued.where == "unschedulable":
            self._parked[key] = queued
        elif queued.where == "in-flight":
            self._in_flight[key] = queued


def key_is_gone(pods: Mapping[str, QueuedPod], queued: QueuedPod) -> bool:
    return pods.get(queued.pod.key) is not queued
