"""NodeResourcesFit (Filter + Score with three strategies) and NodeResourcesBalancedAllocation.

Fit, as pkg/scheduler/framework/plugins/noderesources/fit.go: the pod's effective requests plus
what is already requested on the node must not exceed allocatable for every resource the pod
asks for (cpu, memory, ephemeral-storage, extended resources such as `nvidia.com/gpu`), and the
node must have a pod slot left. Reasons are `Insufficient <resource>` and `Too many pods`; each
node is counted under every resource it lacks, and preemption can resolve them.

Scoring strategies (KubeSchedulerConfiguration `scoringStrategy.type`), per resource r with weight
w_r, over the "non-zero" requests (a pod without a cpu/memory request counts 100m/200Mi):
- LeastAllocated: (allocatable - requested) * 100 / allocatable;
- MostAllocated: requested * 100 / allocatable (requested capped at allocatable);
- RequestedToCapacityRatio: a piecewise-linear shape over utilisation, whose 0..10 scores are
  scaled to 0..100;
then the weighted mean over the resources the node has. BalancedAllocation scores
(1 - std of the cpu and memory request fractions) * 100, with the incoming pod included.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kubelite.scheduler.framework.cycle_state import CycleState, StateKey
from kubelite.scheduler.framework.interface import (
    MAX_NODE_SCORE,
    BoolArray,
    ClusterEvent,
    FilterResult,
    NodeRejection,
    ScoreArray,
)
from kubelite.scheduler.framework.status import SUCCESS, Status
from kubelite.scheduler.memo import RowCache, Rows
from kubelite.scheduler.nodetable import IntArray, NodeTable
from kubelite.scheduler.records import CPU, MEMORY, PODS, PodInfo

ScoringStrategy = Literal["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"]
RESOURCE_EVENTS: frozenset[ClusterEvent] = frozenset({"NodeAdd", "NodeUpdate", "PodDelete"})


@dataclass(frozen=True, slots=True)
class ResourceWeight:
    name: str
    weight: int = 1


DEFAULT_RESOURCES = (ResourceWeight(CPU), ResourceWeight(MEMORY))
DEFAULT_SHAPE = ((0, 10), (100, 0))  # RequestedToCapacityRatio's default: behaves like LeastAllocated

_REQUESTS: StateKey[tuple[tuple[int, str, int], ...]] = StateKey("NodeResourcesFit/requests")


def _pod_requests(pod: PodInfo, table: NodeTable) -> tuple[tuple[int, str, int], ...]:
    return tuple(
        (table.resource_column(name), name, amount) for name, amount in pod.requests.items() if amount > 0
    )


def _requested_with_pod(pod: PodInfo, table: NodeTable, resource: str, nonzero: bool, rows: Rows) -> IntArray:
    if resource == CPU and nonzero:
        return table.nonzero_requested_cpu[rows] + pod.nonzero_cpu
    if resource == MEMORY and nonzero:
        return table.nonzero_requested_memory[rows] + pod.nonzero_memory
    return table.requested(table.resource_column(resource))[rows] + pod.requests.get(resource, 0)


def _requested_at(pod: PodInfo, table: NodeTable, resource: str, nonzero: bool, row: int) -> int:
    """`_requested_with_pod` for one row, in Python ints (the cache's scalar patch path)."""
    if resource == CPU and nonzero:
        return int(table.nonzero_requested_cpu[row]) + pod.nonzero_cpu
    if resource == MEMORY and nonzero:
        return int(table.nonzero_requested_memory[row]) + pod.nonzero_memory
    return int(table.requested(table.resource_column(resource))[row]) + pod.requests.get(resource, 0)


def _score_key(pod: PodInfo) -> tuple[object, ...]:
    return (pod.nonzero_cpu, pod.nonzero_memory, tuple(sorted(pod.requests.items())))


class NodeResourcesFit:
    name = "NodeResourcesFit"

    def __init__(
        self,
        strategy: ScoringStrategy = "LeastAllocated",
        resources: Sequence[ResourceWeight] = DEFAULT_RESOURCES,
        shape: Sequence[tuple[int, int]] = DEFAULT_SHAPE,
    ) -> None:
        self.strategy = strategy
        self.resources = tuple(resources)
        self._shape_x = np.array([point[0] for point in shape], dtype=np.float64)
        self._shape_y = np.array([point[1] * MAX_NODE_SCORE // 10 for point in shape], dtype=np.float64)
        self._cache: RowCache[tuple[object, ...]] = RowCache()

    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> Status:
        state.write(_REQUESTS, _pod_requests(pod, table))
        return SUCCESS

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        requests = state.read(_REQUESTS)
        if requests is None:
            requests = _pod_requests(pod, table)
        pods_free = table.free(table.resource_column(PODS))
        feasible = pods_free >= 1
        for column, _, amount in requests:
            feasible &= table.free(column) >= amount

        def explain() -> tuple[NodeRejection, ...]:
            rejections = [NodeRejection("Too many pods", pods_free < 1)]
            rejections += [
                NodeRejection(f"Insufficient {name}", table.free(column) < amount)
                for column, name, amount in requests
            ]
            return tuple(rejections)

        return FilterResult(feasible, explain=explain)

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray:
        return self._cache.get(
            _score_key(pod),
            table,
            lambda rows: self._score_rows(pod, table, rows),
            lambda row: self._score_row(pod, table, row),
        )

    def _score_row(self, pod: PodInfo, table: NodeTable, row: int) -> int:
        total = weight_sum = 0
        for resource in self.resources:
            allocatable = int(table.allocatable(table.resource_column(resource.name))[row])
            if allocatable <= 0:
                continue
            requested = _requested_at(pod, table, resource.name, True, row)
            if self.strategy == "LeastAllocated":
                score = max(allocatable - requested, 0) * MAX_NODE_SCORE // allocatable
            elif self.strategy == "MostAllocated":
                score = min(requested, allocatable) * MAX_NODE_SCORE // allocatable
            else:
                utilisation = min(requested * 100 // allocatable, 100)
                score = int(np.interp(utilisation, self._shape_x, self._shape_y))
            total += score * resource.weight
            weight_sum += resource.weight
        return total // max(weight_sum, 1)

    def _score_rows(self, pod: PodInfo, table: NodeTable, rows: Rows) -> IntArray:
        total: IntArray | None = None
        weight_sum: IntArray | None = None
        for resource in self.resources:
            allocatable = table.allocatable(table.resource_column(resource.name))[rows]
            requested = _requested_with_pod(pod, table, resource.name, True, rows)
            has = allocatable > 0
            safe_allocatable = np.where(has, allocatable, 1)
            if self.strategy == "LeastAllocated":
                free = np.maximum(allocatable - requested, 0)
                score = free * MAX_NODE_SCORE // safe_allocatable
            elif self.strategy == "MostAllocated":
                score = np.minimum(requested, allocatable) * MAX_NODE_SCORE // safe_allocatable
            else:
                utilisation = np.minimum(requested * 100 // safe_allocatable, 100)
                score = np.interp(utilisation, self._shape_x, self._shape_y).astype(np.int64)
            weighted = np.where(has, score * resource.weight, 0)
            weights = has * resource.weight
            total = weighted if total is None else total + weighted
            weight_sum = weights if weight_sum is None else weight_sum + weights
        if total is None or weight_sum is None:
            return np.zeros(table.size, dtype=np.int64)[rows]
        return np.asarray(total // np.maximum(weight_sum, 1), dtype=np.int64)

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return RESOURCE_EVENTS


class NodeResourcesBalancedAllocation:
    name = "NodeResourcesBalancedAllocation"

    def __init__(self, resources: Sequence[ResourceWeight] = DEFAULT_RESOURCES) -> None:
        self.resources = tuple(resources)
        self._cache: RowCache[tuple[object, ...]] = RowCache()

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray:
        return self._cache.get(
            _score_key(pod),
            table,
            lambda rows: self._score_rows(pod, table, rows),
            lambda row: self._score_row(pod, table, row),
        )

    def _score_row(self, pod: PodInfo, table: NodeTable, row: int) -> int:
        fractions = []
        for resource in self.resources:
            allocatable = int(table.allocatable(table.resource_column(resource.name))[row])
            requested = _requested_at(pod, table, resource.name, False, row)
            fractions.append(min(requested / max(allocatable, 1), 1.0))
        if len(fractions) == 2:
            deviation = abs(fractions[0] - fractions[1]) / 2
        else:
            deviation = float(np.std(np.array(fractions)))
        return int((1.0 - deviation) * MAX_NODE_SCORE)

    def _score_rows(self, pod: PodInfo, table: NodeTable, rows: Rows) -> IntArray:
        fractions = []
        for resource in self.resources:
            allocatable = table.allocatable(table.resource_column(resource.name))[rows]
            requested = _requested_with_pod(pod, table, resource.name, False, rows)
            fractions.append(np.minimum(requested / np.maximum(allocatable, 1), 1.0))
        if len(fractions) == 2:
            deviation = np.abs(fractions[0] - fractions[1]) / 2
        else:
            deviation = np.std(np.vstack(fractions), axis=0)
        scores: IntArray = ((1.0 - deviation) * MAX_NODE_SCORE).astype(np.int64)
        return scores
