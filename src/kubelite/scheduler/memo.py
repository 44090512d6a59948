"""Per-node-class memoisation of results that depend only on node attributes (Nomad's computed class).

Nodes with identical labels (bar unique ones such as the hostname), taints and unschedulable flag
share a class in the node table. A node-only predicate (taints vs tolerations, node affinity) is
evaluated once per class for a given pod-side key (the pod's tolerations, its selector terms), and
the class results are spread over the rows with one gather. The node-level result is kept too,
until the table's `attribute_version` moves, so pods of one workload pay a dict lookup.

A key that reads a unique label or the node name cannot be shared by a class; for those the
caller passes `per_node=True` and the predicate runs on every node (once per key and version).

Data flow: plugin -> `AttributeMemo.values(key, table)` -> int32 codes per row.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import NodeInfo

K = TypeVar("K", bound=Hashable)
CodeArray = npt.NDArray[np.int32]
_MAX_ENTRIES = 4096


class AttributeMemo(Generic[K]):
    """`evaluate(key, node) -> int` memoised per node class and per key."""

    def __init__(self, evaluate: Callable[[K, NodeInfo], int]) -> None:
        self._evaluate = evaluate
        self._by_class: dict[K, list[int]] = {}
        self._by_node: dict[K, tuple[int, int, CodeArray]] = {}

    def values(self, key: K, table: NodeTable, *, per_node: bool = False) -> CodeArray:
        cached = self._by_node.get(key)
        if cached is not None and cached[0] == table.attribute_version and cached[1] == table.size:
            return cached[2]
        if per_node:
            codes = np.zeros(table.size, dtype=np.int32)
            for row in np.flatnonzero(table.present):
                codes[row] = self._evaluate(key, table.node_at(int(row)))
        else:
            class_codes = self._by_class.get(key)
            if class_codes is None:
                if len(self._by_class) >= _MAX_ENTRIES:
                    self._by_class.clear()
                class_codes = self._by_class.setdefault(key, [])
            # Classes are append-only, so earlier results stay valid; evaluate only the new ones.
            for node_class in range(len(class_codes), table.class_count):
                class_codes.append(self._evaluate(key, table.class_representative(node_class)))
            codes = np.asarray(class_codes, dtype=np.int32)[table.node_class]
        if len(self._by_node) >= _MAX_ENTRIES:
            self._by_node.clear()
        self._by_node[key] = (table.attribute_version, table.size, codes)
        return codes


Rows = slice | npt.NDArray[np.intp]
VectorFunction = Callable[[Rows], npt.NDArray[np.int64]]
_MAX_PATCH_ROWS = 256
_SCALAR_PATCH_ROWS = 8


class RowCache(Generic[K]):
    """A per-key vector over rows, patched for the rows the table changed since it was computed.

    `compute(rows)` must give the vector's values for `rows` (a slice for all, or row indices).
    Pods of one workload share a key (their requests), so after the first pod each scoring pass
    recomputes only the row the previous pod landed on instead of every node.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self._entries: dict[K, tuple[int, int, npt.NDArray[np.int64]]] = {}
        self._max_entries = max_entries

    def get(
        self,
        key: K,
        table: NodeTable,
        compute: VectorFunction,
        compute_one: Callable[[int], int] | None = None,
    ) -> npt.NDArray[np.int64]:
        """The vector for `key`; `compute_one(row)`, when given, patches a few rows without numpy
        (one numpy call costs about a microsecond, more than the scalar arithmetic it would do)."""
        entry = self._entries.get(key)
        generation = table.usage_generation
        if entry is not None and entry[1] == table.size:
            changed: Sequence[int] | None = table.rows_changed_since(entry[0])
            if changed is not None and len(changed) <= _MAX_PATCH_ROWS:
                vector = entry[2]
                if changed:
                    if compute_one is not None and len(changed) <= _SCALAR_PATCH_ROWS:
                        for row in set(changed):
                            vector[row] = compute_one(row)
                    else:
                        rows = np.unique(np.asarray(changed, dtype=np.intp))
                        vector[rows] = compute(rows)
                    self._entries[key] = (generation, table.size, vector)
                return vector
        vector = np.array(compute(slice(None)), dtype=np.int64)
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (generation, table.size, vector)
        return vector
