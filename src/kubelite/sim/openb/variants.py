"""Synthetic OpenB workload variants, for checking that a placement policy is not tuned to one trace.

The FGD paper (Weng et al., USENIX ATC 2023, section 6) evaluates on OpenB variants that shift
the mix: more GPU-sharing pods, more multi-GPU pods, more pods constrained to a GPU model. This
module builds such variants from a pod list, deterministically from a seed:
- `share`: the pod list resampled (with replacement, same size) so that GPU-sharing pods are
  `percent`% of the GPU pods; within each class the trace's own pods are drawn uniformly, and
  CPU-only pods keep their count.
- `multi`: the same for multi-GPU pods (num_gpu > 1).
- `spec`: `percent`% of the GPU pods, drawn uniformly, are constrained to one GPU model, drawn
  with probability proportional to the cluster's GPUs of that model (among models with a node
  that has enough GPUs for the pod).

Data flow: `read_pods` -> `synthesise` -> `write_pods` (the trace's CSV columns), then
`kubelite sim openb --pods variant.csv` replays it like any trace.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from kubelite.scheduler.gpu.demand import PodDemand
from kubelite.sim.openb.trace import MIB, TraceNode, TracePod

VariantKind = Literal["share", "multi", "spec"]
VARIANT_KINDS: tuple[VariantKind, ...] = ("share", "multi", "spec")


def _is_shared(demand: PodDemand) -> bool:
    return demand.is_shared


def _is_multi_gpu(demand: PodDemand) -> bool:
    return demand.gpu_count > 1


def resample_class(
    pods: Sequence[TracePod], in_class: Callable[[PodDemand], bool], percent: float, seed: int
) -> list[TracePod]:
    """Same number of pods; `percent`% of the GPU pods from the class, the rest from the others."""
    rng = np.random.default_rng(seed)
    cpu_only = [pod for pod in pods if pod.demand.gpu_count == 0]
    members = [pod for pod in pods if pod.demand.gpu_count > 0 and in_class(pod.demand)]
    others = [pod for pod in pods if pod.demand.gpu_count > 0 and not in_class(pod.demand)]
    gpu_pods = len(members) + len(others)
    wanted = round(gpu_pods * percent / 100) if members else 0
    if not others:
        wanted = gpu_pods
    drawn_members = [members[int(i)] for i in rng.integers(len(members), size=wanted)] if wanted else []
    rest = gpu_pods - wanted
    drawn_others = [others[int(i)] for i in rng.integers(len(others), size=rest)] if rest else []
    chosen = cpu_only + drawn_members + drawn_others
    order = rng.permutation(len(chosen))
    return [
        TracePod(f"{chosen[int(i)].name}-v{position}", chosen[int(i)].demand)
        for position, i in enumerate(order)
    ]


def constrain_models(
    pods: Sequence[TracePod], nodes: Sequence[TraceNode], percent: float, seed: int
) -> list[TracePod]:
    """`percent`% of the GPU pods get a single allowed model, weighted by the model's GPUs."""
    rng = np.random.default_rng(seed)
    models = sorted({node.model for node in nodes if node.gpu_count > 0 and node.model})
    gpus_of = {model: sum(n.gpu_count for n in nodes if n.model == model) for model in models}
    largest_node = {model: max(n.gpu_count for n in nodes if n.model == model) for model in models}
    result: list[TracePod] = []
    for pod in pods:
        demand = pod.demand
        if demand.gpu_count > 0 and rng.random() < percent / 100:
            hosts = [model for model in models if largest_node[model] >= demand.gpu_count]
            weights = np.array([gpus_of[model] for model in hosts], dtype=np.float64)
            model = hosts[int(rng.choice(len(hosts), p=weights / weights.sum()))]
            demand = replace(demand, allowed_models=frozenset({model}))
        result.append(TracePod(pod.name, demand))
    return result


def synthesise(
    pods: Sequence[TracePod], nodes: Sequence[TraceNode], kind: VariantKind, percent: float, seed: int
) -> list[TracePod]:
    """The variant of `pods` named by `kind` (see the module docstring)."""
    if kind == "share":
        return resample_class(pods, _is_shared, percent, seed)
    if kind == "multi":
        return resample_class(pods, _is_multi_gpu, percent, seed)
    return constrain_models(pods, nodes, percent, seed)


def write_pods(path: Path, pods: Sequence[TracePod]) -> None:
    """A pod list with the trace's leading columns (`read_pods` reads it back)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec"])
        for pod in pods:
            demand = pod.demand
            writer.writerow(
                [
                    pod.name,
                    demand.cpu_milli,
                    demand.memory_bytes // MIB,
                    demand.gpu_count,
                    demand.milli_per_gpu,
                    "|".join(sorted(demand.allowed_models)),
                ]
            )
