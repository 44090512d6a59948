"""FGD: Fragmentation Gradient Descent (Weng et al., USENIX ATC 2023).

Place the pod where it increases the expected GPU fragmentation of the target workload the
least (see `kubelite.scheduler.gpu.fragmentation`). As in the paper's simulator, the node score
is trunc(100 * sigmoid((F_before - F_after) / 1000)); for a GPU share every fitting GPU of the
node is tried, the node scores its best GPU, and that GPU (the lowest index among equal integer
scores) is the one used. Whole GPUs are the lowest-indexed free ones.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.fragmentation import FragmentationModel
from kubelite.scheduler.gpu.policies.base import MAX_NODE_SCORE, PolicyContext, lowest_full_gpus
from kubelite.scheduler.gpu.state import GpuNodeView


def sigmoid(x: NDArray[np.float64]) -> NDArray[np.float64]:
    result: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-x))
    return result


class FragmentationGradientDescent:
    NAME: ClassVar[str] = "FGD"

    def __init__(self, context: PolicyContext) -> None:
        self.model = FragmentationModel(context.workload, context.max_gpus_per_node)

    def fragmentation_increase(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        """F_after - F_before per node and candidate GPU; +inf where a GPU cannot take the share."""
        before = self.model.node_fragmentation(view)
        increase = self.model.fragmentation_after(view, demand) - before[:, None]
        if demand.is_shared:
            increase = np.where(view.gpu_free >= demand.milli_per_gpu, increase, np.inf)
        return increase

    def gpu_scores(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        scores = np.trunc(sigmoid(-self.fragmentation_increase(view, demand) / 1000) * MAX_NODE_SCORE)
        return np.where(np.isfinite(scores), scores, -1.0)

    def score(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        scores: NDArray[np.float64] = self.gpu_scores(view, demand).max(axis=1)
        return scores

    def choose_gpus(self, view: GpuNodeView, row: int, demand: PodDemand) -> tuple[int, ...]:
        if demand.gpu_count == 0:
            return ()
        if not demand.is_shared:
            return lowest_full_gpus(view.gpu_free[row], demand.gpu_count)
        scores = self.gpu_scores(view.rows(np.array([row])), demand)[0]
        return (int(np.argmax(scores)),)
