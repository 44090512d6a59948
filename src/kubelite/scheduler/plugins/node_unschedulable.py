"""NodeUnschedulable (Filter): cordoned nodes (`spec.unschedulable`) take only pods that tolerate the
`node.kubernetes.io/unschedulable:NoSchedule` taint; `node(s) were unschedulable` is unresolvable.
The result depends on node attributes only, so it is memoised per node class (see `memo.py`)."""

from __future__ import annotations

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import (
    ALL_FEASIBLE,
    ClusterEvent,
    EnqueueExtensions,
    FilterPlugin,
    FilterResult,
    NodeRejection,
)
from kubelite.scheduler.memo import AttributeMemo
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import NodeInfo, PodInfo, Taint, Toleration

UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")


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
            if not rejected.any():
                result = ALL_FEASIBLE
            if len(self._results) > 1024:
                self._results.clear()
            self._results[key] = result
        return result

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return frozenset({"NodeAdd", "NodeUpdate"})


_: tuple[type[FilterPlugin], type[EnqueueExtensions]] = (NodeUnschedulable, NodeUnschedulable)
