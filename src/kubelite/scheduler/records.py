"""The scheduler's own compiled, immutable records of pods and nodes (kube-scheduler's PodInfo/NodeInfo).

`adapter.py` turns API objects into these records once, at the boundary: quantities become ints
(millicores, bytes, counts) through `kubelite.api.quantity`, selectors become `Selector`s, and the
pod's effective requests are summed. Everything after that (node table, plugins, queue) reads only
these records, so the per-pod path never parses strings or walks nested dicts.

Records are frozen and hashable where a plugin uses them as memo keys (tolerations, selectors,
affinity terms), so "the same constraint" is recognised by value across pods of one workload.
Label selectors are `kubelite.api.labels.Selector` (one implementation for the whole project);
node selector terms reuse it, with `metadata.name` as a pseudo-label for matchFields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal, cast

from kubelite.api.labels import EVERYTHING, NOTHING, Selector
from kubelite.api.labels import Operator as LabelOperator
from kubelite.api.labels import Requirement as LabelRequirement

TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
WhenUnsatisfiable = Literal["DoNotSchedule", "ScheduleAnyway"]
InclusionPolicy = Literal["Honor", "Ignore"]

CPU = "cpu"
MEMORY = "memory"
EPHEMERAL_STORAGE = "ephemeral-storage"
PODS = "pods"
GPU = "nvidia.com/gpu"
GPU_MILLI = "kubelite.io/gpu-milli"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"
GPU_INDICES_ANNOTATION = "kubelite.io/gpu-indices"
HOSTNAME_LABEL = "kubernetes.io/hostname"
NODE_NAME_FIELD = "metadata.name"
# Labels that are unique per node; they are kept out of the node's equivalence class (Nomad keeps
# "unique." attributes out of its computed class for the same reason: one class per node memoises nothing).
UNIQUE_NODE_LABELS = frozenset({HOSTNAME_LABEL})


MATCH_NOTHING = NOTHING
__all__ = ["MATCH_NOTHING", "Requirement", "Selector"]

NODE_SELECTOR_OPERATORS: dict[str, LabelOperator] = {
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
    "Gt": "gt",
    "Lt": "lt",
}


def node_requirement(key: str, operator: str, values: tuple[str, ...] = ()) -> LabelRequirement:
    """A label requirement from Kubernetes' NodeSelectorOperator spelling (`In`, `NotIn`, `Exists`,
    `DoesNotExist`, `Gt`, `Lt`) or the label-selector one (`in`, `=`, ...)."""
    label_operator = NODE_SELECTOR_OPERATORS.get(operator) or cast(LabelOperator, operator)
    return LabelRequirement(key, label_operator, values)


Requirement = node_requirement
"""Kept for callers that build node requirements with the NodeSelectorOperator spelling."""


def selector_keys(selector: Selector) -> frozenset[str]:
    return frozenset(requirement.key for requirement in selector.requirements)


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: TaintEffect

    def describe(self) -> str:
        """As kube-scheduler prints it in reasons: `{key: value}`."""
        return f"{{{self.key}: {self.value}}}"


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str = ""
    operator: Literal["Equal", "Exists"] = "Equal"
    value: str = ""
    effect: str = ""  # empty tolerates every effect

    def tolerates(self, taint: Taint) -> bool:
        """`ToleratesTaint` from k8s.io/api/core/v1/toleration.go."""
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.value == taint.value


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    """A pod (anti-)affinity term with its namespaces resolved; `namespaces=None` means all."""

    selector: Selector
    topology_key: str
    namespaces: frozenset[str] | None
    # Terms are dict keys on every pod event; a frozen dataclass would rehash its fields each time.
    _hash: int = field(default=0, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.selector, self.topology_key, self.namespaces)))

    def __hash__(self) -> int:
        return self._hash

    def matches_pod(self, pod: PodInfo) -> bool:
        if self.namespaces is not None and pod.namespace not in self.namespaces:
            return False
        return self.selector.matches(pod.labels)


@dataclass(frozen=True, slots=True)
class SpreadConstraint:
    max_skew: int
    topology_key: str
    when_unsatisfiable: WhenUnsatisfiable
    selector: Selector
    min_domains: int = 1
    node_affinity_policy: InclusionPolicy = "Honor"
    node_taints_policy: InclusionPolicy = "Ignore"


@dataclass(frozen=True, slots=True)
class GpuRequest:
    """The GPU contract: whole GPUs are (n, 1000); a share of one GPU is (1, m) with m < 1000."""

    gpu_count: int
    milli_per_gpu: int


@dataclass(frozen=True, slots=True, eq=False)
class PodInfo:
    """A pod as the scheduler sees it. Identity-hashed: two pods are never "equal"."""

    uid: str
    namespace: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    creation: float = 0.0
    scheduler_name: str = "default-scheduler"
    node_name: str = ""
    nominated_node_name: str = ""
    requests: Mapping[str, int] = field(default_factory=dict)
    # Scoring counts a pod without a cpu/memory request as 100m / 200Mi (kube-scheduler's "non-zero").
    nonzero_cpu: int = 100
    nonzero_memory: int = 200 * 1024 * 1024
    gpu: GpuRequest | None = None
    gpu_indices: tuple[int, ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    node_selector: Selector = EVERYTHING
    required_node_affinity: tuple[Selector, ...] | None = None  # OR of terms; None = no constraint
    preferred_node_affinity: tuple[tuple[int, Selector], ...] = ()
    spread_constraints: tuple[SpreadConstraint, ...] = ()
    required_affinity: tuple[AffinityTerm, ...] = ()
    required_anti_affinity: tuple[AffinityTerm, ...] = ()
    preferred_affinity: tuple[tuple[int, AffinityTerm], ...] = ()
    preferred_anti_affinity: tuple[tuple[int, AffinityTerm], ...] = ()
    preempt_never: bool = False
    terminating: bool = False  # phase Succeeded or Failed: holds no resources any more
    deleting: bool = False  # deletionTimestamp set: still holds its resources until it is gone
    controller_kind: str = ""  # the kind of the ownerReference with controller=true, if any

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def same_for_scheduling(self, other: PodInfo) -> bool:
        """True when an update changed nothing a Filter or Score reads (e.g. only the pod's status)."""
        return all(getattr(self, name) == getattr(other, name) for name in _SCHEDULING_FIELDS)

    def placed(self, node_name: str, gpu_indices: tuple[int, ...] | None = None) -> PodInfo:
        """This pod bound to `node_name` (a cheap copy: `dataclasses.replace` costs ~30 µs a call)."""
        copy = object.__new__(PodInfo)
        for name in _POD_FIELDS:
            object.__setattr__(copy, name, getattr(self, name))
        object.__setattr__(copy, "node_name", node_name)
        if gpu_indices is not None:
            object.__setattr__(copy, "gpu_indices", gpu_indices)
        return copy

    @property
    def has_pod_affinity(self) -> bool:
        return bool(
            self.required_affinity
            or self.required_anti_affinity
            or self.preferred_affinity
            or self.preferred_anti_affinity
        )


_POD_FIELDS = tuple(f.name for f in fields(PodInfo))
_SCHEDULING_FIELDS = tuple(
    name for name in _POD_FIELDS if name not in ("uid", "creation", "nominated_node_name", "gpu_indices")
)


@dataclass(frozen=True, slots=True, eq=False)
class NodeInfo:
    """A node's scheduling-relevant attributes (its usage lives in the node table's columns)."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    unschedulable: bool = False
    allocatable: Mapping[str, int] = field(default_factory=dict)
    uid: str = ""

    @property
    def class_key(self) -> tuple[object, ...]:
        """The node's equivalence class: every attribute a node-only filter can read, minus unique labels."""
        shared = tuple(sorted((k, v) for k, v in self.labels.items() if k not in UNIQUE_NODE_LABELS))
        return (shared, self.taints, self.unschedulable)

    def same_for_scheduling(self, other: NodeInfo) -> bool:
        """True when nothing the scheduler reads differs (a heartbeat that changes only status times)."""
        return (
            self.labels == other.labels
            and self.taints == other.taints
            and self.unschedulable == other.unschedulable
            and self.allocatable == other.allocatable
        )

    def field_labels(self) -> dict[str, str]:
        """Labels plus the `metadata.name` field, for node selector terms that use matchFields."""
        return {**self.labels, NODE_NAME_FIELD: self.name}
