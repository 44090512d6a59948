"""The scheduler loop: cluster events in, one pod at a time through the framework, bindings out.

Data flow:
- `on_node(kind, node)` / `on_pod(kind, pod)` take watch events (from informers in a live
  scheduler, directly from the simulator or benchmark). Nodes and bound pods update the node table
  and wake unschedulable pods through `SchedulingQueue.on_cluster_event`; pending pods whose
  `schedulerName` has a profile here enter the queue.
- `schedule_one()` pops the best pod, runs its profile's scheduling cycle against the table
  (pure), then reserves and assumes the pod on the chosen row at once, so the next pod already
  sees it, and starts the binding cycle as an asyncio task ("assume and forget"). A failed
  binding is rolled back (unreserve + forget) and the pod goes to backoff.
- A pod that fits nowhere goes to the unschedulable pool; the `ClusterWriter` sets its
  PodScheduled=False/Unschedulable condition and a FailedScheduling event with the Kubernetes-style
  message, and, when preemption found a node, nominates it and deletes the victims.
- `run()` drives `schedule_one` until stopped, sleeping on the injected clock until a new pod, an
  event or a backoff expiry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from typing import Any, Literal, Protocol

from kubelite.clock import Clock
from kubelite.scheduler.framework.interface import ClusterEvent, EnqueueExtensions
from kubelite.scheduler.framework.runtime import Framework, ScheduleResult
from kubelite.scheduler.framework.status import Code, Status
from kubelite.scheduler.messages import failed_scheduling_message
from kubelite.scheduler.metrics import SchedulerMetrics
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.queue import QueuedPod, SchedulingQueue
from kubelite.scheduler.records import NodeInfo, PodInfo

EventKind = Literal["ADDED", "MODIFIED", "DELETED"]


class ClusterWriter(Protocol):
    """What the scheduler writes back to the API (a client in production, memory in benchmarks)."""

    async def bind(self, pod: PodInfo, node_name: str, annotations: Mapping[str, str]) -> Status: ...

    async def mark_unschedulable(self, pod: PodInfo, message: str, nominated_node: str) -> None: ...

    async def evict(self, victim: PodInfo, preemptor: PodInfo) -> None: ...


class Scheduler:
    def __init__(
        self,
        frameworks: Mapping[str, Framework],
        writer: ClusterWriter,
        clock: Clock,
        *,
        table: NodeTable | None = None,
        metrics: SchedulerMetrics | None = None,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
    ) -> None:
        self.frameworks = dict(frameworks)
        self.writer = writer
        self.clock = clock
        self.table = table if table is not None else NodeTable()
        self.metrics = metrics if metrics is not None else SchedulerMetrics()
        first = next(iter(self.frameworks.values()))
        plugin_events: dict[str, frozenset[ClusterEvent]] = {}
        for framework in self.frameworks.values():
            for plugin in framework.plugins:
                if isinstance(plugin, EnqueueExtensions):
                    plugin_events[str(getattr(plugin, "name", ""))] = plugin.events_to_register()
        sort_key = first.queue_sort.sort_key if first.queue_sort is not None else None
        self.queue = (
            SchedulingQueue(clock, sort_key, initial_backoff, max_backoff, plugin_events=plugin_events)
            if sort_key is not None
            else SchedulingQueue(clock, initial_backoff=initial_backoff, max_backoff=max_backoff)
        )
        self._wakeup = asyncio.Event()
        self._binding: set[asyncio.Task[None]] = set()
        self.bound_count = 0

    # -- events -------------------------------------------------------------------------------
    def on_node(self, kind: EventKind, node: NodeInfo) -> None:
        if kind == "DELETED":
            self.table.remove_node(node.name)
            self.queue.on_cluster_event("NodeDelete")
        else:
            row = self.table.row_of(node.name)
            if row is not None and self.table.node_at(row).same_for_scheduling(node):
                return  # a heartbeat: nothing that could make a pod fit has changed
            self.table.add_node(node)
            self._notify("NodeUpdate" if row is not None else "NodeAdd")

    def on_pod(self, kind: EventKind, pod: PodInfo) -> None:
        if kind == "DELETED" or pod.terminating:
            self.queue.delete(pod.key)
            if self.table.remove_pod(pod.key) is not None:
                self._notify("PodDelete")
            return
        if pod.deleting and not pod.node_name:
            self.queue.delete(pod.key)  # a pending pod being deleted is not worth placing
            return
        if pod.node_name:
            # A bound pod being deleted keeps its resources until it is gone, as in kube-scheduler's cache.
            self.queue.delete(pod.key)
            was_known = self.table.pod_row(pod.key) is not None
            self.table.add_pod(pod)
            if not was_known:
                self._notify("PodAdd")
            return
        if pod.scheduler_name in self.frameworks and not self.table.is_assumed(pod.key):
            self.queue.add(pod)
            self._wakeup.set()

    def _notify(self, event: ClusterEvent) -> None:
        if self.queue.on_cluster_event(event):
            self._wakeup.set()

    # -- the scheduling cycle -----------------------------------------------------------------
    def schedule_one(self) -> bool:
        """Schedule the next pod, if any; returns False when the active queue is empty."""
        queued = self.queue.pop()
        if queued is None:
            return False
        pod = queued.pod
        framework = self.frameworks[pod.scheduler_name]
        started = self.clock.monotonic()
        result = framework.schedule(pod, self.table)
        if not result.scheduled:
            self._handle_unschedulable(framework, queued, result)
            self.metrics.attempt("unschedulable", framework.profile_name, self.clock.monotonic() - started)
            return True
        status, assumed = framework.assume(result, self.table)
        if not status.is_success:
            self.queue.requeue_after_error(queued)
            self.metrics.attempt("error", framework.profile_name, self.clock.monotonic() - started)
            return True
        self.queue.done(pod.key)
        self.metrics.attempt("scheduled", framework.profile_name, self.clock.monotonic() - started)
        task = asyncio.get_running_loop().create_task(self._bind(framework, result, assumed, queued))
        self._binding.add(task)
        task.add_done_callback(self._binding.discard)
        return True

    async def _bind(
        self, framework: Framework, result: ScheduleResult, assumed: PodInfo, queued: QueuedPod
    ) -> None:
        status, wait = framework.permit(result.state, assumed, result.node_name)
        if status.code is Code.WAIT:
            status = await self._wait_at_permit(framework, assumed, wait)
        if status.is_success:
            status = await framework.bind(result.state, assumed, self.table, result.row)
        else:
            framework.unreserve(result.state, assumed, self.table, result.row)
            self.table.forget_pod(assumed.key)
        if status.is_success:
            self.bound_count += 1
            self.metrics.bound(framework.profile_name, self.clock.monotonic() - queued.added)
            return
        self.queue.readd_after_error(queued)
        self._wakeup.set()

    async def _wait_at_permit(self, framework: Framework, pod: PodInfo, timeout: float) -> Status:
        waiting = framework.waiting_pods.get(pod.key)
        if waiting is None:
            return Status.error("a Permit plugin asked to wait but the pod is not registered")
        timer: asyncio.Future[Any] = asyncio.ensure_future(self.clock.sleep(timeout))
        decision: asyncio.Future[Any] = waiting.decision
        try:
            await asyncio.wait([decision, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            framework.waiting_pods.remove(pod.key)
        if waiting.decision.done():
            return waiting.decision.result()
        plugins = ", ".join(sorted(waiting.pending_plugins))
        return Status.unschedulable(f"rejected due to timeout after waiting {timeout:g}s at plugin(s) {plugins}")

    def _handle_unschedulable(self, framework: Framework, queued: QueuedPod, result: ScheduleResult) -> None:
        message = failed_scheduling_message(result)
        nominated = ""
        post = result.post_filter
        if post is not None and post.status.is_success:
            nominated = post.nominated_node
            for victim in post.victims:
                self._spawn(self.writer.evict(victim, queued.pod))
        self.queue.requeue_unschedulable(queued, result.rejecting_plugins)
        self._spawn(self.writer.mark_unschedulable(queued.pod, message, nominated))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._binding.add(task)
        task.add_done_callback(self._binding.discard)

    # -- driving --------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, batch: int = 64) -> None:
        """Schedule until `stop` is set; yields to binding tasks every `batch` pods."""
        while not stop.is_set():
            scheduled = 0
            while scheduled < batch and self.schedule_one():
                scheduled += 1
            self.metrics.queue_sizes(self.queue.sizes())
            if scheduled:
                await asyncio.sleep(0)
                continue
            self._wakeup.clear()
            delay = self.queue.next_wakeup()
            waiters: list[asyncio.Future[Any]] = [
                asyncio.ensure_future(self._wakeup.wait()),
                asyncio.ensure_future(stop.wait()),
            ]
            if delay is not None:
                waiters.append(asyncio.ensure_future(self.clock.sleep(delay)))
            _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()

    async def drain_bindings(self) -> None:
        while self._binding:
            await asyncio.gather(*list(self._binding), return_exceptions=True)
