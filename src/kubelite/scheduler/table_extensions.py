"""What can plug into the node table: the `NodeTableExtension` protocol and the GPU index chooser.

An extension keeps per-node state aligned with the table's rows: the table calls it after each
node add/update/remove (with the row) and each pod add/remove (assume, bind seen on watch,
forget, delete), and `on_resize` when the row capacity grows. Removing a node sends only
`on_node_removed`: the node's pods leave with it (no per-pod removals), and come back with
`on_pod_added` if a node of that name is added again. A `GpuChooser` picks which GPUs of
a node a pod gets; the default is best fit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

from kubelite.scheduler.records import NodeInfo, PodInfo

GpuChooser = Callable[[npt.NDArray[np.int32], int, int], tuple[int, ...]]
"""(free milli of one node's GPUs, gpu_count, milli_per_gpu) -> chosen GPU indices (empty: none fit)."""


def best_fit_gpus(free_milli: npt.NDArray[np.int32], gpu_count: int, milli_per_gpu: int) -> tuple[int, ...]:
    """The default choice: the GPUs with the least free milli that still fit (ties by index)."""
    fitting = np.flatnonzero(free_milli >= milli_per_gpu)
    if fitting.size < gpu_count:
        return ()
    order = fitting[np.argsort(free_milli[fitting], kind="stable")]
    return tuple(int(index) for index in sorted(order[:gpu_count]))


class NodeTableExtension(Protocol):
    """Per-node state kept aligned with the node table's rows."""

    def on_resize(self, capacity: int) -> None: ...
    def on_node_added(self, row: int, node: NodeInfo) -> None: ...
    def on_node_updated(self, row: int, old: NodeInfo, new: NodeInfo) -> None: ...
    def on_node_removed(self, row: int, node: NodeInfo) -> None: ...
    def on_pod_added(self, row: int, pod: PodInfo) -> None: ...
    def on_pod_removed(self, row: int, pod: PodInfo) -> None: ...
