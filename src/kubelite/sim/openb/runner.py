"""Placing one seed's OpenB arrivals, one pod at a time, with one policy.

Data flow per seed: the node list fills a `GpuNodeTable`; the arrival sequence (see `trace`)
is walked in order; for each pod the feasible nodes are filtered, scored by the policy, the best
one taken (ties broken at random by the seeded RNG), GPU indices chosen and the pod assumed on
the table. Each arrival yields a `Placement` row and one (arrived, allocated) sample for the
metric. The seed drives the arrival order, tie-breaking and any randomness of the policy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.scheduler.gpu.fragmentation import TargetWorkload
from kubelite.scheduler.gpu.policies import POLICIES, PolicyContext
from kubelite.scheduler.gpu.policies.base import select_best
from kubelite.scheduler.gpu.state import GpuNodeTable, feasible_mask
from kubelite.sim.openb.metrics import unallocated_gpu_percent
from kubelite.sim.openb.trace import (
    PAPER_INFLATION,
    TraceNode,
    TracePod,
    arrival_sequence,
    gpu_capacity_milli,
)


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


def build_table(nodes: list[TraceNode]) -> GpuNodeTable:
    """A node table holding every trace node, idle."""
    table = GpuNodeTable(
        max_gpus_per_node=max((node.gpu_count for node in nodes), default=1) or 1, capacity=len(nodes)
    )
    for node in nodes:
        table.add_node(node.name, node.cpu_milli, node.memory_bytes, node.gpu_count, node.model)
    return table


def run_seed(
    nodes: list[TraceNode],
    pods: list[TracePod],
    policy_name: str,
    seed: int,
    inflation: float = PAPER_INFLATION,
) -> SeedResult:
    """Replay one seed of the trace with `policy_name` and measure it."""
    started = time.perf_counter()
    table = build_table(nodes)
    capacity = gpu_capacity_milli(nodes)
    arrivals = arrival_sequence(pods, capacity, seed, inflation)
    rng = np.random.default_rng([seed, 1])
    context = PolicyContext(
        rng=rng,
        workload=TargetWorkload.from_demands(pod.demand for pod in pods),
        max_gpus_per_node=table.max_gpus_per_node,
    )
    policy = POLICIES[policy_name](context)
    node_rank = np.random.default_rng([seed, 2]).permutation(len(table)).astype(np.float64)
    arrived = np.zeros(len(arrivals), dtype=np.int64)
    allocated = np.zeros(len(arrivals), dtype=np.int64)
    placements: list[Placement] = []
    arrived_milli = allocated_milli = 0
    for step, pod in enumerate(arrivals):
        demand = pod.demand
        arrived_milli += demand.total_gpu_milli
        view = table.view()
        rows = np.flatnonzero(feasible_mask(view, demand))
        node, gpus = "", tuple[int, ...]()
        if len(rows) > 0:
            scores = policy.score(view.rows(rows), demand)
            row = int(rows[select_best(scores, rng, node_rank[rows])])
            gpus = policy.choose_gpus(view, row, demand)
            table.assume(row, demand, gpus)
            node = table.names[row]
            allocated_milli += demand.total_gpu_milli
        arrived[step], allocated[step] = arrived_milli, allocated_milli
        placements.append(Placement(seed, pod.name, node, gpus, demand))
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
