"""InterPodAffinity: required pod affinity / anti-affinity (Filter) and preferred terms (Score).

Semantics of pkg/scheduler/framework/plugins/interpodaffinity, vectorised over topology domains.
Per term, `PodCountIndex` gives matching pods per node; one `bincount` over the term's topology
domain column turns that into pods per domain, and a gather maps it back to every node.
Filter, in Kubernetes' order of reasons:
- existing pods' required anti-affinity terms that the incoming pod matches forbid their domains:
  `node(s) didn't satisfy existing pods anti-affinity rules`;
- the pod's required affinity terms each need a matching pod in the node's domain, except when no
  pod anywhere matches and the pod matches its own terms (the first pod of a group):
  `node(s) didn't match pod affinity rules` (unresolvable);
- the pod's required anti-affinity terms forbid domains holding a matching pod:
  `node(s) didn't match pod anti-affinity rules`.
Score: the weights of the pod's preferred terms (anti-affinity negative) per matching pod in the
node's domain, plus the symmetric weights of existing pods' preferred terms (and their required
affinity, at weight 1) that the incoming pod matches; normalised to 0..100 by min and max.
"""

from __future__ import annotations

import numpy as np

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
from kubelite.scheduler.pod_index import PodCountIndex
from kubelite.scheduler.records import HOSTNAME_LABEL, AffinityTerm, PodInfo

EXISTING_ANTI_REASON = "node(s) didn't satisfy existing pods anti-affinity rules"
AFFINITY_REASON = "node(s) didn't match pod affinity rules"
ANTI_AFFINITY_REASON = "node(s) didn't match pod anti-affinity rules"


def _per_domain(table: NodeTable, topology_key: str, per_node: IntArray) -> tuple[IntArray, BoolArray]:
    """(the domain total of `per_node` seen from each row, rows that have the topology key)."""
    domains, domain_count = table.domain_column(topology_key)
    has_key = domains >= 0
    if topology_key == HOSTNAME_LABEL:
        return per_node * has_key, has_key  # one domain per node: the per-node count is the answer
    safe = np.where(has_key, domains, 0)
    totals = np.bincount(safe, weights=np.where(has_key, per_node, 0), minlength=max(domain_count, 1))
    return totals.astype(np.int64)[safe] * has_key, has_key


def _term_counts(table: NodeTable, term: AffinityTerm) -> IntArray:
    return PodCountIndex.of(table).matching(term.namespaces, term.selector)


def _matching_in_domain(table: NodeTable, term: AffinityTerm) -> tuple[IntArray, BoolArray]:
    """`_per_domain` of the pods matching `term`, from the index's incrementally kept domain totals."""
    if term.topology_key == HOSTNAME_LABEL:
        return _per_domain(table, term.topology_key, _term_counts(table, term))
    domains, _ = table.domain_column(term.topology_key)
    has_key = domains >= 0
    totals = PodCountIndex.of(table).matching_per_domain(term.namespaces, term.selector, term.topology_key)
    return totals[np.where(has_key, domains, 0)] * has_key, has_key


class InterPodAffinity:
    name = "InterPodAffinity"

    def pre_filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> Status:
        carried = PodCountIndex.of(table).carried_terms()
        if not (pod.required_affinity or pod.required_anti_affinity) and not any(
            kind == "required_anti_affinity" for kind, _, _ in carried
        ):
            return SKIP
        return SUCCESS

    def filter(self, state: CycleState, pod: PodInfo, table: NodeTable) -> FilterResult:
        size = table.size
        existing_anti = np.zeros(size, dtype=np.bool_)
        for (kind, term, _), carriers in PodCountIndex.of(table).carried_terms().items():
            if kind == "required_anti_affinity" and term.matches_pod(pod):
                in_domain, _ = _per_domain(table, term.topology_key, carriers)
                existing_anti |= in_domain > 0
        affinity_miss = np.zeros(size, dtype=np.bool_)
        if pod.required_affinity:
            counts = [_term_counts(table, term) for term in pod.required_affinity]
            first_of_group = all(int(c.sum()) == 0 for c in counts) and all(
                term.matches_pod(pod) for term in pod.required_affinity
            )
            for term in pod.required_affinity:
                in_domain, has_key = _matching_in_domain(table, term)
                affinity_miss |= ~has_key if first_of_group else in_domain == 0
        anti_hit = np.zeros(size, dtype=np.bool_)
        for term in pod.required_anti_affinity:
            in_domain, _ = _matching_in_domain(table, term)
            anti_hit |= in_domain > 0
        if not (existing_anti.any() or affinity_miss.any() or anti_hit.any()):
            return ALL_FEASIBLE
        feasible = ~(existing_anti | affinity_miss | anti_hit)
        return FilterResult(
            feasible,
            (
                NodeRejection(EXISTING_ANTI_REASON, existing_anti),
                NodeRejection(AFFINITY_REASON, affinity_miss & ~existing_anti, resolvable=False),
                NodeRejection(ANTI_AFFINITY_REASON, anti_hit & ~existing_anti & ~affinity_miss),
            ),
        )

    def pre_score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> Status:
        if pod.preferred_affinity or pod.preferred_anti_affinity:
            return SUCCESS
        carried = PodCountIndex.of(table).carried_terms()
        if any(kind != "required_anti_affinity" for kind, _, _ in carried):
            return SUCCESS
        return SKIP

    def score(self, state: CycleState, pod: PodInfo, table: NodeTable, feasible: BoolArray) -> ScoreArray:
        total = np.zeros(table.size, dtype=np.int64)
        for weight, term in pod.preferred_affinity:
            total += weight * _matching_in_domain(table, term)[0]
        for weight, term in pod.preferred_anti_affinity:
            total -= weight * _matching_in_domain(table, term)[0]
        for (kind, term, weight), carriers in PodCountIndex.of(table).carried_terms().items():
            if kind == "required_anti_affinity" or not term.matches_pod(pod):
                continue
            sign = -1 if kind == "preferred_anti_affinity" else 1
            total += sign * weight * _per_domain(table, term.topology_key, carriers)[0]
        return total

    def normalize_scores(
        self, state: CycleState, pod: PodInfo, scores: ScoreArray, feasible: BoolArray
    ) -> ScoreArray:
        if not feasible.any():
            return np.zeros_like(scores)
        highest, lowest = int(scores[feasible].max()), int(scores[feasible].min())
        if highest == lowest:
            return np.zeros_like(scores)
        return (scores - lowest) * MAX_NODE_SCORE // (highest - lowest)

    def events_to_register(self) -> frozenset[ClusterEvent]:
        return frozenset({"NodeAdd", "NodeUpdate", "PodAdd", "PodUpdate", "PodDelete"})
