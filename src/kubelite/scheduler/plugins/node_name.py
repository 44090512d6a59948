"""NodeName (Filter): a pod that names a node in `spec.nodeName` fits only there (unresolvable)."""

from __future__ import annotations

import numpy as np

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import (
    ALL_FEASIBLE,
    ClusterEvent,
    EnqueueExtensions,
    FilterPlugin,
    FilterResult,
    NodeRejection,
)
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import PodInfo

NODE_EVENTS: frozenset[ClusterEvent] = frozenset({"NodeAdd", "NodeUpdate"})


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


_: tuple[type[FilterPlugin], type[EnqueueExtensions]] = (NodeName, NodeName)
