"""NodeAffinity: `nodeSelector` and required node affinity (Filter), preferred node affinity (Score).

Semantics of pkg/scheduler/framework/plugins/nodeaffinity: a node must match every nodeSelector
pair and at least one required term (terms are ORed, expressions within a term ANDed; an empty
term matches nothing); the rejection reads `node(s) didn't match Pod's node affinity/selector`
and preemption cannot resolve it. The score sums the weights of the matching preferred terms and
is normalised so the best node gets 100.

Both are memoised per node class; a term that reads the hostname label or `metadata.name` is
evaluated per node instead (see `memo.py`). `required_node_affinity_mask` is shared with
PodTopologySpread, whose nodeAffinityPolicy=Honor counts only the nodes the pod could land on.
"""

from __future__ import annotations

import numpy as np

from kubelite.api.labels import Selector
from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import (
    ALL_FEASIBLE,
    BoolArray,
    ClusterEvent,
    FilterResult,
    NodeRejection,
    ScoreArray,
)
from kubelite.scheduler.framework.scores import normalize
from kubelite.scheduler.framework.status import SKIP, SUCCESS, Status
from kubelite.scheduler.memo import AttributeMemo
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import (
    NODE_NAME_FIELD,
    UNIQUE_NODE_LABELS,
    NodeInfo,
    PodInfo,
    selector_keys,
)

RequiredKey = tuple[Selector, tuple[Selector, ...] | None]
PreferredKey = tuple[tuple[int, Selector], ...]
REASON = "node(s) didn't match Pod's node affinity/selector"
_NODE_SPECIFIC_KEYS = UNIQUE_NODE_LABELS | {NODE_NAME_FIELD}


def _matches_required(key: RequiredKey, node: NodeInfo) -> int:
    node_selector, terms = key
    labels = node.field_labels()
    if not node_selector.matches(labels):
        return 0
    if terms is None:
        return 1
    return int(any(term.matches(labels) for term in terms))


def _preferred_weight(key: PreferredKey, node: NodeInfo) -> int:
    labels = node.field_labels()
    return sum(weight for weight, term in key if term.matches(labels))


def _node_specific(selectors: list[Selector]) -> bool:
    return any(selector_keys(selector) & _NODE_SPECIFIC_KEYS for selector in selectors)


_required_memo: AttributeMemo[RequiredKey] = AttributeMemo(_matches_required)


def required_node_affinity_mask(pod: PodInfo, table: NodeTable) -> BoolArray | None:
    """Rows matching the pod's nodeSelector and required node affinity; None when it has neither."""
    if not pod.node_selector.requirements and pod.required_node_affinity is None:
        return None
    key: RequiredKey = (pod.node_selector, pod.required_node_affinity)
    per_node = _node_specific([pod.node_selector, *(pod.required_node_affinity or ())])
    mask: BoolArray = _required_memo.values(key, table, per_node=per_node) == 1
    return mask


class NodeAffinity:
    name = "NodeAffinity"

    def __init__(self) -> None:
        self._preferred_memo: AttributeMemo[PreferredKey] = AttributeMemo(_preferred_weight)
        self._results: dict[tuple[int, int, RequiredKey], FilterResult] = {}

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        key = (table.attribute_version, table.size, (pod.node_selector, pod.required_node_affinity))
        result = self._results.get(key)
        if result is None:
            mask = required_node_affinity_mask(pod, table)
            if mask is None:
                return FilterResult()
            result = FilterResult(mask, (NodeRejection(REASON, ~mask, resolvable=False),))
            if not result.all_rejections() or all(not r.nodes.any() for r in result.rejections):
                result = ALL_FEASIBLE
            if len(self._results) > 1024:
                self._results.clear()
            self._results[key] = result
        return result

    def pre_score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> Status:
        return SUCCESS if pod.preferred_node_affinity else SKIP

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray:
        if not pod.preferred_node_affinity:
            return np.zeros(table.size, dtype=np.int64)
        per_node = _node_specific([term for _, term in pod.preferred_node_affinity])
        return self._preferred_memo.values(pod.preferred_node_affinity, table, per_node=per_node).astype(
            np.int64
        )

    def normalize_scores(
        self, state: CycleState, pod: PodInfo, scores: ScoreArray, feasible: BoolArray
    ) -> ScoreArray:
        return normalize(scores, feasible)

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return frozenset({"NodeAdd", "NodeUpdate"})
