"""GpuClustering: keep pods of the same GPU "affinity" class together on a node.

The paper's baseline (after Gandiva's affinity placement): a pod's class is share-gpu or n-gpu.
Score bands: node already running only this class (75..100], running this class among others
(50..75], GPU-idle node (25..50], node running other classes only [0..25]; inside a band,
fuller nodes score higher: 25 * (8000 - free GPU milli) // 8000. CPU-only pods score 0
everywhere (so they land at random). GPUs are chosen best-fit.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.policies.base import MAX_NODE_SCORE, BestFitGpuChoice, PolicyContext
from kubelite.scheduler.gpu.state import GpuNodeView, affinity_column

MAX_SPEC_GPU_MILLI = 8_000
QUARTER = MAX_NODE_SCORE // 4


class GpuClustering(BestFitGpuChoice):
    NAME: ClassVar[str] = "GpuClustering"

    def __init__(self, context: PolicyContext) -> None:
        del context

    def score(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        column = affinity_column(demand)
        if column < 0:
            return np.zeros(len(view))
        fullness = QUARTER * (MAX_SPEC_GPU_MILLI - view.gpu_free_total) // MAX_SPEC_GPU_MILLI
        classes_present = (view.affinity_counts > 0).sum(axis=1)
        same_class = view.affinity_counts[:, column] > 0
        band = np.where(
            same_class,
            np.where(classes_present == 1, 3 * QUARTER, 2 * QUARTER),
            np.where(classes_present == 0, QUARTER, 0),
        )
        return (fullness + band).astype(np.float64)
