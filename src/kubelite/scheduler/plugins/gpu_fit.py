"""GpuFit: the GPU resource contract as a Filter and a Reserve step over the node table's GPU matrix.

A pod's GPU request is (gpu_count, milli_per_gpu): whole GPUs are (n, 1000), a share of one GPU
is (1, m). Filter: a node fits when at least `gpu_count` of its GPUs have `milli_per_gpu` free
(`Insufficient nvidia.com/gpu` otherwise). Reserve: a replaceable `GpuChooser` (default: best fit,
the fitting GPUs with the least free milli) picks the indices; they go into `CycleState.gpu_indices`,
which the node table books when the pod is assumed, and into the `kubelite.io/gpu-indices`
annotation that the Binding copies onto the pod, so a restarted scheduler can rebuild the matrix.
"""

from __future__ import annotations

import numpy as np

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import ALL_FEASIBLE, ClusterEvent, FilterResult, NodeRejection
from kubelite.scheduler.framework.status import SUCCESS, Status
from kubelite.scheduler.nodetable import GpuChooser, NodeTable, best_fit_gpus
from kubelite.scheduler.records import GPU, GPU_INDICES_ANNOTATION, PodInfo

REASON = f"Insufficient {GPU}"


class GpuFit:
    name = "GpuFit"

    def __init__(self, chooser: GpuChooser = best_fit_gpus) -> None:
        self.chooser = chooser

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        if pod.gpu is None:
            return ALL_FEASIBLE
        fitting = np.count_nonzero(table.gpu_free_milli >= pod.gpu.milli_per_gpu, axis=1)
        feasible = fitting >= pod.gpu.gpu_count
        return FilterResult(feasible, (NodeRejection(REASON, ~feasible),))

    def reserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> Status:
        if pod.gpu is None:
            return SUCCESS
        indices = self.chooser(table.gpu_free_milli[row], pod.gpu.gpu_count, pod.gpu.milli_per_gpu)
        if len(indices) != pod.gpu.gpu_count:
            return Status.unschedulable(REASON)
        state.gpu_indices = tuple(indices)
        state.bind_annotations[GPU_INDICES_ANNOTATION] = ",".join(str(index) for index in indices)
        return SUCCESS

    def unreserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> None:
        state.gpu_indices = ()
        state.bind_annotations.pop(GPU_INDICES_ANNOTATION, None)

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return frozenset({"NodeAdd", "NodeUpdate", "PodDelete"})
