"""The scheduler as an API client: list and watch nodes and pods, bind through `pods/binding`.

`run_scheduler(client, profiles, stop)` is what `kubelite scheduler` and `kubelite up` run. It
lists nodes and pods, feeds them to `Scheduler.on_node` / `on_pod`, then follows watches from
the listed resourceVersion (relisting on 410 Gone or a watch ERROR, and turning objects that
vanished across a relist into deletions), while `Scheduler.run` schedules. Writes go through
`ApiWriter`, a `ClusterWriter` over `ApiClient`:
- bind: POST `pods/{name}/binding` with the chosen node and annotations (e.g. GPU indices);
- unschedulable: PATCH the pod's status with condition PodScheduled=False, reason Unschedulable,
  and `nominatedNodeName` when preemption chose a node, then POST a `FailedScheduling` Warning Event;
- evict: DELETE the victim pod (with its uid as precondition).
Only standard API semantics are used, so it also runs as a second scheduler of a real cluster
(pods choose it with `spec.schedulerName`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kubelite.api.resources import EVENTS, NODES, PODS, PRIORITY_CLASSES, ResourceType
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.clock import Clock, RealClock
from kubelite.scheduler.adapter import node_info, pod_info
from kubelite.scheduler.framework.status import SUCCESS, Status
from kubelite.scheduler.metrics import SchedulerMetrics
from kubelite.scheduler.profiles import Profile, build_framework
from kubelite.scheduler.records import PodInfo
from kubelite.scheduler.scheduler import EventKind, Scheduler

log = logging.getLogger(__name__)
Object = dict[str, Any]


def _timestamp(clock: Clock) -> str:
    return datetime.fromtimestamp(clock.now(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiWriter:
    """`ClusterWriter` over the Kubernetes API."""

    def __init__(self, client: ApiClient, clock: Clock, component: str = "default-scheduler") -> None:
        self.client = client
        self.clock = clock
        self.component = component
        self._sequence = itertools.count()
        self._events: dict[str, tuple[str, str, int]] = {}  # pod key -> (event name, message, count)

    def _event_suffix(self) -> int:
        """Nanoseconds of the injected clock, made unique within this process."""
        return int(self.clock.now() * 1e9) + next(self._sequence)

    async def bind(self, pod: PodInfo, node_name: str, annotations: Mapping[str, str]) -> Status:
        try:
            await self.client.bind(pod.namespace, pod.name, node_name, annotations=dict(annotations) or None)
        except (ApiError, TransportError) as error:
            return Status.error(f"binding rejected: {error}")
        return SUCCESS

    async def mark_unschedulable(self, pod: PodInfo, message: str, nominated_node: str) -> None:
        now = _timestamp(self.clock)
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastTransitionTime": now,
        }
        status: Object = {"conditions": [condition]}
        if nominated_node:
            status["nominatedNodeName"] = nominated_node
        try:
            await self.client.patch(PODS, pod.name, {"status": status}, pod.namespace, subresource="status")
            await self._record_event(pod, message, now)
        except (ApiError, TransportError) as error:
            log.warning("could not report %s as unschedulable: %s", pod.key, error)

    async def _record_event(self, pod: PodInfo, message: str, now: str) -> None:
        """Create a FailedScheduling Event, or bump `count` on the one already recorded for the same
        pod and message (client-go's event correlator does the same, so a pending pod does not flood)."""
        previous = self._events.get(pod.key)
        if previous is not None and previous[1] == message:
            name, _, count = previous
            try:
                await self.client.patch(
                    EVENTS, name, {"count": count + 1, "lastTimestamp": now}, pod.namespace
                )
                self._events[pod.key] = (name, message, count + 1)
                return
            except ApiError as error:
                if error.code != 404:
                    raise
        name = f"{pod.name}.{self._event_suffix():x}"
        event: Object = {
            "apiVersion": "v1",
            "kind": "Event",
            # Named as client-go's event recorder names events: "<object>.<unix nanoseconds in hex>".
            "metadata": {"name": name, "namespace": pod.namespace},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": pod.name,
                "namespace": pod.namespace,
                "uid": pod.uid,
            },
            "reason": "FailedScheduling",
            "message": message,
            "type": "Warning",
            "source": {"component": self.component},
            "reportingComponent": self.component,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        }
        await self.client.create(EVENTS, event, pod.namespace)
        if len(self._events) > 10_000:
            self._events.clear()
        self._events[pod.key] = (name, message, 1)

    async def evict(self, victim: PodInfo, preemptor: PodInfo) -> None:
        try:
            await self.client.delete(PODS, victim.name, victim.namespace, precondition_uid=victim.uid or None)
        except (ApiError, TransportError) as error:
            log.warning("could not preempt %s for %s: %s", victim.key, preemptor.key, error)


_EVENT_KINDS: dict[str, EventKind] = {"ADDED": "ADDED", "MODIFIED": "MODIFIED", "DELETED": "DELETED"}


async def _list(client: ApiClient, resource: ResourceType) -> tuple[list[Object], str]:
    listed: Any = await client.list_all(resource, all_namespaces=True)
    return [dict(item) for item in listed[0]], str(listed[1])


async def _follow(
    client: ApiClient,
    resource: ResourceType,
    handle: Callable[[EventKind, Object], None],
    stop: asyncio.Event,
    clock: Clock,
) -> None:
    """List then watch `resource` forever (a minimal informer), relisting when the watch expires."""
    known: dict[str, Object] = {}

    def key_of(obj: Object) -> str:
        metadata = obj.get("metadata") or {}
        return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"

    while not stop.is_set():
        try:
            items, version = await _list(client, resource)
            listed = {key_of(item): item for item in items}
            for key, old in known.items():
                if key not in listed:
                    handle("DELETED", old)
            for item in items:
                handle("MODIFIED" if key_of(item) in known else "ADDED", item)
            known = listed
            while not stop.is_set():
                async for event_type, obj in client.watch(
                    resource, all_namespaces=True, resource_version=version
                ):
                    if event_type == "ERROR":
                        raise ApiError(
                            int(obj.get("code", 410)), str(obj.get("reason", "")), str(obj.get("message"))
                        )
                    version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
                    if event_type == "BOOKMARK":
                        continue
                    key = key_of(obj)
                    if event_type == "DELETED":
                        known.pop(key, None)
                    else:
                        known[key] = obj
                    handle(_EVENT_KINDS.get(event_type, "MODIFIED"), obj)
                    if stop.is_set():
                        return
        except (ApiError, TransportError) as error:
            log.info("relisting %s after %s", resource.plural, error)
            await clock.sleep(0.5)


async def run_scheduler(
    client: ApiClient,
    profiles: Sequence[Profile],
    stop: asyncio.Event,
    *,
    clock: Clock | None = None,
    metrics: SchedulerMetrics | None = None,
    seed: int = 0,
) -> Scheduler:
    """Run the scheduler against the API until `stop` is set; returns it (for its table and metrics)."""
    clock = clock or RealClock()
    writer = ApiWriter(client, clock, profiles[0].scheduler_name if profiles else "default-scheduler")
    frameworks = {p.scheduler_name: build_framework(p, writer.bind, seed) for p in profiles}
    scheduler = Scheduler(frameworks, writer, clock, metrics=metrics)
    priorities: dict[str, int] = {}
    try:
        classes, _ = await _list(client, PRIORITY_CLASSES)
        priorities = {str((c.get("metadata") or {}).get("name")): int(c.get("value", 0)) for c in classes}
    except (ApiError, TransportError):
        log.info("no PriorityClasses readable; pods keep the priority admission gave them")

    def on_node(kind: EventKind, obj: Object) -> None:
        scheduler.on_node(kind, node_info(obj))

    def on_pod(kind: EventKind, obj: Object) -> None:
        scheduler.on_pod(kind, pod_info(obj, priorities))

    followers = [
        asyncio.create_task(_follow(client, NODES, on_node, stop, clock)),
        asyncio.create_task(_follow(client, PODS, on_pod, stop, clock)),
    ]
    try:
        await scheduler.run(stop)
    finally:
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        await scheduler.drain_bindings()
    return scheduler
