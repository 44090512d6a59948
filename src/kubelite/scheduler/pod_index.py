"""Per-node counts of the pods that match a label selector, kept current from pod events.

Topology spreading and inter-pod affinity ask "how many pods matching S (in namespaces N) run on
each node?" for a few distinct (N, S) per workload. `PodCountIndex` is a node-table extension:
the first time a key is asked for it counts every pod once, and afterwards each pod add/remove
adjusts the count arrays of the keys the pod matches. It also tracks the (anti-)affinity terms
that existing pods carry, per node, so the symmetric checks ("existing pods' anti-affinity") are
vectorised too.

Data flow: NodeTable pod events -> counts[key][row]; plugins read `matching(...)` / `carried(...)`.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from kubelite.api.labels import Selector
from kubelite.scheduler.nodetable import IntArray, NodeTable
from kubelite.scheduler.records import (
    AffinityTerm,
    NodeInfo,
    PodInfo,
)

TermKind = Literal[
    "required_affinity", "required_anti_affinity", "preferred_affinity", "preferred_anti_affinity"
]
CountKey = tuple[frozenset[str] | None, Selector]
MAX_TRACKED_SELECTORS = 256
CarriedKey = tuple[TermKind, AffinityTerm, int]


class PodCountIndex:
    """Selector -> per-row count of matching pods; term -> per-row count of pods carrying it."""

    def __init__(self, table: NodeTable) -> None:
        self._table = table
        self._capacity = table.capacity
        self._counts: dict[CountKey, IntArray] = {}
        self._carried: dict[CarriedKey, IntArray] = {}
        self._carried_totals: dict[CarriedKey, int] = {}
        self._carried_view: tuple[int, dict[CarriedKey, IntArray]] | None = None  # cleared on key changes
        self._domain_counts: dict[tuple[frozenset[str] | None, Selector, str], tuple[int, IntArray]] = {}
        table.register(self)

    @staticmethod
    def of(table: NodeTable) -> PodCountIndex:
        """The table's index, created and registered on first use."""
        return table.find_extension(PodCountIndex) or PodCountIndex(table)

    # -- queries ----------------------------------------------------------------------------
    def matching(self, namespaces: frozenset[str] | None, selector: Selector) -> IntArray:
        key = (namespaces, selector)
        counts = self._counts.pop(key, None)
        if counts is None:
            counts = np.zeros(self._capacity, dtype=np.int64)
            for row in np.flatnonzero(self._table.present):
                counts[row] = sum(1 for pod in self._table.pods_on(int(row)) if _matches(key, pod))
            if len(self._counts) >= MAX_TRACKED_SELECTORS:
                # Least recently asked first: every tracked key costs a match per pod event.
                del self._counts[next(iter(self._counts))]
        self._counts[key] = counts  # re-inserted last: the dict order is the recency order
        return counts[: self._table.size]

    def matching_per_domain(
        self, namespaces: frozenset[str] | None, selector: Selector, topology_key: str
    ) -> IntArray:
        """Matching pods summed per domain of `topology_key` over every node that has the key;
        rebuilt when nodes change (attribute_version), else kept current pod by pod."""
        key = (namespaces, selector, topology_key)
        domains, domain_count = self._table.domain_column(topology_key)
        entry = self._domain_counts.get(key)
        if entry is None or entry[0] != self._table.attribute_version or entry[1].size < max(domain_count, 1):
            per_node = self.matching(namespaces, selector)
            labelled = domains >= 0
            totals = np.bincount(domains[labelled], weights=per_node[labelled], minlength=max(domain_count, 1))
            if len(self._domain_counts) >= MAX_TRACKED_SELECTORS and key not in self._domain_counts:
                del self._domain_counts[next(iter(self._domain_counts))]
            entry = (self._table.attribute_version, totals.astype(np.int64))
            self._domain_counts[key] = entry
        return entry[1]

    def carried_terms(self) -> dict[CarriedKey, IntArray]:
        """Every (kind, term, weight) that some placed pod carries, with per-row carrier counts."""
        size = self._table.size
        if self._carried_view is None or self._carried_view[0] != size:
            self._carried_view = (size, {key: counts[:size] for key, counts in self._carried.items()})
        return self._carried_view[1]

    # -- NodeTableExtension -----------------------------------------------------------------
    def on_resize(self, capacity: int) -> None:
        def grow(array: IntArray) -> IntArray:
            grown = np.zeros(capacity, dtype=np.int64)
            grown[: array.size] = array
            return grown

        self._capacity = capacity
        self._counts = {key: grow(counts) for key, counts in self._counts.items()}
        self._carried = {key: grow(counts) for key, counts in self._carried.items()}
        self._carried_view = None

    def on_node_added(self, row: int, node: NodeInfo) -> None:
        return None

    def on_node_updated(self, row: int, old: NodeInfo, new: NodeInfo) -> None:
        return None

    def on_node_removed(self, row: int, node: NodeInfo) -> None:
        for counts in self._counts.values():
            counts[row] = 0
        for key, counts in list(self._carried.items()):
            self._carried_totals[key] -= int(counts[row])
            counts[row] = 0
            self._drop_if_unused(key)

    def on_pod_added(self, row: int, pod: PodInfo) -> None:
        self._apply(row, pod, 1)

    def on_pod_removed(self, row: int, pod: PodInfo) -> None:
        self._apply(row, pod, -1)

    def _apply(self, row: int, pod: PodInfo, sign: int) -> None:
        for key, counts in self._counts.items():
            if _matches(key, pod):
                counts[row] += sign
        for (namespaces, selector, topology_key), (version, totals) in self._domain_counts.items():
            if version == self._table.attribute_version and _matches((namespaces, selector), pod):
                domain = int(self._table.domain_column(topology_key)[0][row])
                if 0 <= domain < totals.size:
                    totals[domain] += sign
        if pod.has_pod_affinity:
            for carried in _carried_keys(pod):
                carriers = self._carried.get(carried)
                if carriers is None:
                    carriers = self._carried[carried] = np.zeros(self._capacity, dtype=np.int64)
                    self._carried_totals[carried] = 0
                    self._carried_view = None
                carriers[row] += sign
                self._carried_totals[carried] += sign
                self._drop_if_unused(carried)

    def _drop_if_unused(self, key: CarriedKey) -> None:
        """Forget a term no placed pod carries any more, so the symmetric checks stay short."""
        if self._carried_totals.get(key, 0) <= 0:
            self._carried.pop(key, None)
            self._carried_totals.pop(key, None)
            self._carried_view = None


def _matches(key: CountKey, pod: PodInfo) -> bool:
    namespaces, selector = key
    return (namespaces is None or pod.namespace in namespaces) and selector.matches(pod.labels)


def _carried_keys(pod: PodInfo) -> list[CarriedKey]:
    keys: list[CarriedKey] = [("required_affinity", term, 1) for term in pod.required_affinity]
    keys += [("required_anti_affinity", term, 1) for term in pod.required_anti_affinity]
    keys += [("preferred_affinity", term, weight) for weight, term in pod.preferred_affinity]
    keys += [("preferred_anti_affinity", term, weight) for weight, term in pod.preferred_anti_affinity]
    return keys
