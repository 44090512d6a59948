"""Placing one seed's OpenB arrivals with the real scheduling framework, one pod at a time.

Data flow per seed: every trace node becomes a `NodeInfo` (allocatable cpu, memory,
`nvidia.com/gpu`, 110 pod slots; GPU model as the `nvidia.com/gpu.product` label) in a framework
`NodeTable`; every arrival becomes a `PodInfo` (whole GPUs as `nvidia.com/gpu`, a share as a
`GpuRequest` (1, m), `gpu_spec` as required node affinity on the model label). The framework runs
the filters (NodeResourcesFit, NodeAffinity, GpuFit), the `GpuPlacement` score plugin with the
chosen policy, and Reserve (which picks the GPU indices), then assumes the pod on the table.
No pod is deleted. Each arrival yields a `Placement` row and one (arrived, allocated) sample.
The seed drives the arrival order, the node order that breaks score ties (as in the paper's
simulator) and any randomness of the policy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from kubelite.scheduler.framework.runtime import Framework
from kubelite.scheduler.gpu.demand import GPU_MODEL_LABEL, WHOLE_GPU_RESOURCE, PodDemand
from kubelite.scheduler.gpu.fragmentation import TargetWorkload
from kubelite.scheduler.gpu.plugin import GpuPlacement
from kubelite.scheduler.gpu.policies import POLICIES, PolicyContext
from kubelite.scheduler.nodetable import NodeTable
from kubelite.scheduler.plugins.gpu_fit import GpuFit
from kubelite.scheduler.plugins.node_affinity import NodeAffinity
from kubelite.scheduler.plugins.node_resources import NodeResourcesFit
from kubelite.scheduler.records import CPU, MEMORY, PODS, GpuRequest, NodeInfo, PodInfo, Requirement, Selector
from kubelite.sim.openb.metrics import unallocated_gpu_percent
from kubelite.sim.openb.trace import (
    PAPER_INFLATION,
    TraceNode,
    TracePod,
    arrival_sequence,
    gpu_capacity_milli,
)

POD_SLOTS = 110
"""Kubernetes' default max pods per node."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one arriving pod went (node "" when it could not be placed)."""

    seed: int
    pod: str
    node: str
    gpu_indices: tuple[int, ...]
    demand: PodDemand


@dataclass(frozen=True, slots=True)
class SeedResult:
    seed: int
    policy: str
    unallocated_percent: dict[int, float]
    placed: int
    unplaced: int
    seconds: float
    placements: list[Placement]


def node_info(node: TraceNode) -> NodeInfo:
    labels = {"kubernetes.io/hostname": node.name}
    if node.gpu_count > 0 and node.model:
        labels[GPU_MODEL_LABEL] = node.model
    allocatable = {CPU: node.cpu_milli, MEMORY: node.memory_bytes, PODS: POD_SLOTS}
    if node.gpu_count > 0:
        allocatable[WHOLE_GPU_RESOURCE] = node.gpu_count
    return NodeInfo(name=node.name, labels=labels, allocatable=allocatable, uid=node.name)


def pod_info(pod: TracePod) -> PodInfo:
    demand = pod.demand
    requests = {CPU: demand.cpu_milli, MEMORY: demand.memory_bytes}
    if demand.gpu_count > 0 and not demand.is_shared:
        requests[WHOLE_GPU_RESOURCE] = demand.gpu_count
    affinity = None
    if demand.allowed_models:
        requirement = Requirement(GPU_MODEL_LABEL, "In", tuple(sorted(demand.allowed_models)))
        affinity = (Selector((requirement,)),)
    return PodInfo(
        uid=pod.name,
        namespace="openb",
        name=pod.name,
        requests={name: amount for name, amount in requests.items() if amount},
        gpu=GpuRequest(demand.gpu_count, demand.milli_per_gpu) if demand.gpu_count > 0 else None,
        required_node_affinity=affinity,
    )


def build_table(nodes: list[TraceNode]) -> NodeTable:
    """A framework node table holding every trace node, idle."""
    table = NodeTable(capacity=max(len(nodes), 1))
    for node in nodes:
        table.add_node(node_info(node))
    return table


def run_seed(
    nodes: list[TraceNode],
    pods: list[TracePod],
    policy_name: str,
    seed: int,
    inflation: float = PAPER_INFLATION,
) -> SeedResult:
    """Replay one seed of the trace with `policy_name` through the framework and measure it."""
    started = time.perf_counter()
    table = build_table(nodes)
    capacity = gpu_capacity_milli(nodes)
    arrivals = arrival_sequence(pods, capacity, seed, inflation)
    context = PolicyContext(
        rng=np.random.default_rng([seed, 1]),
        workload=TargetWorkload.from_demands(pod.demand for pod in pods),
        max_gpus_per_node=max((node.gpu_count for node in nodes), default=1) or 1,
    )
    node_order = np.random.default_rng([seed, 2]).permutation(table.size).astype(np.int64)
    placement_plugin = GpuPlacement(POLICIES[policy_name](context), tie_break_order=node_order)
    framework = Framework(
        [NodeResourcesFit(), NodeAffinity(), GpuFit(), placement_plugin],
        score_weights={"NodeResourcesFit": 0, "NodeAffinity": 0},
        seed=seed,
    )
    placement_plugin.node_state(table)
    arrived = np.zeros(len(arrivals), dtype=np.int64)
    allocated = np.zeros(len(arrivals), dtype=np.int64)
    placements: list[Placement] = []
    arrived_milli = allocated_milli = 0
    for step, pod in enumerate(arrivals):
        arrived_milli += pod.demand.total_gpu_milli
        result = framework.schedule(pod_info(pod), table, run_post_filter=False)
        node, gpus = "", tuple[int, ...]()
        if result.scheduled:
            status, assumed = framework.assume(result, table)
            if status.is_success:
                node, gpus = result.node_name, assumed.gpu_indices
                allocated_milli += pod.demand.total_gpu_milli
        arrived[step], allocated[step] = arrived_milli, allocated_milli
        placements.append(Placement(seed, pod.name, node, gpus, pod.demand))
    placed = sum(1 for placement in placements if placement.node)
    return SeedResult(
        seed=seed,
        policy=policy_name,
        unallocated_percent=unallocated_gpu_percent(arrived, allocated, capacity),
        placed=placed,
        unplaced=len(placements) - placed,
        seconds=time.perf_counter() - started,
        placements=placements,
    )
