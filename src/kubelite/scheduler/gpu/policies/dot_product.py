"""DotProd: Tetris-style alignment of the pod's request with the node's free resources.

Grandl et al., "Multi-Resource Packing for Cluster Schedulers" (SIGCOMM 2014), as the FGD paper
runs it: both vectors are [CPU, total GPU milli] normalised by the largest node spec (128 cores,
8 GPUs); the score is 100 * (1 - dot/2) truncated to an integer, so the node whose free
resources align *least* with the request (the fullest node) wins. GPUs are chosen best-fit.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.policies.base import MAX_NODE_SCORE, BestFitGpuChoice, PolicyContext
from kubelite.scheduler.gpu.state import GpuNodeView

MAX_SPEC_CPU_MILLI = 128_000
MAX_SPEC_GPU_MILLI = 8_000


class DotProduct(BestFitGpuChoice):
    NAME: ClassVar[str] = "DotProd"

    def __init__(self, context: PolicyContext) -> None:
        del context

    def score(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        dot = (view.cpu_free / MAX_SPEC_CPU_MILLI) * (demand.cpu_milli / MAX_SPEC_CPU_MILLI) + (
            view.gpu_free_total / MAX_SPEC_GPU_MILLI
        ) * (demand.total_gpu_milli / MAX_SPEC_GPU_MILLI)
        scores: NDArray[np.float64] = np.trunc(MAX_NODE_SCORE * (1.0 - dot / 2))
        return scores
