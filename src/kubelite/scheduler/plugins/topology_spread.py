"""PodTopologySpread: hard (DoNotSchedule) constraints as a Filter, soft (ScheduleAnyway) as a Score.

Semantics of pkg/scheduler/framework/plugins/podtopologyspread, vectorised over domains:
- Matching pods (same namespace, constraint selector, `matchLabelKeys` merged in) are counted per
  node by `PodCountIndex`, then summed per topology domain with one `bincount` over the nodes
  that count: nodes having every constraint's topology key, matching the pod's node affinity when
  nodeAffinityPolicy=Honor (the default), tolerated when nodeTaintsPolicy=Honor.
- Filter: a node passes when `count(domain) + selfMatch - globalMin <= maxSkew`, where globalMin
  is the smallest count over eligible domains, or 0 while there are fewer than `minDomains`
  domains. A node without the topology key is rejected as unresolvable.
- Score: `sum over constraints of count(domain) * log(domains + 2) + maxSkew - 1`, normalised so
  that the emptiest domain scores 100 (`100 * (max + min - s) / max`), nodes without a key get 0.
- System defaults (defaultingType: System): a pod without constraints whose controller is a
  ReplicaSet, StatefulSet or ReplicationController is spread ScheduleAnyway over hostnames
  (maxSkew 3) and zones (maxSkew 5). Kubernetes selects the sibling pods with the owners' and
  Services' selectors; here the pod's own labels stand in for them, since a controller stamps the
  same template labels (and pod-template-hash) on every replica.
"""

from __future__ import annotations

import math

import numpy as np

from kubelite.api.labels import Selector
from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import (
    ALL_FEASIBLE,
    MAX_NODE_SCORE,
    BoolArray,
    ClusterEvent,
    FilterResult,
    NodeRejection,
    ScoreArray,
)
from kubelite.scheduler.framework.status import SKIP, SUCCESS, Status
from kubelite.scheduler.nodetable import IntArray, NodeTable
from kubelite.scheduler.plugins.node_affinity import required_node_affinity_mask
from kubelite.scheduler.plugins.taint_toleration import TaintToleration
from kubelite.scheduler.pod_index import PodCountIndex
from kubelite.scheduler.records import HOSTNAME_LABEL, PodInfo, SpreadConstraint, node_requirement

SKEW_REASON = "node(s) didn't match pod topology spread constraints"
MISSING_LABEL_REASON = "node(s) didn't match pod topology spread constraints (missing required label)"


SPREAD_CONTROLLERS = frozenset({"ReplicaSet", "StatefulSet", "ReplicationController"})
SYSTEM_DEFAULTS = (("kubernetes.io/hostname", 3), ("topology.kubernetes.io/zone", 5))


def constraints_of(pod: PodInfo, system_defaults: bool) -> tuple[SpreadConstraint, ...]:
    """The pod's own constraints, or the system defaults when it has none and a controller owns it."""
    if pod.spread_constraints or not system_defaults or pod.controller_kind not in SPREAD_CONTROLLERS:
        return pod.spread_constraints
    if not pod.labels:
        return ()
    selector = Selector(
        tuple(node_requirement(key, "=", (value,)) for key, value in sorted(pod.labels.items()))
    )
    return tuple(SpreadConstraint(skew, key, "ScheduleAnyway", selector) for key, skew in SYSTEM_DEFAULTS)


class PodTopologySpread:
    name = "PodTopologySpread"

    def __init__(self, system_defaults: bool = True) -> None:
        self._taints = TaintToleration()
        self.system_defaults = system_defaults
        self._nodes_per_domain: dict[str, tuple[tuple[int, int], IntArray]] = {}

    def _eligible(
        self,
        pod: PodInfo,
        table: NodeTable,
        constraints: tuple[SpreadConstraint, ...],
        require_all_keys: bool = True,
    ) -> BoolArray:
        eligible = table.present.copy()
        if require_all_keys:
            for constraint in constraints:
                eligible &= table.domain_column(constraint.topology_key)[0] >= 0
        if any(c.node_affinity_policy == "Honor" for c in constraints):
            affinity = required_node_affinity_mask(pod, table)
            if affinity is not None:
                eligible &= affinity
        if any(c.node_taints_policy == "Honor" for c in constraints):
            tolerated = self._taints.filter(CycleState(), pod, table).feasible
            if tolerated is not None:
                eligible &= tolerated
        return eligible

    def _domain_counts(
        self, pod: PodInfo, table: NodeTable, constraint: SpreadConstraint, eligible: BoolArray
    ) -> tuple[IntArray, IntArray, IntArray]:
        """(domain id per row, matching pods per domain, eligible nodes per domain)."""
        domains, domain_count = table.domain_column(constraint.topology_key)
        index = PodCountIndex.of(table)
        labelled_nodes = self._labelled_nodes(table, constraint.topology_key)
        if int(np.count_nonzero(eligible)) == int(labelled_nodes.sum()):
            # Every labelled node counts (the common case): use the incrementally kept domain totals.
            per_domain_all = index.matching_per_domain(
                frozenset({pod.namespace}), constraint.selector, constraint.topology_key
            )
            return domains.astype(np.int64), per_domain_all, labelled_nodes
        counts = index.matching(frozenset({pod.namespace}), constraint.selector)
        safe_domains = np.where(eligible, domains, 0)
        per_domain = np.bincount(safe_domains, weights=np.where(eligible, counts, 0), minlength=domain_count)
        nodes_per_domain = np.bincount(safe_domains, weights=eligible, minlength=domain_count)
        return domains.astype(np.int64), per_domain.astype(np.int64), nodes_per_domain.astype(np.int64)

    def _labelled_nodes(self, table: NodeTable, topology_key: str) -> IntArray:
        """Nodes per domain of `topology_key` (all present nodes that carry it), per table version."""
        cached = self._nodes_per_domain.get(topology_key)
        if cached is None or cached[0] != (table.attribute_version, table.size):
            domains, domain_count = table.domain_column(topology_key)
            labelled = table.present & (domains >= 0)
            counts = np.bincount(domains[labelled], minlength=max(domain_count, 1)).astype(np.int64)
            cached = ((table.attribute_version, table.size), counts)
            self._nodes_per_domain[topology_key] = cached
        return cached[1]

    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> Status:
        if not any(c.when_unsatisfiable == "DoNotSchedule" for c in pod.spread_constraints):
            return SKIP
        return SUCCESS

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        hard = tuple(c for c in pod.spread_constraints if c.when_unsatisfiable == "DoNotSchedule")
        if not hard:
            return ALL_FEASIBLE
        eligible = self._eligible(pod, table, hard)
        missing = np.zeros(table.size, dtype=np.bool_)
        skewed = np.zeros(table.size, dtype=np.bool_)
        for constraint in hard:
            self_match = 1 if constraint.selector.matches(pod.labels) else 0
            if constraint.topology_key == HOSTNAME_LABEL:
                # One domain per node (kube-scheduler special-cases the hostname too): no bincount.
                has_key = table.domain_column(HOSTNAME_LABEL)[0] >= 0
                counts = PodCountIndex.of(table).matching(frozenset({pod.namespace}), constraint.selector)
                live_domains = int(np.count_nonzero(eligible))
                enough = live_domains >= constraint.min_domains and live_domains > 0
                global_min = int(counts[eligible].min()) if enough else 0
                node_counts = counts
            else:
                domains, per_domain, nodes_per_domain = self._domain_counts(pod, table, constraint, eligible)
                has_key = domains >= 0
                live = nodes_per_domain > 0
                live_domains = int(np.count_nonzero(live))
                global_min = int(per_domain[live].min()) if live_domains >= constraint.min_domains else 0
                node_counts = per_domain[np.where(has_key, domains, 0)]
            missing |= ~has_key
            skewed |= has_key & (node_counts + self_match - global_min > constraint.max_skew)
        skewed &= ~missing
        feasible = ~(missing | skewed)
        return FilterResult(
            feasible,
            (
                NodeRejection(MISSING_LABEL_REASON, missing, resolvable=False),
                NodeRejection(SKEW_REASON, skewed),
            ),
        )

    def pre_score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> Status:
        constraints = constraints_of(pod, self.system_defaults)
        if not any(c.when_unsatisfiable == "ScheduleAnyway" for c in constraints):
            return SKIP
        return SUCCESS

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray:
        constraints = constraints_of(pod, self.system_defaults)
        soft = tuple(c for c in constraints if c.when_unsatisfiable == "ScheduleAnyway")
        if not soft:
            return np.zeros(table.size, dtype=np.int64)
        # As kube-scheduler: the pod's own constraints need every topology key on a node, while
        # system defaults simply skip a constraint on nodes that lack its key.
        require_all_keys = bool(pod.spread_constraints)
        eligible = self._eligible(pod, table, soft, require_all_keys) & feasible
        raw = np.zeros(table.size, dtype=np.float64)
        ignored = np.zeros(table.size, dtype=np.bool_)
        for constraint in soft:
            has_key = table.domain_column(constraint.topology_key)[0] >= 0
            counted = eligible if require_all_keys else eligible & has_key
            domains, per_domain, nodes_per_domain = self._domain_counts(pod, table, constraint, counted)
            if require_all_keys:
                ignored |= ~has_key
            weight = math.log(int(np.count_nonzero(nodes_per_domain)) + 2)
            contribution = per_domain[np.where(has_key, domains, 0)] * weight + (constraint.max_skew - 1)
            raw += np.where(has_key, contribution, 0.0)
        scores = np.round(raw).astype(np.int64)
        return np.where(ignored, -1, scores)

    def normalize_scores(
        self, state: CycleState, pod: PodInfo, scores: ScoreArray, feasible: BoolArray
    ) -> ScoreArray:
        valid = feasible & (scores >= 0)
        if not valid.any():
            return np.zeros_like(scores)
        highest, lowest = int(scores[valid].max()), int(scores[valid].min())
        if highest == 0:
            return np.where(valid, MAX_NODE_SCORE, 0)
        return np.where(valid, MAX_NODE_SCORE * (highest + lowest - scores) // highest, 0)

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return frozenset({"NodeAdd", "NodeUpdate", "PodAdd", "PodDelete"})
