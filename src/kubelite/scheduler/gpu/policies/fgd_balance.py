"""FGDBalance: fragmentation gradient descent that also counts GPUs stranded by CPU or model scarcity.

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

milli-GPU are stranded by CPU. S is fluid: it assumes GPUs are taken one at a time. Pods that
need several whole GPUs on one node are limited by whole free nodes, which F already counts, so
S is weighted by the share of the workload's GPU demand on single GPUs (1 on the OpenB trace;
without the weight, S broke up whole nodes early on a variant where 8-GPU pods are most of the
demand). The same myopia hides GPU-model scarcity: F sees that the next model-constrained pod still fits
a node, not that the constrained pods still to come will need more of that model than is left.
With d_m the share of the workload's GPU demand that may run only on model m (split evenly when
a pod allows several models), and assuming the cluster's remaining free capacity F_free fills
with the workload's mix, the constrained demand that model m cannot serve totals

    Q = sum_m max(0, d_m * F_free - G_m)      (G_m: free milli-GPU of model m, cluster-wide).

Taking a GPU from a model that is running short raises Q; taking it from a plentiful model
lowers it (the remaining capacity shrinks). Q is 0 for a workload without model constraints.

The score is FGD's, applied to the combined gradient:

    trunc(100 * sigmoid(-((F_after - F_before) + w1 (S_after - S_before) + (Q_after - Q_before)) / 1000))

with w1 the single-GPU share of GPU demand.

All three terms are expected milli-GPU of lost capacity, so they add without tuned weights.
The effect: CPU-only pods go to CPU-rich nodes (where S stays 0), a GPU pod whose CPU-to-GPU
ratio is below rho is steered to nodes short of CPU (it lowers S there), pods that may use any
model keep off a model that constrained pods will need, and ties are still broken by the seeded
node order. GPUs inside a node are chosen as FGD chooses them (S and Q are the same for every
GPU of a node). Pods are placed one at a time, in arrival order.

rho and d come from the same target workload FGD uses (the typical pod shapes of the trace), so
the policy knows nothing FGD does not; G_m is read from the whole cluster (`GpuNodeView.
cluster_free_by_model`), not only the feasible nodes.
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


def single_gpu_demand_share(workload: TargetWorkload) -> float:
    """Share of the workload's GPU demand from pods on one GPU (whole or shared)."""
    single = total = 0.0
    for shape, frequency in zip(workload.shapes, workload.frequencies, strict=True):
        demand = frequency * shape.gpu_count * shape.milli_per_gpu
        total += demand
        single += demand if shape.gpu_count == 1 else 0.0
    return single / total if total > 0 else 1.0


def constrained_demand_share(workload: TargetWorkload, models: tuple[str, ...]) -> NDArray[np.float64]:
    """Per model, the share of the workload's GPU demand that may run only on a set of models
    including it (split evenly over that set); unconstrained pods count for no model."""
    shares = np.zeros(len(models))
    total = 0.0
    for shape, frequency in zip(workload.shapes, workload.frequencies, strict=True):
        demand = frequency * shape.gpu_count * shape.milli_per_gpu
        total += demand
        allowed = [index for index, model in enumerate(models) if model in shape.allowed_models]
        for index in allowed:
            shares[index] += demand / len(allowed)
    return shares / total if total > 0 else shares


def model_shortfall(
    free_by_model: NDArray[np.float64], demand_share: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Milli-GPU of model-constrained demand the free GPUs cannot serve, if the rest of the
    cluster's free capacity arrives with the workload's mix: sum_m max(0, d_m * F - G_m).
    `free_by_model` may carry leading axes (one row per hypothetical state)."""
    remaining = free_by_model.sum(axis=-1, keepdims=True)
    shortfall: NDArray[np.float64] = np.maximum(0.0, demand_share * remaining - free_by_model).sum(axis=-1)
    return shortfall


class BalancedFragmentationGradientDescent(FragmentationGradientDescent):
    NAME: ClassVar[str] = "FGDBalance"

    def __init__(self, context: PolicyContext) -> None:
        super().__init__(context)
        self.workload = context.workload
        self._models: tuple[str, ...] = ()
        self._cpu_per_gpu_by_model = np.zeros(0)
        self._demand_share = np.zeros(0)
        self.single_gpu_share = single_gpu_demand_share(context.workload)

    def cpu_per_gpu(self, view: GpuNodeView) -> NDArray[np.float64]:
        """rho for each node's GPU model (recomputed when new models appear)."""
        if view.models != self._models:
            self._models = view.models
            self._cpu_per_gpu_by_model = np.array(
                [cpu_milli_per_gpu_milli(self.workload, model) for model in view.models]
            )
            self._demand_share = constrained_demand_share(self.workload, view.models)
        rho: NDArray[np.float64] = self._cpu_per_gpu_by_model[view.model_index]
        return rho

    def stranded_increase(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        """S_after - S_before per node (milli-GPU)."""
        gpu_free, cpu_free, rho = view.gpu_free_total, view.cpu_free, self.cpu_per_gpu(view)
        before = cpu_stranded_gpu_milli(gpu_free, cpu_free, rho)
        after = cpu_stranded_gpu_milli(gpu_free - demand.total_gpu_milli, cpu_free - demand.cpu_milli, rho)
        change: NDArray[np.float64] = (after - before) * self.single_gpu_share
        return change

    def shortfall_increase(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        """Q_after - Q_before per node (milli-GPU): 0 everywhere unless the workload has
        model-constrained GPU pods."""
        self.cpu_per_gpu(view)  # refreshes the per-model tables when new models appear
        if demand.gpu_count == 0 or not self._demand_share.any():
            return np.zeros(len(view))
        free = view.cluster_free_by_model.astype(np.float64)
        # Row m: the cluster after taking the pod's GPUs from model m.
        after = free[None, :] - demand.total_gpu_milli * np.eye(len(free))
        change = model_shortfall(after, self._demand_share) - model_shortfall(free, self._demand_share)
        by_row: NDArray[np.float64] = change[view.model_index]
        return by_row

    def fragmentation_increase(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        per_node = self.stranded_increase(view, demand) + self.shortfall_increase(view, demand)
        combined: NDArray[np.float64] = super().fragmentation_increase(view, demand) + per_node[:, None]
        return combined
