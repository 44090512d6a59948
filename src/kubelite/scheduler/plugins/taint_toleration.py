"""TaintToleration: NoSchedule/NoExecute taints must be tolerated (Filter); fewer untolerated
PreferNoSchedule taints score higher (Score, normalised in reverse).

Semantics follow pkg/scheduler/framework/plugins/tainttoleration: the filter reports the first
untolerated taint of each node as `node(s) had untolerated taint {key: value}` and cannot be
resolved by preemption. Both results depend only on the node's taints and the pod's tolerations,
so they are memoised per node class and per tolerations tuple (see `memo.py`).
"""

from __future__ import annotations

import numpy as np

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import (
    ALL_FEASIBLE,
    BoolArray,
    ClusterEvent,
    FilterResult,
    NodeRejection,
    ScoreArray,
)
from kubelite.scheduler.framework.scores import reverse_normalize
from kubelite.scheduler.framework.status import SKIP, SUCCESS, Status
from kubelite.scheduler.memo import AttributeMemo
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import NodeInfo, PodInfo, Taint, Toleration

Tolerations = tuple[Toleration, ...]


class TaintToleration:
    name = "TaintToleration"

    def __init__(self) -> None:
        self._taint_codes: dict[Taint, int] = {}
        self._taints: list[Taint] = []
        self._filter_memo: AttributeMemo[Tolerations] = AttributeMemo(self._first_untolerated)
        self._score_memo: AttributeMemo[Tolerations] = AttributeMemo(_untolerated_preferences)
        self._results: dict[tuple[int, int, Tolerations], FilterResult] = {}
        self._flat: dict[tuple[int, int, Tolerations], bool] = {}

    def _first_untolerated(self, tolerations: Tolerations, node: NodeInfo) -> int:
        """0 when every hard taint is tolerated, else 1 + the code of the first untolerated taint."""
        for taint in node.taints:
            if taint.effect == "PreferNoSchedule":
                continue
            if not any(toleration.tolerates(taint) for toleration in tolerations):
                code = self._taint_codes.get(taint)
                if code is None:
                    code = self._taint_codes[taint] = len(self._taints)
                    self._taints.append(taint)
                return code + 1
        return 0

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        key = (table.attribute_version, table.size, pod.tolerations)
        result = self._results.get(key)
        if result is None:
            codes = self._filter_memo.values(pod.tolerations, table)
            rejections = tuple(
                NodeRejection(
                    f"node(s) had untolerated taint {self._taints[int(code) - 1].describe()}",
                    codes == code,
                    resolvable=False,
                )
                for code in np.unique(codes)
                if code != 0
            )
            result = FilterResult(codes == 0, rejections)
            if not result.all_rejections() or all(not r.nodes.any() for r in result.rejections):
                result = ALL_FEASIBLE
            if len(self._results) > 1024:
                self._results.clear()
            self._results[key] = result
        return result

    def pre_score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> Status:
        """SKIP when no node has an untolerated PreferNoSchedule taint: the score would be flat."""
        key = (table.attribute_version, table.size, pod.tolerations)
        flat = self._flat.get(key)
        if flat is None:
            flat = not self._score_memo.values(pod.tolerations, table).any()
            if len(self._flat) > 1024:
                self._flat.clear()
            self._flat[key] = flat
        return SKIP if flat else SUCCESS

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray:
        return self._score_memo.values(pod.tolerations, table).astype(np.int64)

    def normalize_scores(
        self, state: CycleState, pod: PodInfo, scores: ScoreArray, feasible: BoolArray
    ) -> ScoreArray:
        return reverse_normalize(scores, feasible)

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return frozenset({"NodeAdd", "NodeUpdate"})


def _untolerated_preferences(tolerations: Tolerations, node: NodeInfo) -> int:
    return sum(
        1
        for taint in node.taints
        if taint.effect == "PreferNoSchedule"
        and not any(t.tolerates(taint) for t in tolerations if t.effect in ("", "PreferNoSchedule"))
    )
