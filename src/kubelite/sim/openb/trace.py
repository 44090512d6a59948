"""OpenB trace files and the per-seed arrival sequence of the FGD paper's method.

Node list columns: `sn,cpu_milli,memory_mib,gpu,model`. Pod list columns:
`name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,...`; `gpu_milli` is the per-GPU share
and `gpu_spec` the allowed GPU models separated by `|`.

The arrival sequence for a seed (the paper's simulator, `TunePodsByNodeTotalResource` with
shuffling on): the trace's pods in a seeded random order, followed by copies of pods drawn
uniformly at random until the next copy would push total GPU demand past `inflation` times the
cluster's GPU capacity. No pod is ever deleted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kubelite.scheduler.gpu.demand import MILLI_PER_GPU, PodDemand

MIB = 2**20
PAPER_INFLATION = 1.3


@dataclass(frozen=True, slots=True)
class TraceNode:
    name: str
    cpu_milli: int
    memory_bytes: int
    gpu_count: int
    model: str


@dataclass(frozen=True, slots=True)
class TracePod:
    name: str
    demand: PodDemand


def read_nodes(path: Path) -> list[TraceNode]:
    """The node list, in file order."""
    with path.open(newline="") as handle:
        return [
            TraceNode(
                name=row["sn"],
                cpu_milli=int(row["cpu_milli"]),
                memory_bytes=int(row["memory_mib"]) * MIB,
                gpu_count=int(row["gpu"]),
                model=(row.get("model") or "").strip(),
            )
            for row in csv.DictReader(handle)
        ]


def read_pods(path: Path) -> list[TracePod]:
    """The pod list, in file order, as demands."""
    pods: list[TracePod] = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            gpu_count = int(row["num_gpu"])
            milli = int(row["gpu_milli"]) if gpu_count > 0 else 0
            if gpu_count > 0 and milli == 0:
                # A GPU count with no share recorded: the trace means whole GPUs.
                milli = MILLI_PER_GPU
            models = frozenset(m.strip() for m in (row.get("gpu_spec") or "").split("|") if m.strip())
            demand = PodDemand(
                cpu_milli=int(row["cpu_milli"]),
                memory_bytes=int(row["memory_mib"]) * MIB,
                gpu_count=gpu_count if milli > 0 else 0,
                milli_per_gpu=milli,
                allowed_models=models,
            )
            pods.append(TracePod(row["name"], demand))
    return pods


def gpu_capacity_milli(nodes: list[TraceNode]) -> int:
    """Total milli-GPU of the cluster."""
    return sum(node.gpu_count for node in nodes) * MILLI_PER_GPU


def arrival_sequence(
    pods: list[TracePod], capacity_milli: int, seed: int, inflation: float = PAPER_INFLATION
) -> list[TracePod]:
    """One seed's arrivals: the trace shuffled, then random copies up to `inflation` x capacity."""
    rng = np.random.default_rng(seed)
    arrivals = [pods[int(i)] for i in rng.permutation(len(pods))]
    demand = sum(pod.demand.total_gpu_milli for pod in pods)
    target = inflation * capacity_milli
    copies = 0
    while pods:
        original = pods[int(rng.integers(len(pods)))]
        if demand + original.demand.total_gpu_milli > target:
            break
        demand += original.demand.total_gpu_milli
        arrivals.append(TracePod(f"{original.name}-tuned-{copies}", original.demand))
        copies += 1
    return arrivals
