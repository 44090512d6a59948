"""The vectorised node table: one row per node, one numpy column per resource, updated incrementally.

Data flow: watch events (node add/update/remove, pod bound/deleted) and the scheduler's own
assume/forget calls mutate the table one row at a time; filters and scores read whole columns and
return a mask or a vector over every row at once. Rows are stable for a node's life (a removed
node's row is blanked and reused), so a plugin may keep its own arrays aligned with the rows.

Public API, kept stable for plugins and packages built on the framework:
- rows: `size` (rows in use, live or blank), `present` (bool mask of live rows), `row_of(name)`,
  `node_at(row)`, `names`;
- resources: `resource_column(name)` gives a column index (extended resources such as
  `nvidia.com/gpu` get one on first sight), then `allocatable(col)`, `requested(col)`, `free(col)`;
  `nonzero_requested_cpu` / `nonzero_requested_memory` for scoring;
- equivalence classes: `node_class` (int32 per row), `class_count`, `class_representative(c)`,
  and `attribute_version`, bumped whenever a class or the set of rows changes (memo invalidation);
- topology: `domain_column(key)` gives `(domain id per row or -1, number of domain ids)`;
- GPUs: `gpu_free_milli`, shape (size, max GPUs per node), free milli per GPU, -1 where a node has
  no such GPU; `gpu_chooser` picks GPU indices for a bound pod that carries none;
- pods: `assume_pod`, `forget_pod`, `add_pod` (bound, from watch), `remove_pod`, `pods_on(row)`,
  `pod_row(key)`, `is_assumed(key)`;
- extensions: `register(extension)`; every registered `NodeTableExtension` (`table_extensions.py`) hears of node
  add/update/remove and pod add/remove with the row index, after the table has updated itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from kubelite.scheduler.records import CPU, EPHEMERAL_STORAGE, GPU, MEMORY, PODS, NodeInfo, PodInfo
from kubelite.scheduler.table_extensions import GpuChooser, NodeTableExtension, best_fit_gpus

__all__ = ["GpuChooser", "NodeTable", "NodeTableExtension", "best_fit_gpus"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
E = TypeVar("E")
BASE_RESOURCES = (CPU, MEMORY, EPHEMERAL_STORAGE, PODS)
NO_GPU = -1


class NodeTable:
    """Columnar node state; see the module docstring for the public API."""

    def __init__(self, capacity: int = 1024, gpu_chooser: GpuChooser = best_fit_gpus) -> None:
        self._capacity = max(16, capacity)
        self._size = 0
        self._free_rows: list[int] = []
        self._nodes: list[NodeInfo | None] = []
        self._row_of: dict[str, int] = {}
        self._present = np.zeros(self._capacity, dtype=np.bool_)
        self._resource_names: list[str] = []
        self._resource_index: dict[str, int] = {}
        self._allocatable: list[IntArray] = []
        self._requested: list[IntArray] = []
        self._free: list[IntArray] = []
        for name in BASE_RESOURCES:
            self.resource_column(name)
        self._nonzero_cpu = np.zeros(self._capacity, dtype=np.int64)
        self._nonzero_memory = np.zeros(self._capacity, dtype=np.int64)
        self._node_class = np.zeros(self._capacity, dtype=np.int32)
        self._class_ids: dict[tuple[object, ...], int] = {}
        self._class_representatives: list[NodeInfo] = []
        self.attribute_version = 0
        # A log of the rows whose columns changed, so plugins can refresh a cached vector row by row.
        self._changed_rows: list[int] = []
        self._changed_base = 0
        self._domains: dict[str, tuple[dict[str, int], npt.NDArray[np.int32]]] = {}
        self._gpu_free = np.full((self._capacity, 0), NO_GPU, dtype=np.int32)
        self.gpu_chooser = gpu_chooser
        self._pods_on: list[dict[str, PodInfo]] = []
        self._pod_rows: dict[str, int] = {}
        self._assumed: set[str] = set()
        self._waiting_for_node: dict[str, dict[str, PodInfo]] = {}
        self._extensions: list[NodeTableExtension] = []

    # -- rows -------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self._size

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def present(self) -> BoolArray:
        return self._present[: self._size]

    @property
    def node_count(self) -> int:
        return len(self._row_of)

    @property
    def names(self) -> Iterable[str]:
        return self._row_of.keys()

    def row_of(self, name: str) -> int | None:
        return self._row_of.get(name)

    def node_at(self, row: int) -> NodeInfo:
        node = self._nodes[row]
        if node is None:
            raise KeyError(f"row {row} holds no node")
        return node

    def find_extension(self, kind: type[E]) -> E | None:
        """The registered extension of a given class, so plugins of several profiles can share one."""
        return next((e for e in self._extensions if isinstance(e, kind)), None)

    def register(self, extension: NodeTableExtension) -> None:
        """Attach an extension and replay the current nodes and pods to it."""
        self._extensions.append(extension)
        extension.on_resize(self._capacity)
        for row, node in enumerate(self._nodes):
            if node is not None:
                extension.on_node_added(row, node)
                for pod in self._pods_on[row].values():
                    extension.on_pod_added(row, pod)

    # -- resources --------------------------------------------------------------------------
    def resource_column(self, name: str) -> int:
        """The column index of a resource, creating an all-zero column for a new extended resource."""
        index = self._resource_index.get(name)
        if index is None:
            index = len(self._resource_names)
            self._resource_names.append(name)
            self._resource_index[name] = index
            self._allocatable.append(np.zeros(self._capacity, dtype=np.int64))
            self._requested.append(np.zeros(self._capacity, dtype=np.int64))
            self._free.append(np.zeros(self._capacity, dtype=np.int64))
        return index

    def known_resource(self, name: str) -> int | None:
        return self._resource_index.get(name)

    @property
    def resource_names(self) -> tuple[str, ...]:
        return tuple(self._resource_names)

    def allocatable(self, column: int) -> IntArray:
        return self._allocatable[column][: self._size]

    def requested(self, column: int) -> IntArray:
        return self._requested[column][: self._size]

    def free(self, column: int) -> IntArray:
        return self._free[column][: self._size]

    @property
    def nonzero_requested_cpu(self) -> IntArray:
        return self._nonzero_cpu[: self._size]

    @property
    def nonzero_requested_memory(self) -> IntArray:
        return self._nonzero_memory[: self._size]

    # -- classes and topology ---------------------------------------------------------------
    @property
    def node_class(self) -> npt.NDArray[np.int32]:
        return self._node_class[: self._size]

    @property
    def class_count(self) -> int:
        return len(self._class_representatives)

    def class_representative(self, node_class: int) -> NodeInfo:
        return self._class_representatives[node_class]

    def domain_column(self, topology_key: str) -> tuple[npt.NDArray[np.int32], int]:
        """Per row, the id of the node's value of label `topology_key` (-1 if absent)."""
        entry = self._domains.get(topology_key)
        if entry is None:
            ids: dict[str, int] = {}
            column = np.full(self._capacity, -1, dtype=np.int32)
            for row, node in enumerate(self._nodes):
                if node is not None and topology_key in node.labels:
                    column[row] = ids.setdefault(node.labels[topology_key], len(ids))
            entry = (ids, column)
            self._domains[topology_key] = entry
        return entry[1][: self._size], len(entry[0])

    # -- GPUs -------------------------------------------------------------------------------
    @property
    def gpu_free_milli(self) -> npt.NDArray[np.int32]:
        return self._gpu_free[: self._size]

    # -- node events ------------------------------------------------------------------------
    def add_node(self, node: NodeInfo) -> int:
        """Insert a node, or update it if a node of that name is already present."""
        if node.name in self._row_of:
            return self.update_node(node)
        row = self._free_rows.pop() if self._free_rows else self._append_row()
        self._nodes[row] = node
        self._row_of[node.name] = row
        self._present[row] = True
        self._pods_on[row] = {}
        self._write_node_columns(row, node)
        self.attribute_version += 1
        for extension in self._extensions:
            extension.on_node_added(row, node)
        for pod in self._waiting_for_node.pop(node.name, {}).values():
            self._book_pod(pod, row, assumed=False)
        return row

    def update_node(self, node: NodeInfo) -> int:
        row = self._row_of.get(node.name)
        if row is None:
            return self.add_node(node)
        old = self.node_at(row)
        self._nodes[row] = node
        if old.class_key != node.class_key or old.labels != node.labels:
            self.attribute_version += 1
        self._write_node_columns(row, node)
        for extension in self._extensions:
            extension.on_node_updated(row, old, node)
        return row

    def remove_node(self, name: str) -> None:
        row = self._row_of.pop(name, None)
        if row is None:
            return
        node = self.node_at(row)
        for key, pod in list(self._pods_on[row].items()):
            self._pod_rows.pop(key, None)
            self._assumed.discard(key)
            self._waiting_for_node.setdefault(name, {})[key] = pod
        self._pods_on[row] = {}
        self._nodes[row] = None
        self._present[row] = False
        for column in range(len(self._resource_names)):
            self._allocatable[column][row] = 0
            self._requested[column][row] = 0
            self._free[column][row] = 0
        self._nonzero_cpu[row] = 0
        self._nonzero_memory[row] = 0
        self._gpu_free[row, :] = NO_GPU
        for _, column_values in self._domains.values():
            column_values[row] = -1
        self._free_rows.append(row)
        self._mark_changed(row)
        self.attribute_version += 1
        for extension in self._extensions:
            extension.on_node_removed(row, node)

    # -- pod events -------------------------------------------------------------------------
    def assume_pod(self, pod: PodInfo, row: int) -> None:
        """Count `pod` on `row` now, before its binding is persisted (kube-scheduler's AssumePod)."""
        self._book_pod(pod, row, assumed=True)

    def forget_pod(self, key: str) -> None:
        """Undo `assume_pod` after a failed binding."""
        if key in self._assumed:
            self.remove_pod(key)

    def is_assumed(self, key: str) -> bool:
        return key in self._assumed

    def add_pod(self, pod: PodInfo) -> None:
        """A bound pod seen on watch: confirms an assumed pod, or books a pod bound elsewhere."""
        if pod.terminating:
            self.remove_pod(pod.key)
            return
        row = self._row_of.get(pod.node_name)
        current = self._pod_rows.get(pod.key)
        if current is not None and current == row:
            self._assumed.discard(pod.key)
            stored = self._pods_on[row][pod.key]
            if stored.deleting == pod.deleting and stored.same_for_scheduling(pod):
                return
            # Labels changed or deletion began: re-book so that every extension sees the new record.
            if not pod.gpu_indices:
                pod = replace(pod, gpu_indices=stored.gpu_indices)
            self.remove_pod(pod.key)
            self._book_pod(pod, row, assumed=False)
            return
        if current is not None:
            self.remove_pod(pod.key)
        if row is None:
            self._waiting_for_node.setdefault(pod.node_name, {})[pod.key] = pod
            return
        self._book_pod(pod, row, assumed=False)

    def remove_pod(self, key: str) -> PodInfo | None:
        row = self._pod_rows.pop(key, None)
        self._assumed.discard(key)
        if row is None:
            for waiting in self._waiting_for_node.values():
                waiting.pop(key, None)
            return None
        pod = self._pods_on[row].pop(key)
        self._apply_pod(pod, row, sign=-1)
        for extension in self._extensions:
            extension.on_pod_removed(row, pod)
        return pod

    def pods_on(self, row: int) -> Iterable[PodInfo]:
        return self._pods_on[row].values()

    def pod_row(self, key: str) -> int | None:
        return self._pod_rows.get(key)

    def pod(self, key: str) -> PodInfo | None:
        row = self._pod_rows.get(key)
        return None if row is None else self._pods_on[row].get(key)

    # -- change log ---------------------------------------------------------------------------
    @property
    def usage_generation(self) -> int:
        """Moves whenever any row's columns change; pair it with `rows_changed_since`."""
        return self._changed_base + len(self._changed_rows)

    def rows_changed_since(self, generation: int) -> list[int] | None:
        """Rows changed after `generation`, or None when that is too far back to tell (recompute all)."""
        start = generation - self._changed_base
        if start < 0:
            return None
        return self._changed_rows[start:]

    def _mark_changed(self, row: int) -> None:
        if len(self._changed_rows) >= 8192:
            self._changed_base += 4096
            del self._changed_rows[:4096]
        self._changed_rows.append(row)

    # -- internals --------------------------------------------------------------------------
    def _book_pod(self, pod: PodInfo, row: int, *, assumed: bool) -> None:
        if pod.key in self._pod_rows:
            self.remove_pod(pod.key)
        if pod.gpu is not None and len(pod.gpu_indices) != pod.gpu.gpu_count:
            indices = self.gpu_chooser(self._gpu_free[row], pod.gpu.gpu_count, pod.gpu.milli_per_gpu)
            pod = replace(pod, gpu_indices=indices)
        self._pods_on[row][pod.key] = pod
        self._pod_rows[pod.key] = row
        if assumed:
            self._assumed.add(pod.key)
        self._apply_pod(pod, row, sign=1)
        for extension in self._extensions:
            extension.on_pod_added(row, pod)

    def _apply_pod(self, pod: PodInfo, row: int, sign: int) -> None:
        self._mark_changed(row)
        for name, amount in pod.requests.items():
            column = self.resource_column(name)
            self._requested[column][row] += sign * amount
            self._free[column][row] -= sign * amount
        pods_column = self._resource_index[PODS]
        self._requested[pods_column][row] += sign
        self._free[pods_column][row] -= sign
        self._nonzero_cpu[row] += sign * pod.nonzero_cpu
        self._nonzero_memory[row] += sign * pod.nonzero_memory
        if pod.gpu is not None:
            for index in pod.gpu_indices:
                if 0 <= index < self._gpu_free.shape[1] and self._gpu_free[row, index] != NO_GPU:
                    self._gpu_free[row, index] -= sign * pod.gpu.milli_per_gpu

    def _write_node_columns(self, row: int, node: NodeInfo) -> None:
        self._mark_changed(row)
        for name in node.allocatable:
            self.resource_column(name)
        for column, name in enumerate(self._resource_names):
            amount = node.allocatable.get(name, 0)
            self._allocatable[column][row] = amount
            self._free[column][row] = amount - self._requested[column][row]
        class_key = node.class_key
        node_class = self._class_ids.get(class_key)
        if node_class is None:
            node_class = len(self._class_representatives)
            self._class_ids[class_key] = node_class
            self._class_representatives.append(node)
        self._node_class[row] = node_class
        for topology_key, (ids, column_values) in self._domains.items():
            value = node.labels.get(topology_key)
            column_values[row] = -1 if value is None else ids.setdefault(value, len(ids))
        self._write_gpus(row, node.allocatable.get(GPU, 0))

    def _write_gpus(self, row: int, gpu_count: int) -> None:
        if gpu_count > self._gpu_free.shape[1]:
            wider = np.full((self._capacity, gpu_count), NO_GPU, dtype=np.int32)
            wider[:, : self._gpu_free.shape[1]] = self._gpu_free
            self._gpu_free = wider
        used = np.zeros(self._gpu_free.shape[1], dtype=np.int32)
        for pod in self._pods_on[row].values():
            if pod.gpu is not None:
                for index in pod.gpu_indices:
                    if index < used.size:
                        used[index] += pod.gpu.milli_per_gpu
        self._gpu_free[row, :] = NO_GPU
        self._gpu_free[row, :gpu_count] = 1000 - used[:gpu_count]

    def _append_row(self) -> int:
        row = self._size
        if row == self._capacity:
            self._grow(self._capacity * 2)
        self._size += 1
        self._nodes.append(None)
        self._pods_on.append({})
        return row

    def _grow(self, capacity: int) -> None:
        def widen(array: npt.NDArray[np.generic], fill: object) -> npt.NDArray[np.generic]:
            grown = np.full((capacity, *array.shape[1:]), fill, dtype=array.dtype)
            grown[: array.shape[0]] = array
            return grown

        self._present = np.asarray(widen(self._present, False), dtype=np.bool_)
        self._allocatable = [np.asarray(widen(a, 0), dtype=np.int64) for a in self._allocatable]
        self._requested = [np.asarray(widen(a, 0), dtype=np.int64) for a in self._requested]
        self._free = [np.asarray(widen(a, 0), dtype=np.int64) for a in self._free]
        self._nonzero_cpu = np.asarray(widen(self._nonzero_cpu, 0), dtype=np.int64)
        self._nonzero_memory = np.asarray(widen(self._nonzero_memory, 0), dtype=np.int64)
        self._node_class = np.asarray(widen(self._node_class, 0), dtype=np.int32)
        self._gpu_free = np.asarray(widen(self._gpu_free, NO_GPU), dtype=np.int32)
        self._domains = {
            key: (ids, np.asarray(widen(column, -1), dtype=np.int32))
            for key, (ids, column) in self._domains.items()
        }
        self._capacity = capacity
        for extension in self._extensions:
            extension.on_resize(capacity)
