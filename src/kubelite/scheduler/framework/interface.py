"""The extension points of the scheduling framework, each a small Protocol, vectorised over nodes.

The shape is kube-scheduler's (pkg/scheduler/framework/interface.go): QueueSort, PreFilter,
Filter, PostFilter, PreScore, Score (+ normalisation), Reserve/Unreserve, Permit, PreBind, Bind,
PostBind. The one difference is the unit of work: Filter and Score see the whole `NodeTable` at
once and return a `FilterResult` mask or a score vector over every row, instead of being called
once per node, so that the per-pod path is a handful of numpy operations.

Data flow for one pod: PreFilter (may reject the pod outright or write CycleState) -> Filter
(masks, ANDed; rejections feed the FailedScheduling message) -> PostFilter if nothing fits
(preemption) -> PreScore -> Score (0..100 per row, normalised, times the plugin's weight) -> the
best row -> Reserve -> assume in the table -> Permit -> PreBind -> Bind -> PostBind. A plugin
implements any subset; the framework finds which by `isinstance` on these runtime-checkable
Protocols once, when the profile is built. Every plugin has a `name` (its Kubernetes name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.status import Status
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import PodInfo

BoolArray = npt.NDArray[np.bool_]
ScoreArray = npt.NDArray[np.int64]
MAX_NODE_SCORE = 100

ClusterEvent = Literal["NodeAdd", "NodeUpdate", "NodeDelete", "PodAdd", "PodUpdate", "PodDelete"]
"""Cluster events that can make an unschedulable pod schedulable (kube-scheduler's ClusterEvent)."""


@dataclass(frozen=True, slots=True)
class NodeRejection:
    """Rows that a Filter rejected for one reason; `resolvable` is False when preemption cannot help."""

    reason: str
    nodes: BoolArray
    resolvable: bool = True


@dataclass(frozen=True, slots=True)
class FilterResult:
    """A Filter's verdict over every row: `feasible=None` means every row passes."""

    feasible: BoolArray | None = None
    rejections: tuple[NodeRejection, ...] = ()
    explain: Callable[[], tuple[NodeRejection, ...]] | None = None
    """Computes `rejections` lazily, only when the pod fits nowhere (keeps the hot path short)."""

    def all_rejections(self) -> tuple[NodeRejection, ...]:
        return self.rejections or (self.explain() if self.explain is not None else ())


ALL_FEASIBLE = FilterResult()


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """Why no row fits: nodes per reason (first rejecting Filter per node, as kube-scheduler counts),
    the rows whose rejection preemption cannot resolve, and a PreFilter rejection if there was one."""

    reason_counts: Mapping[str, int]
    unresolvable: BoolArray
    node_count: int
    pre_filter_status: Status | None = None
    rejected_by: Mapping[str, BoolArray] = field(default_factory=dict)
    """Per Filter plugin, every row it rejected (not only the rows it rejected first)."""
    passes_filters: Callable[[int], bool] | None = None
    """Whether the pod would pass every PreFilter and Filter on a row given the table as it is now
    (PostFilter uses it to try evictions: remove pods from the table, ask, put them back)."""


@dataclass(frozen=True, slots=True)
class PostFilterResult:
    """PostFilter's outcome: a nominated node (preemption) and the pods to evict for it."""

    status: Status
    nominated_node: str = ""
    victims: tuple[PodInfo, ...] = ()


class Plugin(Protocol):
    @property
    def name(self) -> str: ...


@runtime_checkable
class QueueSortPlugin(Protocol):
    """Orders the active queue; a key rather than Less so the queue can stay a heap."""

    @property
    def name(self) -> str: ...
    def sort_key(self, pod: PodInfo) -> tuple[float, ...]: ...


@runtime_checkable
class PreFilterPlugin(Protocol):
    @property
    def name(self) -> str: ...
    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> Status: ...


@runtime_checkable
class FilterPlugin(Protocol):
    @property
    def name(self) -> str: ...
    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult: ...


@runtime_checkable
class PostFilterPlugin(Protocol):
    @property
    def name(self) -> str: ...
    def post_filter(
        self, state: CycleState, pod: PodInfo, table: NodeTable, diagnosis: Diagnosis
    ) -> PostFilterResult: ...


@runtime_checkable
class PreScorePlugin(Protocol):
    @property
    def name(self) -> str: ...
    def pre_score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> Status: ...


@runtime_checkable
class ScorePlugin(Protocol):
    """Raw scores over every row (rows outside `feasible` are ignored)."""

    @property
    def name(self) -> str: ...
    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray: ...


@runtime_checkable
class ScoreNormalizer(Protocol):
    """A Score plugin's ScoreExtensions: map raw scores onto 0..MAX_NODE_SCORE over the feasible rows."""

    def normalize_scores(
        self, state: CycleState, pod: PodInfo, scores: ScoreArray, feasible: BoolArray
    ) -> ScoreArray: ...


@runtime_checkable
class ReservePlugin(Protocol):
    """Reserve runs before the pod is assumed in the table, so it sees the row without the pod."""

    @property
    def name(self) -> str: ...
    def reserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> Status: ...
    def unreserve(self, state: CycleState, pod: PodInfo, table: NodeTable, row: int) -> None: ...


@runtime_checkable
class PermitPlugin(Protocol):
    """Returns SUCCESS, a rejection, or WAIT together with a timeout in seconds."""

    @property
    def name(self) -> str: ...
    def permit(self, state: CycleState, pod: PodInfo, node_name: str) -> tuple[Status, float]: ...


@runtime_checkable
class PreBindPlugin(Protocol):
    @property
    def name(self) -> str: ...
    async def pre_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status: ...


@runtime_checkable
class BindPlugin(Protocol):
    """Persists the placement; SKIP passes the pod on to the next Bind plugin."""

    @property
    def name(self) -> str: ...
    async def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status: ...


@runtime_checkable
class PostBindPlugin(Protocol):
    @property
    def name(self) -> str: ...
    def post_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> None: ...


@runtime_checkable
class EnqueueExtensions(Protocol):
    """The cluster events after which a pod this plugin rejected is worth retrying."""

    def events_to_register(self) -> frozenset[ClusterEvent]: ...
