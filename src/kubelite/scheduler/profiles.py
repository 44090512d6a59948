"""Scheduling profiles: the plugin registry and a KubeSchedulerConfiguration reader.

A profile is a named set of plugins with score weights, chosen per pod by `spec.schedulerName`.
`load_configuration` reads a `kubescheduler.config.k8s.io/v1` KubeSchedulerConfiguration (YAML or
JSON) and understands, per profile: `plugins.<point>.enabled/disabled` (any extension point, or
`multiPoint`; `disabled: [{name: "*"}]` clears the defaults; a plugin disabled only at `score`
keeps filtering with weight 0), plugin `weight`s, and `pluginConfig` for NodeResourcesFit
(`scoringStrategy.type` LeastAllocated | MostAllocated | RequestedToCapacityRatio, `resources`
with weights, `requestedToCapacityRatio.shape`). `build_framework(profile, binder)` turns a
profile into a `Framework`; `framework_with(plugins, weights)` is the in-process shortcut that
simulators use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from kubelite.scheduler.framework.runtime import Framework
from kubelite.scheduler.framework.status import Status
from kubelite.scheduler.plugins.default_binder import Binder, DefaultBinder
from kubelite.scheduler.plugins.default_preemption import DefaultPreemption
from kubelite.scheduler.plugins.gpu_fit import GpuFit
from kubelite.scheduler.plugins.inter_pod_affinity import InterPodAffinity
from kubelite.scheduler.plugins.node_affinity import NodeAffinity
from kubelite.scheduler.plugins.node_name import NodeName
from kubelite.scheduler.plugins.node_resources import (
    DEFAULT_SHAPE,
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
    ResourceWeight,
    ScoringStrategy,
)
from kubelite.scheduler.plugins.node_unschedulable import NodeUnschedulable
from kubelite.scheduler.plugins.priority_sort import PrioritySort
from kubelite.scheduler.plugins.taint_toleration import TaintToleration
from kubelite.scheduler.plugins.topology_spread import PodTopologySpread
from kubelite.scheduler.records import PodInfo

DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_PLUGINS = (
    "PrioritySort",
    "NodeUnschedulable",
    "NodeName",
    "TaintToleration",
    "NodeAffinity",
    "NodeResourcesFit",
    "GpuFit",
    "PodTopologySpread",
    "InterPodAffinity",
    "DefaultPreemption",
    "NodeResourcesBalancedAllocation",
    "DefaultBinder",
)
# kube-scheduler's default score weights (pkg/scheduler/apis/config/v1/default_plugins.go).
DEFAULT_WEIGHTS: Mapping[str, int] = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    "NodeResourcesFit": 1,
    "NodeResourcesBalancedAllocation": 1,
}


@dataclass(frozen=True, slots=True)
class FitArgs:
    """NodeResourcesFitArgs.scoringStrategy."""

    strategy: ScoringStrategy = "LeastAllocated"
    resources: tuple[ResourceWeight, ...] = (ResourceWeight("cpu"), ResourceWeight("memory"))
    shape: tuple[tuple[int, int], ...] = DEFAULT_SHAPE


@dataclass(frozen=True, slots=True)
class Profile:
    scheduler_name: str = DEFAULT_SCHEDULER_NAME
    plugins: tuple[str, ...] = DEFAULT_PLUGINS
    weights: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    fit: FitArgs = FitArgs()


async def _no_binding(pod: PodInfo, node_name: str, annotations: Mapping[str, str]) -> Status:
    return Status.error("no binder configured")


PluginFactory = Callable[[Profile, Binder], object]
REGISTRY: Mapping[str, PluginFactory] = {
    "PrioritySort": lambda profile, binder: PrioritySort(),
    "NodeUnschedulable": lambda profile, binder: NodeUnschedulable(),
    "NodeName": lambda profile, binder: NodeName(),
    "TaintToleration": lambda profile, binder: TaintToleration(),
    "NodeAffinity": lambda profile, binder: NodeAffinity(),
    "NodeResourcesFit": lambda profile, binder: NodeResourcesFit(
        profile.fit.strategy, profile.fit.resources, profile.fit.shape
    ),
    "NodeResourcesBalancedAllocation": lambda profile, binder: NodeResourcesBalancedAllocation(),
    "GpuFit": lambda profile, binder: GpuFit(),
    "PodTopologySpread": lambda profile, binder: PodTopologySpread(),
    "InterPodAffinity": lambda profile, binder: InterPodAffinity(),
    "DefaultPreemption": lambda profile, binder: DefaultPreemption(),
    "DefaultBinder": lambda profile, binder: DefaultBinder(binder),
}


def build_framework(profile: Profile, binder: Binder = _no_binding, seed: int = 0) -> Framework:
    plugins = [REGISTRY[name](profile, binder) for name in profile.plugins]
    return Framework(plugins, profile.weights, profile.scheduler_name, seed)


def framework_with(
    plugins: Sequence[object],
    weights: Mapping[str, int] | None = None,
    seed: int = 0,
    name: str = "in-process",
) -> Framework:
    """A framework from plugin objects (the simulator's entry point): weights default to 1."""
    return Framework(plugins, weights, name, seed)


def _names(entries: Any) -> list[tuple[str, int | None]]:
    return [(str(e["name"]), e.get("weight")) for e in entries or ()]


def profile_from_config(raw: Mapping[str, Any]) -> Profile:
    plugins = list(DEFAULT_PLUGINS)
    weights = dict(DEFAULT_WEIGHTS)
    points: Mapping[str, Any] = raw.get("plugins") or {}
    for point, settings in points.items():
        settings = settings or {}
        disabled = {name for name, _ in _names(settings.get("disabled"))}
        if point == "score":
            for name in disabled:
                weights[name] = 0
            if "*" in disabled:
                weights = dict.fromkeys(weights, 0)
        else:
            plugins = [] if "*" in disabled else [p for p in plugins if p not in disabled]
        for name, weight in _names(settings.get("enabled")):
            if name not in REGISTRY:
                raise ValueError(f"unknown plugin {name!r} in profile {raw.get('schedulerName')!r}")
            if name not in plugins:
                plugins.append(name)
            if weight is not None:
                weights[name] = int(weight)
            elif point == "score" and weights.get(name, 0) == 0:
                weights[name] = 1
    fit = FitArgs()
    for entry in raw.get("pluginConfig") or ():
        if entry.get("name") == "NodeResourcesFit":
            strategy = (entry.get("args") or {}).get("scoringStrategy") or {}
            shape = ((strategy.get("requestedToCapacityRatio") or {}).get("shape")) or ()
            fit = FitArgs(
                cast(ScoringStrategy, strategy.get("type", "LeastAllocated")),
                tuple(
                    ResourceWeight(str(r["name"]), int(r.get("weight", 1)))
                    for r in strategy.get("resources") or ()
                )
                or fit.resources,
                tuple((int(p["utilization"]), int(p["score"])) for p in shape) or DEFAULT_SHAPE,
            )
    return Profile(str(raw.get("schedulerName") or DEFAULT_SCHEDULER_NAME), tuple(plugins), weights, fit)


def load_configuration(path: Path | None, scheduler_name: str | None = None) -> list[Profile]:
    """The profiles of a configuration file (default profile when None); `scheduler_name` renames a
    single-profile configuration, as `--scheduler-name` does."""
    if path is None:
        profiles = [Profile()]
    else:
        document = yaml.safe_load(path.read_text()) or {}
        if document.get("kind") not in (None, "KubeSchedulerConfiguration"):
            raise ValueError(f"{path}: expected kind KubeSchedulerConfiguration")
        profiles = [profile_from_config(p) for p in document.get("profiles") or [{}]]
    if scheduler_name and len(profiles) == 1:
        only = profiles[0]
        profiles = [Profile(scheduler_name, only.plugins, only.weights, only.fit)]
    return profiles
