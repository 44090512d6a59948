"""What one pod asks of a GPU node, in the integer units the placement policies work in.

A pod's resource requests (already parsed into integers by `kubelite.api.quantity`) and its
required GPU-model affinity become one `PodDemand`. The GPU contract is fixed:
- `nvidia.com/gpu: n` (n >= 1) asks for n whole GPUs, i.e. the GPU request (n, 1000);
- `kubelite.io/gpu-milli: m` (1 <= m < 1000) asks for a share of ONE GPU, i.e. (1, m);
- neither means a CPU-only pod, (0, 0).
The allowed GPU models (the trace's `gpu_spec`) come from the required node affinity on the
`nvidia.com/gpu.product` label; an empty set means "any model".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

WHOLE_GPU_RESOURCE: Final = "nvidia.com/gpu"
GPU_MILLI_RESOURCE: Final = "kubelite.io/gpu-milli"
GPU_MODEL_LABEL: Final = "nvidia.com/gpu.product"
GPU_INDICES_ANNOTATION: Final = "kubelite.io/gpu-indices"
MILLI_PER_GPU: Final = 1000


@dataclass(frozen=True, slots=True)
class PodDemand:
    """The resources one pod needs on a single node."""

    cpu_milli: int
    memory_bytes: int
    gpu_count: int
    """How many GPUs the pod uses: 0 (CPU-only), 1 (whole or shared), or n > 1 whole GPUs."""
    milli_per_gpu: int
    """Thousandths of each of those GPUs: 1000 for whole GPUs, 1..999 for a share, 0 for none."""
    allowed_models: frozenset[str] = frozenset()
    """GPU models the pod may run on; empty means any model."""

    def __post_init__(self) -> None:
        if self.gpu_count < 0 or not 0 <= self.milli_per_gpu <= MILLI_PER_GPU:
            raise ValueError(f"invalid GPU request ({self.gpu_count}, {self.milli_per_gpu})")
        if (self.gpu_count == 0) != (self.milli_per_gpu == 0):
            raise ValueError("a GPU count needs a per-GPU share and vice versa")
        if self.gpu_count > 1 and self.milli_per_gpu < MILLI_PER_GPU:
            raise ValueError("a GPU share is always a share of exactly one GPU")

    @property
    def is_shared(self) -> bool:
        """True for a pod asking for part of one GPU."""
        return 0 < self.milli_per_gpu < MILLI_PER_GPU

    @property
    def total_gpu_milli(self) -> int:
        """GPU demand in thousandths of a GPU, the unit the unallocated-GPU metric counts."""
        return self.gpu_count * self.milli_per_gpu

    @property
    def affinity_tag(self) -> str:
        """The GPU "affinity" class GpuClustering groups pods by: no-gpu, share-gpu or n-gpu."""
        if self.gpu_count == 0:
            return "no-gpu"
        return "share-gpu" if self.is_shared else f"{self.gpu_count}-gpu"


def gpu_request_from_requests(requests: Mapping[str, int]) -> tuple[int, int]:
    """The (gpu_count, milli_per_gpu) a pod's integer resource requests ask for."""
    whole = requests.get(WHOLE_GPU_RESOURCE, 0)
    share = requests.get(GPU_MILLI_RESOURCE, 0)
    if whole > 0:
        return whole, MILLI_PER_GPU
    if share >= MILLI_PER_GPU:
        # A share of a whole GPU or more is a whole-GPU request written the other way.
        return share // MILLI_PER_GPU, MILLI_PER_GPU
    if share > 0:
        return 1, share
    return 0, 0


def demand_from_requests(
    requests: Mapping[str, int], allowed_models: frozenset[str] = frozenset()
) -> PodDemand:
    """Build a `PodDemand` from integer requests (`cpu` in millicores, `memory` in bytes)."""
    gpu_count, milli_per_gpu = gpu_request_from_requests(requests)
    return PodDemand(
        cpu_milli=requests.get("cpu", 0),
        memory_bytes=requests.get("memory", 0),
        gpu_count=gpu_count,
        milli_per_gpu=milli_per_gpu,
        allowed_models=allowed_models,
    )


def format_gpu_indices(indices: tuple[int, ...]) -> str:
    """The `kubelite.io/gpu-indices` annotation value for the GPUs a pod was given."""
    return ",".join(str(index) for index in indices)


def parse_gpu_indices(text: str) -> tuple[int, ...]:
    """Inverse of `format_gpu_indices`; an empty string means no GPU."""
    return tuple(int(part) for part in text.split(",") if part.strip())
