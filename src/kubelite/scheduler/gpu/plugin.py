"""`GpuPlacement`: a GPU placement policy as a Score + Reserve plugin of the scheduling framework.

Data flow: a `GpuNodeState` extension registered on the framework's `NodeTable` keeps, per row,
the node's GPU model (from the `nvidia.com/gpu.product` label) and how many bound or assumed pods
of each GPU affinity class it runs. For each pod, `score` builds a `GpuNodeView` of the feasible
rows (free CPU, memory and per-GPU milli straight from the table's columns, plus the free milli-GPU
of each GPU model over the whole cluster) and asks the policy;
`reserve` asks the same policy for the GPU indices on the chosen row and records them in
`CycleState.gpu_indices` and the `kubelite.io/gpu-indices` binding annotation, replacing the
best-fit choice of `GpuFit` (so this plugin must come after `GpuFit` in the profile).

Scores become integers by dense rank, so float objectives keep their order and equal scores stay
equal. Given a `tie_break_order` (a rank per row), equal best scores go to the lowest rank, which
is how the FGD paper's simulator breaks ties (a seeded random node order); without one the
framework breaks them at random, as kube-scheduler does.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import BoolArray, ScoreArray
from kubelite.scheduler.framework.status import SUCCESS, Status
from kubelite.scheduler.gpu.demand import PodDemand, format_gpu_indices
from kubelite.scheduler.gpu.policies.base import PlacementPolicy
from kubelite.scheduler.gpu.state import AFFINITY_TAGS, GpuNodeView, affinity_column, free_milli_by_model
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import (
    CPU,
    GPU_INDICES_ANNOTATION,
    GPU_PRODUCT_LABEL,
    MEMORY,
    NodeInfo,
    PodInfo,
)


def pod_demand(pod: PodInfo) -> PodDemand:
    """The `PodDemand` of a scheduler `PodInfo` (its model constraint is NodeAffinity's job)."""
    gpu_count, milli = (pod.gpu.gpu_count, pod.gpu.milli_per_gpu) if pod.gpu is not None else (0, 0)
    return PodDemand(pod.requests.get(CPU, 0), pod.requests.get(MEMORY, 0), gpu_count, milli)


class GpuNodeState:
    """Node-table extension: GPU model index and per-affinity-class pod counts, one row per node."""

    def __init__(self) -> None:
        self.models: list[str] = [""]
        self.model_index = np.zeros(0, dtype=np.int64)
        self.affinity_counts = np.zeros((0, len(AFFINITY_TAGS)), dtype=np.int64)

    def on_resize(self, capacity: int) -> None:
        grown_models = np.zeros(capacity, dtype=np.int64)
        grown_models[: len(self.model_index)] = self.model_index
        grown_counts = np.zeros((capacity, len(AFFINITY_TAGS)), dtype=np.int64)
        grown_counts[: len(self.affinity_counts)] = self.affinity_counts
        self.model_index, self.affinity_counts = grown_models, grown_counts

    def on_node_added(self, row: int, node: NodeInfo) -> None:
        model = node.labels.get(GPU_PRODUCT_LABEL, "")
        if model not in self.models:
            self.models.append(model)
        self.model_index[row] = self.models.index(model)
        self.affinity_counts[row] = 0

    def on_node_updated(self, row: int, old: NodeInfo, new: NodeInfo) -> None:
        counts = self.affinity_counts[row].copy()
        self.on_node_added(row, new)
        self.affinity_counts[row] = counts

    def on_node_removed(self, row: int, node: NodeInfo) -> None:
        self.model_index[row] = 0
        self.affinity_counts[row] = 0

    def on_pod_added(self, row: int, pod: PodInfo) -> None:
        self._count(row, pod, +1)

    def on_pod_removed(self, row: int, pod: PodInfo) -> None:
        self._count(row, pod, -1)

    def _count(self, row: int, pod: PodInfo, sign: int) -> None:
        column = affinity_column(pod_demand(pod))
        if column >= 0:
            self.affinity_counts[row, column] += sign

    def view(self, table: NodeTable, rows: NDArray[np.intp]) -> GpuNodeView:
        """The policy's view of `rows`: absent GPUs (-1 in the table) read as 0 free milli."""
        every_row = np.maximum(table.gpu_free_milli[: table.size], 0).astype(np.int64)
        cluster_free = free_milli_by_model(self.model_index[: table.size], every_row, len(self.models))
        gpu_matrix = table.gpu_free_milli[rows]
        cpu, memory = table.resource_column(CPU), table.resource_column(MEMORY)
        return GpuNodeView(
            models=tuple(self.models),
            cpu_capacity=table.allocatable(cpu)[rows],
            cpu_free=table.free(cpu)[rows],
            memory_free=table.free(memory)[rows],
            model_index=self.model_index[rows],
            gpu_count=(gpu_matrix >= 0).sum(axis=1),
            gpu_free=np.maximum(gpu_matrix, 0).astype(np.int64),
            affinity_counts=self.affinity_counts[rows],
            cluster_free_by_model=cluster_free,
        )


class GpuPlacement:
    """Score and Reserve with one `PlacementPolicy`."""

    name = "GpuPlacement"

    def __init__(self, policy: PlacementPolicy, tie_break_order: NDArray[np.int64] | None = None) -> None:
        self.policy = policy
        self.tie_break_order = tie_break_order
        self._state: GpuNodeState | None = None

    def node_state(self, table: NodeTable) -> GpuNodeState:
        """The table's `GpuNodeState`, registering one on first use."""
        if self._state is None:
            self._state = table.find_extension(GpuNodeState)
            if self._state is None:
                self._state = GpuNodeState()
                table.register(self._state)
        return self._state

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray:
        rows = np.flatnonzero(feasible)
        scores = np.zeros(table.size, dtype=np.int64)
        if rows.size == 0:
            return scores
        raw = self.policy.score(self.node_state(table).view(table, rows), pod_demand(pod))
        dense_rank = np.unique(raw, return_inverse=True)[1].astype(np.int64).reshape(-1)
        if self.tie_break_order is None:
            scores[rows] = dense_rank
        else:
            order = self.tie_break_order[rows]
            scores[rows] = dense_rank * (len(self.tie_break_order) + 1) + (len(self.tie_break_order) - order)
        return scores

    def reserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> Status:
        demand = pod_demand(pod)
        if demand.gpu_count == 0:
            return SUCCESS
        view = self.node_state(table).view(table, np.array([row]))
        indices = self.policy.choose_gpus(view, 0, demand)
        state.gpu_indices = indices
        state.bind_annotations[GPU_INDICES_ANNOTATION] = format_gpu_indices(indices)
        return SUCCESS

    def unreserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> None:
        state.gpu_indices = ()
        state.bind_annotations.pop(GPU_INDICES_ANNOTATION, None)
