"""CPU and memory usage of the node and its pods, sampled for metrics.k8s.io and Prometheus.

Data flow: `StatsSampler.sample` reads each running container's `stats()` (cgroup counters, or
/proc without cgroups) and the node's /proc/stat and /proc/meminfo, keeps the previous sample per
container to turn cumulative CPU time into a rate (`cpu_nanocores`), and stores a `Summary` that the
agent's endpoint serves as `/stats/summary` in the kubelet's Summary API shape (node, then pods with
their containers: `cpu.usageNanoCores`, `memory.workingSetBytes`), which the API server's
metrics.k8s.io view reads. Node memory working set is MemTotal - MemAvailable.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.agent.node_status import rfc3339
from kubelite.agent.runtime.interface import ContainerHandle, ContainerStats, cpu_nanocores

Object = dict[str, Any]
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class PodRef:
    name: str
    namespace: str
    uid: str


@dataclass
class Summary:
    """The last sample, ready to serve."""

    node: Object = field(default_factory=dict)
    pods: list[Object] = field(default_factory=list)

    def as_json(self) -> Object:
        return {"node": self.node, "pods": self.pods}


def node_cpu_nanoseconds() -> int:
    """Busy CPU time of the whole host (all but idle and iowait), in nanoseconds."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(value) for value in fields]
    busy = sum(values) - values[3] - (values[4] if len(values) > 4 else 0)
    return busy * 1_000_000_000 // _CLOCK_TICKS


def node_memory_working_set_bytes() -> int:
    values: dict[str, int] = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("MemTotal", "MemAvailable"):
            values[name] = int(rest.split()[0]) * 1024
    return values.get("MemTotal", 0) - values.get("MemAvailable", 0)


def _usage(sample: ContainerStats, previous: ContainerStats | None) -> tuple[Object, Object]:
    stamp = rfc3339(sample.timestamp)
    cpu: Object = {"time": stamp, "usageCoreNanoSeconds": sample.cpu_usage_nanoseconds}
    if previous is not None:
        # A rate needs two samples: the kubelet's Summary API also leaves it out until then.
        cpu["usageNanoCores"] = cpu_nanocores(previous, sample)
    return cpu, {"time": stamp, "workingSetBytes": sample.memory_working_set_bytes}


class StatsSampler:
    """Keeps the previous sample per container and the node, and the latest `Summary`."""

    def __init__(self, node_name: str) -> None:
        self._node_name = node_name
        self._previous: dict[str, ContainerStats] = {}
        self.summary = Summary()

    def sample(
        self, now: float, pods: Iterable[tuple[PodRef, list[tuple[str, str, ContainerHandle]]]]
    ) -> Summary:
        """Sample every (pod, [(container name, runtime id, handle)]) and the node itself."""
        seen: set[str] = set()
        pod_entries = []
        for ref, containers in pods:
            container_entries = []
            pod_cpu, pod_memory, pod_rate_known = 0, 0, True
            for name, runtime_id, handle in containers:
                sample = handle.stats()
                if sample is None:
                    continue
                seen.add(runtime_id)
                cpu, memory = _usage(sample, self._previous.get(runtime_id))
                self._previous[runtime_id] = sample
                pod_rate_known = pod_rate_known and "usageNanoCores" in cpu
                pod_cpu += int(cpu.get("usageNanoCores", 0))
                pod_memory += int(memory["workingSetBytes"])
                container_entries.append({"name": name, "cpu": cpu, "memory": memory})
            stamp = rfc3339(now)
            pod_entries.append(
                {
                    "podRef": {"name": ref.name, "namespace": ref.namespace, "uid": ref.uid},
                    "cpu": {"time": stamp, **({"usageNanoCores": pod_cpu} if pod_rate_known else {})},
                    "memory": {"time": stamp, "workingSetBytes": pod_memory},
                    "containers": container_entries,
                }
            )
        node_sample = ContainerStats(now, node_cpu_nanoseconds(), node_memory_working_set_bytes())
        node_cpu, node_memory = _usage(node_sample, self._previous.get(""))
        self._previous[""] = node_sample
        seen.add("")
        for stale in [key for key in self._previous if key not in seen]:
            del self._previous[stale]
        self.summary = Summary(
            {"nodeName": self._node_name, "cpu": node_cpu, "memory": node_memory}, pod_entries
        )
        return self.summary
