"""Random: a uniformly random feasible node, and a random fitting GPU for a GPU share.

As in the FGD paper's simulator, one feasible node drawn at random scores 100 and the rest 0;
a share goes to a GPU drawn uniformly among those with enough free milli, whole GPUs to the
lowest-indexed free ones.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.policies.base import MAX_NODE_SCORE, PolicyContext, lowest_full_gpus
from kubelite.scheduler.gpu.state import GpuNodeView


class RandomFit:
    NAME: ClassVar[str] = "Random"

    def __init__(self, context: PolicyContext) -> None:
        self._rng = context.rng

    def score(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        scores = np.zeros(len(view))
        scores[self._rng.integers(len(view))] = MAX_NODE_SCORE
        return scores

    def choose_gpus(self, view: GpuNodeView, row: int, demand: PodDemand) -> tuple[int, ...]:
        if demand.gpu_count == 0:
            return ()
        if not demand.is_shared:
            return lowest_full_gpus(view.gpu_free[row], demand.gpu_count)
        fitting = np.flatnonzero(view.gpu_free[row] >= demand.milli_per_gpu)
        return (int(fitting[self._rng.integers(len(fitting))]),)
