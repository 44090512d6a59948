"""Hollow nodes: many fake nodes in one process, in the way KWOK does, for scale tests and benchmarks.

Entry point: `run_hollow_nodes(client, count, settings, clock, stop)`. Node `i` is named
`<settings.node_name>-<i>`. Data flow, with no per-node task anywhere:
- registration creates every Node (with status: capacity, allocatable, Ready) and its Lease, at most
  `hollow_write_concurrency` requests in flight;
- one heartbeat loop renews all Leases every `lease_renew_seconds`, as one bounded batch;
- one shared watch on all pods (no field selector can name 5,000 nodes) keeps the pods bound to a
  hollow node: a new one is marked Running (containers running and ready, conditions True) after
  `hollow_start_delay_seconds`; one with a deletionTimestamp is deleted with grace 0.
Per node the process keeps a name and a uid, so 5,000 nodes fit well under 1 GB (measured: 148 MB
RSS for 5,000 nodes with 500 pods; a heartbeat round of 5,000 Lease patches costs ~0.65 s of this
process's CPU and ~1 s of the API server's, every 10 s; see docs/agent.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from kubelite.agent.node_status import (
    ConditionReading,
    condition_objects,
    lease_object,
    node_object,
    node_status,
    rfc3339,
    rfc3339_micro,
)
from kubelite.agent.registration import ensure_runtime_classes
from kubelite.agent.settings import AgentSettings
from kubelite.api.pod_resources import parse_resource_list
from kubelite.api.resources import LEASES, NODES, PODS
from kubelite.client import ApiClient, ApiError, TransportError
from kubelite.clock import Clock

log = logging.getLogger(__name__)
Object = dict[str, Any]
HOLLOW_LABEL = "kubelite.io/hollow"


async def _bounded(limit: int, jobs: Iterable[Callable[[], Awaitable[None]]]) -> None:
    semaphore = asyncio.Semaphore(limit)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with semaphore:
            try:
                await job()
            except (ApiError, TransportError) as error:
                log.info("hollow node write failed: %s", error)

    await asyncio.gather(*(run(job) for job in jobs))


def running_status(pod: Object, host_ip: str, now: float) -> Object:
    """The status a healthy pod shows: Running, every container running and ready."""
    stamp = rfc3339(now)
    conditions = [
        {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": stamp}
        for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    containers = (pod.get("spec") or {}).get("containers") or []
    return {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": host_ip,
        "podIP": host_ip,
        "startTime": stamp,
        "containerStatuses": [
            {
                "name": c.get("name", ""),
                "ready": True,
                "started": True,
                "restartCount": 0,
                "image": c.get("image", ""),
                "imageID": "",
                "state": {"running": {"startedAt": stamp}},
            }
            for c in containers
        ],
    }


class HollowNodes:
    """See the module docstring."""

    def __init__(self, client: ApiClient, count: int, settings: AgentSettings, clock: Clock) -> None:
        self.client = client
        self.settings = settings
        self.clock = clock
        self.names = [f"{settings.node_name}-{index}" for index in range(count)]
        self._known = set(self.names)
        self._uids: dict[str, str] = {}
        self._started: set[str] = set()
        self.pods_started = 0
        self.pods_deleted = 0
        #: Seconds the last heartbeat round took (every Lease renewed), and rounds done.
        self.last_heartbeat_seconds = 0.0
        self.heartbeat_rounds = 0

    def _node(self, name: str) -> Object:
        capacity = parse_resource_list(self.settings.hollow_capacity)
        ready = [ConditionReading("Ready", "True", "KubeletReady", "hollow node is posting ready status")]
        status = node_status(
            capacity, capacity, condition_objects(ready, [], self.clock.now()), "127.0.0.1", name, 0
        )
        labels = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": "hollow",
            HOLLOW_LABEL: "true",
            **self.settings.labels,
        }
        return node_object(name, labels, status)

    async def register(self) -> None:
        await ensure_runtime_classes(self.client)

        def register_one(name: str) -> Callable[[], Awaitable[None]]:
            async def job() -> None:
                node = self._node(name)
                try:
                    created = await self.client.create(NODES, node)
                except ApiError as error:
                    if error.code != 409:
                        raise
                    created = await self.client.get(NODES, name)
                self._uids[name] = str(created["metadata"].get("uid", ""))
                await self.client.patch(NODES, name, {"status": node["status"]}, subresource="status")
                lease = lease_object(
                    name, self._uids[name], self.settings.lease_duration_seconds, self.clock.now()
                )
                try:
                    await self.client.create(LEASES, lease, "kube-node-lease")
                except ApiError as error:
                    if error.code != 409:
                        raise

            return job

        await _bounded(self.settings.hollow_write_concurrency, (register_one(n) for n in self.names))

    async def renew_leases(self) -> None:
        renew_time = rfc3339_micro(self.clock.now())

        def renew(name: str) -> Callable[[], Awaitable[None]]:
            async def job() -> None:
                await self.client.patch(LEASES, name, {"spec": {"renewTime": renew_time}}, "kube-node-lease")

            return job

        await _bounded(self.settings.hollow_write_concurrency, (renew(n) for n in self.names))

    async def heartbeat(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.clock.sleep(self.settings.lease_renew_seconds)
            began = self.clock.monotonic()
            await self.renew_leases()
            self.last_heartbeat_seconds = self.clock.monotonic() - began
            self.heartbeat_rounds += 1
            # A round that nears the renew interval means the Leases are about to lag behind.
            log.info("renewed %d leases in %.2f s", len(self.names), self.last_heartbeat_seconds)

    def on_pod(self, pod: Object, spawn: Callable[[Awaitable[None]], None]) -> None:
        metadata = pod.get("metadata") or {}
        node = (pod.get("spec") or {}).get("nodeName")
        if node not in self._known:
            return
        uid = str(metadata.get("uid", ""))
        if metadata.get("deletionTimestamp") is not None:
            self._started.discard(uid)
            spawn(self._delete(pod))
        elif uid not in self._started and (pod.get("status") or {}).get("phase") in (None, "Pending"):
            self._started.add(uid)
            spawn(self._mark_running(pod))

    async def _mark_running(self, pod: Object) -> None:
        if self.settings.hollow_start_delay_seconds > 0:
            await self.clock.sleep(self.settings.hollow_start_delay_seconds)
        metadata = pod["metadata"]
        status = running_status(pod, "127.0.0.1", self.clock.now())
        await self.client.patch(
            PODS, metadata["name"], {"status": status}, metadata.get("namespace"), subresource="status"
        )
        self.pods_started += 1

    async def _delete(self, pod: Object) -> None:
        metadata = pod["metadata"]
        await self.client.delete(
            PODS,
            metadata["name"],
            metadata.get("namespace"),
            grace_period_seconds=0,
            precondition_uid=metadata.get("uid"),
        )
        self.pods_deleted += 1

    async def watch_pods(self, stop: asyncio.Event) -> None:
        limit = asyncio.Semaphore(self.settings.hollow_write_concurrency)
        background: set[asyncio.Task[None]] = set()

        def spawn(work: Awaitable[None]) -> None:
            async def guarded() -> None:
                async with limit:
                    try:
                        await work
                    except (ApiError, TransportError) as error:
                        log.info("hollow pod write failed: %s", error)

            task = asyncio.create_task(guarded())
            background.add(task)
            task.add_done_callback(background.discard)

        while not stop.is_set():
            try:
                items, version = await self.client.list_all(PODS, all_namespaces=True)
                for pod in items:
                    self.on_pod(pod, spawn)
                async for event_type, pod in self.client.watch(
                    PODS, all_namespaces=True, resource_version=version
                ):
                    if event_type in ("ADDED", "MODIFIED"):
                        self.on_pod(pod, spawn)
            except (ApiError, TransportError) as error:
                log.info("hollow nodes relist pods after %s", error)
            await self.clock.sleep(0.5)


async def run_hollow_nodes(
    client: ApiClient, count: int, settings: AgentSettings, clock: Clock, stop: asyncio.Event
) -> None:
    """Register `count` hollow nodes, then heartbeat and run their pods until `stop` is set."""
    nodes = HollowNodes(client, count, settings, clock)
    await nodes.register()
    tasks = [asyncio.create_task(nodes.heartbeat(stop)), asyncio.create_task(nodes.watch_pods(stop))]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
