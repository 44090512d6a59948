"""Small plugins: PrioritySort (QueueSort), NodeName and NodeUnschedulable (Filter), DefaultBinder (Bind).

- PrioritySort orders the active queue by priority (higher first), then by the time the pod was
  created (older first), as kube-scheduler's queuesort plugin does.
- NodeName rejects every node but `spec.nodeName` when the pod names one.
- NodeUnschedulable rejects cordoned nodes unless the pod tolerates the
  `node.kubernetes.io/unschedulable:NoSchedule` taint; memoised per node class.
- DefaultBinder persists the placement through an injected `Binder` (the API client's
  `pods/binding` call in a live scheduler, an in-memory write in the benchmark).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import numpy as np

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import (
    ALL_FEASIBLE,
    BindPlugin,
    ClusterEvent,
    EnqueueExtensions,
    FilterPlugin,
    FilterResult,
    NodeRejection,
    QueueSortPlugin,
)
from kubelite.scheduler.framework.status import Status
from kubelite.scheduler.memo import AttributeMemo
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import NodeInfo, PodInfo, Taint, Toleration

Binder = Callable[[PodInfo, str, Mapping[str, str]], Awaitable[Status]]
"""(pod, node name, annotations for the Binding) -> the outcome of persisting the binding."""

UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")
NODE_EVENTS: frozenset[ClusterEvent] = frozenset({"NodeAdd", "NodeUpdate"})


class PrioritySort:
    name = "PrioritySort"

    def sort_key(self, pod: PodInfo) -> tuple[float, ...]:
        return (-pod.priority, pod.creation)


class NodeName:
    name = "NodeName"
    reason = "node(s) didn't match the requested node name"

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        if not pod.node_name:
            return ALL_FEASIBLE
        feasible = np.zeros(table.size, dtype=np.bool_)
        row = table.row_of(pod.node_name)
        if row is not None:
            feasible[row] = True
        return FilterResult(feasible, (NodeRejection(self.reason, ~feasible, resolvable=False),))

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return NODE_EVENTS


def _cordoned_and_intolerant(tolerations: tuple[Toleration, ...], node: NodeInfo) -> int:
    if not node.unschedulable:
        return 0
    return 0 if any(t.tolerates(UNSCHEDULABLE_TAINT) for t in tolerations) else 1


class NodeUnschedulable:
    name = "NodeUnschedulable"
    reason = "node(s) were unschedulable"

    def __init__(self) -> None:
        self._memo: AttributeMemo[tuple[Toleration, ...]] = AttributeMemo(_cordoned_and_intolerant)
        self._results: dict[tuple[int, tuple[Toleration, ...]], FilterResult] = {}

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        key = (table.attribute_version, pod.tolerations)
        result = self._results.get(key)
        if result is None:
            rejected = self._memo.values(pod.tolerations, table) == 1
            result = FilterResult(~rejected, (NodeRejection(self.reason, rejected, resolvable=False),))
            if not result.all_rejections() or all(not r.nodes.any() for r in result.rejections):
                result = ALL_FEASIBLE
            if len(self._results) > 1024:
                self._results.clear()
            self._results[key] = result
        return result

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return NODE_EVENTS


class DefaultBinder:
    name = "DefaultBinder"

    def __init__(self, binder: Binder) -> None:
        self._binder = binder

    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status:
        return await self._binder(pod, node_name, state.bind_annotations)


_: tuple[type[QueueSortPlugin], type[FilterPlugin], type[BindPlugin], type[EnqueueExtensions]] = (
    PrioritySort,
    NodeName,
    DefaultBinder,
    NodeUnschedulable,
)
