"""FGDBalance: fragmentation gradient descent that also counts GPUs stranded by a lack of CPU.

kubelite's own policy. FGD (Weng et al., USENIX ATC 2023) scores a placement by how much it
raises the expected fragmentation F of the target workload, where a GPU is fragmented for a
task when that task could not run on it *for any reason*. F looks one pod ahead: a node with
40 free cores and 6 free GPUs counts as healthy, because the next typical pod fits. It does not
see that the next five will not, so FGD lets CPU-only and CPU-heavy pods use up the CPU of the
8-GPU nodes, and near full load those nodes end with free GPUs that no pod can use.

FGDBalance adds a fluid (many pods ahead) measure of the same loss. The target workload's GPU
pods that may run on a node's GPU model use, on average, rho millicores per milli-GPU. A node
with G free milli-GPU and C free millicores can then host at most C / rho milli-GPU of typical
GPU pods, so

    S(node) = max(0, G - C / rho)

milli-GPU are stranded by CPU. The score is FGD's, applied to the combined gradient:

    trunc(100 * sigmoid(-((F_after - F_before) + (S_after - S_before)) / 1000)).

Both terms are in milli-GPU and are expected losses of usable GPU capacity, so they add without
a tuned weight. The effect: CPU-only pods go to CPU-rich nodes (where S stays 0), a GPU pod
whose CPU-to-GPU ratio is below rho is steered to nodes short of CPU (it lowers S there), and
ties are still broken by the seeded node order. GPUs inside a node are chosen as FGD chooses
them (S is the same for every GPU of a node). Pods are placed one at a time, in arrival order.

rho comes from the same target workload FGD uses (the typical pod shapes of the trace), so the
policy knows nothing FGD does not.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.fragmentation import TargetWorkload
from kubelite.scheduler.gpu.policies.base import PolicyContext
from kubelite.scheduler.gpu.policies.fgd import FragmentationGradientDescent
from kubelite.scheduler.gpu.state import GpuNodeView


def cpu_milli_per_gpu_milli(workload: TargetWorkload, model: str | None = None) -> float:
    """Expected CPU millicores per milli-GPU of the workload's GPU pods that may use `model`.

    `model=None` takes every GPU pod; 0 when no GPU pod qualifies.
    """
    cpu = gpu = 0.0
    for shape, frequency in zip(workload.shapes, workload.frequencies, strict=True):
        allowed = model is None or not shape.allowed_models or model in shape.allowed_models
        if shape.gpu_count > 0 and allowed:
            cpu += frequency * shape.cpu_milli
            gpu += frequency * shape.gpu_count * shape.milli_per_gpu
    return cpu / gpu if gpu > 0 else 0.0


def cpu_stranded_gpu_milli(
    gpu_free: NDArray[np.int64], cpu_free: NDArray[np.int64], cpu_per_gpu: NDArray[np.float64] | float
) -> NDArray[np.float64]:
    """Free milli-GPU that typical GPU pods could not use for want of CPU: max(0, G - C/rho).

    A rho of 0 (no typical GPU pod can use the node's model) strands nothing by CPU: FGD's F
    already counts those GPUs as fragmented.
    """
    rho = np.broadcast_to(np.asarray(cpu_per_gpu, dtype=np.float64), np.shape(gpu_free))
    feedable = np.divide(cpu_free, rho, out=np.full(rho.shape, np.inf), where=rho > 0)
    stranded: NDArray[np.float64] = np.maximum(0.0, gpu_free - feedable)
    return stranded


class BalancedFragmentationGradientDescent(FragmentationGradientDescent):
    NAME: ClassVar[str] = "FGDBalance"

    def __init__(self, context: PolicyContext) -> None:
        super().__init__(context)
        self.workload = context.workload
        self._models: tuple[str, ...] = ()
        self._cpu_per_gpu_by_model = np.zeros(0)

    def cpu_per_gpu(self, view: GpuNodeView) -> NDArray[np.float64]:
        """rho for each node's GPU model (recomputed when new models appear)."""
        if view.models != self._models:
            self._models = view.models
            self._cpu_per_gpu_by_model = np.array(
                [cpu_milli_per_gpu_milli(self.workload, model) for model in view.models]
            )
        rho: NDArray[np.float64] = self._cpu_per_gpu_by_model[view.model_index]
        return rho

    def stranded_increase(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        """S_after - S_before per node (milli-GPU)."""
        gpu_free, cpu_free, rho = view.gpu_free_total, view.cpu_free, self.cpu_per_gpu(view)
        before = cpu_stranded_gpu_milli(gpu_free, cpu_free, rho)
        after = cpu_stranded_gpu_milli(gpu_free - demand.total_gpu_milli, cpu_free - demand.cpu_milli, rho)
        return after - before

    def fragmentation_increase(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        combined: NDArray[np.float64] = (
            super().fragmentation_increase(view, demand) + self.stranded_increase(view, demand)[:, None]
        )
        return combined
