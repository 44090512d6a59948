"""DefaultPreemption (PostFilter): evict lower-priority pods so that a higher-priority pod fits.

Follows pkg/scheduler/framework/plugins/defaultpreemption:
1. Pods with `preemptionPolicy: Never` do not preempt, nor does a pod whose nominated node still
   holds lower-priority pods that are terminating (the earlier victims: wait for them to go).
2. Candidate rows: not rejected as unresolvable, holding a pod of lower priority (a vectorised
   per-row minimum), and big enough for the pod once emptied.
3. On each candidate victims are chosen as kube-scheduler does: remove every lower-priority pod,
   then reprieve them one by one from the highest priority down while the pod still fits. Rows
   that only NodeResourcesFit / GpuFit rejected are settled with request arithmetic; rows that
   another Filter rejected (inter-pod anti-affinity, topology spread) are tried for real: the
   pods are taken out of the node table, every Filter is asked again, and they are put back.
4. The node is picked by: lowest highest-victim priority, then smallest sum of victim priorities,
   then fewest victims, then the first in row order.
The result names the node to nominate and the victims; the caller deletes them and retries the
pod, which then lands on the freed node. Pod disruption budgets are not consulted yet.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from kubelite.scheduler.framework.cycle_state import CycleState
from kubelite.scheduler.framework.interface import Diagnosis, PostFilterResult
from kubelite.scheduler.framework.status import SUCCESS, Status
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.records import PODS, NodeInfo, PodInfo

RESOURCE_PLUGINS = frozenset({"NodeResourcesFit", "GpuFit"})
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
MAX_CANDIDATES = 100
MAX_SIMULATED = 16  # rows tried with a full Filter pass each; the arithmetic path has no such cost


class LowestPriorityIndex:
    """Per row, the lowest priority among the pods that could still be evicted there (not deleting),
    so candidate rows are found with one comparison instead of a walk over every node's pods."""

    NONE = np.iinfo(np.int64).max

    def __init__(self, table: NodeTable) -> None:
        self._table = table
        self.lowest = np.full(table.capacity, self.NONE, dtype=np.int64)
        table.register(self)

    @staticmethod
    def of(table: NodeTable) -> LowestPriorityIndex:
        return table.find_extension(LowestPriorityIndex) or LowestPriorityIndex(table)

    def _refresh(self, row: int) -> None:
        priorities = [p.priority for p in self._table.pods_on(row) if not p.deleting]
        self.lowest[row] = min(priorities, default=self.NONE)

    def on_resize(self, capacity: int) -> None:
        grown = np.full(capacity, self.NONE, dtype=np.int64)
        grown[: self.lowest.size] = self.lowest[:capacity]
        self.lowest = grown

    def on_node_added(self, row: int, node: NodeInfo) -> None:
        self.lowest[row] = self.NONE

    def on_node_updated(self, row: int, old: NodeInfo, new: NodeInfo) -> None:
        return None

    def on_node_removed(self, row: int, node: NodeInfo) -> None:
        self.lowest[row] = self.NONE

    def on_pod_added(self, row: int, pod: PodInfo) -> None:
        self._refresh(row)

    def on_pod_removed(self, row: int, pod: PodInfo) -> None:
        self._refresh(row)


def _fits(pod: PodInfo, free: dict[str, int]) -> bool:
    if free.get(PODS, 0) < 1:
        return False
    return all(free.get(name, 0) >= amount for name, amount in pod.requests.items())


class DefaultPreemption:
    name = "DefaultPreemption"

    def post_filter(
        self, state: CycleState, pod: PodInfo, table: NodeTable, diagnosis: Diagnosis
    ) -> PostFilterResult:
        node_count = diagnosis.node_count
        if pod.preempt_never:
            return PostFilterResult(Status.unschedulable("not eligible due to preemptionPolicy=Never."))
        if self._victims_already_leaving(pod, table):
            # kube-scheduler's PodEligibleToPreemptOthers: wait for the earlier victims to go.
            return PostFilterResult(
                Status.unschedulable("not eligible: victims on the nominated node are terminating")
            )
        if not diagnosis.rejected_by:
            return PostFilterResult(
                Status.unschedulable(f"0/{node_count} nodes are available: {NOT_HELPFUL}.")
            )
        # Rows preemption could help at all; Kubernetes reports the others as "not helpful".
        resolvable = table.present & ~diagnosis.unresolvable
        candidates = resolvable.copy()
        candidates &= LowestPriorityIndex.of(table).lowest[: table.size] < pod.priority
        for name, amount in pod.requests.items():
            column = table.known_resource(name)
            if column is not None:  # even an emptied node must be big enough
                candidates &= table.allocatable(column) >= amount
        resource_only = candidates.copy()
        for plugin_name, rejected in diagnosis.rejected_by.items():
            if plugin_name not in RESOURCE_PLUGINS:
                resource_only &= ~rejected
        simulated = 0
        best: tuple[tuple[int, int, int, int], int, list[PodInfo]] | None = None
        examined = 0
        for row in np.flatnonzero(candidates):
            if resource_only[row]:
                victims = self._victims(pod, table, int(row))
            elif diagnosis.passes_filters is not None and simulated < MAX_SIMULATED:
                simulated += 1
                victims = self._victims_by_refiltering(pod, table, int(row), diagnosis.passes_filters)
            else:
                continue
            if victims is None:
                continue
            examined += 1
            priorities = [victim.priority for victim in victims]
            rank = (max(priorities, default=-(2**31)), sum(priorities), len(victims), int(row))
            if best is None or rank < best[0]:
                best = (rank, int(row), victims)
            if examined >= MAX_CANDIDATES:
                break
        if best is None:
            candidate_count = int(np.count_nonzero(resolvable))
            parts = []
            if candidate_count:
                parts.append(f"{candidate_count} {NO_VICTIMS}")
            if node_count - candidate_count:
                parts.append(f"{node_count - candidate_count} {NOT_HELPFUL}")
            return PostFilterResult(
                Status.unschedulable(f"0/{node_count} nodes are available: {', '.join(parts)}.")
            )
        _, chosen_row, victims = best
        return PostFilterResult(SUCCESS, table.node_at(chosen_row).name, tuple(victims))

    @staticmethod
    def _victims_already_leaving(pod: PodInfo, table: NodeTable) -> bool:
        row = table.row_of(pod.nominated_node_name) if pod.nominated_node_name else None
        if row is None:
            return False
        return any(other.deleting and other.priority < pod.priority for other in table.pods_on(row))

    @staticmethod
    def _evictable(pod: PodInfo, table: NodeTable, row: int) -> list[PodInfo]:
        """Lower-priority pods on `row`, highest priority first (pods still binding are left alone)."""
        return sorted(
            (
                p
                for p in table.pods_on(row)
                if p.priority < pod.priority and not p.deleting and not table.is_assumed(p.key)
            ),
            key=lambda p: (-p.priority, p.creation),
        )

    @classmethod
    def _victims_by_refiltering(
        cls, pod: PodInfo, table: NodeTable, row: int, passes: Callable[[int], bool]
    ) -> list[PodInfo] | None:
        lower = cls._evictable(pod, table, row)
        if not lower:
            return None
        for victim in lower:
            table.remove_pod(victim.key)
        try:
            if not passes(row):
                return None
            victims = []
            for candidate in lower:  # highest priority first: reprieve whoever can stay
                table.add_pod(candidate)
                if not passes(row):
                    table.remove_pod(candidate.key)
                    victims.append(candidate)
            return victims
        finally:
            for victim in lower:
                if table.pod_row(victim.key) is None:
                    table.add_pod(victim)

    @classmethod
    def _victims(cls, pod: PodInfo, table: NodeTable, row: int) -> list[PodInfo] | None:
        """The smallest set of lower-priority pods whose removal lets `pod` fit on `row`, or None."""
        lower = cls._evictable(pod, table, row)
        if not lower:
            return None
        free = {name: int(table.free(table.resource_column(name))[row]) for name in (*pod.requests, PODS)}
        for victim in lower:
            free[PODS] = free.get(PODS, 0) + 1
            for name in pod.requests:
                free[name] = free.get(name, 0) + victim.requests.get(name, 0)
        if not _fits(pod, free):
            return None
        victims = []
        for candidate in lower:  # highest priority first: reprieve whoever can stay
            trial = dict(free)
            trial[PODS] -= 1
            for name in pod.requests:
                trial[name] -= candidate.requests.get(name, 0)
            if _fits(pod, trial):
                free = trial
            else:
                victims.append(candidate)
        return victims
