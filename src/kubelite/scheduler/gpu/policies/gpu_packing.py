"""GpuPacking: fill partly used GPUs first, then idle GPUs on used nodes, then idle nodes.

The paper's packing baseline, with its integer score bands:
1. the pod fits on already shared GPUs: 100 - (free percent of the chosen GPU) // 10, >= 50;
2. it needs completely free GPUs on a node that is partly used: 50 - GPUs taken, >= 33;
3. the node's GPUs are all idle: max(33 - GPUs on the node, GPUs on the node).
The chosen GPUs are the least-free fitting ones (best fit). CPU-only pods score 0 everywhere.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import MILLI_PER_GPU, PodDemand
from kubelite.scheduler.gpu.policies.base import MAX_NODE_SCORE, BestFitGpuChoice, PolicyContext
from kubelite.scheduler.gpu.state import GpuNodeView


class GpuPacking(BestFitGpuChoice):
    NAME: ClassVar[str] = "GpuPacking"

    def __init__(self, context: PolicyContext) -> None:
        del context

    def score(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        if demand.gpu_count == 0:
            return np.zeros(len(view))
        full = view.full_gpus
        idle_node = np.maximum(MAX_NODE_SCORE // 3 - full, full)
        if demand.is_shared:
            fitting = np.where(view.gpu_free >= demand.milli_per_gpu, view.gpu_free, MILLI_PER_GPU + 1)
            tightest = fitting.min(axis=1)
            on_shared = np.maximum(
                MAX_NODE_SCORE - (tightest * 100 // MILLI_PER_GPU) // 10, MAX_NODE_SCORE // 2
            )
            on_used_node = np.where(tightest == MILLI_PER_GPU, MAX_NODE_SCORE // 2 - 1, on_shared)
        else:
            on_used_node = np.full(
                len(view), max(MAX_NODE_SCORE // 2 - demand.gpu_count, MAX_NODE_SCORE // 3)
            )
        scores = np.where(full == view.gpu_count, idle_node, on_used_node)
        return scores.astype(np.float64)
