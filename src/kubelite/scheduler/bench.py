"""`kubelite bench scheduler`: throughput and latency of the scheduler, modelled on kube-scheduler's
scheduler_perf (test/integration/scheduler_perf).

Fake nodes are objects only (no agent runs). The in-process mode drives the real `Scheduler`
(queue, framework, node table, asynchronous binding) with an in-memory `ClusterWriter` whose
binding is "persisted" when it returns, and whose confirmation comes back as a watch event would.
Pods are created as API objects (wire-form dicts) and compiled by the adapter inside the measured
window, which runs from the first pod created to the last binding persisted.

Workloads (the scheduler_perf templates they imitate):
- basic: node-default (4 cpu, 32Gi, 110 pods) and pod-default (100m cpu, 500Mi) = SchedulingBasic;
- spread: nodes in 3 zones; pods spread with maxSkew 5 over hostname and zone, DoNotSchedule
  = TopologySpreading;
- affinity: pods with required pod affinity to their group's zone plus preferred anti-affinity on
  the hostname;
- mixed: a quarter each of basic, spread, affinity and nodeSelector+toleration pods, on nodes of
  which a fifth are tainted, with three priorities, under churn (as MixedChurn): every 100
  bindings, 10 bound pods are deleted and a node is relabelled.
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

import numpy as np

from kubelite.clock import RealClock
from kubelite.scheduler.adapter import node_info, pod_info
from kubelite.scheduler.framework.status import SUCCESS, Status
from kubelite.scheduler.profiles import Profile, build_framework
from kubelite.scheduler.records import PodInfo
from kubelite.scheduler.scheduler import Scheduler

Workload = Literal["basic", "spread", "affinity", "mixed"]
ZONES = ("zone-a", "zone-b", "zone-c")


def fake_node(index: int, workload: Workload) -> dict[str, Any]:
    labels = {"kubernetes.io/hostname": f"node-{index}", "topology.kubernetes.io/zone": ZONES[index % 3]}
    spec: dict[str, Any] = {}
    if workload == "mixed" and index % 5 == 0:
        labels["dedicated"] = "batch"
        spec["taints"] = [{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"node-{index}", "labels": labels},
        "spec": spec,
        "status": {"allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"}},
    }


def fake_pod(index: int, workload: Workload, prefix: str = "pod") -> dict[str, Any]:
    kind = workload if workload != "mixed" else ("basic", "spread", "affinity", "dedicated")[index % 4]
    labels = {"app": "bench"}
    spec: dict[str, Any] = {
        "containers": [
            {"name": "c", "image": "bench", "resources": {"requests": {"cpu": "100m", "memory": "500Mi"}}}
        ]
    }
    if kind == "spread":
        labels["color"] = "blue"
        selector = {"matchLabels": {"color": "blue"}}
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 5,
                "topologyKey": key,
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": selector,
            }
            for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
        ]
    elif kind == "affinity":
        group = f"group-{index % 10}"
        labels["group"] = group
        term = {
            "labelSelector": {"matchLabels": {"group": group}},
            "topologyKey": "topology.kubernetes.io/zone",
        }
        anti = {"labelSelector": {"matchLabels": {"group": group}}, "topologyKey": "kubernetes.io/hostname"}
        spec["affinity"] = {
            "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]},
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "podAffinityTerm": anti}]
            },
        }
    elif kind == "dedicated":
        spec["nodeSelector"] = {"dedicated": "batch"}
        spec["tolerations"] = [
            {"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}
        ]
    if workload == "mixed":
        spec["priority"] = (0, 100, 1000)[index % 3]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{prefix}-{index}",
            "namespace": "default",
            "uid": f"{prefix}-{index}",
            "labels": labels,
        },
        "spec": spec,
    }


class MemoryWriter:
    """Bindings persisted in memory; the confirmation is fed back as the watch would deliver it."""

    def __init__(self, churn: bool = False) -> None:
        self.scheduler: Scheduler | None = None
        self.bound_at: dict[str, float] = {}
        self.unschedulable: dict[str, str] = {}
        self.churn = churn
        self._bound: list[PodInfo] = []

    async def bind(self, pod: PodInfo, node_name: str, annotations: Mapping[str, str]) -> Status:
        self.bound_at[pod.key] = time.perf_counter()
        if self.scheduler is not None:
            self.scheduler.on_pod("MODIFIED", pod)  # the assumed pod already names its node
            if self.churn:
                self._churn(self.scheduler, pod)
        return SUCCESS

    def _churn(self, scheduler: Scheduler, pod: PodInfo) -> None:
        """MixedChurn-style background churn: every 100 bindings delete 10 earlier pods and replace
        one node's labels, so deletions and node updates flow through the queue and the memos."""
        self._bound.append(pod)
        if len(self._bound) % 100:
            return
        for victim in self._bound[-100:-90]:
            scheduler.on_pod("DELETED", victim)
        row = scheduler.table.row_of(pod.node_name)
        if row is not None:
            node = scheduler.table.node_at(row)
            relabelled = replace(node, labels={**node.labels, "churn": str(len(self._bound))})
            scheduler.on_node("MODIFIED", relabelled)

    async def mark_unschedulable(self, pod: PodInfo, message: str, nominated_node: str) -> None:
        self.unschedulable[pod.key] = message

    async def evict(self, victim: PodInfo, preemptor: PodInfo) -> None:
        if self.scheduler is not None:
            self.scheduler.on_pod("DELETED", victim)


@dataclass(frozen=True, slots=True)
class BenchResult:
    mode: str
    workload: str
    nodes: int
    pods: int
    existing_pods: int
    scheduled: int
    unschedulable: int
    seconds: float
    pods_per_second: float
    p50_latency_ms: float
    p99_latency_ms: float
    peak_rss_mb: float
    cpu_seconds: float = 0.0
    """CPU time this process used in the window: on a shared machine, pods / cpu_seconds is the
    throughput the scheduler would reach with a core to itself."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


async def run_in_process(
    nodes: int, pods: int, existing_pods: int = 0, workload: Workload = "basic", seed: int = 0
) -> BenchResult:
    writer = MemoryWriter(churn=workload == "mixed")
    framework = build_framework(Profile(), writer.bind, seed)
    scheduler = Scheduler({framework.profile_name: framework}, writer, RealClock())
    writer.scheduler = scheduler
    for index in range(nodes):
        scheduler.on_node("ADDED", node_info(fake_node(index, workload)))
    rng = np.random.default_rng(seed)
    for index in range(existing_pods):
        existing = pod_info(fake_pod(index, "basic", prefix="existing"))
        scheduler.on_pod("ADDED", existing.placed(f"node-{int(rng.integers(nodes))}"))
    objects = [fake_pod(index, workload) for index in range(pods)]
    stop = asyncio.Event()
    created_at: dict[str, float] = {}
    start = time.perf_counter()
    cpu_start = time.process_time()
    for obj in objects:
        pod = pod_info(obj)
        created_at[pod.key] = time.perf_counter()
        scheduler.on_pod("ADDED", pod)
    runner = asyncio.get_running_loop().create_task(scheduler.run(stop, batch=256))
    while scheduler.queue.sizes()["active"] or scheduler.queue.sizes()["in-flight"]:
        await asyncio.sleep(0)
    await scheduler.drain_bindings()
    stop.set()
    await runner
    end = max(writer.bound_at.values(), default=time.perf_counter())
    cpu_seconds = time.process_time() - cpu_start
    latencies = np.array([writer.bound_at[key] - created_at[key] for key in writer.bound_at]) * 1000
    seconds = end - start
    return BenchResult(
        mode="in-process",
        workload=workload,
        nodes=nodes,
        pods=pods,
        existing_pods=existing_pods,
        scheduled=len(writer.bound_at),
        unschedulable=len(writer.unschedulable),
        seconds=round(seconds, 3),
        pods_per_second=round(len(writer.bound_at) / seconds, 1) if seconds > 0 else 0.0,
        p50_latency_ms=round(float(np.percentile(latencies, 50)), 2) if latencies.size else 0.0,
        p99_latency_ms=round(float(np.percentile(latencies, 99)), 2) if latencies.size else 0.0,
        peak_rss_mb=round(peak_rss_mb(), 1),
        cpu_seconds=round(cpu_seconds, 3),
    )
