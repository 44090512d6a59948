"""What every GPU placement policy provides, and the GPU choices the baselines share.

A policy is built from a `PolicyContext` (the RNG seed and the target workload the
fragmentation-aware policies need). Per pod, `score` maps the feasible nodes to scores (higher
is better) and `choose_gpus` picks device indices on the chosen node. The default device choice
is the paper simulator's "best fit": a GPU share goes to the fitting GPU with the least free
milli (lowest index on ties); whole GPUs are the lowest-indexed completely free devices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import MILLI_PER_GPU, PodDemand
from kubelite.scheduler.gpu.fragmentation import TargetWorkload
from kubelite.scheduler.gpu.state import GpuNodeView

MAX_NODE_SCORE = 100


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """Everything a policy may depend on besides the cluster state and the pod."""

    rng: np.random.Generator
    workload: TargetWorkload
    max_gpus_per_node: int = 8


class PlacementPolicy(Protocol):
    """Scores nodes for one pod and chooses the GPUs on the winner."""

    NAME: ClassVar[str]

    def __init__(self, context: PolicyContext) -> None: ...

    def score(self, view: GpuNodeView, demand: PodDemand) -> NDArray[np.float64]:
        """One score per row of `view` (all rows are feasible for `demand`)."""
        ...

    def choose_gpus(self, view: GpuNodeView, row: int, demand: PodDemand) -> tuple[int, ...]:
        """Device indices on node `row` for `demand` (empty for a CPU-only pod)."""
        ...


def lowest_full_gpus(gpu_free: NDArray[np.int64], count: int) -> tuple[int, ...]:
    """The `count` lowest-indexed completely free GPUs of one node."""
    full = np.flatnonzero(gpu_free == MILLI_PER_GPU)
    if len(full) < count:
        raise ValueError(f"{count} whole GPUs requested but only {len(full)} free")
    return tuple(int(index) for index in full[:count])


def best_fit_gpus(gpu_free: NDArray[np.int64], demand: PodDemand) -> tuple[int, ...]:
    """Best-fit device choice on one node (see module docstring)."""
    if demand.gpu_count == 0:
        return ()
    if not demand.is_shared:
        return lowest_full_gpus(gpu_free, demand.gpu_count)
    fitting = np.where(gpu_free >= demand.milli_per_gpu, gpu_free, MILLI_PER_GPU + 1)
    best = int(np.argmin(fitting))
    if fitting[best] > MILLI_PER_GPU:
        raise ValueError("no GPU on this node fits the share")
    return (best,)


class BestFitGpuChoice:
    """Mixin giving a policy the default best-fit device choice."""

    def choose_gpus(self, view: GpuNodeView, row: int, demand: PodDemand) -> tuple[int, ...]:
        return best_fit_gpus(view.gpu_free[row], demand)


def select_best(
    scores: NDArray[np.float64], rng: np.random.Generator, rank: NDArray[np.float64] | None = None
) -> int:
    """Index of the highest score; equal best go to the lowest `rank`, or at random without one."""
    best = np.flatnonzero(scores == scores.max())
    if len(best) == 1:
        return int(best[0])
    if rank is not None:
        return int(best[np.argmin(rank[best])])
    return int(best[rng.integers(len(best))])
