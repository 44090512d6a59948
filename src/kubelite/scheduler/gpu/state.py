"""The per-node, per-GPU free-resource table the GPU placement policies read.

`GpuNodeTable` holds one row per node: free CPU (millicores), free memory (bytes), the GPU model
(as an index into `models`), the number of GPUs, and a (nodes, max GPUs per node) matrix of free
milli-GPU per device. Absent devices (column >= the node's GPU count) hold 0 free milli, which
makes them unusable for every request (a request always asks for at least 1 milli) and lets
sums over a row count only real devices. It also counts, per node, the bound pods of each GPU
"affinity" class (share-gpu, 1-gpu, 2-gpu, ...), which GpuClustering scores by. A view of some
rows still carries the free milli-GPU of each model over the whole cluster (FGDBalance's model
scarcity term needs it).

Data flow: nodes are added once (`add_node`), then `assume` subtracts a placed pod from its row
and `forget` gives it back. Every policy reads the arrays and never writes them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kubelite.scheduler.gpu.demand import MILLI_PER_GPU, PodDemand

AFFINITY_TAGS: tuple[str, ...] = ("share-gpu", "1-gpu", "2-gpu", "4-gpu", "8-gpu", "other-gpu")


def affinity_column(demand: PodDemand) -> int:
    """The column of `GpuNodeTable.affinity_counts` a GPU pod is counted in (-1 for CPU pods)."""
    tag = demand.affinity_tag
    if tag == "no-gpu":
        return -1
    return AFFINITY_TAGS.index(tag) if tag in AFFINITY_TAGS else len(AFFINITY_TAGS) - 1


class GpuNodeTable:
    """Columnar free-resource state of a set of GPU nodes."""

    def __init__(self, max_gpus_per_node: int = 8, capacity: int = 64) -> None:
        self.names: list[str] = []
        self.models: list[str] = [""]
        """Distinct GPU model names; index 0 is "no model" (a CPU node)."""
        self._index_of: dict[str, int] = {}
        self.cpu_capacity = np.zeros(capacity, dtype=np.int64)
        self.cpu_free = np.zeros(capacity, dtype=np.int64)
        self.memory_free = np.zeros(capacity, dtype=np.int64)
        self.model_index = np.zeros(capacity, dtype=np.int64)
        self.gpu_count = np.zeros(capacity, dtype=np.int64)
        self.gpu_free = np.zeros((capacity, max_gpus_per_node), dtype=np.int64)
        self.affinity_counts = np.zeros((capacity, len(AFFINITY_TAGS)), dtype=np.int64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def max_gpus_per_node(self) -> int:
        return int(self.gpu_free.shape[1])

    def index(self, name: str) -> int:
        """Row of the node called `name`."""
        return self._index_of[name]

    def model_id(self, model: str) -> int:
        """Index of `model` in `models`, registering it on first sight."""
        if model not in self.models:
            self.models.append(model)
        return self.models.index(model)

    def add_node(self, name: str, cpu_milli: int, memory_bytes: int, gpu_count: int, model: str) -> int:
        """Append an idle node and return its row."""
        if gpu_count > self.max_gpus_per_node:
            raise ValueError(f"{name}: {gpu_count} GPUs exceed the table's {self.max_gpus_per_node}")
        if self._size == len(self.cpu_free):
            self._grow()
        row = self._size
        self.names.append(name)
        self._index_of[name] = row
        self.cpu_capacity[row] = cpu_milli
        self.cpu_free[row] = cpu_milli
        self.memory_free[row] = memory_bytes
        self.model_index[row] = self.model_id(model) if gpu_count > 0 else 0
        self.gpu_count[row] = gpu_count
        self.gpu_free[row, :] = 0
        self.gpu_free[row, :gpu_count] = MILLI_PER_GPU
        self.affinity_counts[row, :] = 0
        self._size += 1
        return row

    def _grow(self) -> None:
        new = max(64, 2 * len(self.cpu_free))
        for field in ("cpu_capacity", "cpu_free", "memory_free", "model_index", "gpu_count"):
            old = getattr(self, field)
            grown = np.zeros(new, dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, field, grown)
        for field in ("gpu_free", "affinity_counts"):
            old = getattr(self, field)
            grown = np.zeros((new, old.shape[1]), dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, field, grown)

    def view(self) -> GpuNodeView:
        """Read-only arrays trimmed to the live rows, for the policies."""
        n = self._size
        return GpuNodeView(
            models=tuple(self.models),
            cpu_capacity=self.cpu_capacity[:n],
            cpu_free=self.cpu_free[:n],
            memory_free=self.memory_free[:n],
            model_index=self.model_index[:n],
            gpu_count=self.gpu_count[:n],
            gpu_free=self.gpu_free[:n],
            affinity_counts=self.affinity_counts[:n],
        )

    def assume(self, row: int, demand: PodDemand, gpu_indices: tuple[int, ...]) -> None:
        """Subtract a pod placed on `row` using `gpu_indices`; over-commitment is a bug."""
        self._apply(row, demand, gpu_indices, sign=-1)

    def forget(self, row: int, demand: PodDemand, gpu_indices: tuple[int, ...]) -> None:
        """Give back what `assume` took."""
        self._apply(row, demand, gpu_indices, sign=+1)

    def _apply(self, row: int, demand: PodDemand, gpu_indices: tuple[int, ...], sign: int) -> None:
        if len(gpu_indices) != demand.gpu_count:
            raise ValueError(f"{demand.gpu_count} GPUs requested but {len(gpu_indices)} given")
        self.cpu_free[row] += sign * demand.cpu_milli
        self.memory_free[row] += sign * demand.memory_bytes
        for gpu in gpu_indices:
            if gpu >= self.gpu_count[row]:
                raise ValueError(f"node {self.names[row]} has no GPU {gpu}")
            self.gpu_free[row, gpu] += sign * demand.milli_per_gpu
        column = affinity_column(demand)
        if column >= 0:
            # `sign` is -1 when resources are taken, which is when the pod starts to count.
            self.affinity_counts[row, column] -= sign
        over = (
            self.cpu_free[row] < 0
            or self.memory_free[row] < 0
            or bool((self.gpu_free[row] < 0).any())
            or bool((self.gpu_free[row] > MILLI_PER_GPU).any())
        )
        if over:
            raise AssertionError(f"node {self.names[row]} over-committed by {demand}")


class GpuNodeView:
    """The arrays a policy reads: one entry (or row) per node."""

    __slots__ = (
        "affinity_counts",
        "cluster_free_by_model",
        "cpu_capacity",
        "cpu_free",
        "gpu_count",
        "gpu_free",
        "memory_free",
        "model_index",
        "models",
    )

    def __init__(
        self,
        models: tuple[str, ...],
        cpu_capacity: NDArray[np.int64],
        cpu_free: NDArray[np.int64],
        memory_free: NDArray[np.int64],
        model_index: NDArray[np.int64],
        gpu_count: NDArray[np.int64],
        gpu_free: NDArray[np.int64],
        affinity_counts: NDArray[np.int64],
        cluster_free_by_model: NDArray[np.int64] | None = None,
    ) -> None:
        self.models = models
        self.cpu_capacity = cpu_capacity
        self.cpu_free = cpu_free
        self.memory_free = memory_free
        self.model_index = model_index
        self.gpu_count = gpu_count
        self.gpu_free = gpu_free
        self.affinity_counts = affinity_counts
        self.cluster_free_by_model = (
            free_milli_by_model(model_index, gpu_free, len(models))
            if cluster_free_by_model is None
            else cluster_free_by_model
        )
        """Free milli-GPU of each model over the whole cluster, not only these rows."""

    def __len__(self) -> int:
        return len(self.cpu_free)

    @property
    def gpu_free_total(self) -> NDArray[np.int64]:
        """Free milli-GPU summed over each node's devices."""
        total: NDArray[np.int64] = self.gpu_free.sum(axis=1)
        return total

    @property
    def full_gpus(self) -> NDArray[np.int64]:
        """How many of each node's GPUs are completely free."""
        full: NDArray[np.int64] = (self.gpu_free == MILLI_PER_GPU).sum(axis=1)
        return full

    def rows(self, rows: NDArray[np.intp]) -> GpuNodeView:
        """The same view restricted to `rows` (copies; for scoring only the feasible nodes)."""
        return GpuNodeView(
            models=self.models,
            cpu_capacity=self.cpu_capacity[rows],
            cpu_free=self.cpu_free[rows],
            memory_free=self.memory_free[rows],
            model_index=self.model_index[rows],
            gpu_count=self.gpu_count[rows],
            gpu_free=self.gpu_free[rows],
            affinity_counts=self.affinity_counts[rows],
            cluster_free_by_model=self.cluster_free_by_model,
        )


def free_milli_by_model(
    model_index: NDArray[np.int64], gpu_free: NDArray[np.int64], model_count: int
) -> NDArray[np.int64]:
    """Free milli-GPU summed per GPU model index (length `model_count`)."""
    totals = np.bincount(model_index, weights=gpu_free.sum(axis=1), minlength=model_count)
    return totals.astype(np.int64)


def allowed_model_mask(view: GpuNodeView, demand: PodDemand) -> NDArray[np.bool_]:
    """Nodes whose GPU model the pod accepts (all nodes when it names none)."""
    if not demand.allowed_models:
        return np.ones(len(view), dtype=bool)
    allowed = np.array([model in demand.allowed_models for model in view.models], dtype=bool)
    mask: NDArray[np.bool_] = allowed[view.model_index]
    return mask


def feasible_mask(view: GpuNodeView, demand: PodDemand) -> NDArray[np.bool_]:
    """Nodes that can host the pod now: CPU, memory, GPU model, and per-GPU free milli."""
    fits = (view.cpu_free >= demand.cpu_milli) & (view.memory_free >= demand.memory_bytes)
    fits &= allowed_model_mask(view, demand)
    if demand.gpu_count == 0:
        return fits
    usable = (view.gpu_free >= demand.milli_per_gpu).sum(axis=1)
    feasible: NDArray[np.bool_] = fits & (usable >= demand.gpu_count)
    return feasible
