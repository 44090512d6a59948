"""PrioritySort (QueueSort): higher priority first, then the older pod, as kube-scheduler's queuesort."""

from __future__ import annotations

from kubelite.scheduler.framework.interface import QueueSortPlugin
from kubelite.scheduler.records import PodInfo


class PrioritySort:
    name = "PrioritySort"

    def sort_key(self, pod: PodInfo) -> tuple[float, ...]:
        return (-pod.priority, pod.creation)


_: type[QueueSortPlugin] = PrioritySort
