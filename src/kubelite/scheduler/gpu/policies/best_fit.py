"""BestFit: the node with the least weighted free CPU and GPU left after placing the pod.

The paper's baseline: leftover = 0.5 * (free CPU - request) / 128 cores + 0.5 * (free GPU milli -
request) / 8 GPUs; raw score trunc(100 * (1 - leftover)), then min-max normalised over the
feasible nodes to 0..100 in integer arithmetic, as its NormalizeScore does (which merges close
raw scores into ties). GPUs are chosen best-fit.
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


def min_max_normalise(raw: NDArray[np.int64]) -> NDArray[np.int64]:
    """Integer min-max scaling to 0..100 (all 0 when every score is equal)."""
    lowest, highest = int(raw.min()), int(raw.max())
    if highest == lowest:
        return np.zeros_like(raw)
    scaled: NDArray[np.int64] = (raw - lowest) * MAX_NODE_SCORE // (highest - lowest)
    return scaled


class BestFit(BestFitGpuChoice):
    NAME: ClassVar[str] = "BestFit"

    def __init__(self, context: PolicyContext) -> None:
        del context

    def score(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        leftover = (view.cpu_free - demand.cpu_milli) / MAX_SPEC_CPU_MILLI * 0.5 + (
            view.gpu_free_total - demand.total_gpu_milli
        ) / MAX_SPEC_GPU_MILLI * 0.5
        raw = np.trunc((1.0 - leftover) * MAX_NODE_SCORE).astype(np.int64)
        return min_max_normalise(raw).astype(np.float64)
