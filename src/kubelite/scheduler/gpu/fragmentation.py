"""GPU fragmentation of a node measured against a target workload, vectorised over all nodes.

This is the fragmentation measure of Weng et al., "Beware of Fragmentation: Scheduling
GPU-Sharing Workloads with Fragmentation Gradient Descent" (USENIX ATC 2023), section 4:
a node's fragmentation is the expected number of its free milli-GPUs that a pod drawn from the
target workload could not use. For each typical pod shape t with frequency p_t:
- if t asks for no GPU, or the node's GPU model is not allowed for t, or t does not fit (too few
  GPUs with enough free milli, or too little free CPU), all the node's free GPU milli is
  fragmented for t;
- otherwise only the free milli on GPUs with less than t's per-GPU share is fragmented for t.
F(node) = sum_t p_t * fragmented_t(node). The target workload is the most popular pod shapes
covering 95% of the trace (the paper's simulator: popularity threshold 95, step 1).

To make F cheap for every node and every candidate placement at once, the sum over shapes is
regrouped by the distinct per-GPU shares d: with cnt_d = #GPUs with >= d free and
small_d = free milli on GPUs with < d free,
    F = total - sum_d (total - small_d) * W[model, d, cnt_d, cpu level],
where W sums p_t over the shapes with share d that the model allows, that need at most cnt_d
GPUs and at most the node's free CPU. W is a small precomputed table, so scoring a pod costs a
few (nodes x GPUs x distinct shares) array operations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import MILLI_PER_GPU, PodDemand
from kubelite.scheduler.gpu.state import GpuNodeView

POPULARITY_COVERAGE = 0.95


@dataclass(frozen=True, slots=True)
class PodShape:
    """A pod's request as the fragmentation measure sees it (memory plays no part)."""

    cpu_milli: int
    milli_per_gpu: int
    gpu_count: int
    allowed_models: frozenset[str]

    @staticmethod
    def of(demand: PodDemand) -> PodShape:
        return PodShape(demand.cpu_milli, demand.milli_per_gpu, demand.gpu_count, demand.allowed_models)

    def order_key(self) -> tuple[int, int, int, str]:
        return (self.cpu_milli, self.milli_per_gpu, self.gpu_count, "|".join(sorted(self.allowed_models)))


@dataclass(frozen=True, slots=True)
class TargetWorkload:
    """Typical pod shapes and their frequencies (summing to 1)."""

    shapes: tuple[PodShape, ...]
    frequencies: tuple[float, ...]

    @staticmethod
    def from_demands(demands: Iterable[PodDemand], coverage: float = POPULARITY_COVERAGE) -> TargetWorkload:
        """The most popular shapes that together cover `coverage` of the pods, renormalised."""
        counts = Counter(PodShape.of(demand) for demand in demands)
        total = sum(counts.values())
        if total == 0:
            return TargetWorkload((), ())
        # Most popular first; equal counts in descending shape order, as the paper's simulator.
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0].order_key()), reverse=True)
        chosen: list[tuple[PodShape, int]] = []
        covered = 0
        for shape, count in ranked:
            if covered >= coverage * total:
                break
            chosen.append((shape, count))
            covered += count
        return TargetWorkload(
            tuple(shape for shape, _ in chosen), tuple(count / covered for _, count in chosen)
        )


class FragmentationModel:
    """Evaluates F for nodes as they are and as they would be after a placement."""

    def __init__(self, workload: TargetWorkload, max_gpus_per_node: int) -> None:
        self.workload = workload
        self.max_gpus = max_gpus_per_node
        gpu_shapes = [s for s in workload.shapes if s.gpu_count > 0]
        self.shares = np.array(
            sorted({s.milli_per_gpu for s in gpu_shapes}) or [MILLI_PER_GPU], dtype=np.int64
        )
        self.cpu_levels = np.array(sorted({s.cpu_milli for s in gpu_shapes}), dtype=np.int64)
        self._models: tuple[str, ...] = ()
        self._table = np.zeros((0, len(self.shares), max_gpus_per_node + 1, len(self.cpu_levels) + 1))

    def table(self, models: tuple[str, ...]) -> NDArray[np.float64]:
        """W[model, share, usable GPUs, cpu level]; rebuilt when new GPU models appear."""
        if models != self._models:
            self._models = models
            self._table = self._build_table(models)
        return self._table

    def _build_table(self, models: tuple[str, ...]) -> NDArray[np.float64]:
        share_index = {int(d): i for i, d in enumerate(self.shares)}
        table = np.zeros((len(models), len(self.shares), self.max_gpus + 1, len(self.cpu_levels) + 1))
        for shape, frequency in zip(self.workload.shapes, self.workload.frequencies, strict=True):
            if shape.gpu_count == 0 or shape.gpu_count > self.max_gpus:
                continue
            level = int(np.searchsorted(self.cpu_levels, shape.cpu_milli, side="left"))
            for model_id, model in enumerate(models):
                if shape.allowed_models and model not in shape.allowed_models:
                    continue
                # Usable when at least gpu_count GPUs qualify and the cpu level is above this shape's.
                table[model_id, share_index[shape.milli_per_gpu], shape.gpu_count :, level + 1 :] += frequency
        return table

    def _combine(
        self,
        model_index: NDArray[np.int64],
        cpu_free: NDArray[np.int64],
        total: NDArray[np.int64],
        usable: NDArray[np.int64],
        small: NDArray[np.int64],
        models: tuple[str, ...],
    ) -> NDArray[np.float64]:
        """F from per-share counts; the last axis of `usable` and `small` runs over shares."""
        table = self.table(models)
        level = np.searchsorted(self.cpu_levels, cpu_free, side="right")
        share = np.arange(len(self.shares))
        weight = table[model_index[..., None], share, np.clip(usable, 0, self.max_gpus), level[..., None]]
        satisfied = ((total[..., None] - small) * weight).sum(axis=-1)
        fragmentation: NDArray[np.float64] = total - satisfied
        return fragmentation

    def _per_share(self, gpu_free: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        at_least = gpu_free[..., None] >= self.shares
        usable = at_least.sum(axis=-2)
        small = np.where(at_least, 0, gpu_free[..., None]).sum(axis=-2)
        return usable, small

    def node_fragmentation(self, view: GpuNodeView) -> NDArray[np.float64]:
        """F for every node as it is now (milli-GPU)."""
        usable, small = self._per_share(view.gpu_free)
        total = view.gpu_free.sum(axis=1)
        return self._combine(view.model_index, view.cpu_free, total, usable, small, view.models)

    def fragmentation_after(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        """F for every node after hypothetically placing `demand` there.

        Shape (nodes, GPUs) for a GPU-share pod (column g: the share taken from GPU g; meaningless
        where GPU g cannot host it), and (nodes, 1) otherwise (whole GPUs are interchangeable).
        """
        gpu_free = view.gpu_free
        usable, small = self._per_share(gpu_free)
        total = gpu_free.sum(axis=1)
        cpu_after = view.cpu_free - demand.cpu_milli
        if demand.is_shared:
            after = gpu_free - demand.milli_per_gpu
            was = gpu_free[..., None] >= self.shares
            now = after[..., None] >= self.shares
            usable_after = usable[:, None, :] - was + now
            small_after = (
                small[:, None, :]
                - np.where(was, 0, gpu_free[..., None])
                + np.where(now, 0, np.maximum(after, 0)[..., None])
            )
            columns = gpu_free.shape[1]
            return self._combine(
                np.repeat(view.model_index[:, None], columns, axis=1),
                np.repeat(cpu_after[:, None], columns, axis=1),
                np.repeat((total - demand.milli_per_gpu)[:, None], columns, axis=1),
                usable_after,
                small_after,
                view.models,
            )
        # Whole GPUs: the pod takes completely free devices, which count as usable for every share.
        usable_after = usable - demand.gpu_count
        total_after = total - demand.total_gpu_milli
        frag = self._combine(view.model_index, cpu_after, total_after, usable_after, small, view.models)
        return frag[:, None]
